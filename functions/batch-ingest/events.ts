/**
 * What starts the batch-ingest function, by shape: an S3 ObjectCreated event of an upload (the batch bucket's
 * notification on `uploads/`), its own continuation (`{"continueBatch": id}`, shared/batch/lambda-continuer.ts),
 * or the sweep schedule's constant input (`{"sweep": true}`, infra/catalogue.ts schedules.batchSweep).
 */
import type { S3Event } from 'aws-lambda';
import { isContinuationEvent } from '../../shared/batch/lambda-continuer.js';
import { batchIdOfUploadKey } from '../../shared/batch/s3-upload-url.js';

export type IngestRequest =
  | { kind: 'start'; batchIds: string[]; ignored: string[] }
  | { kind: 'continue'; batchId: string }
  | { kind: 'sweep' }
  | { kind: 'unknown' };

function isS3Event(event: unknown): event is S3Event {
  const records = (event as S3Event | undefined)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => r?.eventSource === 'aws:s3' && typeof r.s3?.object?.key === 'string');
}

/** An object key as S3 writes it into an event (form-encoded: a space is `+`), decoded. */
export function s3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** What an event asks for. Uploads are only started from the batch bucket's ObjectCreated events; anything else is ignored, by key. */
export function ingestRequest(event: unknown, bucket: string): IngestRequest {
  if (isS3Event(event)) {
    const batchIds: string[] = [];
    const ignored: string[] = [];
    for (const record of event.Records) {
      const key = s3EventKey(record.s3.object.key);
      const id = record.eventName.startsWith('ObjectCreated:') && record.s3.bucket.name === bucket ? batchIdOfUploadKey(key) : undefined;
      if (id && !batchIds.includes(id)) batchIds.push(id);
      else if (!id) ignored.push(`${record.eventName} ${record.s3.bucket.name}/${key}`);
    }
    return { kind: 'start', batchIds, ignored };
  }
  if (isContinuationEvent(event)) return { kind: 'continue', batchId: event.continueBatch };
  if (typeof event === 'object' && event !== null && (event as { sweep?: unknown }).sweep === true) return { kind: 'sweep' };
  return { kind: 'unknown' };
}
