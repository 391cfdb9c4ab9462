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
 * The body is written to S3 first, as segments (`sync/<platform>/<run id>/<n, 5 digits>.ndjson.gz`, each a gzip
 * stream of whole lines, each closed at a page boundary of the reads and counted in the checkpoint): a run that
 * stops (out of time, crashed) goes on after its last saved segment, and once the body is complete ("uploaded")
 * every send of the package — a retry, a resumed run — streams the same bytes from S3. Beside each segment, a
 * small object (`…/<n>.carried.gz`, one `{"key","path"}` line per delivery) lists the deliveries whose every record
 * version is in that segment: once the platform acknowledged the package, those are marked delivered, segment by
 * segment, without the checkpoint growing with their number.
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

/**
 * The body written so far, as the checkpoint keeps it: its segments are segmentKey(platform, run id, 1 … segments),
 * so that it takes the same few bytes whatever their number.
 */
export interface BodySoFar {
  segments: number;
  /** Lines (record versions) in them. */
  records: number;
  /** Uncompressed bytes of those lines. */
  bytes: number;
  /** The SHA-256 (hex) of the only segment's bytes (with several, the body's is read back from S3). */
  sha256?: string;
}

export const EMPTY_BODY: BodySoFar = { segments: 0, records: 0, bytes: 0 };

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
 * A few hundred bytes whatever the number of changes (the cursor is one DynamoDB key, the body a few counts; which
 * deliveries each segment carried is in S3): always well within a DynamoDB item.
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

/** The segment keys of a run: `sync/<platform>/<run id>/<n, 5 digits>.ndjson.gz` (n from 1). */
export function segmentKey(platform: PlatformName, runId: string, index: number): string {
  return `sync/${platform}/${runId}/${String(index).padStart(5, '0')}.ndjson.gz`;
}

/** The keys of a run's first `count` segments, in order. */
export function segmentKeys(platform: PlatformName, runId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => segmentKey(platform, runId, i + 1));
}

/** The key of the list of deliveries a segment carried: `…/<n>.carried.gz` beside `…/<n>.ndjson.gz`. */
export function carriedKey(segment: string): string {
  if (!segment.endsWith('.ndjson.gz')) throw new Error(`not a segment key: ${segment}`);
  return `${segment.slice(0, -'.ndjson.gz'.length)}.carried.gz`;
}
