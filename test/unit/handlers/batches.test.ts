/**
 * POST /v1/batches and GET /v1/batches/{batchId} (functions/batches/handler.ts) with mocked AWS clients: who may
 * open and read a batch, what is stored, the presigned upload URL (signing the host only, no checksum: a plain
 * `curl -T` works against real S3), and the status a court reads at each stage.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BATCH_ID_PATTERN } from '../../../contracts/batches.js';
import { batchLimits, buckets, environment, tables } from '../../../infra/catalogue.js';
import type { Batch } from '../../../shared/batch/batch-model.js';
import { REASONS } from '../../../shared/batch/failure-reasons.js';
import { DEPARTMENT_KEY, OPERATOR_KEY, OTHER_USCC, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems, principal } from './support.js';
import { handler } from '../../../functions/batches/handler.js';
import { uploadUrlSeconds } from '../../../functions/batches/deps.js';

const BATCHES_TABLE = 'test-batches';
const BUCKET = 'test-batch-bucket';
process.env[tables.batches.envVar] = BATCHES_TABLE;
process.env[tables.idempotency.envVar] = 'test-idempotency';
process.env[buckets.batches.envVar] = BUCKET;

const COURT_KEY = 'hub_court-key-for-unit-tests-0123456789abcdefgh';
const OTHER_COURT_KEY = 'hub_other-court-key-for-unit-tests-0123456789';
const court = principal({ sourceId: 'bj-1zy', name: '北京市第一中级人民法院', uscc: OTHER_USCC, role: 'court', kinds: ['dishonest-debtor'] });
const otherCourt = principal({ sourceId: 'sh-2zy', name: '上海市第二中级人民法院', uscc: OTHER_USCC, role: 'court', kinds: ['dishonest-debtor'] });

const s3 = mockClient(S3Client);
const NOW = new Date('2031-03-04T05:06:07.000Z');

const open = (body: unknown, key = COURT_KEY) => invoke(handler, apiEvent('POST /v1/batches', { key, body: body as object }));
const read = (batchId: string, key = COURT_KEY) => invoke(handler, apiEvent('GET /v1/batches/{batchId}', { key, pathParameters: { batchId } }));

const ID = 'bat_abcdefghijklmnopqrstuvwxyz';
function stored(overrides: Partial<Batch> = {}): Batch {
  return {
    id: ID,
    kind: 'dishonest-debtor',
    format: 'csv',
    encoding: 'gb18030',
    source: court,
    objectKey: `uploads/${ID}`,
    status: 'waiting',
    createdAt: new Date(NOW.getTime() - 60_000).toISOString(),
    expiresAt: new Date(NOW.getTime() + 3_540_000).toISOString(),
    ...overrides,
  };
}
const storing = (batch: Batch) => ddb.on(GetCommand, { TableName: BATCHES_TABLE, Key: { pk: `BATCH#${batch.id}`, sk: 'BATCH' } }).resolves({ Item: { pk: `BATCH#${batch.id}`, sk: 'BATCH', unfinished: 'Y', ...batch } });
const counts = { total: 10, accepted: 6, updated: 1, duplicates: 1, rejected: 2 };
const checkpoint = { offset: 999, line: 12, counts, rejectParts: [0] };

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  ddb.reset();
  s3.reset();
  mockNoItems();
  mockKey(COURT_KEY, court);
  mockKey(OTHER_COURT_KEY, otherCourt);
  mockKey(DEPARTMENT_KEY, department);
  ddb.on(PutCommand, { TableName: BATCHES_TABLE }).resolves({});
  delete process.env[environment.batchUploadSeconds];
});
afterEach(() => vi.useRealTimers());

describe('POST /v1/batches', () => {
  it('a court opens a batch: 201 with the id, a presigned PUT of uploads/<id> that signs the host only, and expiresAt', async () => {
    const res = await open({ kind: 'dishonest-debtor', format: 'csv', encoding: 'gb18030' });
    expect(res.status).toBe(201);
    const { batchId, uploadUrl, expiresAt } = res.body;
    expect(batchId).toMatch(BATCH_ID_PATTERN);
    expect(expiresAt).toBe(new Date(NOW.getTime() + batchLimits.uploadUrlSeconds * 1000).toISOString());
    const url = new URL(uploadUrl);
    expect(url.hostname).toBe(`${BUCKET}.s3.cn-north-1.amazonaws.com.cn`);
    expect(url.pathname).toBe(`/uploads/${batchId}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(batchLimits.uploadUrlSeconds));
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);

    const puts = ddb.commandCalls(PutCommand, { TableName: BATCHES_TABLE });
    expect(puts).toHaveLength(1);
    expect(puts[0]!.args[0].input).toEqual({
      TableName: BATCHES_TABLE,
      Item: {
        pk: `BATCH#${batchId}`,
        sk: 'BATCH',
        unfinished: 'Y',
        id: batchId,
        kind: 'dishonest-debtor',
        format: 'csv',
        encoding: 'gb18030',
        source: court,
        objectKey: `uploads/${batchId}`,
        status: 'waiting',
        createdAt: NOW.toISOString(),
        expiresAt,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('takes UTF-8 when no encoding is declared; every batch gets a new id', async () => {
    const a = await open({ kind: 'dishonest-debtor', format: 'ndjson' });
    const b = await open({ kind: 'dishonest-debtor', format: 'ndjson' });
    expect(a.body.batchId).not.toBe(b.body.batchId);
    expect(ddb.commandCalls(PutCommand, { TableName: BATCHES_TABLE }).map((c) => c.args[0].input.Item!.encoding)).toEqual(['utf-8', 'utf-8']);
  });

  it(`the upload URL works ${environment.batchUploadSeconds} seconds when set; a value that is not a number of seconds is a fault (500), never ignored`, async () => {
    process.env[environment.batchUploadSeconds] = '90';
    const res = await open({ kind: 'dishonest-debtor', format: 'ndjson' });
    expect(res.body.expiresAt).toBe(new Date(NOW.getTime() + 90_000).toISOString());
    expect(new URL(res.body.uploadUrl).searchParams.get('X-Amz-Expires')).toBe('90');
    for (const wrong of ['0', '-5', '1.5', 'soon', String(8 * 24 * 3600)]) {
      expect(() => uploadUrlSeconds({ [environment.batchUploadSeconds]: wrong })).toThrow(environment.batchUploadSeconds);
    }
    process.env[environment.batchUploadSeconds] = 'soon';
    expect(errorOf(await open({ kind: 'dishonest-debtor', format: 'ndjson' })).code).toBe('internal');
  });

  it('only a court: a department or the operator is 403, and nothing is stored', async () => {
    for (const key of [DEPARTMENT_KEY, OPERATOR_KEY]) {
      const res = await open({ kind: 'dishonest-debtor', format: 'ndjson' }, key);
      expect(res.status).toBe(403);
      expect(errorOf(res).code).toBe('forbidden');
    }
    expect(ddb.commandCalls(PutCommand, { TableName: BATCHES_TABLE })).toEqual([]);
  });

  it('a kind the court may not push is 403', async () => {
    const res = await open({ kind: 'penalty', format: 'csv' });
    expect(res.status).toBe(403);
    expect(errorOf(res).message).toContain('dishonest-debtor');
    expect(ddb.commandCalls(PutCommand, { TableName: BATCHES_TABLE })).toEqual([]);
  });

  it('a wrong declaration is 400 invalid_batch, naming each field at fault', async () => {
    const res = await open({ kind: 'debtors', format: 'xlsx', encoding: 'latin1', sheet: 1 });
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe('invalid_batch');
    expect(error.details.map((d) => d.field).sort()).toEqual(['encoding', 'format', 'kind', 'sheet']);
    expect(error.details.find((d) => d.field === 'format')!.message).toContain('ndjson, csv');
    expect(errorOf(await open({ kind: 'dishonest-debtor' })).details).toEqual([{ field: 'format', message: expect.stringContaining('required field is missing') }]);
    expect(errorOf(await open('[]')).code).toBe('invalid_body');
    expect(ddb.commandCalls(PutCommand, { TableName: BATCHES_TABLE })).toEqual([]);
  });

  it('without a key: 401', async () => {
    const res = await invoke(handler, apiEvent('POST /v1/batches', { body: { kind: 'dishonest-debtor', format: 'csv' } }));
    expect(res.status).toBe(401);
  });
});

describe('GET /v1/batches/{batchId}', () => {
  it('a waiting batch: status, zero counts, expiresAt, what was declared', async () => {
    const batch = stored();
    storing(batch);
    const res = await read(ID);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      batchId: ID,
      kind: 'dishonest-debtor',
      format: 'csv',
      encoding: 'gb18030',
      status: 'waiting',
      total: 0,
      accepted: 0,
      updated: 0,
      duplicates: 0,
      rejected: 0,
      expiresAt: batch.expiresAt,
      createdAt: batch.createdAt,
    });
    expect(ddb.commandCalls(GetCommand, { TableName: BATCHES_TABLE })[0]!.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('waiting past expiresAt with nothing uploaded: failed, no upload before expiresAt; with the upload there, still waiting (it is about to start)', async () => {
    const expiresAt = new Date(NOW.getTime() - 1000).toISOString();
    storing(stored({ expiresAt }));
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    const res = await read(ID);
    expect(res.body).toMatchObject({ status: 'failed', reason: REASONS.expired(expiresAt), total: 0 });
    expect(res.body.expiresAt).toBeUndefined();
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toEqual({ Bucket: BUCKET, Prefix: `uploads/${ID}`, MaxKeys: 1 });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `uploads/${ID}`, ETag: '"e"', Size: 10 }] });
    expect((await read(ID)).body).toMatchObject({ status: 'waiting', expiresAt });
  });

  it('processing: the checkpoint’s counts, which add up', async () => {
    storing(stored({ status: 'processing', checkpoint, lease: { owner: 'w', until: NOW.getTime() + 5000 }, object: { etag: '"e"', size: 5000 } }));
    const res = await read(ID);
    expect(res.body).toMatchObject({ status: 'processing', ...counts });
    expect(res.body).not.toHaveProperty('lease');
    expect(res.body).not.toHaveProperty('expiresAt');
    expect(s3.calls()).toEqual([]);
  });

  it('completed with rejected rows: a presigned GET of the rejects, for an hour; gone once S3 has expired the file', async () => {
    const finishedAt = new Date(NOW.getTime() - 3_600_000).toISOString();
    storing(stored({ status: 'completed', checkpoint, rejectsKey: `rejects/${ID}.ndjson`, finishedAt }));
    const res = await read(ID);
    expect(res.body).toMatchObject({ status: 'completed', ...counts, finishedAt });
    const url = new URL(res.body.rejectsUrl);
    expect(url.hostname).toBe(`${BUCKET}.s3.cn-north-1.amazonaws.com.cn`);
    expect(url.pathname).toBe(`/rejects/${ID}.ndjson`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(batchLimits.rejectsUrlSeconds));

    const old = new Date(NOW.getTime() - (buckets.batches.expireAfterDays + 1) * 86_400_000).toISOString();
    storing(stored({ status: 'completed', checkpoint, rejectsKey: `rejects/${ID}.ndjson`, finishedAt: old }));
    expect((await read(ID)).body.rejectsUrl).toBeUndefined();
  });

  it('completed without rejected rows: no rejectsUrl', async () => {
    storing(stored({ status: 'completed', checkpoint: { ...checkpoint, counts: { ...counts, accepted: 8, rejected: 0 } }, finishedAt: NOW.toISOString() }));
    const res = await read(ID);
    expect(res.body).toMatchObject({ status: 'completed', accepted: 8, rejected: 0 });
    expect(res.body.rejectsUrl).toBeUndefined();
  });

  it('failed: the reason, and the counts of what was decided before', async () => {
    storing(stored({ status: 'failed', reason: REASONS.emptyFile, finishedAt: NOW.toISOString() }));
    expect((await read(ID)).body).toMatchObject({ status: 'failed', reason: REASONS.emptyFile, total: 0, finishedAt: NOW.toISOString() });
  });

  it('the operator reads any batch; another court’s batch is 404 exactly as an unknown id', async () => {
    storing(stored());
    expect((await read(ID, OPERATOR_KEY)).status).toBe(200);
    const other = await read(ID, OTHER_COURT_KEY);
    const unknownId = 'bat_zzzzzzzzzzzzzzzzzzzzzzzzzz';
    const unknown = await read(unknownId, OTHER_COURT_KEY);
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(errorOf(other).code).toBe('not_found');
    expect(errorOf(other).message.replace(ID, '…')).toBe(errorOf(unknown).message.replace(unknownId, '…'));
    expect((await read(ID, DEPARTMENT_KEY)).status).toBe(404);
  });

  it('an id that cannot be a batch id is 404 without a lookup', async () => {
    for (const id of ['x', 'BAT_ABCDEFGHIJKLMNOPQRSTUVWXYZ', `${ID}0`, 'pen_abcdefghijklmnopqrstuvwxyz']) {
      expect((await read(id)).status).toBe(404);
    }
    expect(ddb.commandCalls(GetCommand, { TableName: BATCHES_TABLE })).toEqual([]);
  });
});
