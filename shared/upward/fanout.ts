/**
 * Fan-out: the new record versions of a batch of the records table's change stream become packages owed to each
 * upward platform (docs/upward-packages.md), written first in the `deliveries` table (the durable truth), then one
 * message per package and platform on that platform's queue.
 *
 * 1. The batch's new versions (an INSERT of a head, or a MODIFY whose version differs from the old image's), in
 *    stream order.
 * 2. From the first version not yet placed: package K (its key from that version's sequence number), opened with
 *    every version not yet placed as candidates — or, when K exists (the batch is read again), K as it is.
 * 3. K's candidates are claimed for K (each claim is written once: a version claimed by another package stays
 *    there, and that package is settled too, in case its fan-out stopped half way), K's deliveries are created,
 *    then K is closed with the versions it holds (a body stays open, in the sweep's `open` index, until all it
 *    owes is written), and the deliveries are queued. K found closed without its first version: the package
 *    that claimed that version is settled too (its deliveries queued again if still pending). Versions of the batch not among K's candidates go on at 2.
 *
 * Each message carries its package's versions as the stream records hold them (inline-versions.ts), when it has
 * them all: the connector then reads none of them back.
 *
 * Whatever composition a batch read again has (Lambda retries it, bisects it), a version is claimed by one package
 * only, so it travels under one Idempotency-Key per platform. Any failure is thrown: Lambda reads the batch again,
 * and every step above is safe to repeat; a body left open is also settled by the delivery sweep.
 *
 * Never logs record contents: counts only.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StoredHead } from '../domain/record-model.js';
import type { DeliveryQueues } from './delivery-queues.js';
import { encodeInlineVersions, versionContentOf } from './inline-versions.js';
import { newDelivery, operationOf, packageKeyOf, PLATFORM_NAMES, type DeliveryMessage, type PackageBody, type PackageRef, type PlatformName } from './package-model.js';
import type { PackagesStore } from './packages-store.js';
import type { VersionContent } from './record-versions.js';

export interface SettleDeps {
  store: Pick<PackagesStore, 'openBody' | 'getBody' | 'claim' | 'closeBody' | 'createDelivery'>;
  queues: DeliveryQueues;
  platforms?: readonly PlatformName[];
  now?: () => Date;
}

export interface FanoutDeps extends SettleDeps {
  store: SettleDeps['store'] & Pick<PackagesStore, 'getClaim'>;
}

export interface SettleReport {
  /** Packages closed now (their claims settled by this call). */
  closed: number;
  /** Deliveries created now. */
  created: number;
  /** Deliveries queued (new ones, and those found still pending). */
  queued: number;
  /** Versions found claimed by another package than the one they were candidates of. */
  claimedElsewhere: number;
}

export interface FanoutReport extends SettleReport {
  /** Stream records read. */
  records: number;
  /** New versions among them. */
  versions: number;
  /** Packages opened for the batch's versions (now, or when the batch was read before) that carry any: a version found claimed by another package is not counted here (claimedElsewhere). */
  packages: number;
  /** Refs in those packages. */
  refs: number;
}

/** Claims in flight at once (a package has up to 100 candidates). */
const CLAIM_CONCURRENCY = 25;

/** A new version a stream record carries, with its sequence number and (when the image has it whole) its content. */
export interface StreamVersion extends PackageRef {
  sequenceNumber: string;
  content?: VersionContent;
}

/** The new version a stream record carries, or undefined when it carries none (a removal, a rewrite of the same version, not a head). */
export function newVersionOf(record: DynamoDBRecord): StreamVersion | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const head = unmarshall(image as Record<string, AttributeValue>) as Partial<StoredHead> & { sk?: string };
  if (head.sk !== 'HEAD' || typeof head.id !== 'string' || typeof head.version !== 'number') return undefined;
  if (record.eventName === 'MODIFY') {
    const old = record.dynamodb?.OldImage;
    const oldVersion = old ? (unmarshall(old as Record<string, AttributeValue>) as { version?: unknown }).version : undefined;
    if (oldVersion === head.version) return undefined;
  }
  if (!head.publication || typeof head.status !== 'string') return undefined;
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  // Without its sequence number a version cannot name its package: the batch is read again.
  if (!sequenceNumber) throw new Error('fan-out: a stream record with a new version has no sequence number');
  const content = versionContentOf(head);
  return { recordId: head.id, version: head.version, operation: operationOf({ status: head.status, publication: head.publication }), sequenceNumber, ...(content ? { content } : {}) };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const refId = (r: { recordId: string; version: number }) => `${r.recordId}#${r.version}`;

/** The versions of `refs` as a message carries them, when `contents` has every one of them. */
function inlineVersions(refs: readonly PackageRef[], contents: ReadonlyMap<string, VersionContent> | undefined): string | undefined {
  if (!contents || refs.length === 0) return undefined;
  const versions: VersionContent[] = [];
  for (const r of refs) {
    const content = contents.get(refId(r));
    if (!content) return undefined;
    versions.push(content);
  }
  return encodeInlineVersions(versions);
}

/**
 * Settles a package: an open body's candidates are claimed and the body closed; a closed body's deliveries are
 * created (once) and queued while pending. Versions claimed by another package settle that one too (`depth`
 * bounds the chain: a package settled from another never reaches a third). Returns the body as closed.
 * `contents`: the versions the caller has (from its stream records), carried in the messages when all of the
 * package's are there.
 */
