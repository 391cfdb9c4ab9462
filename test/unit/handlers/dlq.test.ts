/**
 * GET /v1/dlq/{platform} and POST /v1/dlq/{platform}/redrive (functions/dlq/handler.ts) with mocked DynamoDB and
 * SQS: operator only, unknown platforms 404, the failed index read oldest first and paged by an opaque cursor that
 * belongs to its platform, each failed delivery listed by the record versions it carries (read from its package's
 * body: a part refused by the platform carries one, a package the hub could not send may carry many), the
 * dead-letter queue's depth; a redrive makes the failed deliveries pending again and moves the messages back — by
 * StartMessageMoveTask (AWS), or received, sent to the platform's queue and deleted (HUB_DLQ_REDRIVE=resend) — and
 * never makes a message visible with ChangeMessageVisibility.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
// First: it sets the environment the handlers read.
import { DELIVERIES_TABLE, DEPARTMENT_KEY, OPERATOR_KEY, apiEvent, ddb, department, errorOf, invoke, lambdaContext, mockKey, mockNoItems, principal } from './support.js';
import { platforms, queues } from '../../../infra/catalogue.js';
import {
  bodyKey,
  deliveryKey,
  encodeRefs,
  messageBody,
  newDelivery,
  packageKeyOf,
  type PackageDelivery,
  type PackageRef,
  type PartPath,
  type PlatformName,
} from '../../../shared/upward/package-model.js';
import { REDRIVE_MODE_ENV } from '../../../shared/upward/redrive.js';
import { handler } from '../../../functions/dlq/handler.js';

const URLS = {
  nationalDead: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national-dlq',
  national: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national',
  provincialDead: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-provincial-dlq',
  provincial: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-provincial',
};
for (const [name, url] of Object.entries(URLS)) process.env[queues[name as keyof typeof queues].envVar] = url;
const DLQ_ARN = 'arn:aws-cn:sqs:cn-north-1:000000000000:hub-national-dlq';
// The platform's queue's ARN, as the CDK stack sets it (queues.national.arnEnvVar): the move task's destination.
const QUEUE_ARN = 'arn:aws-cn:sqs:cn-north-1:000000000000:hub-national';
process.env[queues.national.arnEnvVar] = QUEUE_ARN;
const NATIONAL_KEY = 'hub_national-platform-key-for-unit-tests-0123';

const sqs = mockClient(SQSClient);
const list = (platform: string, query?: Record<string, string>, key = OPERATOR_KEY) => invoke(handler, apiEvent('GET /v1/dlq/{platform}', { key, pathParameters: { platform }, ...(query ? { query } : {}) }));
const redrive = (platform: string, key = OPERATOR_KEY) => invoke(handler, apiEvent('POST /v1/dlq/{platform}/redrive', { key, pathParameters: { platform } }));

/** Package n: its key, and its four record versions (version n; the second a delete). */
const keyOf = (n: number) => packageKeyOf({ sequenceNumber: String(4_000_000 + n), recordId: `pen_dlq${n}`, version: n });
const recordOf = (n: number, i: number) => `pen_${'a'.repeat(24)}${n}${i}`;
const refsOf = (n: number): PackageRef[] => [0, 1, 2, 3].map((i) => ({ recordId: recordOf(n, i), version: n, operation: i === 1 ? 'delete' : 'upsert' }));
/** Package n's body, closed, as the table holds it. */
const bodyItem = (n: number) => ({ ...bodyKey(keyOf(n)), key: keyOf(n), openedAt: '2026-05-01T00:00:00.000Z', refs: encodeRefs(refsOf(n)) });
function mockBodies(...ns: number[]) {
  for (const n of ns) ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: bodyKey(keyOf(n)) }).resolves({ Item: bodyItem(n) });
}

/**
 * A failed delivery of package n to the national platform, as the failed index returns it: by default the part
 * '10' (its third record version alone, refused by the platform).
 */
