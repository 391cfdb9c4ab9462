/**
 * Builds the body of a sync package, one segment at a time (sync-model.ts): from the checkpoint's cursor, page by
 * page — the window's changes day by day (byDay), then what the platform still owes from before the window
 * (owed) — each delivery's version read from the record's head (current: a line; superseded, refused before or
 * gone: skipped, package-lines.ts inclusionOf), written to S3 as it is made. A segment ends at a page boundary:
 * when it holds maxSegmentRecords lines, when the reads are done, or when the invocation is running out of time;
 * the cursor after its last page is what the next segment starts from.
 */
import type { StoredHead } from '../domain/record-model.js';
import type { Delivery, PlatformName } from '../upward/delivery-model.js';
import { nationalFields, type Decrypter } from '../upward/record-fields.js';
import type { DeliveryPages } from './delivery-pages.js';
import { inclusionOf, syncLine } from './package-lines.js';
import type { PackageSegments } from './package-segments.js';
import { segmentKey, type BuildCursor, type Segment, type SyncCounts } from './sync-model.js';
import { chinaDayOf, nextDay } from './sync-window.js';

export interface BuildPorts {
  pages: DeliveryPages;
  heads: { getHead(id: string): Promise<StoredHead | undefined> };
  cipher: () => Promise<Decrypter>;
  segments: PackageSegments;
  pageSize: number;
  headConcurrency: number;
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
  segments: Segment[];
  counts: SyncCounts;
}

/** Where the reads of a new run start: the window's first day, or (an empty window) the owed index. */
export function initialCursor(from: string, to: string): BuildCursor {
  return to > from ? { pass: 'changes', day: chinaDayOf(from) } : { pass: 'owed' };
}

interface Page {
  items: Delivery[];
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

/** The lines of a page, in its order (undefined: skipped), heads read and numbers decrypted a few at a time. */
async function linesOf(items: readonly Delivery[], ports: BuildPorts): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = new Array(items.length);
  for (let i = 0; i < items.length; i += ports.headConcurrency) {
    const slice = items.slice(i, i + ports.headConcurrency);
    const lines = await Promise.all(
      slice.map(async (delivery) => {
        if (delivery.state === 'superseded' || delivery.state === 'failed') return undefined;
        const head = await ports.heads.getHead(delivery.recordId);
        if (inclusionOf(delivery, head) !== 'send') return undefined;
        const h = head!;
        return syncLine({ operation: delivery.operation, kind: h.kind, recordId: h.id, version: h.version, sourceId: h.sourceId, fields: await nationalFields(h, ports.cipher) });
      }),
    );
    lines.forEach((line, j) => (out[i + j] = line));
  }
  return out;
}

/**
 * Writes the next segment from `state.cursor`; the state after it (a segment more, unless the pages read held no
 * line to send; the cursor moved past them; the counts). Nothing of it counts until the caller saves it.
 */
export async function writeNextSegment(target: BuildTarget, state: BuildState, ports: BuildPorts): Promise<BuildState> {
  let cursor = state.cursor;
  const counts = { ...state.counts };
  let records = 0;
  async function* lines(): AsyncGenerator<string> {
    while (cursor.pass !== 'done' && records < ports.maxSegmentRecords && ports.timeLeft()) {
      ports.signal?.throwIfAborted();
      const page = await readPage(target, cursor, ports);
      const pageLines = await linesOf(page.items, ports);
      for (const line of pageLines) {
        if (line === undefined) {
          counts.skipped++;
          continue;
        }
        records++;
        counts[page.pass]++;
        counts.records++;
        yield line;
      }
      cursor = page.after;
    }
  }
  // A segment is written only for lines: pages with nothing to send move the cursor alone.
  const iterator = lines();
  const first = await iterator.next();
  if (first.done) return { cursor, segments: state.segments, counts };
  async function* all(): AsyncGenerator<string> {
    yield first.value as string;
    yield* iterator;
  }
  const segment = await ports.segments.write(segmentKey(target.platform, target.runId, state.segments.length + 1), all());
  return { cursor, segments: [...state.segments, segment], counts };
}
