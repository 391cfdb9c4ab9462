/**
 * In-memory stand-ins for the nightly sync's ports (shared/sync/run-sync.ts SyncDeps), with the same conditional
 * semantics as the DynamoDB adapters (checked against DynamoDB Local in test/integration/sync-run.test.ts): runs,
 * the job lease, watermarks, package deliveries and their bodies (the byDay and owed indexes, paged; markDelivered),
 * segments (gzip in memory), record versions.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { JobLeases, Lease, TakeResult } from '../../shared/jobs/job-lease.js';
import type { JobRun, RunStatus } from '../../shared/jobs/run-model.js';
import type { Conditional, RunsStore, RunStart } from '../../shared/jobs/runs-store.js';
import type { Advance, Watermark, Watermarks } from '../../shared/jobs/watermark-store.js';
import type { DeliveryPage, DeliveryPages } from '../../shared/sync/delivery-pages.js';
import type { PackageSegments } from '../../shared/sync/package-segments.js';
import type { Segment, SyncCheckpoint, SyncCounts } from '../../shared/sync/sync-model.js';
import { decodeRefs, encodeRefs, newDelivery, packageKeyOf, type DeliveryRef, type PackageBody, type PackageDelivery, type PackageRef, type PartPath, type PlatformName } from '../../shared/upward/package-model.js';
import type { Transition } from '../../shared/upward/packages-store.js';
import type { RecordVersions, VersionContent } from '../../shared/upward/record-versions.js';

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryRuns implements RunsStore {
  readonly items = new Map<string, JobRun>();
  async create(run: JobRun) {
    if (this.items.has(run.runId)) throw new Error('ConditionalCheckFailed');
    this.items.set(run.runId, clone(run));
  }
  async get(runId: string) {
    const run = this.items.get(runId);
    return run ? clone(run) : undefined;
  }
  async replaceWaiting(run: JobRun): Promise<Conditional> {
    if (this.items.get(run.runId)?.status !== 'waiting') return 'lost';
    this.items.set(run.runId, clone(run));
    return 'ok';
  }
  async countAttempt(runId: string) {
    const run = this.items.get(runId);
    if (!run || (run.status !== 'waiting' && run.status !== 'running')) return undefined;
    run.attempts = (run.attempts ?? 0) + 1;
    return run.attempts;
  }
  #change(runId: string, when: (r: JobRun) => boolean, change: (r: JobRun) => void): Conditional {
    const run = this.items.get(runId);
    if (!run || !when(run)) return 'lost';
    change(run);
    return 'ok';
  }
  async begin(runId: string, start: RunStart) {
    return this.#change(runId, (r) => r.status === 'waiting', (r) => Object.assign(r, { status: 'running', from: start.from, startedAt: start.startedAt, checkpoint: clone(start.checkpoint) }, start.watermark !== undefined ? { watermark: start.watermark } : {}));
  }
  async save(runId: string, previousStep: number, checkpoint: SyncCheckpoint, counts: SyncCounts) {
    return this.#change(runId, (r) => r.status === 'running' && r.checkpoint?.step === previousStep, (r) => Object.assign(r, { checkpoint: clone(checkpoint), counts: clone(counts) }));
  }
  async complete(runId: string, previousStep: number, counts: SyncCounts, at: string) {
    return this.#change(runId, (r) => r.status === 'running' && r.checkpoint?.step === previousStep, (r) => Object.assign(r, { status: 'completed', counts: clone(counts), finishedAt: at }));
  }
  async fail(runId: string, reason: string, at: string, from: readonly RunStatus[]) {
    return this.#change(runId, (r) => from.includes(r.status), (r) => Object.assign(r, { status: 'failed', reason, finishedAt: at }));
  }
  async noteError(runId: string, error: string) {
    return this.#change(runId, (r) => r.status === 'waiting' || r.status === 'running', (r) => Object.assign(r, { lastError: error }));
  }
}

export class MemoryLeases implements JobLeases {
  readonly items = new Map<string, Lease>();
  async take(job: string, holder: string, token: string, until: number, now: number): Promise<TakeResult> {
    const current = this.items.get(job);
    if (current && current.token !== token && current.until >= now) return { taken: false, current: { ...current } };
    this.items.set(job, { holder, token, until });
    return { taken: true, ...(current ? { previous: { ...current } } : {}) };
  }
  #held(job: string, token: string, change: (l: Lease) => void): Conditional {
    const lease = this.items.get(job);
    if (lease?.token !== token) return 'lost';
    change(lease);
    return 'ok';
  }
  async hold(job: string, holder: string, token: string, until: number) {
    return this.#held(job, token, (l) => Object.assign(l, { holder, until }));
  }
  async renew(job: string, token: string, until: number) {
    return this.#held(job, token, (l) => (l.until = until));
  }
  async release(job: string, token: string) {
    return this.#held(job, token, (l) => (l.until = 0));
  }
}

export class MemoryWatermarks implements Watermarks {
  readonly items = new Map<PlatformName, Watermark>();
  async get(platform: PlatformName) {
    const w = this.items.get(platform);
    return w ? { ...w } : undefined;
  }
  async advance(platform: PlatformName, previous: string | undefined, next: string, runId: string, at: string): Promise<Advance> {
    const w = this.items.get(platform);
    if (w?.at !== previous) return w?.at === next && w.runId === runId ? 'already' : 'lost';
    this.items.set(platform, { at: next, runId, movedAt: at });
    return 'moved';
  }
}

/** Where a package is made: its refs, the platform, when (its body's openedAt and its delivery's createdAt). */
export interface PackageSpec {
  refs: readonly PackageRef[];
  at: string;
  platform?: PlatformName;
  /** Changes to its (whole) delivery: a state, a createdAt… */
  delivery?: Partial<PackageDelivery>;
}

