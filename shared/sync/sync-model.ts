/**
 * What a nightly sync run keeps in its run item while it works (the checkpoint), and the package it sends.
 *
 * The package (`POST <platform base URL>/sync`, Content-Type application/x-ndjson, Content-Encoding gzip,
 * Idempotency-Key = the run id) is NDJSON: a manifest header line
 * `{"header":{"packageId","sender","platform","createdAt","from","to","recordCount","bodySha256"}}`, then one line
 * per record version `{"operation","kind","recordId","version","sourceId","fields":{…}}`. `bodySha256` is the
 * SHA-256 (hex) of the bytes after the header line's newline; `recordCount` the number of lines there.
 *
 * The body is written to S3 first, as segments (`sync/<platform>/<run id>/<n, 5 digits>.ndjson.gz`, each a gzip
 * stream of whole lines, each closed at a page boundary of the reads and saved in the checkpoint): a run that
 * stops (out of time, crashed) goes on after its last saved segment, and once the body is complete ("uploaded")
 * every send of the package — a retry, a resumed run — streams the same bytes from S3.
 */
import type { PlatformName } from '../upward/delivery-model.js';

/** Where the reads of the package's deliveries go on from: a day of the window (byDay), the owed index, or done. */
export type BuildCursor =
  | { pass: 'changes'; day: string; startKey?: Record<string, unknown> }
  | { pass: 'owed'; startKey?: Record<string, unknown> }
  | { pass: 'done' };

/** One segment of the body, as written to S3. */
export interface Segment {
  key: string;
  /** Lines (record versions) in it. */
  records: number;
  /** Uncompressed bytes of its lines. */
  bytes: number;
  /** SHA-256 (hex) of those bytes. */
  sha256: string;
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
 * `header` describes it, the package is being sent; sent: the platform acknowledged it (2xx), the versions in it
 * are being marked delivered (`marked` segments done), then the watermark moves.
 */
export interface SyncCheckpoint {
  phase: 'building' | 'uploaded' | 'sent';
  /** Saves so far: each save is conditional on the previous one (an invocation that lost its lease cannot overwrite). */
  step: number;
  cursor: BuildCursor;
  segments: Segment[];
  header?: SyncHeader;
  /** POSTs of the package made so far (over every invocation). */
  sendAttempts?: number;
  marked?: number;
}

/** The segment keys of a run: `sync/<platform>/<run id>/<n, 5 digits>.ndjson.gz`. */
export function segmentKey(platform: PlatformName, runId: string, index: number): string {
  return `sync/${platform}/${runId}/${String(index).padStart(5, '0')}.ndjson.gz`;
}
