/**
 * What starts the site publisher: a batch of the records table's change stream (the event-source mapping
 * `recordPublishing`), a publish run to (go on with) run — `{"runId", "continued"?}` from the jobs function or its own
 * continuation — or the daily schedule's `{"job": "publish"}`, which makes a run of its own.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { RUN_ID_PATTERN } from '../../contracts/jobs.js';
import { PUBLISH_JOB } from '../../shared/site-publishing/publish-run-model.js';

export type PublisherRequest =
  | { kind: 'stream'; event: DynamoDBStreamEvent }
  | { kind: 'run'; runId: string; continued: boolean }
  | { kind: 'schedule' }
  | { kind: 'unknown' };

export function publisherRequest(event: unknown): PublisherRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { kind: 'unknown' };
  const e = event as Record<string, unknown>;
  if (Array.isArray(e.Records)) return { kind: 'stream', event: event as DynamoDBStreamEvent };
  if (typeof e.runId === 'string' && RUN_ID_PATTERN.test(e.runId)) return { kind: 'run', runId: e.runId, continued: e.continued === true };
  if (e.job === PUBLISH_JOB) return { kind: 'schedule' };
  return { kind: 'unknown' };
}