function failedDelivery(n: number, path: PartPath = '10', over: Partial<PackageDelivery> = {}, platform: PlatformName = 'national'): PackageDelivery {
  const { owedBy: _o, ...rest } = newDelivery(keyOf(n), 4, platform, path, new Date('2026-05-01T00:00:00.000Z'));
  return { ...rest, state: 'failed', failedAt: `2026-05-01T00:0${n}:00.000Z`, failedReason: `HTTP 400: bad record ${n}`, attempts: n, failedBy: platform, ...over };
}
const indexItem = (d: PackageDelivery): Record<string, unknown> => ({ ...deliveryKey(d), ...d });
const failed = (n: number, path?: PartPath, over?: Partial<PackageDelivery>) => indexItem(failedDelivery(n, path, over));
const failedQueries = () => ddb.commandCalls(QueryCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
const bodyReads = () => ddb.commandCalls(GetCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
const resets = () => ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  mockKey(NATIONAL_KEY, principal({ sourceId: 'national', role: 'platform', kinds: [] }));
  delete process.env[REDRIVE_MODE_ENV];
  ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [] });
  ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).resolves({});
  mockBodies(1, 2, 3);
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', QueueArn: DLQ_ARN } });
});

describe('/v1/dlq/{platform}: who may call, which platforms', () => {
  it.each([
    ['a department', DEPARTMENT_KEY],
    ['a platform', NATIONAL_KEY],
  ])('answers 403 to %s (operator only), touching neither the table nor the queues', async (_who, key) => {
    expect((await list('national', undefined, key)).status).toBe(403);
    expect((await redrive('national', key)).status).toBe(403);
    expect(failedQueries()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('answers 401 without a key', async () => {
    expect((await invoke(handler, apiEvent('GET /v1/dlq/{platform}', { pathParameters: { platform: 'national' } }))).status).toBe(401);
  });

  it.each(['city', 'National', 'x'.repeat(300)])('answers 404 not_found for the platform %j, quoting at most 32 characters of it', async (platform) => {
    for (const res of [await list(platform), await redrive(platform)]) {
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('not_found');
      expect(res.raw.length).toBeLessThan(300);
    }
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('GET /v1/dlq/{platform}', () => {
  it('lists the failed deliveries from the failed index, oldest first, each by the record version its part carries, with the dead-letter queue’s depth', async () => {
    // Package 1's part '10' (its third version) and package 2's part '01' (its second, a delete).
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [failed(1), failed(2, '01')] });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3' } });
    const res = await list('national');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      platform: 'national',
      depth: 3,
      items: [
        { recordId: recordOf(1, 2), version: 1, operation: 'upsert', reason: 'HTTP 400: bad record 1', failedAt: '2026-05-01T00:01:00.000Z', attempts: 1 },
        { recordId: recordOf(2, 1), version: 2, operation: 'delete', reason: 'HTTP 400: bad record 2', failedAt: '2026-05-01T00:02:00.000Z', attempts: 2 },
      ],
    });
    expect(failedQueries()).toEqual([
      expect.objectContaining({ IndexName: 'failed', KeyConditionExpression: 'failedBy = :platform', ExpressionAttributeValues: { ':platform': 'national' }, Limit: 100 }),
    ]);
    expect(failedQueries()[0]!.ScanIndexForward).not.toBe(false);
    // Each package's refs from its body.
    expect(bodyReads().map((g) => g.Key)).toEqual(expect.arrayContaining([bodyKey(keyOf(1)), bodyKey(keyOf(2))]));
    expect(bodyReads()).toHaveLength(2);
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]!.args[0].input).toEqual({ QueueUrl: URLS.nationalDead, AttributeNames: ['ApproximateNumberOfMessages'] });
    expect(res.raw).not.toMatch(/PKG#|"key"|packageId/);
  });

  it('lists every record version of a package the hub could not send (`internal: …`, the whole package failed), each with its reason', async () => {
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [failed(3, '', { failedReason: 'internal: TypeError', attempts: 0 })] });
    const res = await list('national');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(
      refsOf(3).map((r) => ({ recordId: r.recordId, version: 3, operation: r.operation, reason: 'internal: TypeError', failedAt: '2026-05-01T00:03:00.000Z', attempts: 0 })),
    );
  });

  it('reads a package’s body once for all its failed parts (a package refused for several of its records)', async () => {
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [failed(1, '00'), failed(1, '11'), failed(2, '01')] });
    const res = await list('national');
    expect(res.body.items.map((i: { recordId: string }) => i.recordId)).toEqual([recordOf(1, 0), recordOf(1, 3), recordOf(2, 1)]);
    expect(bodyReads().map((g) => g.Key).sort((a, b) => String(a!.pk).localeCompare(String(b!.pk)))).toEqual([bodyKey(keyOf(1)), bodyKey(keyOf(2))].sort((a, b) => a.pk.localeCompare(b.pk)));
  });

  it('reads the provincial platform’s own queue and index partition', async () => {
    await list('provincial');
    expect(failedQueries()[0]!.ExpressionAttributeValues).toEqual({ ':platform': 'provincial' });
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]!.args[0].input.QueueUrl).toBe(URLS.provincialDead);
  });

  it('pages with an opaque cursor (`next` → `cursor`) and `limit` (failed deliveries per page)', async () => {
    const lastKey = { failedBy: 'national', failedAt: '2026-05-01T00:01:00.000Z', ...deliveryKey(failedDelivery(1)) };
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolvesOnce({ Items: [failed(1)], LastEvaluatedKey: lastKey }).resolves({ Items: [failed(2)] });
    const first = await list('national', { limit: '1' });
    expect(first.body.next).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(first.raw).not.toContain('PKG#');
    const second = await list('national', { limit: '1', cursor: first.body.next });
    expect(second.body.items.map((i: { recordId: string; version: number }) => [i.recordId, i.version])).toEqual([[recordOf(2, 2), 2]]);
    expect(second.body).not.toHaveProperty('next');
    expect(failedQueries().map((q) => [q.Limit, q.ExclusiveStartKey])).toEqual([
      [1, undefined],
      [1, lastKey],
    ]);
  });

  it('answers 400 invalid_query for another platform’s cursor, a cursor it did not write, a wrong limit or an unknown parameter', async () => {
    const lastKey = { failedBy: 'provincial', failedAt: '2026-05-01T00:01:00.000Z', ...deliveryKey(failedDelivery(1, '10', {}, 'provincial')) };
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolvesOnce({ Items: [], LastEvaluatedKey: lastKey });
    const provincialCursor = (await list('provincial')).body.next as string;
    for (const [query, field] of [
      [{ cursor: provincialCursor }, 'cursor'],
      [{ cursor: 'bm90LWEtY3Vyc29y' }, 'cursor'],
      [{ cursor: '%%%' }, 'cursor'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '1001' }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ order: 'newest' }, 'order'],
    ] as const) {
      const res = await list('national', query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(errorOf(res).code).toBe('invalid_query');
      expect(errorOf(res).details.map((d) => d.field)).toContain(field);
    }
  });
});

