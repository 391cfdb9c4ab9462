/**
 * What a nightly sync run keeps in its run item while it works (the checkpoint), and the package it sends.
 *
 * The package (`POST <platform base URL>/sync`, Content-Type application/x-ndjson, Content-Encoding gzip,
 * Idempotency-Key = the run id) is NDJSON: a manifest header line
 * `{"header":{"packageId","sender","platform","createdAt","from","to","recordCount","bodySha256"}}`, then one line
 * per record version `{"operation","kind","recordId","version","sourceId","packageId","fields":{…}}`. `bodySha256`
 * is the SHA-256 (hex) of the bytes after the header line's newline; `recordCount` the number of lines there.
 *
 * A line's `packageId` is the Idempotency-Key under which the real-time path sends (or sent) that record version
 * to the platform: its package's, or after a split the part's that holds it (shared/upward/package-model.ts
 * packageIdOf). A version travels in real time in exactly one package, so a platform that has received a package
 * under that key knows it already has the version: the same version reaches it under one real-time key, and the
 * sync's lines say which. (The header's `packageId` is the run id, the sync package's own key.) A record may appear
 * in several lines, one per version of it in the window, each with its `version`: the highest is its current state.
 *
 * The body is written to S3 first, as segments (`sync/<platform>/<run id>/<writer>/<n, 5 digits>.ndjson.gz`, each a
 * gzip stream of whole lines, each closed at a page boundary of the reads and counted in the checkpoint): a run
 * that stops (out of time, crashed) goes on after its last saved segment, and once the body is complete
 * ("uploaded") every send of the package — a retry, a resumed run — streams the same bytes from S3. Beside each segment, a
 * small object (`…/<n>.carried.gz`, one `{"key","path"}` line per delivery) lists the deliveries whose every record
 * version is in that segment: once the platform acknowledged the package, those are marked delivered, segment by
 * segment, without the checkpoint growing with their number.
 *
 * Writers: every invocation that takes a run over (not its own continuations, which it hands the run to) becomes
 * its writer, and writes its segments under keys of its own (`<writer>`: its lease token), from the segment after
 * the last saved one. The checkpoint names the writers (`body.writers`, at most one per attempt at the run: a few
 * dozen bytes each), so that every segment's key is derived from it; sending, resuming and marking read only those
 * keys. An invocation that lost the run but is still working (its lease lapsed, another took over) can still
 * write a segment — under its own key, which the checkpoint never names: it can never replace a segment of the
 * package (S3 has no conditional write on the local emulator), and its checkpoint saves fail (each is conditional
 * on the step it read, which the taking over moved). Such leftovers go with the bucket's expiry (catalogue
 * buckets.exchange expireAfterDays: a lifecycle rule on AWS, infra/local/s3-lifecycle.ts locally).
 */
import type { PlatformName } from '../upward/package-model.js';

/** Where the reads of the package's deliveries go on from: a day of the window (byDay), the owed index, or done. */
export type BuildCursor =
  | { pass: 'changes'; day: string; startKey?: Record<string, unknown> }
  | { pass: 'owed'; startKey?: Record<string, unknown> }
  | { pass: 'done' };

/** One object of lines written to S3 (a segment of the body, or the list of deliveries a segment carried). */
export interface Segment {
  key: string;
  /** Lines in it. */
  records: number;
  /** Uncompressed bytes of its lines. */
  bytes: number;
  /** SHA-256 (hex) of those bytes. */
  sha256: string;
}

/** A writer of a run's segments: from segment `from` on (until the next writer's), under keys named by `id`. */
export interface SegmentWriter {
  from: number;
  id: string;
}

/**
 * The body written so far, as the checkpoint keeps it: its segments are segmentKeys(platform, run id, body), so
 * that it takes the same few bytes whatever their number.
 */
export interface BodySoFar {
  segments: number;
  /** Lines (record versions) in them. */
  records: number;
  /** Uncompressed bytes of those lines. */
  bytes: number;
  /** The SHA-256 (hex) of the only segment's bytes (with several, the body's is read back from S3). */
  sha256?: string;
  /**
   * Who wrote which segments, in order of `from`; the last one writes the next segment. Absent in a checkpoint
   * from before writers were named: its segments have the key without a writer (read, never written again).
   */
  writers?: SegmentWriter[];
}

export const EMPTY_BODY: BodySoFar = { segments: 0, records: 0, bytes: 0 };

