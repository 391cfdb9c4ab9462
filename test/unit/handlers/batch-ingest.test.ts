/**
 * The batch-ingest function (functions/batch-ingest/handler.ts) with mocked AWS clients: what each event makes it
 * do — an upload's S3 event ingests the batch through the push path, a continuation reads on, the sweep continues
 * stalled batches with an asynchronous invocation of the function itself — and how it ends: a bad file fails the
 * batch without throwing, a transient AWS failure throws (Lambda retries) having released the lease.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchLimits, buckets, functionNameEnvVar, localFunctionName, tables } from '../../../infra/catalogue.js';
import type { Batch } from '../../../shared/batch/batch-model.js';
import { REASONS } from '../../../shared/batch/failure-reasons.js';
import { UPLOAD_GRACE_MS } from '../../../shared/batch/sweep-batches.js';
import { generateBatch, type BatchManifest } from '../../support/batch-sample/index.js';
import { OTHER_USCC, RECORDS_TABLE, ddb, lambdaContext, principal } from './support.js';
import { handler } from '../../../functions/batch-ingest/handler.js';

const BATCHES_TABLE = 'test-batches';
const BUCKET = 'test-batch-bucket';
const FUNCTION = localFunctionName('batchIngest');
process.env[tables.batches.envVar] = BATCHES_TABLE;
process.env[buckets.batches.envVar] = BUCKET;
process.env[functionNameEnvVar('batchIngest')] = FUNCTION;

const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);

const court = principal({ sourceId: 'bj-1zy', name: '北京市第一中级人民法院', uscc: OTHER_USCC, role: 'court', kinds: ['dishonest-debtor'] });
const ID = 'bat_abcdefghijklmnopqrstuvwxyz';
const ETAG = '"0123456789abcdef0123456789abcdef"';

function batch(overrides: Partial<Batch> = {}): Batch {
  return {
    id: ID,
    kind: 'dishonest-debtor',
    format: 'ndjson',
    encoding: 'utf-8',
    source: court,
    objectKey: `uploads/${ID}`,
    status: 'waiting',
    createdAt: new Date(Date.now() - 60_000).toISOString(),
    expiresAt: new Date(Date.now() + 3_540_000).toISOString(),
    ...overrides,
  };
}

async function sampleFile(rows: number, bad: number): Promise<{ bytes: Buffer; manifest: BatchManifest }> {
  const { stream, manifest } = generateBatch({ rows, bad, repeats: 0, seed: 31 });
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return { bytes: Buffer.concat(parts), manifest: await manifest };
}

/** The batches table as the store sees it: GetItem of the batch, conditional updates that hold (the lease taken returns the item). */
function batchesTable(stored: Batch) {
  ddb.on(GetCommand, { TableName: BATCHES_TABLE }).resolves({ Item: { pk: `BATCH#${stored.id}`, sk: 'BATCH', ...stored } });
  ddb.on(UpdateCommand, { TableName: BATCHES_TABLE }).callsFake((input) =>
    input.ReturnValues === 'ALL_NEW' ? { Attributes: { pk: `BATCH#${stored.id}`, sk: 'BATCH', ...stored, lease: input.ExpressionAttributeValues[':lease'] } } : {},
  );
}

/** Objects put (reject parts, the joined rejects), readable back. */
const objects = new Map<string, Buffer>();

/** The upload in the bucket: listed, and read from any offset. */
function upload(bytes: Buffer) {
  s3.on(ListObjectsV2Command, { Prefix: `uploads/${ID}` }).resolves({ Contents: [{ Key: `uploads/${ID}`, ETag: ETAG, Size: bytes.length }] });
  s3.on(GetObjectCommand, { Key: `uploads/${ID}` }).callsFake((input) => {
    const offset = Number(/^bytes=(\d+)-$/.exec(input.Range)![1]);
    return { ETag: ETAG, Body: Readable.from([bytes.subarray(offset)]) };
  });
}

const updates = () => ddb.commandCalls(UpdateCommand, { TableName: BATCHES_TABLE }).map((c) => c.args[0].input);
const context = (remainingMs = 600_000): Context => ({ ...lambdaContext(FUNCTION), getRemainingTimeInMillis: () => remainingMs });

function s3Event(key: string, bucket = BUCKET, eventName = 'ObjectCreated:Put'): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'cn-north-1',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:X' },
        requestParameters: { sourceIPAddress: '10.0.0.1' },
        responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
        s3: { s3SchemaVersion: '1.0', configurationId: 'c', bucket: { name: bucket, ownerIdentity: { principalId: 'o' }, arn: `arn:aws-cn:s3:::${bucket}` }, object: { key, size: 1, eTag: ETAG, sequencer: '1' } },
      },
    ],
  };
}

