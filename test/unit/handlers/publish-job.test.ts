/**
 * POST /v1/jobs/publish and GET /v1/jobs/runs/{runId} of a publish run (functions/jobs/handler.ts, publish.ts) with
 * mocked AWS clients: 202 {runId}, the run stored waiting and the site publisher invoked asynchronously with it; the
 * run read back with its counts (pages written, unchanged, deleted; records) and never its checkpoint; a publisher
 * that cannot be reached fails the run and answers 503.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RUN_ID_PATTERN } from '../../../contracts/jobs.js';
import { functionNameEnvVar, tables } from '../../../infra/catalogue.js';
import { handler } from '../../../functions/jobs/handler.js';
import { DEPARTMENT_KEY, OPERATOR_KEY, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems } from './support.js';

const JOBS_TABLE = 'test-jobs';
const PUBLISHER = 'CreditHub-sitePublisher';
process.env[tables.jobs.envVar] = JOBS_TABLE;
process.env[functionNameEnvVar('sitePublisher')] = PUBLISHER;

const lambda = mockClient(LambdaClient);
const NOW = new Date('2031-03-04T17:06:07.000Z'); // 01:06 on 5 March in China

const start = (body?: unknown, key = OPERATOR_KEY) => invoke(handler, apiEvent('POST /v1/jobs/{name}', { key, pathParameters: { name: 'publish' }, ...(body !== undefined ? { body: body as object } : {}) }));
const read = (runId: string) => invoke(handler, apiEvent('GET /v1/jobs/runs/{runId}', { key: OPERATOR_KEY, pathParameters: { runId } }));
const puts = () => ddb.commandCalls(PutCommand, { TableName: JOBS_TABLE }).map((c) => c.args[0].input);

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  ddb.reset();
  lambda.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  ddb.on(PutCommand, { TableName: JOBS_TABLE }).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});
afterEach(() => vi.useRealTimers());

describe('POST /v1/jobs/publish', () => {
  it('202 {runId}: the run is stored waiting as of today in China, then the site publisher is invoked asynchronously with it', async () => {
    const res = await start({});
    expect(res.status).toBe(202);
    const { runId } = res.body;
    expect(runId).toMatch(RUN_ID_PATTERN);
    expect(puts()).toEqual([
      {
        TableName: JOBS_TABLE,
        Item: {
          pk: `RUN#${runId}`,
          sk: 'RUN',
          runId,
          job: 'publish',
          status: 'waiting',
          asOf: '2031-03-05',
          requestedBy: 'operator',
          createdAt: NOW.toISOString(),
          counts: { records: 0, published: 0, pagesWritten: 0, pagesUnchanged: 0, pagesDeleted: 0 },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    ]);
    const invokes = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invokes).toHaveLength(1);
    expect(invokes[0]).toMatchObject({ FunctionName: PUBLISHER, InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(invokes[0]!.Payload as Uint8Array))).toEqual({ runId });
  });

  it('takes an asOf on or before today; one after today is 400 naming asOf; no body is {}', async () => {
    expect((await start({ asOf: '2031-03-01' })).status).toBe(202);
    expect(puts()[0]!.Item).toMatchObject({ asOf: '2031-03-01' });
    const future = await start({ asOf: '2031-03-06' });
    expect(future.status).toBe(400);
    expect(errorOf(future)).toMatchObject({ code: 'invalid_body', details: [expect.objectContaining({ field: 'asOf' })] });
    expect((await start()).status).toBe(202);
  });

  it('403 for any key but the operator’s; nothing stored or started', async () => {
    expect((await start({}, DEPARTMENT_KEY)).status).toBe(403);
    expect(puts()).toEqual([]);
    expect(lambda.commandCalls(InvokeCommand)).toEqual([]);
  });

  it('a publisher that cannot be reached: the run is failed and the answer is 503', async () => {
    lambda.on(InvokeCommand).rejects(new Error('ServiceUnavailable'));
    const res = await start({});
    expect(res.status).toBe(503);
    const [created, failed] = puts();
    expect(failed).toMatchObject({ Item: { runId: created!.Item!.runId, status: 'failed', reason: expect.stringContaining('site publisher was not reached') }, ConditionExpression: '#status = :waiting' });
  });
});

describe('GET /v1/jobs/runs/{runId} of a publish run', () => {
  it('shows its status and counts, never its checkpoint', async () => {
    const runId = 'run_3k7vq2m5xw4hyb6tzr2a7nc4de';
    ddb.on(GetCommand, { TableName: JOBS_TABLE }).resolves({
      Item: {
        pk: `RUN#${runId}`,
        sk: 'RUN',
        runId,
        job: 'publish',
        status: 'running',
        asOf: '2031-03-05',
        requestedBy: 'operator',
        createdAt: NOW.toISOString(),
        startedAt: NOW.toISOString(),
        from: '2031-03-05',
        counts: { records: 200, published: 150, pagesWritten: 120, pagesUnchanged: 30, pagesDeleted: 2 },
        checkpoint: { phase: 'records', step: 1, cursor: { pk: 'REC#x', sk: 'HEAD' } },
        attempts: 1,
      },
    });
    const res = await read(runId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      runId,
      job: 'publish',
      status: 'running',
      counts: { records: 200, published: 150, pagesWritten: 120, pagesUnchanged: 30, pagesDeleted: 2 },
      asOf: '2031-03-05',
      requestedBy: 'operator',
      createdAt: NOW.toISOString(),
      startedAt: NOW.toISOString(),
    });
  });
});
