/**
 * The delivery sweep (functions/delivery-sweep/handler.ts) with mocked DynamoDB and SQS: what each platform still
 * owes long after it was last queued is marked requeued (on condition nobody did since) and queued again; each
 * platform's OldestOwedAgeSeconds is published; the sweep stops in time.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { exchange, platforms, queues, schedules, tables } from '../../../infra/catalogue.js';
import { deliveryKey, newDelivery, type Delivery, type PlatformName } from '../../../shared/upward/delivery-model.js';
import type { ConnectorCounts, DeliveryMetrics } from '../../../shared/upward/delivery-metrics.js';
import { SWEEP_MARGIN_MS } from '../../../shared/upward/delivery-sweep.js';
import { ddb, lambdaContext } from './support.js';
import { sweepDeps } from '../../../functions/delivery-sweep/deps.js';
import { sweepHandler } from '../../../functions/delivery-sweep/handler.js';

const DELIVERIES_TABLE = 'test-deliveries';
const URLS: Record<PlatformName, string> = {
  provincial: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-provincial',
  national: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national',
};
process.env[tables.deliveries.envVar] = DELIVERIES_TABLE;
for (const p of ['provincial', 'national'] as const) process.env[queues[platforms[p].queue].envVar] = URLS[p];

const sqs = mockClient(SQSClient);
const NOW = new Date('2026-05-01T08:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

class RecordingMetrics implements DeliveryMetrics {
  ages: { platform: string; seconds: number }[] = [];
  connector(_platform: string, _counts: ConnectorCounts) {}
  oldestOwedAge(platform: string, seconds: number) {
    this.ages.push({ platform, seconds });
  }
}

function owed(recordId: string, platform: PlatformName, owedMinutesAgo: number, queuedMinutesAgo = owedMinutesAgo): Delivery {
  const d = newDelivery({ id: recordId, version: 1, status: 'active', publication: { state: 'pending-review', from: '2026-01-01' } }, platform, minutesAgo(owedMinutesAgo));
  return { ...d, lastQueuedAt: minutesAgo(queuedMinutesAgo).toISOString() };
}

/** The owed index as DynamoDB answers it: pages of `pageSize` (cursor = the next position), the filter applied after. */
function owedIndex(byPlatform: Partial<Record<PlatformName, Delivery[]>>, pageSize = 100) {
  ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).callsFake((input: { ExpressionAttributeValues: Record<string, string>; Limit: number; ExclusiveStartKey?: { at: number }; FilterExpression?: string }) => {
    const all = [...(byPlatform[input.ExpressionAttributeValues[':platform'] as PlatformName] ?? [])].sort((a, b) => (a.owedSince < b.owedSince ? -1 : 1));
    const before = input.ExpressionAttributeValues[':before'];
    const inKey = before === undefined ? all : all.filter((d) => d.owedSince < before);
    const start = input.ExclusiveStartKey?.at ?? 0;
    const limit = Math.min(input.Limit, pageSize);
    const read = inKey.slice(start, start + limit);
    const items = input.FilterExpression ? read.filter((d) => d.lastQueuedAt < before!) : read;
    return { Items: items.map((d) => ({ ...deliveryKey(d), ...d })), ...(start + limit < inKey.length ? { LastEvaluatedKey: { at: start + limit } } : {}) };
  });
}

function queuesAccept() {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })), Failed: [] }));
}

let metrics: RecordingMetrics;
function run(remainingMs = 250_000, event: unknown = {}) {
  const context: Context = { ...lambdaContext('credit-hub-deliverySweep'), getRemainingTimeInMillis: () => remainingMs };
  return sweepHandler((ctx) => sweepDeps(ctx, { now: () => NOW }), () => metrics)(event, context);
}
const requeues = () => ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
const sent = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(e.MessageBody!) })));

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  metrics = new RecordingMetrics();
});

