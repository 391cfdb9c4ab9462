/**
 * Builds the body of a sync package, one segment at a time (sync-model.ts): from the checkpoint's cursor, page by
 * page — the window's package deliveries day by day (byDay), then those the platform still owes from before the
 * window (owed) — each delivery expanded to its record versions (its package's body, sliced to its part: the
 * refs [from, to)), the page's versions read at once (record-versions.ts), numbers decrypted (record-fields.ts),
 * each line carrying the real-time package id of its delivery (package-lines.ts), written to S3 as it is made.
 *
 * Beside the segment, the list of the pending deliveries whose every version is in it (package-lines.ts
 * carriedLine): what is marked delivered once the platform acknowledged the package. A delivery is read in one
 * page and a segment ends at a page boundary, so a delivery never spans two segments. A segment ends when it holds
 * maxSegmentRecords lines, when the reads are done, or when the invocation is running out of time; the cursor after
 * its last page is what the next segment starts from.
 *
 * Memory holds one page: pageSize deliveries of at most a package's refs each (package-model.ts, 100 a package).
 */
import type { PackageBody, PackageDelivery, PackageRef, PlatformName } from '../upward/package-model.js';
import type { PackagesStore } from '../upward/packages-store.js';
import { nationalFields, type Decrypter } from '../upward/record-fields.js';
import type { RecordVersions, VersionContent } from '../upward/record-versions.js';
import type { DeliveryPages } from './delivery-pages.js';
import { carriedLine, syncLine, treatmentOf, type CarriedDelivery } from './package-lines.js';
import type { PackageSegments } from './package-segments.js';
import { carriedKey, nextSegmentKey, type BodySoFar, type BuildCursor, type SyncCounts } from './sync-model.js';
import { chinaDayOf, nextDay } from './sync-window.js';

export interface BuildPorts {
  pages: DeliveryPages;
  bodies: Pick<PackagesStore, 'getBody'>;
  versions: RecordVersions;
  cipher: () => Promise<Decrypter>;
  segments: PackageSegments;
  /** Deliveries read per page. */
  pageSize: number;
  /** Package bodies read, and certificate numbers decrypted, at once. */
  readConcurrency: number;
  maxSegmentRecords: number;
  /** Whether there is time for one more page. */
  timeLeft: () => boolean;
  /** Checked before each page: a run that lost its lease stops. */
  signal?: AbortSignal;
}

export interface BuildTarget {
  platform: PlatformName;
  runId: string;
  /** The window (from, to]. */
  from: string;
  to: string;
}

export interface BuildState {
  cursor: BuildCursor;
  body: BodySoFar;
  counts: SyncCounts;
}

/** Where the reads of a new run start: the window's first day, or (an empty window) the owed index. */
export function initialCursor(from: string, to: string): BuildCursor {
  return to > from ? { pass: 'changes', day: chinaDayOf(from) } : { pass: 'owed' };
}

interface Page {
  items: PackageDelivery[];
  pass: 'changes' | 'owed';
  after: BuildCursor;
}

async function readPage(target: BuildTarget, cursor: Exclude<BuildCursor, { pass: 'done' }>, ports: BuildPorts): Promise<Page> {
  if (cursor.pass === 'changes') {
    const page = await ports.pages.changes(target.platform, cursor.day, target.from, target.to, ports.pageSize, cursor.startKey);
    // The window's start is exclusive: that instant belonged to the previous run.
    const items = page.items.filter((d) => d.createdAt > target.from && d.createdAt <= target.to);
    const after: BuildCursor = page.next
      ? { pass: 'changes', day: cursor.day, startKey: page.next }
      : cursor.day < chinaDayOf(target.to)
        ? { pass: 'changes', day: nextDay(cursor.day) }
        : { pass: 'owed' };
    return { items, pass: 'changes', after };
  }
  const page = await ports.pages.owed(target.platform, target.from, ports.pageSize, cursor.startKey);
  return { items: page.items, pass: 'owed', after: page.next ? { pass: 'owed', startKey: page.next } : { pass: 'done' } };
}

/** `fn` over `items`, at most `limit` at once, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  for (let i = 0; i < items.length; i += limit) {
    const slice = items.slice(i, i + limit);
    (await Promise.all(slice.map(fn))).forEach((r, j) => (out[i + j] = r));
  }
  return out;
}

interface Expanded {
  /** The page's lines, in its order (deliveries in the order read, each one's versions in its package's order). */
  lines: string[];
  /** The pending deliveries all of whose versions are in `lines`. */
  carried: CarriedDelivery[];
  /** Versions not sent: of refused deliveries, or whose record is no longer stored. */
  skipped: number;
}

