/**
 * In-memory stand-ins of the site publisher's ports (shared/site-publishing/): the site index (the sitePages table)
 * and the site bucket, with the requests counted as S3 would see them, and a switch that makes the next writes fail
 * (a crash half way). A scan returns items in (pk, sk) order, so a partition's items come together, as in DynamoDB.
 */
import type { JobLeases, Lease, TakeResult } from '../../shared/jobs/job-lease.js';
import type { SitePage } from '../../shared/site/page.js';
import { compareKeys } from '../../shared/site/search-index.js';
import type { PublishCheckpoint, PublishCounts, PublishRun, PublishRuns } from '../../shared/site-publishing/publish-run-model.js';
import type { SiteBucket, SiteObject } from '../../shared/site-publishing/site-bucket.js';
import type { Member, MemberWrite, ScanPage, SiteIndex, StoredPage } from '../../shared/site-publishing/site-index-store.js';

interface Item {
  pk: string;
  sk: string;
  data?: Record<string, unknown>;
  run?: string;
  hash?: string;
  contentType?: string;
}

const keyOf = (pk: string, sk: string) => `${pk}\u0000${sk}`;
/** Code-point order (UTF-8 byte order), as DynamoDB sorts string keys (not UTF-16 code-unit order). */
const compare = compareKeys;

export class MemorySiteIndex implements SiteIndex {
  readonly items = new Map<string, Item>();
  /** Throws on the n-th write call from now (1: the next), once. */
  failWriteAt = 0;

  #maybeFail() {
    if (this.failWriteAt > 0 && --this.failWriteAt === 0) throw new Error('site index: injected failure');
  }

  async putMembers(members: readonly MemberWrite[]): Promise<void> {
    this.#maybeFail();
    for (const m of members) this.items.set(keyOf(m.pk, m.sk), { pk: m.pk, sk: m.sk, data: structuredClone(m.data), ...(m.run !== undefined ? { run: m.run } : {}) });
  }

  async deleteMembers(keys: readonly { pk: string; sk: string }[]): Promise<void> {
    this.#maybeFail();
    for (const k of keys) this.items.delete(keyOf(k.pk, k.sk));
  }

  async members(pk: string): Promise<Member[]> {
    return [...this.items.values()]
      .filter((i) => i.pk === pk)
      .sort((a, b) => compare(a.sk, b.sk))
      .map((i) => ({ sk: i.sk, data: structuredClone(i.data ?? {}), ...(i.run !== undefined ? { run: i.run } : {}) }));
  }

  async hasMembers(pk: string): Promise<boolean> {
    return [...this.items.values()].some((i) => i.pk === pk);
  }

  async membersNear(pk: string, sk: string, direction: 'forward' | 'backward', inclusive: boolean, limit: number): Promise<Member[]> {
    const all = await this.members(pk);
    const near = all.filter((m) => {
      const c = compare(m.sk, sk);
      return direction === 'forward' ? c > 0 || (inclusive && c === 0) : c < 0 || (inclusive && c === 0);
    });
    return (direction === 'forward' ? near : near.reverse()).slice(0, limit);
  }

  async pages(paths: readonly string[]): Promise<Map<string, StoredPage>> {
    const out = new Map<string, StoredPage>();
    for (const path of paths) {
      const item = this.items.get(keyOf(`PAGE#${path}`, 'PAGE'));
      if (item) out.set(path, { path, hash: item.hash!, ...(item.contentType ? { contentType: item.contentType } : {}), ...(item.run !== undefined ? { run: item.run } : {}) });
    }
    return out;
  }

  async putPages(pages: readonly StoredPage[]): Promise<void> {
    this.#maybeFail();
    for (const p of pages) this.items.set(keyOf(`PAGE#${p.path}`, 'PAGE'), { pk: `PAGE#${p.path}`, sk: 'PAGE', hash: p.hash, ...(p.contentType ? { contentType: p.contentType } : {}), ...(p.run !== undefined ? { run: p.run } : {}) });
  }

  async deletePages(paths: readonly string[]): Promise<void> {
    this.#maybeFail();
    for (const path of paths) this.items.delete(keyOf(`PAGE#${path}`, 'PAGE'));
  }

  async scan(start: Record<string, unknown> | undefined, limit: number): Promise<ScanPage> {
    const sorted = [...this.items.values()].sort((a, b) => compare(a.pk, b.pk) || compare(a.sk, b.sk));
    const from = start ? sorted.findIndex((i) => compare(i.pk, String(start.pk)) > 0 || (i.pk === start.pk && compare(i.sk, String(start.sk)) > 0)) : 0;
    const begin = from < 0 ? sorted.length : from;
    const slice = sorted.slice(begin, begin + limit);
    const last = slice.at(-1);
    return {
      items: slice.map((i) => ({ pk: i.pk, sk: i.sk, ...(i.run !== undefined ? { run: i.run } : {}), ...(i.data !== undefined ? { data: structuredClone(i.data) } : {}) })),
      ...(begin + limit < sorted.length && last ? { next: { pk: last.pk, sk: last.sk } } : {}),
    };
  }

  /** The partitions' members, without the page hashes: what the site index says is listed where. */
  listing(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const i of [...this.items.values()].sort((a, b) => compare(a.pk, b.pk) || compare(a.sk, b.sk))) {
      if (i.pk.startsWith('PAGE#')) continue;
      (out[i.pk] ??= []).push(i.sk);
    }
    return out;
  }
}

