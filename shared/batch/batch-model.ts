/**
 * A court batch (API.md "Court batches") as the ingest sees it: what was
 * declared when it was created, where its upload is, its status, the lease of
 * the one worker ingesting it, and its checkpoint: the byte offset up to which
 * every row has been decided, with the counts so far.
 *
 * Statuses: waiting (no upload ingested yet) → processing → completed | failed.
 */
import type { RecordKind } from '../../contracts/kinds.js';
import type { KeyPrincipal } from '../store/sources-store.js';

export type BatchStatus = 'waiting' | 'processing' | 'completed' | 'failed';
export type BatchFormat = 'ndjson' | 'csv';
export type BatchEncoding = 'utf-8' | 'gb18030';

/** accepted + updated + duplicates + rejected = total, always. */
export interface BatchCounts {
  total: number;
  accepted: number;
  updated: number;
  duplicates: number;
  rejected: number;
}

export const NO_COUNTS: BatchCounts = Object.freeze({ total: 0, accepted: 0, updated: 0, duplicates: 0, rejected: 0 });

/** The upload being ingested, as first seen: a different ETag later means the object was replaced. */
export interface BatchObject {
  etag: string;
  size: number;
}

/** The one worker allowed to ingest the batch, until `until` (epoch ms). */
export interface BatchLease {
  owner: string;
  until: number;
}

/**
 * Where the ingest stands: every row before `offset` is decided and counted,
 * and its rejected rows are in the reject parts listed (by the byte offset of
 * the chunk they came from).
 */
export interface Checkpoint {
  /** Byte offset of the next row to read. */
  offset: number;
  /** Physical line number (1-based) at `offset`. */
  line: number;
  counts: BatchCounts;
  /** Start offsets of the chunks that had rejected rows, in file order. */
  rejectParts: number[];
  /** CSV: the header's column names, once read and checked. */
  header?: string[];
}

export interface Batch {
  id: string;
  kind: RecordKind;
  format: BatchFormat;
  encoding: BatchEncoding;
  /** The court that created the batch, as authenticated then: the rows are pushed as it. */
  source: KeyPrincipal;
  /** Key of the upload in the batch bucket. */
  objectKey: string;
  status: BatchStatus;
  createdAt: string;
  /** The upload URL works until then (ISO time). */
  expiresAt: string;
  object?: BatchObject;
  lease?: BatchLease;
  checkpoint?: Checkpoint;
  /** completed: key of the rejected rows' NDJSON object, when any row was rejected. */
  rejectsKey?: string;
  /** failed: why, in words a court can act on. */
  reason?: string;
  finishedAt?: string;
}

export const isFinished = (status: BatchStatus) => status === 'completed' || status === 'failed';

export function addCounts(a: BatchCounts, b: BatchCounts): BatchCounts {
  return {
    total: a.total + b.total,
    accepted: a.accepted + b.accepted,
    updated: a.updated + b.updated,
    duplicates: a.duplicates + b.duplicates,
    rejected: a.rejected + b.rejected,
  };
}