/** A writer's id as it goes into a key. */
const WRITER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An empty body, its segments to be written by `writer`. */
export function newBody(writer: string): BodySoFar {
  return withWriter(EMPTY_BODY, writer);
}

/**
 * `body` with `writer` writing its next segment on. A last writer that wrote nothing (its `from` is that segment
 * too) is replaced: only writers of segments stay named.
 */
export function withWriter(body: BodySoFar, writer: string): BodySoFar {
  if (!WRITER_ID.test(writer)) throw new Error(`a segment writer id is 1 to 64 of [A-Za-z0-9_-]: ${JSON.stringify(writer)}`);
  const from = body.segments + 1;
  const kept = (body.writers ?? []).filter((w) => w.from < from);
  return { ...body, writers: [...kept, { from, id: writer }] };
}

export interface SyncHeader {
  packageId: string;
  sender: string;
  platform: PlatformName;
  createdAt: string;
  /** The window (from, to]: from exclusive, to inclusive. */
  from: string;
  to: string;
  recordCount: number;
  bodySha256: string;
}

/** Counted in record versions (lines), never in deliveries. */
export interface SyncCounts {
  changes: number;
  owed: number;
  skipped: number;
  records: number;
  bytes: number;
}

export const ZERO_COUNTS: SyncCounts = { changes: 0, owed: 0, skipped: 0, records: 0, bytes: 0 };

/**
 * building: segments are being written (`cursor` says where the reads go on); uploaded: the body is complete and
 * `header` describes it, the package is being sent; sent: the platform acknowledged it (2xx), the deliveries it
 * carried are being marked delivered (`marked` segments done), then the watermark moves.
 *
 * A few hundred bytes whatever the number of changes (the cursor is one DynamoDB key, the body a few counts and
 * its writers — one per invocation that took the run over, at most maxAttempts; which deliveries each segment
 * carried is in S3): always well within a DynamoDB item.
 */
export interface SyncCheckpoint {
  phase: 'building' | 'uploaded' | 'sent';
  /** Saves so far: each save is conditional on the previous one (an invocation that lost its lease cannot overwrite). */
  step: number;
  cursor: BuildCursor;
  body: BodySoFar;
  header?: SyncHeader;
  /** POSTs of the package made so far (over every invocation). */
  sendAttempts?: number;
  marked?: number;
}

/**
 * The key of segment `index` (from 1) of a run, written by `writer`: `sync/<platform>/<run id>/<writer>/<n, 5
 * digits>.ndjson.gz`; without a writer (a checkpoint from before writers were named), `sync/<platform>/<run
 * id>/<n>.ndjson.gz`.
 */
export function segmentKey(platform: PlatformName, runId: string, index: number, writer?: string): string {
  const n = String(index).padStart(5, '0');
  return writer === undefined ? `sync/${platform}/${runId}/${n}.ndjson.gz` : `sync/${platform}/${runId}/${writer}/${n}.ndjson.gz`;
}

/** Who wrote (or writes) segment `index` of `body`: the last writer from it or before; undefined before any. */
export function writerOf(body: BodySoFar, index: number): string | undefined {
  let id: string | undefined;
  for (const w of body.writers ?? []) if (w.from <= index) id = w.id;
  return id;
}

/** The key of segment `index` of `body`, as its checkpoint names it. */
export function bodySegmentKey(platform: PlatformName, runId: string, body: BodySoFar, index: number): string {
  return segmentKey(platform, runId, index, writerOf(body, index));
}

/** The keys of the body's segments, in order: the only objects its package is made of. */
export function segmentKeys(platform: PlatformName, runId: string, body: BodySoFar): string[] {
  return Array.from({ length: body.segments }, (_, i) => bodySegmentKey(platform, runId, body, i + 1));
}

/** The key the body's next segment is written under, by its current (last) writer; a body without one is never written to. */
export function nextSegmentKey(platform: PlatformName, runId: string, body: BodySoFar): string {
  const index = body.segments + 1;
  const writer = body.writers?.at(-1);
  if (writer === undefined || writer.from > index) throw new Error(`run ${runId}: no writer is named for segment ${index}`);
  return segmentKey(platform, runId, index, writer.id);
}

/** The key of the list of deliveries a segment carried: `…/<n>.carried.gz` beside `…/<n>.ndjson.gz`. */
export function carriedKey(segment: string): string {
  if (!segment.endsWith('.ndjson.gz')) throw new Error(`not a segment key: ${segment}`);
  return `${segment.slice(0, -'.ndjson.gz'.length)}.carried.gz`;
}
