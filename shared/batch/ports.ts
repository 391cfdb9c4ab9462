/**
 * The ports of the batch ingest (shared/batch/ingest-batch.ts): where the
 * upload is read from, where the batch's state is kept, where rejected rows
 * go, and how a worker that runs out of time gets continued. AWS adapters:
 * S3, DynamoDB and an asynchronous Lambda invoke; the tests use in-memory ones.
 */
import type { Batch, BatchCounts, BatchObject, Checkpoint } from './batch-model.js';

/** The upload changed since the ingest first saw it (its ETag differs): reading on would mix two files. */
export class ObjectChangedError extends Error {
  override name = 'ObjectChangedError';
}

export interface ObjectSource {
  /** Size and ETag of the object; undefined when there is none. */
  stat(key: string): Promise<BatchObject | undefined>;
  /**
   * The object's bytes from `offset` to its end, as a stream (a ranged read:
   * never the whole object in memory). The read is made on condition that the
   * object still has `etag`: otherwise it fails with ObjectChangedError.
   */
  read(key: string, offset: number, etag: string, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

/** One rejected row, as the court downloads it (identity numbers masked). */
export interface RejectedRow {
  line: number;
  reasons: { field: string; message: string }[];
  /** The row's fields as sent, masked; absent when the row could not be read into fields. */
  row?: Record<string, unknown>;
  /** The row's text (masked, shortened) when it could not be read into fields; absent for a row too long to keep. */
  text?: string;
}

export interface RejectSink {
  /** Stores the rejected rows of the chunk starting at `chunkOffset`; storing the same part again replaces it. */
  putPart(batchId: string, chunkOffset: number, rows: readonly RejectedRow[]): Promise<void>;
  /**
   * Joins the parts (in the order given) into one NDJSON object, streamed
   * (never all in memory), and returns its key.
   */
  concatenate(batchId: string, chunkOffsets: readonly number[]): Promise<string>;
}

export interface Continuer {
  /** Asks for another worker to continue the batch from its checkpoint (on AWS: an asynchronous invoke). */
  continueLater(batchId: string): Promise<void>;
}

/** A write made on condition of the lease (and, for checkpoints, of the previous offset) that no longer holds. */
export type Conditional = 'ok' | 'lost';

export interface BatchStore {
  get(batchId: string): Promise<Batch | undefined>;
  /**
   * Takes the lease for `owner` until `until` (epoch ms) when the batch is
   * waiting or processing and no other owner holds an unexpired lease (now:
   * `now`). The batch as it is then, or undefined when the lease is held (or
   * the batch is finished or absent).
   */
  takeLease(batchId: string, owner: string, until: number, now: number): Promise<Batch | undefined>;
  /** waiting → processing with the object first seen and the first checkpoint; on condition of the lease. */
  begin(batchId: string, owner: string, object: BatchObject, checkpoint: Checkpoint): Promise<Conditional>;
  /**
   * Saves `next` on condition that the checkpoint is still at `previousOffset`
   * and `owner` holds the lease, renewing the lease until `leaseUntil`; with
   * `leaseUntil` undefined the lease is released.
   */
  saveCheckpoint(batchId: string, owner: string, previousOffset: number, next: Checkpoint, leaseUntil: number | undefined): Promise<Conditional>;
  /** Lets the lease go (when `owner` holds it): another worker may take the batch at once. */
  releaseLease(batchId: string, owner: string): Promise<void>;
  /** processing → completed with the final counts; on condition of the lease. The lease ends. */
  complete(batchId: string, owner: string, counts: BatchCounts, rejectsKey: string | undefined, at: string): Promise<Conditional>;
  /**
   * → failed with a reason. With `owner`, on condition of its lease; without,
   * on condition that the batch is still waiting with no lease unexpired at
   * `at` (a batch nobody uploaded to).
   */
  fail(batchId: string, owner: string | undefined, reason: string, at: string): Promise<Conditional>;
  /** Batches still waiting or processing (for the sweep), a page at a time. */
  listUnfinished(): AsyncIterable<Batch>;
}