describe('POST /v1/dlq/{platform}/redrive', () => {
  it('makes every failed delivery pending again: a conditional update (failed only) that sets owedBy/owedSince and removes failedBy', async () => {
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [failed(1), failed(2)] });
    process.env[REDRIVE_MODE_ENV] = 'resend';
    const res = await redrive('national');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ platform: 'national', redriven: 2, moved: 0 });
    expect(resets().map((u) => u.Key)).toEqual([deliveryKey(failedDelivery(1)), deliveryKey(failedDelivery(2))]);
    const query = failedQueries()[0]!;
    expect(query).toMatchObject({ IndexName: 'failed', KeyConditionExpression: 'failedBy = :platform AND failedAt < :before' });
    const began = query.ExpressionAttributeValues![':before'] as string;
    expect(resets()).toHaveLength(2);
    // The failed part's own item: PKG#<key>, national#10.
    expect(resets()[0]).toMatchObject({
      Key: { pk: `PKG#${keyOf(1)}`, sk: 'national#10' },
      ConditionExpression: '#state = :failed',
      UpdateExpression: 'SET #state = :pending, owedBy = :platform, owedSince = :at, lastQueuedAt = :at REMOVE failedBy',
      ExpressionAttributeValues: { ':pending': 'pending', ':failed': 'failed', ':platform': 'national', ':at': began },
    });
  });

  it('counts only the deliveries it made pending (one delivered meanwhile is left as it is)', async () => {
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [failed(1), failed(2)] });
    ddb
      .on(UpdateCommand, { TableName: DELIVERIES_TABLE, Key: deliveryKey(failedDelivery(2)) })
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    process.env[REDRIVE_MODE_ENV] = 'resend';
    expect((await redrive('national')).body).toMatchObject({ redriven: 1 });
  });

  it('HUB_DLQ_REDRIVE=resend: receives from the dead-letter queue, sends each body to the platform’s queue, then deletes it', async () => {
    process.env[REDRIVE_MODE_ENV] = 'resend';
    const [a, b] = [messageBody(failedDelivery(1)), messageBody(failedDelivery(2, '0'))];
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { Body: a, ReceiptHandle: 'rh-1' },
          { Body: b, ReceiptHandle: 'rh-2' },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    sqs.on(DeleteMessageCommand).resolves({});
    const res = await redrive('national');
    expect(res.body).toEqual({ platform: 'national', redriven: 0, moved: 2 });
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]!.args[0].input).toMatchObject({ QueueUrl: URLS.nationalDead, MaxNumberOfMessages: 2 });
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: URLS.national, MessageBody: a },
      { QueueUrl: URLS.national, MessageBody: b },
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: URLS.nationalDead, ReceiptHandle: 'rh-1' },
      { QueueUrl: URLS.nationalDead, ReceiptHandle: 'rh-2' },
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('leaves a message in the dead-letter queue when it could not be sent back (it is deleted only once sent): 503', async () => {
    process.env[REDRIVE_MODE_ENV] = 'resend';
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [{ Body: messageBody(failedDelivery(1)), ReceiptHandle: 'rh-1' }] });
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 }, $fault: 'server' }));
    const res = await redrive('national');
    expect(res.status).toBe(503);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('on AWS: starts StartMessageMoveTask from the dead-letter queue’s ARN to the platform’s queue (named: a message the connector dead-lettered itself has no source SQS knows)', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4', QueueArn: DLQ_ARN } });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'COMPLETED', TaskHandle: 'old-task' }] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    const res = await redrive('national');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ platform: 'national', redriven: 0, task: 'task-1' });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((c) => c.args[0].input)).toEqual([{ SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN }]);
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)[0]!.args[0].input).toEqual({ SourceArn: DLQ_ARN, MaxResults: 1 });
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('on AWS: reports the move task already running instead of starting another; starts none for an empty queue', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4', QueueArn: DLQ_ARN } });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'RUNNING', TaskHandle: 'running-task' }] });
    expect((await redrive('national')).body).toEqual({ platform: 'national', redriven: 0, task: 'running-task' });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', QueueArn: DLQ_ARN } });
    expect((await redrive('national')).body).toEqual({ platform: 'national', redriven: 0, moved: 0 });
  });

  it('on AWS: a move task started by another redrive between the list and the start is reported, not a 500', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4', QueueArn: DLQ_ARN } });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ Status: 'COMPLETED', TaskHandle: 'old-task' }] })
      .resolves({ Results: [{ Status: 'RUNNING', TaskHandle: 'their-task' }] });
    const refusal = Object.assign(new Error('There is already a task running. Only one active task is allowed for each source queue arn at a given time.'), { name: 'InvalidParameterValueException' });
    sqs.on(StartMessageMoveTaskCommand).rejects(refusal);
    const res = await redrive('national');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ platform: 'national', redriven: 0, task: 'their-task' });
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)).toHaveLength(2);
  });

  it('on AWS: a refusal of StartMessageMoveTask with no task running stays an error (500)', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4', QueueArn: DLQ_ARN } });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqs.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDenied' }));
    expect((await redrive('national')).status).toBe(500);
  });

  it('says `more` when the invocation runs short of time, having done what it could', async () => {
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({ Items: [failed(1)], LastEvaluatedKey: { failedBy: 'national', failedAt: 'x', pk: `PKG#${keyOf(1)}`, sk: 'national#10' } });
    let remaining = 20_000;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => (remaining -= 4_000) };
    const result = await handler(apiEvent('POST /v1/dlq/{platform}/redrive', { key: OPERATOR_KEY, pathParameters: { platform: 'national' } }), context);
    expect(result.statusCode).toBe(202);
    const body = JSON.parse(result.body!);
    expect(body).toMatchObject({ platform: 'national', more: true });
    expect(body.redriven).toBeGreaterThan(0);
  });

  it('refuses to start with a HUB_DLQ_REDRIVE it does not know (a fault of the deployment: 500)', async () => {
    process.env[REDRIVE_MODE_ENV] = 'sideways';
    const res = await redrive('national');
    expect(res.status).toBe(500);
    expect(res.raw).not.toContain('sideways');
  });
});

it('the catalogue pairs each platform with its queue and dead-letter queue as the handler assumes', () => {
  expect(platforms.national).toMatchObject({ queue: 'national', deadLetterQueue: 'nationalDead' });
  expect(platforms.provincial).toMatchObject({ queue: 'provincial', deadLetterQueue: 'provincialDead' });
});
