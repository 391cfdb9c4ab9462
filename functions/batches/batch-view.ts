/**
 * GET /v1/batches/{batchId}: a batch as its court (or the operator) reads it. The counts are the
 * checkpoint's (exact at every moment: a chunk counts once its checkpoint is saved); `rejectsUrl` a
 * presigned GET made for this answer.
 *
 * A batch still waiting once its upload URL has expired, with nothing uploaded, is answered as failed
 * at once: the URL no longer works, so nothing will come. (The sweep marks it failed in the store an
 * hour later, the time an upload started just before the expiry may still take to arrive.)
 */
import type { BatchStatusView } from '../../contracts/batches.js';
import { batchLimits, buckets } from '../../infra/catalogue.js';
import { NO_COUNTS, type Batch } from '../../shared/batch/batch-model.js';
import { REASONS } from '../../shared/batch/failure-reasons.js';

export interface ViewLinks {
  /** A presigned GET of an object of the bucket. */
  download(key: string): Promise<string>;
  /** Whether the upload is there. */
  uploaded(key: string): Promise<boolean>;
}

const DAY_MS = 86_400_000;

/** Whether the rejects object may still be there: S3 expires it no sooner than expireAfterDays after it was written. */
function rejectsKept(batch: Batch, now: Date): boolean {
  const days = buckets.batches.expireAfterDays;
  return batch.finishedAt === undefined || Date.parse(batch.finishedAt) + days * DAY_MS > now.getTime();
}

export async function batchView(batch: Batch, now: Date, links: ViewLinks): Promise<BatchStatusView> {
  const { total, accepted, updated, duplicates, rejected } = batch.checkpoint?.counts ?? NO_COUNTS;
  const base = {
    batchId: batch.id,
    kind: batch.kind,
    format: batch.format,
    encoding: batch.encoding,
    total,
    accepted,
    updated,
    duplicates,
    rejected,
    createdAt: batch.createdAt,
  };
  switch (batch.status) {
    case 'waiting':
      if (now.getTime() > Date.parse(batch.expiresAt) && !(await links.uploaded(batch.objectKey))) {
        return { ...base, status: 'failed', reason: REASONS.expired(batch.expiresAt) };
      }
      return { ...base, status: 'waiting', expiresAt: batch.expiresAt };
    case 'processing':
      return { ...base, status: 'processing' };
    case 'completed':
      return {
        ...base,
        status: 'completed',
        ...(batch.rejectsKey && rejectsKept(batch, now) ? { rejectsUrl: await links.download(batch.rejectsKey) } : {}),
        ...(batch.finishedAt ? { finishedAt: batch.finishedAt } : {}),
      };
    case 'failed':
      return { ...base, status: 'failed', reason: batch.reason ?? '', ...(batch.finishedAt ? { finishedAt: batch.finishedAt } : {}) };
  }
}

/** How long a rejectsUrl works. */
export const REJECTS_URL_SECONDS = batchLimits.rejectsUrlSeconds;