const DELIVERED = { state: 'delivered', owedBy: undefined } as const;
const FAILED = { state: 'failed', owedBy: undefined } as const;
/** Delivery changes: delivered in real time, or refused (failed). */
export const settled = { delivered: DELIVERED, failed: FAILED };

/**
 * Package bodies and deliveries, read as the byDay and owed indexes read them (a page's `next` is the index of its
 * last item), bodies by key, deliveries marked delivered as the store does (pending | failed → delivered).
 */
export class MemoryPackages implements DeliveryPages {
  readonly bodies = new Map<string, { key: string; openedAt: string; refs: string; open: boolean }>();
  readonly items = new Map<string, PackageDelivery>();
  readonly queries: string[] = [];
  marks = 0;
  #made = 0;

  /** A closed body of `refs` and its delivery (the whole package) to `platform`: the delivery. */
  add(spec: PackageSpec): PackageDelivery {
    const first = spec.refs[0]!;
    const key = packageKeyOf({ sequenceNumber: String(++this.#made).padStart(21, '0'), recordId: first.recordId, version: first.version });
    this.bodies.set(key, { key, openedAt: spec.at, refs: encodeRefs(spec.refs), open: false });
    const d = { ...newDelivery(key, spec.refs.length, spec.platform ?? 'provincial', '', new Date(spec.at)), ...spec.delivery };
    if (d.owedBy === undefined) delete d.owedBy;
    this.put(d);
    return this.get(d)!;
  }
  /** Splits a pending delivery at `at` into its two parts (pending, created at `at`), as the connector does: the parts. */
  split(ref: DeliveryRef, at: string): PackageDelivery[] {
    const d = this.get(ref)!;
    const count = decodeRefs(this.bodies.get(d.key)!.refs).length;
    Object.assign(d, { state: 'split', splitAt: at });
    delete d.owedBy;
    return (['0', '1'] as PartPath[]).map((half) => {
      const part = newDelivery(d.key, count, d.platform, `${d.path}${half}`, new Date(at));
      this.put(part);
      return this.get(part)!;
    });
  }
  put(d: PackageDelivery) {
    this.items.set(`${d.key}#${d.platform}#${d.path}`, clone(d));
  }
  get(ref: DeliveryRef) {
    return this.items.get(`${ref.key}#${ref.platform}#${ref.path}`);
  }
  #page(all: PackageDelivery[], limit: number, startKey?: Record<string, unknown>): DeliveryPage {
    const start = startKey ? Number(startKey.i) + 1 : 0;
    const items = all.slice(start, start + limit);
    return { items: clone(items), ...(start + limit < all.length ? { next: { i: start + limit - 1 } } : {}) };
  }
  async changes(platform: PlatformName, day: string, from: string, to: string, limit: number, startKey?: Record<string, unknown>) {
    this.queries.push(`changes ${platform} ${day}`);
    const all = [...this.items.values()].filter((d) => d.changeDay === `${platform}#${day}` && d.createdAt >= from && d.createdAt <= to).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return this.#page(all, limit, startKey);
  }
  async owed(platform: PlatformName, createdUpTo: string, limit: number, startKey?: Record<string, unknown>) {
    this.queries.push(`owed ${platform}`);
    // A filter after the read, as DynamoDB applies it: the page is `limit` items read, fewer returned.
    const read = [...this.items.values()].filter((d) => d.owedBy === platform).sort((a, b) => a.owedSince.localeCompare(b.owedSince));
    const start = startKey ? Number(startKey.i) + 1 : 0;
    const slice = read.slice(start, start + limit);
    return { items: clone(slice.filter((d) => d.createdAt <= createdUpTo)), ...(start + limit < read.length ? { next: { i: start + limit - 1 } } : {}) };
  }
  async getBody(key: string): Promise<PackageBody | undefined> {
    const b = this.bodies.get(key);
    return b ? { key: b.key, openedAt: b.openedAt, refs: decodeRefs(b.refs), open: b.open } : undefined;
  }
  async markDelivered(ref: DeliveryRef, at: string): Promise<Transition> {
    this.marks++;
    const d = this.get(ref);
    if (!d || (d.state !== 'pending' && d.state !== 'failed')) return 'lost';
    Object.assign(d, { state: 'delivered', deliveredAt: at });
    delete d.owedBy;
    delete d.failedBy;
    return 'updated';
  }
}

export class MemorySegments implements PackageSegments {
  readonly objects = new Map<string, Buffer>();
  writes = 0;
  async write(key: string, lines: AsyncIterable<string>): Promise<Segment> {
    this.writes++;
    const parts: string[] = [];
    for await (const line of lines) parts.push(line);
    const text = Buffer.from(parts.join(''), 'utf8');
    this.objects.set(key, gzipSync(text));
    return { key, records: parts.length, bytes: text.length, sha256: createHash('sha256').update(text).digest('hex') };
  }
  async open(key: string) {
    const gz = this.objects.get(key);
    if (!gz) throw new Error(`NoSuchKey ${key}`);
    // Small chunks: lines cross chunk boundaries, as they do from S3.
    const text = gunzipSync(gz);
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += 7) chunks.push(text.subarray(i, i + 7));
    return Readable.from(chunks);
  }
}

/** Stored record versions (`<id>@<version>`), read as record-versions.ts reads them: undefined for a record not stored. */
export class MemoryVersions implements RecordVersions {
  readonly versions = new Map<string, VersionContent>();
  /** The refs of each read (one per page of deliveries). */
  readonly reads: string[][] = [];
  set(content: VersionContent) {
    this.versions.set(`${content.id}@${content.version}`, clone(content));
  }
  async read(refs: readonly { recordId: string; version: number }[]) {
    this.reads.push(refs.map((r) => `${r.recordId}@${r.version}`));
    return refs.map((r) => {
      const stored = [...this.versions.values()].some((v) => v.id === r.recordId);
      if (!stored) return undefined;
      const v = this.versions.get(`${r.recordId}@${r.version}`);
      if (!v) throw new Error(`record ${r.recordId}: version ${r.version} is not stored`);
      return clone(v);
    });
  }
}