beforeEach(() => {
  ddb.reset();
  s3.reset();
  lambda.reset();
  ddb.on(BatchGetCommand).resolves({ Responses: { [RECORDS_TABLE]: [] } });
  ddb.on(PutCommand, { TableName: RECORDS_TABLE }).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
  objects.clear();
  s3.on(PutObjectCommand).callsFake((input) => {
    objects.set(input.Key, Buffer.from(input.Body as string | Uint8Array));
    return { ETag: '"x"' };
  });
  s3.on(GetObjectCommand).callsFake((input) => ({ ETag: '"x"', Body: Readable.from([objects.get(input.Key)!]) }));
  s3.on(DeleteObjectsCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});

describe('an upload’s S3 event', () => {
  it('ingests the batch through the push path and completes it with exact counts, its rejected rows in S3', async () => {
    const { bytes, manifest } = await sampleFile(40, 0.1);
    batchesTable(batch());
    upload(bytes);
    const report = await handler(s3Event(`uploads/${ID}`), context());
    expect(report).toEqual({ started: { [ID]: 'completed' } });

    // The lease for batchLimits.leaseSeconds, then waiting → processing with the object first seen.
    const [lease, begin] = updates();
    expect(lease!.ExpressionAttributeValues![':lease'].until - Date.now()).toBeLessThanOrEqual(batchLimits.leaseSeconds * 1000);
    expect(lease!.ExpressionAttributeValues![':lease'].until - Date.now()).toBeGreaterThan(batchLimits.leaseSeconds * 1000 - 5000);
    expect(begin!.ExpressionAttributeValues![':object']).toEqual({ etag: ETAG, size: bytes.length });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: BUCKET, Key: `uploads/${ID}`, Range: 'bytes=0-', IfMatch: ETAG });
    // Written as the court, as a push would be: one head per accepted row, each a conditional PutItem of its own
    // (no transaction: the sample's rows are all new).
    const recordPuts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(recordPuts.every((p) => p.TableName === RECORDS_TABLE && p.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);
    const written = recordPuts.map((p) => p.Item!);
    expect(written.filter((i) => i.sk === 'HEAD')).toHaveLength(manifest.expected.accepted);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(new Set(written.map((i) => i.sourceId))).toEqual(new Set([court.sourceId]));
    const complete = updates().find((u) => u.ExpressionAttributeValues![':completed'] === 'completed')!;
    expect(complete.ExpressionAttributeValues![':counts']).toEqual(manifest.expected);
    expect(complete.ExpressionAttributeValues![':rejectsKey']).toBe(`rejects/${ID}.ndjson`);
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(puts).toEqual([`rejects/${ID}/parts/0000000000000000.ndjson`, `rejects/${ID}.ndjson`]);
    const rejects = objects.get(`rejects/${ID}.ndjson`)!.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rejects.map((r) => r.line)).toEqual(Object.values(manifest.badByKind).flatMap((l) => l!.first.map((b) => b.line)).sort((a, b) => a - b));
    expect(s3.commandCalls(DeleteObjectsCommand)[0]!.args[0].input.Delete!.Objects).toEqual([{ Key: `rejects/${ID}/parts/0000000000000000.ndjson` }]);
  });

  it('decodes the key as S3 encodes it, and ignores objects that are not a batch’s upload', async () => {
    const report = await handler({ Records: [...s3Event('rejects/x.ndjson').Records, ...s3Event(`uploads/${ID}`, 'another-bucket').Records, ...s3Event('uploads/a+b%2Fc').Records] }, context());
    expect(report.started).toEqual({});
    expect(report.ignored).toEqual([`ObjectCreated:Put ${BUCKET}/rejects/x.ndjson`, `ObjectCreated:Put another-bucket/uploads/${ID}`, `ObjectCreated:Put ${BUCKET}/uploads/a b/c`]);
    expect(ddb.calls()).toEqual([]);
  });

  it('a file that cannot be ingested fails the batch with its reason; the handler does not throw', async () => {
    batchesTable(batch());
    upload(Buffer.alloc(0));
    expect(await handler(s3Event(`uploads/${ID}`), context())).toEqual({ started: { [ID]: 'failed' } });
    const failed = updates().find((u) => u.ExpressionAttributeValues![':failed'] === 'failed')!;
    expect(failed.ExpressionAttributeValues![':reason']).toBe(REASONS.emptyFile);
  });

  it('a transient AWS failure is thrown (Lambda retries), the lease released first for the retry or the sweep', async () => {
    const { bytes } = await sampleFile(10, 0);
    batchesTable(batch());
    upload(bytes);
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(handler(s3Event(`uploads/${ID}`), context())).rejects.toThrow('slow down');
    expect(updates().at(-1)).toMatchObject({ UpdateExpression: 'REMOVE #lease', ExpressionAttributeValues: { ':owner': expect.any(String) } });
  });

  it('short of time after a chunk: saves the checkpoint, releases the lease and invokes itself asynchronously to read on', async () => {
    const { bytes } = await sampleFile(10, 0);
    batchesTable(batch());
    upload(bytes);
    expect(await handler(s3Event(`uploads/${ID}`), context(1000))).toEqual({ started: { [ID]: 'continued' } });
    const invokes = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invokes).toHaveLength(1);
    expect(invokes[0]).toMatchObject({ FunctionName: FUNCTION, InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(invokes[0]!.Payload as Uint8Array))).toEqual({ continueBatch: ID });
    const saved = updates().find((u) => u.ExpressionAttributeValues![':next'])!;
    expect(saved.UpdateExpression).toContain('REMOVE #lease');
  });
});

