/**
 * The sweep (run on a schedule): no batch stays waiting or processing for
 * ever.
 * - processing, with no lease or an expired one (its worker died: a crash, a
 *   SIGKILL of the local stack, a Lambda timeout): continued from its checkpoint;
 * - waiting, with its upload there (the object-created event was lost):
 *   started;
 * - waiting, with nothing uploaded once the upload URL has expired (and a
 *   grace period for an upload still streaming when it did): failed.
 * Continuing is asking the Continuer: the ingest itself takes the lease, so a
 * batch continued twice is ingested once.
 */
import { isFinished } from './batch-model.js';
import { REASONS } from './failure-reasons.js';
import type { BatchStore, Continuer, ObjectSource } from './ports.js';

export interface SweepDeps {
  store: BatchStore;
  objects: ObjectSource;
  continuer: Continuer;
  now?: () => number;
  /** How long after `expiresAt` a waiting batch with no upload is failed. */
  uploadGraceMs?: number;
}

export interface SweepReport {
  /** Processing batches whose worker is gone, continued. */
  resumed: string[];
  /** Waiting batches with an upload, started. */
  started: string[];
  /** Waiting batches never uploaded to, failed. */
  expired: string[];
}

/** An upload of 5 GB at 10 MB/s takes under 9 minutes; an hour is generous. */
export const UPLOAD_GRACE_MS = 60 * 60_000;

export async function sweepBatches(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.now ?? Date.now;
  const report: SweepReport = { resumed: [], started: [], expired: [] };
  for await (const batch of deps.store.listUnfinished()) {
    if (isFinished(batch.status) || (batch.lease && batch.lease.until > now())) continue;
    if (batch.status === 'processing') {
      await deps.continuer.continueLater(batch.id);
      report.resumed.push(batch.id);
    } else if (await deps.objects.stat(batch.objectKey)) {
      await deps.continuer.continueLater(batch.id);
      report.started.push(batch.id);
    } else if (now() > Date.parse(batch.expiresAt) + (deps.uploadGraceMs ?? UPLOAD_GRACE_MS)) {
      if ((await deps.store.fail(batch.id, undefined, REASONS.expired(batch.expiresAt), new Date(now()).toISOString())) === 'ok') report.expired.push(batch.id);
    }
  }
  return report;
}
