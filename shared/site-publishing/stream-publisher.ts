/**
 * The records table's change stream → the public site, one change at a time (incremental.ts), on the day it is
 * applied in China (an injected clock): approving a record publishes it at once, withholding, repairing, revoking or
 * removing it takes its page down at once.
 *
 * The site's lease (LOCK#publish in the jobs table, the one a full publish run holds: publish-run.ts) is taken for
 * the invocation, so that no two writers decide on the same pages at once; while a run holds it, every record of
 * the batch is reported failed and Lambda sends them again later (its retries back off). Records are applied in
 * stream order, one after another (Powertools Batch, not in parallel); one that fails is reported by its sequence
 * number (reportBatchItemFailures) and comes back with those after it — applying a change again converges.
 *
 * Logs counts and record ids only.
 */
import { isDeepStrictEqual } from 'node:util';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { todayInChina } from '../domain/dates.js';
import type { StoredHead } from '../domain/record-model.js';
import type { JobLeases } from '../jobs/job-lease.js';
import { publishChange, type PublishDeps } from './incremental.js';
import { addCounts, ZERO_WRITE_COUNTS, type WriteCounts } from './page-writer.js';

/** The job whose lease guards the site's pages (the full run's job name). */
export const SITE_LEASE_JOB = 'publish';
/** The holder named by a stream invocation (a run names its run id). */
export const STREAM_HOLDER = 'stream';

export interface StreamPublisherDeps extends PublishDeps {
  leases: JobLeases;
  now: () => Date;
  newToken: () => string;
  /** How long the lease lasts unrenewed: longer than the function's timeout. */
  leaseMs: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface StreamReport extends WriteCounts {
  records: number;
  /** Changes that moved a record onto / off the site. */
  entered: number;
  left: number;
  failed: number;
  /** The lease was held by a publish run: the whole batch comes back later. */
  deferred: boolean;
  batchItemFailures: { itemIdentifier: string }[];
}

/** The head images a stream record carries (a head's INSERT, MODIFY or REMOVE). */
export function headsOf(record: DynamoDBRecord): { before?: StoredHead; after?: StoredHead } {
  const image = (raw: unknown) => {
    if (!raw) return undefined;
    const item = unmarshall(raw as Record<string, AttributeValue>) as Partial<StoredHead> & { sk?: string };
    if (item.sk !== 'HEAD' || typeof item.id !== 'string' || !item.publication) return undefined;
    const { sk: _sk, pk: _pk, ...head } = item as StoredHead & { sk: string; pk?: string };
    return head;
  };
  const before = record.eventName === 'INSERT' ? undefined : image(record.dynamodb?.OldImage);
  const after = record.eventName === 'REMOVE' ? undefined : image(record.dynamodb?.NewImage);
  return { ...(before ? { before } : {}), ...(after ? { after } : {}) };
}

/**
 * A head given only the review queue's index attributes, at the same version (publish-run.ts indexForReview, for a
 * head an older hub stored): nothing a page shows changed.
 */
function sameVersion(before: StoredHead | undefined, after: StoredHead | undefined): boolean {
  if (before === undefined || after === undefined || before.version !== after.version) return false;
  const { publicationQueue: _q1, publicationQueueKey: _k1, ...was } = before;
  const { publicationQueue: _q2, publicationQueueKey: _k2, ...is } = after;
  return isDeepStrictEqual(was, is);
}

export async function publishStream(event: DynamoDBStreamEvent, deps: StreamPublisherDeps, context?: Context): Promise<StreamReport> {
  const report: StreamReport = { records: event.Records.length, entered: 0, left: 0, failed: 0, deferred: false, ...ZERO_WRITE_COUNTS, batchItemFailures: [] };
  const asOf = todayInChina(deps.now());
  // Most changes (a push waiting for review, a record that stays off the site, a head given its queue attributes)
  // touch no page: no lease, no read.
  const touchesSite = event.Records.some((record) => {
    const { before, after } = headsOf(record);
    if (sameVersion(before, after)) return false;
    return (before !== undefined && deps.model.publicRecord(before, asOf) !== undefined) || (after !== undefined && deps.model.publicRecord(after, asOf) !== undefined);
  });
  if (!touchesSite) return report;
  const token = deps.newToken();
  const nowMs = deps.now().getTime();
  const take = await deps.leases.take(SITE_LEASE_JOB, STREAM_HOLDER, token, nowMs + deps.leaseMs, nowMs);
  if (!take.taken) {
    report.deferred = true;
    report.failed = event.Records.length;
    report.batchItemFailures = event.Records.flatMap((r) => (r.dynamodb?.SequenceNumber ? [{ itemIdentifier: r.dynamodb.SequenceNumber }] : []));
    deps.log?.('site publisher: the site is being published by a run; the batch comes back later', { holder: take.current?.holder, records: event.Records.length });
    return report;
  }
  try {
    let counts = ZERO_WRITE_COUNTS;
    const apply = async (record: DynamoDBRecord) => {
      const { before, after } = headsOf(record);
      if (sameVersion(before, after)) return;
      const change = await publishChange(before, after, asOf, deps);
      counts = addCounts(counts, change);
      if (!change.before && change.after) report.entered++;
      if (change.before && !change.after) report.left++;
    };
    const response = await processPartialResponse(event, apply, new BatchProcessor(EventType.DynamoDBStreams), {
      ...(context ? { context } : {}),
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
    report.batchItemFailures = response.batchItemFailures;
    report.failed = response.batchItemFailures.length;
    Object.assign(report, counts);
    return report;
  } finally {
    // Handed back as it was found: a run whose invocation died stays named, for the next one to resume.
    const previous = take.taken ? take.previous : undefined;
    if (previous && previous.holder !== STREAM_HOLDER && previous.until < nowMs) await deps.leases.hold(SITE_LEASE_JOB, previous.holder, token, 0).catch(() => undefined);
    else await deps.leases.release(SITE_LEASE_JOB, token).catch(() => undefined);
  }
}