describe('a continuation', () => {
  it('reads on from the checkpoint with a ranged GET of the same object', async () => {
    const { bytes, manifest } = await sampleFile(30, 0);
    const offset = bytes.indexOf('\n') + 1;
    batchesTable(
      batch({ status: 'processing', object: { etag: ETAG, size: bytes.length }, checkpoint: { offset, line: 2, counts: { total: 1, accepted: 1, updated: 0, duplicates: 0, rejected: 0 }, rejectParts: [] } }),
    );
    upload(bytes);
    expect(await handler({ continueBatch: ID }, context())).toEqual({ continued: { [ID]: 'completed' } });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toMatchObject({ Range: `bytes=${offset}-`, IfMatch: ETAG });
    const complete = updates().find((u) => u.ExpressionAttributeValues![':completed'] === 'completed')!;
    expect(complete.ExpressionAttributeValues![':counts']).toEqual(manifest.expected);
  });

  it('of a batch already finished: nothing to do, nothing written', async () => {
    batchesTable(batch({ status: 'completed' }));
    expect(await handler({ continueBatch: ID }, context())).toEqual({ continued: { [ID]: 'finished' } });
    expect(updates()).toEqual([]);
  });
});

describe('the sweep', () => {
  it('continues a batch whose worker is gone, leaves one whose lease is live, fails one never uploaded to', async () => {
    const now = Date.now();
    const stalled = batch({ id: 'bat_stalledaaaaaaaaaaaaaaaaaa', status: 'processing', lease: { owner: 'dead', until: now - 1 } });
    const running = batch({ id: 'bat_runningaaaaaaaaaaaaaaaaaa', status: 'processing', lease: { owner: 'alive', until: now + 30_000 } });
    const abandoned = batch({ id: 'bat_abandonedaaaaaaaaaaaaaaaa', objectKey: 'uploads/bat_abandonedaaaaaaaaaaaaaaaa', expiresAt: new Date(now - UPLOAD_GRACE_MS - 1000).toISOString() });
    ddb.on(QueryCommand, { TableName: BATCHES_TABLE }).resolves({ Items: [stalled, running, abandoned].map((b) => ({ pk: `BATCH#${b.id}`, sk: 'BATCH', unfinished: 'Y', ...b })) });
    ddb.on(UpdateCommand, { TableName: BATCHES_TABLE }).resolves({});
    const report = await handler({ sweep: true }, context());
    expect(report.swept).toEqual({ resumed: [stalled.id], started: [], expired: [abandoned.id] });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ TableName: BATCHES_TABLE, IndexName: 'unfinished' });
    const invokes = lambda.commandCalls(InvokeCommand).map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));
    expect(invokes).toEqual([{ continueBatch: stalled.id }]);
    expect(updates().map((u) => u.ExpressionAttributeValues![':reason'])).toEqual([REASONS.expired(abandoned.expiresAt)]);
  });

  it('a continuation Lambda did not queue is an error (the next sweep tries again)', async () => {
    ddb.on(QueryCommand, { TableName: BATCHES_TABLE }).resolves({ Items: [{ pk: 'BATCH#x', sk: 'BATCH', ...batch({ status: 'processing' }) }] });
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(handler({ sweep: true }, context())).rejects.toThrow(/not queued/);
  });
});

describe('anything else', () => {
  it('an event it does not take is logged and dropped: no call, no throw (a retry would not help)', async () => {
    expect(await handler({ 'detail-type': 'Scheduled Event' }, context())).toEqual({});
    expect(await handler(null, context())).toEqual({});
    expect(ddb.calls()).toEqual([]);
    expect(s3.calls()).toEqual([]);
  });
});
