/**
 * POST /v1/jobs/{name} and GET /v1/jobs/runs/{runId} (functions/jobs/handler.ts) with mocked AWS clients: the
 * operator starts a run (202 {runId}: the run stored waiting, the sync runner invoked asynchronously with it),
 * reads it back; every other key is refused; a bad body is 400 naming the field; an unknown job is 404; an
 * unknown run is 404; a runner that cannot be reached fails the run and answers 503.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RUN_ID_PATTERN } from '../../../contracts/jobs.js';
import { functionNameEnvVar, tables } from '../../../infra/catalogue.js';
import { newRun } from '../../../shared/jobs/run-model.js';
import { DEPARTMENT_KEY, OPERATOR_KEY, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems } from './support.js';
import { handler } from '../../../functions/jobs/handler.js';

const JOBS_TABLE = 'test-jobs';
const RUNNER = 'CreditHub-syncRunner';
process.env[tables.jobs.envVar] = JOBS_TABLE;
process.env[functionNameEnvVar('syncRunner')] = RUNNER;

const lambda = mockClient(LambdaClient);
const NOW = new Date('2031-03-04T05:06:07.000Z'); // 13:06 on 4 March in China

const start = (name: string, body?: unknown, key = OPERATOR_KEY, headers: Record<string, string> = {}) =>
  invoke(handler, apiEvent('POST /v1/jobs/{name}', { key, pathParameters: { name }, ...(body !== undefined ? { body: body as object } : {}), headers }));
const read = (runId: string, key = OPERATOR_KEY) => invoke(handler, apiEvent('GET /v1/jobs/runs/{runId}', { key, pathParameters: { runId } }));

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

const puts = () => ddb.commandCalls(PutCommand, { TableName: JOBS_TABLE }).map((c) => c.args[0].input);

describe('POST /v1/jobs/{name}', () => {
  it('202 {runId}: the run is stored waiting (job, asOf today in China, to = now, by the operator), then the runner is invoked asynchronously with it', async () => {
    const res = await start('sync-provincial', {});
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
          job: 'sync-provincial',
          platform: 'provincial',
          status: 'waiting',
          asOf: '2031-03-04',
          to: NOW.toISOString(),
          requestedBy: 'operator',
          createdAt: NOW.toISOString(),
          counts: { changes: 0, owed: 0, skipped: 0, records: 0, bytes: 0 },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    ]);
    const invokes = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invokes).toHaveLength(1);
    expect(invokes[0]).toMatchObject({ FunctionName: RUNNER, InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(invokes[0]!.Payload as Uint8Array))).toEqual({ runId });
  });

  it('takes no body at all, and asOf: an earlier day ends the window at its end in China', async () => {
    expect((await start('sync-national')).status).toBe(202);
    expect((await start('sync-national', { asOf: '2031-03-01' })).status).toBe(202);
    const [, earlier] = puts();
    expect(earlier!.Item).toMatchObject({ job: 'sync-national', platform: 'national', asOf: '2031-03-01', to: '2031-03-01T15:59:59.999Z' });
  });

  it('400 naming the field: asOf not a date, not a real one, after today; another key; not an object; not JSON', async () => {
    const cases: [unknown, string, string][] = [
      [{ asOf: 'yesterday' }, 'invalid_body', 'asOf'],
      [{ asOf: '2031-02-30' }, 'invalid_body', 'asOf'],
      [{ asOf: '2031-03-05' }, 'invalid_body', 'asOf'],
      [{ asof: '2031-03-01' }, 'invalid_body', 'asof'],
      [[1], 'invalid_body', ''],
    ];
    for (const [body, code, field] of cases) {
      const res = await start('sync-provincial', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(res).code).toBe(code);
      expect(errorOf(res).details.map((d) => d.field)).toContain(field);
    }
    const future = await start('sync-provincial', { asOf: '2031-03-05' });
    expect(errorOf(future).details[0]!.message).toMatch(/date is in the future/);
    expect(errorOf(await start('sync-provincial', '{"asOf":')).code).toBe('malformed_json');
    expect(puts()).toEqual([]);
    expect(lambda.commandCalls(InvokeCommand)).toEqual([]);
  });

  it('another name: 404 not_found', async () => {
    // expire and publish are there now (test/unit/handlers/expire-job.test.ts, publish-job.test.ts).
    const other = await start('sync-everything', {});
    expect(errorOf(other)).toMatchObject({ code: 'not_found', message: expect.stringContaining('no such job') });
    expect(puts()).toEqual([]);
  });

  it('403 for any key but the operator’s, 401 without one; nothing stored or started', async () => {
    expect((await start('sync-provincial', {}, DEPARTMENT_KEY)).status).toBe(403);
    expect((await invoke(handler, apiEvent('POST /v1/jobs/{name}', { pathParameters: { name: 'sync-provincial' }, body: {} }))).status).toBe(401);
    expect(puts()).toEqual([]);
    expect(lambda.commandCalls(InvokeCommand)).toEqual([]);
  });

  it('a runner that cannot be reached: the run is failed (still waiting, so it is replaced) and the answer is 503 with Retry-After', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' }));
    const res = await start('sync-provincial', {});
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    const [created, failed] = puts();
    expect(failed).toMatchObject({ Item: { runId: created!.Item!.runId, status: 'failed', reason: expect.stringContaining('could not be started') }, ConditionExpression: '#status = :waiting' });
  });
});

describe('GET /v1/jobs/runs/{runId}', () => {
  const ID = 'run_abcdefghijklmnopqrstuvwxyz';

  it('the run’s status, counts, window and reason; never its checkpoint', async () => {
    const run = { ...newRun({ runId: ID, job: 'sync-national', requestedBy: 'schedule', now: NOW }), status: 'failed' as const, from: '2031-03-03T05:00:00.000Z', reason: 'the platform refused the package: HTTP 400', checkpoint: { phase: 'uploaded', step: 3 } };
    ddb.on(GetCommand, { TableName: JOBS_TABLE, Key: { pk: `RUN#${ID}`, sk: 'RUN' } }).resolves({ Item: { pk: `RUN#${ID}`, sk: 'RUN', ...run, counts: { changes: 2, owed: 1, skipped: 0, records: 3, bytes: 0 } } });
    const res = await read(ID);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      runId: ID,
      job: 'sync-national',
      status: 'failed',
      counts: { changes: 2, owed: 1, skipped: 0, records: 3, bytes: 0 },
      asOf: '2031-03-04',
      requestedBy: 'schedule',
      createdAt: NOW.toISOString(),
      from: '2031-03-03T05:00:00.000Z',
      to: NOW.toISOString(),
      reason: 'the platform refused the package: HTTP 400',
    });
  });

  it('404 not_found for an unknown run, and for an id that is not one (without reading the table); 403 for a source', async () => {
    expect(errorOf(await read(ID))).toMatchObject({ code: 'not_found' });
    expect(errorOf(await read('bat_abcdefghijklmnopqrstuvwxyz'))).toMatchObject({ code: 'not_found' });
    expect(ddb.commandCalls(GetCommand, { TableName: JOBS_TABLE })).toHaveLength(1);
    expect((await read(ID, DEPARTMENT_KEY)).status).toBe(403);
  });
});