/** A page's deliveries as lines. */
async function expand(items: readonly PackageDelivery[], ports: BuildPorts): Promise<Expanded> {
  let skipped = 0;
  const sent: PackageDelivery[] = [];
  for (const d of items) {
    const treatment = treatmentOf(d);
    if (treatment === 'send') sent.push(d);
    else if (treatment === 'refused') skipped += d.to - d.from;
  }
  const keys = [...new Set(sent.map((d) => d.key))];
  const read = await mapLimit(keys, ports.readConcurrency, (k) => ports.bodies.getBody(k));
  const bodies = new Map<string, PackageBody | undefined>(keys.map((k, i) => [k, read[i]]));
  const entries: { delivery: PackageDelivery; ref: PackageRef }[] = [];
  for (const d of sent) {
    const body = bodies.get(d.key);
    // A delivery is created only once its package's body is closed: anything else is a fault, tried again.
    if (!body || body.open) throw new Error(`package ${d.key} has a delivery to ${d.platform} but no closed body`);
    const refs = body.refs.slice(d.from, d.to);
    if (refs.length === 0 || refs.length !== d.to - d.from) throw new Error(`package ${d.key} part "${d.path}" is [${d.from}, ${d.to}) of a body of ${body.refs.length} refs`);
    for (const ref of refs) entries.push({ delivery: d, ref });
  }
  const contents: (VersionContent | undefined)[] = entries.length > 0 ? await ports.versions.read(entries.map((e) => e.ref)) : [];
  const incomplete = new Set<PackageDelivery>();
  const made = await mapLimit(entries.map((e, i) => ({ ...e, content: contents[i] })), ports.readConcurrency, async ({ delivery, ref, content }) => {
    if (!content) return undefined;
    const fields = await nationalFields(content, ports.cipher);
    return syncLine({ operation: ref.operation, kind: content.kind, recordId: ref.recordId, version: ref.version, sourceId: content.sourceId, packageId: delivery.packageId, fields });
  });
  const lines: string[] = [];
  made.forEach((line, i) => {
    if (line !== undefined) lines.push(line);
    else {
      // The record is no longer stored: that version cannot be sent, and its delivery is not done.
      skipped++;
      incomplete.add(entries[i]!.delivery);
    }
  });
  // Only a pending one changes: a delivered one is so already (a conditional write that would fail, for nothing).
  const carried = sent.filter((d) => d.state === 'pending' && !incomplete.has(d)).map((d) => ({ key: d.key, path: d.path }));
  return { lines, carried, skipped };
}

/**
 * Writes the next segment from `state.cursor`, and beside it the list of the deliveries it carried, under the keys
 * of the body's current writer (sync-model.ts nextSegmentKey); the state after it (a segment more, unless the
 * pages read held no line to send; the cursor moved past them; the counts). Nothing of it counts until the caller
 * saves it: a run resumed before it was saved writes that segment again, under its new writer's keys.
 */
export async function writeNextSegment(target: BuildTarget, state: BuildState, ports: BuildPorts): Promise<BuildState> {
  const key = nextSegmentKey(target.platform, target.runId, state.body);
  let cursor = state.cursor;
  const counts = { ...state.counts };
  const carried: CarriedDelivery[] = [];
  let records = 0;
  async function* lines(): AsyncGenerator<string> {
    while (cursor.pass !== 'done' && records < ports.maxSegmentRecords && ports.timeLeft()) {
      ports.signal?.throwIfAborted();
      const page = await readPage(target, cursor, ports);
      const expanded = await expand(page.items, ports);
      counts.skipped += expanded.skipped;
      for (const line of expanded.lines) {
        records++;
        counts[page.pass]++;
        counts.records++;
        yield line;
      }
      carried.push(...expanded.carried);
      cursor = page.after;
    }
  }
  // A segment is written only for lines: pages with nothing to send move the cursor alone (and carry nothing).
  const iterator = lines();
  const first = await iterator.next();
  if (first.done) return { cursor, body: state.body, counts };
  async function* all(): AsyncGenerator<string> {
    yield first.value as string;
    yield* iterator;
  }
  const segment = await ports.segments.write(key, all());
  await ports.segments.write(carriedKey(key), (async function* () {
    for (const ref of carried) yield carriedLine(ref);
  })());
  const { sha256: _only, ...before } = state.body;
  const body: BodySoFar = {
    ...before,
    segments: state.body.segments + 1,
    records: state.body.records + segment.records,
    bytes: state.body.bytes + segment.bytes,
    ...(state.body.segments === 0 ? { sha256: segment.sha256 } : {}),
  };
  return { cursor, body, counts };
}