export async function settlePackage(found: PackageBody, deps: SettleDeps, report: SettleReport, depth = 0, contents?: ReadonlyMap<string, VersionContent>): Promise<PackageBody> {
  const now = (deps.now ?? (() => new Date()))();
  let body = found;
  const toQueue: DeliveryMessage[] = [];
  // Its deliveries are created before the body is closed: a body stays open (found by the sweep's `open` index)
  // until everything it owes is written, so a fan-out that stops anywhere leaves nothing unreachable.
  const createDeliveries = async (refCount: number) => {
    for (const platform of deps.platforms ?? PLATFORM_NAMES) {
      const delivery = newDelivery(body.key, refCount, platform, '', now);
      const written = await deps.store.createDelivery(delivery);
      if (written.created) report.created++;
      // One found pending is queued again (the earlier send may be what failed); settled or split ones are not.
      if (written.created || written.existing.state === 'pending') toQueue.push(delivery);
    }
  };
  if (body.open) {
    const at = now.toISOString();
    const owners = await mapLimited(body.refs, CLAIM_CONCURRENCY, (r) => deps.store.claim(r.recordId, r.version, body.key, at));
    const elsewhere = new Set<string>();
    owners.forEach((owner) => owner !== body.key && elsewhere.add(owner));
    report.claimedElsewhere += owners.filter((owner) => owner !== body.key).length;
    const mine = body.refs.filter((_, i) => owners[i] === body.key);
    if (mine.length > 0) await createDeliveries(mine.length);
    body = await deps.store.closeBody(body.key, mine);
    report.closed++;
    // Closed by another settler first with other refs cannot be (the claims decide them): a fault, tried again.
    if (body.refs.length !== mine.length) throw new Error(`fan-out: package ${body.key} was closed with ${body.refs.length} versions, ${mine.length} claimed for it`);
    if (depth === 0) {
      for (const other of elsewhere) {
        const otherBody = await deps.store.getBody(other);
        if (!otherBody) throw new Error(`fan-out: a version is claimed by package ${other}, which has no body`);
        await settlePackage(otherBody, deps, report, depth + 1, contents);
      }
    }
  } else if (body.refs.length > 0) await createDeliveries(body.refs.length);
  if (toQueue.length === 0) return body;
  // Every message of it is for the whole package (path ''): the same versions for each platform.
  const versions = inlineVersions(body.refs, contents);
  const notQueued = await deps.queues.send(versions === undefined ? toQueue : toQueue.map((m) => ({ ...m, versions })));
  if (notQueued.size > 0) throw new Error(`fan-out: ${notQueued.size} of ${toQueue.length} messages of package ${body.key} were not queued`);
  report.queued += toQueue.length;
  return body;
}

export async function fanOut(event: DynamoDBStreamEvent, deps: FanoutDeps): Promise<FanoutReport> {
  const now = (deps.now ?? (() => new Date()))();
  const versions: StreamVersion[] = [];
  const contents = new Map<string, VersionContent>();
  for (const record of event.Records) {
    const v = newVersionOf(record);
    if (!v) continue;
    versions.push(v);
    if (v.content) contents.set(refId(v), v.content);
  }
  const report: FanoutReport = { records: event.Records.length, versions: versions.length, packages: 0, refs: 0, closed: 0, created: 0, queued: 0, claimedElsewhere: 0 };
  const placed = new Set<string>();
  for (;;) {
    const rest = versions.filter((v) => !placed.has(refId(v)));
    const first = rest[0];
    if (!first) break;
    const candidates = rest.map(({ recordId, version, operation }) => ({ recordId, version, operation }));
    const opened = await deps.store.openBody(packageKeyOf(first), candidates, now.toISOString());
    // The package opened for `first` (now or when the batch was read before) has it among its candidates.
    if (!opened.refs.some((r) => refId(r) === refId(first)) && opened.open) throw new Error(`fan-out: package ${opened.key} does not list the version it was opened for`);
    const body = await settlePackage(opened, deps, report, 0, contents);
    if (!opened.open && !body.refs.some((r) => refId(r) === refId(first))) {
      // Found closed (the batch was read before in another composition) without the version it was opened for: that
      // version travels in the package that claimed it first, whose fan-out may have stopped after closing it and
      // before queueing its deliveries: they are queued now rather than by the sweep, requeueAfterSeconds later.
      const claim = await deps.store.getClaim(first.recordId, first.version);
      if (!claim) throw new Error(`fan-out: package ${opened.key} is closed without the version it was opened for, whose claim cannot be read yet`);
      const owner = await deps.store.getBody(claim.key);
      if (!owner) throw new Error(`fan-out: a version is claimed by package ${claim.key}, which has no body`);
      await settlePackage(owner, deps, report, 1, contents);
    }
    report.packages += body.refs.length > 0 ? 1 : 0;
    report.refs += body.refs.length;
    // Every candidate of the package is placed now: in it, or (claimed before) in the package that has it.
    for (const r of opened.refs) placed.add(refId(r));
    // A closed package found again lists only what it holds: the first version is in it, or in another package.
    placed.add(refId(first));
  }
  return report;
}