export class MemorySiteBucket implements SiteBucket {
  readonly objects = new Map<string, SiteObject & { cacheControl?: string }>();
  puts = 0;
  deletes = 0;
  /** Throws on the n-th request from now (1: the next), once. */
  failAt = 0;

  #maybeFail() {
    if (this.failAt > 0 && --this.failAt === 0) throw new Error('site bucket: injected failure');
  }

  async put(object: SiteObject): Promise<void> {
    this.#maybeFail();
    this.puts++;
    this.objects.set(object.path, { ...object });
  }

  async delete(path: string): Promise<void> {
    this.#maybeFail();
    this.deletes++;
    this.objects.delete(path);
  }

  /** The objects as path → body. */
  contents(): Record<string, string> {
    return Object.fromEntries([...this.objects].sort(([a], [b]) => compare(a, b)).map(([path, o]) => [path, String(o.body)]));
  }

  requests(): { puts: number; deletes: number } {
    return { puts: this.puts, deletes: this.deletes };
  }
}

/** Pages as path → body, sorted (to compare a bucket with what a full render gives). */
export function pagesByPath(pages: readonly SitePage[], leaveOut: ReadonlySet<string> = new Set()): Record<string, string> {
  return Object.fromEntries(
    pages
      .filter((p) => !leaveOut.has(p.path))
      .map((p) => [p.path, p.body] as const)
      .sort(([a], [b]) => compare(a, b)),
  );
}

/** A lease store in memory, with JobLeases' rules. */
export class MemoryLeases implements JobLeases {
  readonly leases = new Map<string, Lease>();
  async take(job: string, holder: string, token: string, until: number, now: number): Promise<TakeResult> {
    const current = this.leases.get(job);
    if (current && current.token !== token && current.until >= now) return { taken: false, current };
    this.leases.set(job, { holder, token, until });
    return { taken: true, ...(current ? { previous: current } : {}) };
  }
  async hold(job: string, holder: string, token: string, until: number) {
    const current = this.leases.get(job);
    if (current?.token !== token) return 'lost' as const;
    this.leases.set(job, { holder, token, until });
    return 'ok' as const;
  }
  async renew(job: string, token: string, until: number) {
    const current = this.leases.get(job);
    if (current?.token !== token) return 'lost' as const;
    this.leases.set(job, { ...current, until });
    return 'ok' as const;
  }
  async release(job: string, token: string) {
    const current = this.leases.get(job);
    if (current?.token !== token) return 'lost' as const;
    this.leases.set(job, { ...current, until: 0 });
    return 'ok' as const;
  }
}

/** Publish runs in memory, with the runs store's conditions. */
export class MemoryPublishRuns implements PublishRuns {
  readonly runs = new Map<string, PublishRun>();
  async create(run: PublishRun) {
    this.runs.set(run.runId, structuredClone(run));
  }
  async get(runId: string) {
    const run = this.runs.get(runId);
    return run ? structuredClone(run) : undefined;
  }
  async countAttempt(runId: string) {
    const run = this.runs.get(runId);
    if (!run || (run.status !== 'waiting' && run.status !== 'running')) return undefined;
    run.attempts = (run.attempts ?? 0) + 1;
    return run.attempts;
  }
  async begin(runId: string, _asOf: string, startedAt: string, checkpoint: PublishCheckpoint) {
    const run = this.runs.get(runId);
    if (run?.status !== 'waiting') return 'lost' as const;
    Object.assign(run, { status: 'running', startedAt, checkpoint: structuredClone(checkpoint) });
    return 'ok' as const;
  }
  async save(runId: string, previousStep: number, checkpoint: PublishCheckpoint, counts: PublishCounts) {
    const run = this.runs.get(runId);
    if (run?.status !== 'running' || run.checkpoint?.step !== previousStep) return 'lost' as const;
    Object.assign(run, { checkpoint: structuredClone(checkpoint), counts: { ...counts } });
    return 'ok' as const;
  }
  async complete(runId: string, previousStep: number, counts: PublishCounts, at: string) {
    const run = this.runs.get(runId);
    if (run?.status !== 'running' || run.checkpoint?.step !== previousStep) return 'lost' as const;
    Object.assign(run, { status: 'completed', counts: { ...counts }, finishedAt: at });
    return 'ok' as const;
  }
  async fail(runId: string, reason: string, at: string, from: readonly string[]) {
    const run = this.runs.get(runId);
    if (!run || !from.includes(run.status)) return 'lost' as const;
    Object.assign(run, { status: 'failed', reason, finishedAt: at });
    return 'ok' as const;
  }
  async noteError(runId: string, error: string) {
    const run = this.runs.get(runId);
    if (!run) return 'lost' as const;
    run.lastError = error;
    return 'ok' as const;
  }
}
