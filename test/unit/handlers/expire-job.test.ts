/**
 * The expire job: POST /v1/jobs/expire (functions/jobs) makes a waiting run (asOf default today in China) and starts
 * the expire runner asynchronously; GET /v1/jobs/runs/{runId} shows its counts. The runner
 * (shared/publication/expire-run.ts) reads only the approved records whose end is before asOf, from the sparse index
 * (never a scan), ends each as a new version (expired), counts what it skipped, and continues in another invocation
 * when time runs short.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPERATOR_KEY, RECORDS_TABLE, apiEvent, ddb, errorOf, invoke, mockNoItems } from './support.js';
import { RUN_ID_PATTERN } from '../../../contracts/jobs.js';
import { functionNameEnvVar, tables } from '../../../infra/catalogue.js';
import { dynamo } from '../../../shared/aws/clients.js';
import { addMonths } from '../../../shared/domain/dates.js';
import { dishonestyPublication, GRADE, type StoredHead } from '../../../shared/domain/record-model.js';
import { approve, withQueue } from '../../../shared/publication/decisions.js';
import { DynamoDecisionsStore } from '../../../shared/publication/decisions-store.js';
import { DynamoExpireRunsStore, newExpireRun, runExpire, type ExpireDeps } from '../../../shared/publication/expire-run.js';
import { handler } from '../../../functions/jobs/handler.js';
import { addDays } from '../../support/dates.js';

const JOBS_TABLE = 'test-jobs';
const RUNNER = 'CreditHub-expireRunner';
process.env[tables.jobs.envVar] = JOBS_TABLE;
process.env[functionNameEnvVar('expireRunner')] = RUNNER;
process.env[functionNameEnvVar('syncRunner')] = 'CreditHub-syncRunner';

const lambda = mockClient(LambdaClient);
const NOW = new Date('2031-03-04T17:06:07.000Z'); // 01:06 on 5 March in China

beforeEach(() => {
  ddb.reset();
  lambda.reset();
  mockNoItems();
  ddb.on(PutCommand, { TableName: JOBS_TABLE }).resolves({});
  ddb.on(UpdateCommand, { TableName: JOBS_TABLE }).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});
afterEach(() => vi.useRealTimers());

describe('POST /v1/jobs/expire', () => {
  it('202 {runId}: a waiting expire run as of today in China (by the operator), and the expire runner invoked with it', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const res = await invoke(handler, apiEvent('POST /v1/jobs/{name}', { key: OPERATOR_KEY, pathParameters: { name: 'expire' } }));
    expect(res.status).toBe(202);
    expect(res.body.runId).toMatch(RUN_ID_PATTERN);
    expect(ddb.commandCalls(PutCommand, { TableName: JOBS_TABLE })[0]!.args[0].input).toMatchObject({
      Item: { pk: `RUN#${res.body.runId}`, job: 'expire', status: 'waiting', asOf: '2031-03-05', requestedBy: 'operator', counts: { expired: 0, skipped: 0 } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const invoked = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(invoked).toMatchObject({ FunctionName: RUNNER, InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(invoked.Payload as Uint8Array))).toEqual({ runId: res.body.runId });
  });

  it('asOf in the future: 400 naming asOf; the runner not reached: the run failed, 503', async () => {
    const future = await invoke(handler, apiEvent('POST /v1/jobs/{name}', { key: OPERATOR_KEY, pathParameters: { name: 'expire' }, body: { asOf: '2999-01-01' } }));
    expect(errorOf(future)).toMatchObject({ code: 'invalid_body', details: [{ field: 'asOf' }] });
    lambda.on(InvokeCommand).rejects(new Error('unreachable'));
    const res = await invoke(handler, apiEvent('POST /v1/jobs/{name}', { key: OPERATOR_KEY, pathParameters: { name: 'expire' }, body: { asOf: '2026-01-05' } }));
    expect(res.status).toBe(503);
    const failed = ddb.commandCalls(PutCommand, { TableName: JOBS_TABLE }).at(-1)!.args[0].input;
    expect(failed).toMatchObject({ Item: { status: 'failed', asOf: '2026-01-05' }, ConditionExpression: '#status = :waiting' });
  });

  it('GET /v1/jobs/runs/{runId} shows an expire run with its counts', async () => {
    const run = { ...newExpireRun({ asOf: '2026-01-05', requestedBy: 'operator', now: new Date('2026-01-05T00:00:00Z') }), status: 'completed', counts: { expired: 3, skipped: 1 } };
    ddb.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: { pk: `RUN#${run.runId}`, sk: 'RUN', ...run } });
    const res = await invoke(handler, apiEvent('GET /v1/jobs/runs/{runId}', { key: OPERATOR_KEY, pathParameters: { runId: run.runId } }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ runId: run.runId, job: 'expire', status: 'completed', asOf: '2026-01-05', counts: { expired: 3, skipped: 1 } });
  });
});

describe('the expire runner', () => {
  const DECIDED = '2026-01-05';
  function approvedHead(n: number): StoredHead {
    const head: StoredHead = withQueue(
      {
        id: `pen_${'abcdefgh'[n]!.repeat(26)}`,
        kind: 'penalty',
        sourceId: 's',
        identity: `d${n}`,
        version: 1,
        subjectKey: 'USCC#x',
        decisionDate: DECIDED,
        late: false,
        firstReceivedAt: `${DECIDED}T00:00:00.000Z`,
        receivedAt: `${DECIDED}T00:00:00.000Z`,
        status: 'active',
        fields: {},
        contentHash: `h${n}`,
        publication: dishonestyPublication(GRADE.general, DECIDED),
      },
      `${DECIDED}T00:00:00.000Z`,
    );
    const outcome = approve(head, { by: 'operator', at: `${DECIDED}T01:00:00.000Z`, today: DECIDED });
    if ('refused' in outcome) throw new Error(outcome.message);
    return outcome.head;
  }

  function deps(remainingMs = 600_000, continued: string[] = []): ExpireDeps {
    return {
      runs: new DynamoExpireRunsStore(dynamo(), JOBS_TABLE),
      decisions: new DynamoDecisionsStore(dynamo(), RECORDS_TABLE),
      now: () => new Date(),
      remainingMs: () => remainingMs,
      continueLater: async (runId) => void continued.push(runId),
    };
  }

  it('queries the index for approved records ending before asOf, ends each (expired), skips one changed meanwhile, and completes with the counts', async () => {
    const a = approvedHead(1);
    const b = approvedHead(2);
    const until = a.publication.until!;
    expect(until).toBe(addMonths(DECIDED, 12));
    const asOf = addDays(until, 1);
    const run = newExpireRun({ asOf, requestedBy: 'operator', now: new Date() });
    ddb.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: { pk: `RUN#${run.runId}`, sk: 'RUN', ...run } });
    // The index keeps keys only; the heads come from BatchGetItem (one of them returned only when asked again).
    const keyOf = (h: typeof a) => ({ pk: `REC#${h.id}`, sk: 'HEAD', publicationQueue: 'approved', publicationQueueKey: h.publication.until });
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE, IndexName: 'publicationQueue' }).resolves({ Items: [keyOf(a), keyOf(b)] });
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [RECORDS_TABLE]: [{ pk: `REC#${a.id}`, sk: 'HEAD', ...a }] }, UnprocessedKeys: { [RECORDS_TABLE]: { Keys: [{ pk: `REC#${b.id}`, sk: 'HEAD' }] } } })
      .resolves({ Responses: { [RECORDS_TABLE]: [{ pk: `REC#${b.id}`, sk: 'HEAD', ...b }] } });
    ddb.on(GetCommand, { TableName: RECORDS_TABLE, Key: { pk: `REC#${a.id}`, sk: 'HEAD' } }).resolves({ Item: { pk: `REC#${a.id}`, sk: 'HEAD', ...a } });
    // b was withheld meanwhile: no longer approved, left as it is.
    ddb.on(GetCommand, { TableName: RECORDS_TABLE, Key: { pk: `REC#${b.id}`, sk: 'HEAD' } }).resolves({ Item: { pk: `REC#${b.id}`, sk: 'HEAD', ...b, publication: { ...b.publication, state: 'withheld' } } });

    expect(await runExpire(run.runId, deps())).toBe('completed');
    const query = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query).toMatchObject({ IndexName: 'publicationQueue', KeyConditionExpression: 'publicationQueue = :q AND publicationQueueKey < :before', ExpressionAttributeValues: { ':q': 'approved', ':before': asOf } });
    expect(ddb.commandCalls(ScanCommand)).toEqual([]);
    expect(ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![RECORDS_TABLE]!.Keys)).toEqual([
      [{ pk: `REC#${a.id}`, sk: 'HEAD' }, { pk: `REC#${b.id}`, sk: 'HEAD' }],
      [{ pk: `REC#${b.id}`, sk: 'HEAD' }],
    ]);
    const writes = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems![0]!.Put!.Item!);
    expect(writes).toEqual([expect.objectContaining({ id: a.id, version: a.version + 1, publication: expect.objectContaining({ state: 'ended', endReason: 'expired', endedOn: asOf }) })]);
    const saves = ddb.commandCalls(UpdateCommand, { TableName: JOBS_TABLE }).map((c) => c.args[0].input.ExpressionAttributeValues!);
    expect(saves.at(-1)).toMatchObject({ ':status': 'completed', ':counts': { expired: 1, skipped: 1 } });
  });

  it('short of time with more to read: saves its counts and continues in another invocation', async () => {
    const a = approvedHead(3);
    const run = newExpireRun({ asOf: '2030-01-01', requestedBy: 'schedule', now: new Date() });
    ddb.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: { ...run } });
    ddb.on(QueryCommand).resolves({ Items: [], LastEvaluatedKey: { pk: `REC#${a.id}`, sk: 'HEAD', publicationQueue: 'approved', publicationQueueKey: a.publication.until } });
    const continued: string[] = [];
    expect(await runExpire(run.runId, deps(1_000, continued))).toBe('continued');
    expect(continued).toEqual([run.runId]);
  });

  it('a finished run is not run again', async () => {
    const run = { ...newExpireRun({ asOf: '2030-01-01', requestedBy: 'schedule', now: new Date() }), status: 'completed' };
    ddb.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: run });
    expect(await runExpire(run.runId, deps())).toBe('not-runnable');
    expect(ddb.commandCalls(QueryCommand)).toEqual([]);
  });
});