describe('delivery sweep', () => {
  it('queues again what was last queued longer ago than exchange.requeueAfterSeconds, and nothing more recent', async () => {
    const stale = owed('pen_A', 'provincial', 60);
    const recent = owed('pen_B', 'provincial', 5);
    const requeuedLately = owed('pen_C', 'national', 90, 2);
    owedIndex({ provincial: [stale, recent], national: [requeuedLately] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();

    const report = await run();
    expect(report.provincial).toMatchObject({ requeued: 1, skipped: 0, failed: 0, complete: true });
    expect(report.national).toMatchObject({ requeued: 0, complete: true });
    expect(requeues()).toEqual([
      expect.objectContaining({
        Key: deliveryKey(stale),
        UpdateExpression: 'SET lastQueuedAt = :at',
        ConditionExpression: '#state = :pending AND lastQueuedAt = :previous',
        ExpressionAttributeValues: { ':at': NOW.toISOString(), ':previous': stale.lastQueuedAt, ':pending': 'pending' },
      }),
    ]);
    expect(sent()).toEqual([{ url: URLS.provincial, body: { recordId: 'pen_A', version: 1, platform: 'provincial' } }]);
    const listQuery = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input).find((q) => q.FilterExpression)!;
    expect(listQuery).toMatchObject({ IndexName: 'owed', ExpressionAttributeValues: { ':before': new Date(NOW.getTime() - exchange.requeueAfterSeconds * 1000).toISOString() } });
  });

  it('at local start ({atStart: true}, the schedule’s localStartInput) queues again everything owed and not due later, however recently queued', async () => {
    expect(schedules.deliverySweep.localStartInput).toEqual({ atStart: true });
    const stale = owed('pen_A', 'provincial', 60);
    const recent = owed('pen_B', 'provincial', 5);
    const inFlight = owed('pen_C', 'national', 1, 0);
    // Put off by the connector (the platform unavailable): due again in 2 minutes, its message still in the queue.
    const dueLater = { ...owed('pen_D', 'national', 30), lastQueuedAt: new Date(NOW.getTime() + 120_000).toISOString() };
    owedIndex({ provincial: [stale, recent], national: [inFlight, dueLater] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();

    const report = await run(250_000, schedules.deliverySweep.localStartInput);
    expect(report.provincial).toMatchObject({ requeued: 2, complete: true });
    expect(report.national).toMatchObject({ requeued: 0, complete: true });
    expect(sent().map((m) => m.body.recordId).sort()).toEqual(['pen_A', 'pen_B']);
    // A scheduled event (or anything else) sweeps with the catalogue's age.
    ddb.resetHistory();
    sqs.resetHistory();
    await run(250_000, { 'detail-type': 'Scheduled Event', atStart: 'yes' });
    expect(sent().map((m) => m.body.recordId)).toEqual(['pen_A']);
  });

  it('publishes each platform’s OldestOwedAgeSeconds: since the oldest owed delivery became owed, 0 when none is', async () => {
    owedIndex({ provincial: [owed('pen_A', 'provincial', 5), owed('pen_B', 'provincial', 30)] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();
    const report = await run();
    expect(report.provincial.oldestOwedAgeSeconds).toBe(30 * 60);
    expect(report.national.oldestOwedAgeSeconds).toBe(0);
    expect(metrics.ages).toEqual([
      { platform: 'provincial', seconds: 1800 },
      { platform: 'national', seconds: 0 },
    ]);
  });

  it('does not queue a delivery someone else queued again (or settled) since it was read', async () => {
    owedIndex({ national: [owed('pen_A', 'national', 60)] });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    queuesAccept();
    const report = await run();
    expect(report.national).toMatchObject({ requeued: 0, skipped: 1 });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('follows the index page by page, and counts what could not be sent without failing', async () => {
    const many = Array.from({ length: 25 }, (_, i) => owed(`pen_${String(i).padStart(2, '0')}`, 'national', 100 - i));
    owedIndex({ national: many }, 10);
    ddb.on(UpdateCommand).resolves({});
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));
    const report = await run();
    expect(report.national).toMatchObject({ requeued: 0, failed: 25, complete: true });
    expect(requeues()).toHaveLength(25);
  });

  it('stops while it still has time left, and says the sweep is not complete', async () => {
    owedIndex({ provincial: [owed('pen_A', 'provincial', 60)], national: [owed('pen_B', 'national', 60)] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();
    const report = await run(SWEEP_MARGIN_MS);
    expect(report.provincial).toMatchObject({ requeued: 0, complete: false, oldestOwedAgeSeconds: 3600 });
    expect(requeues()).toEqual([]);
  });
});
