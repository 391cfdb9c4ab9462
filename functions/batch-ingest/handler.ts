/**
 * The batch ingest (shared/batch/ingest-batch.ts) on Lambda, started three ways (events.ts): by an upload's S3
 * event, by its own continuation when the previous invocation ran short of time, and by the sweep schedule
 * (shared/batch/sweep-batches.ts), which continues batches whose worker died and fails those never uploaded to.
 *
 * A bad file never makes it throw: the batch fails with a reason the court can act on, or its rows are
 * rejected. It throws only when AWS fails it (a store or bucket unreachable, throttled, timing out), having
 * released its lease: Lambda then retries the event (asynchronous invocations are tried three times), and the
 * sweep takes over after that.
 */
import type { Context } from 'aws-lambda';
import { batchLimits } from '../../infra/catalogue.js';
import { ingestBatch, type IngestOutcome } from '../../shared/batch/ingest-batch.js';
import { sweepBatches, type SweepReport } from '../../shared/batch/sweep-batches.js';
import { capacitySince, consumedCapacity } from '../../shared/aws/consumed-capacity.js';
import { fieldCipher, lookupHasher } from '../../shared/config.js';
import { policyStore, recordsStore } from '../../shared/deps.js';
import { logger } from '../../shared/logger.js';
import { batchPorts } from './deps.js';
import { ingestRequest } from './events.js';

export type IngestReport = { started?: Record<string, IngestOutcome['outcome']>; continued?: Record<string, IngestOutcome['outcome']>; swept?: SweepReport; ignored?: string[] };

async function ingest(batchId: string, context: Context): Promise<IngestOutcome> {
  const before = consumedCapacity();
  const ports = batchPorts();
  const [cipher, hasher] = await Promise.all([fieldCipher(), lookupHasher()]);
  const outcome = await ingestBatch(batchId, {
    store: ports.store,
    objects: ports.objects,
    rejects: ports.rejects,
    continuer: ports.continuer,
    push: { store: recordsStore(), cipher, hasher, policy: () => policyStore().get() },
    remainingMs: () => context.getRemainingTimeInMillis(),
    limits: { leaseMs: batchLimits.leaseSeconds * 1000 },
  });
  // Counts and reasons only: never a row. The capacity units are what this invocation cost on DynamoDB.
  const units = capacitySince(before);
  logger.info('batch ingest', { batch: batchId, ...outcome, readUnits: units.read, writeUnits: units.write, transactWriteUnits: units.transactWrite });
  return outcome;
}

export async function handler(event: unknown, context: Context): Promise<IngestReport> {
  const request = ingestRequest(event, batchPorts().bucket);
  switch (request.kind) {
    case 'start': {
      if (request.ignored.length > 0) logger.warn('batch ingest: objects that are not batch uploads ignored', { ignored: request.ignored });
      const started: Record<string, IngestOutcome['outcome']> = {};
      for (const id of request.batchIds) started[id] = (await ingest(id, context)).outcome;
      return { started, ...(request.ignored.length > 0 ? { ignored: request.ignored } : {}) };
    }
    case 'continue':
      return { continued: { [request.batchId]: (await ingest(request.batchId, context)).outcome } };
    case 'sweep': {
      const ports = batchPorts();
      const swept = await sweepBatches({ store: ports.store, objects: ports.objects, continuer: ports.continuer });
      if (swept.resumed.length + swept.started.length + swept.expired.length > 0) logger.info('batch sweep', { ...swept });
      return { swept };
    }
    case 'unknown':
      // Sending it again would not help: logged (its shape only, never its content), not thrown.
      logger.error('batch ingest: an event it does not take', { keys: typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 10) : typeof event });
      return {};
  }
}
