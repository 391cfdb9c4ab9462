/**
 * The delivery sweep (functions/delivery-sweep/handler.ts) with mocked DynamoDB and SQS: what each platform still
 * owes long after it was last queued is marked requeued (on condition nobody did since) and queued again, package by
 * package; each platform's OldestOwedAgeSeconds is published; the sweep stops in time. Before it, package bodies a
 * stopped fan-out left open are settled (settleOpenPackages, shared/upward/delivery-sweep.ts): the rules against the
 * in-memory packages store, and the handler's order and ages against the mocked table. Against that store too, the
 * owed sweep reaches every stale delivery however the owed list shrinks while it pages.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { exchange, platforms, queues, schedules, tables } from '../../../infra/catalogue.js';
import { bodyKey, claimKey, deliveryKey, encodeRefs, newDelivery, packageKeyOf, type PackageDelivery, type PackageRef, type PlatformName } from '../../../shared/upward/package-model.js';
import { OPEN_FOR, RECONCILE_CURSOR_KEY } from '../../../shared/upward/packages-store.js';
import type { ReconcileReport } from '../../../shared/upward/reconcile.js';
import { headImage } from '../../support/record-stream.js';
import type { ConnectorCounts, DeliveryMetrics } from '../../../shared/upward/delivery-metrics.js';
import { settleOpenPackages, sweepDeliveries, SWEEP_MARGIN_MS, type PlatformSweep, type SweepDeps } from '../../../shared/upward/delivery-sweep.js';
import { MemoryPackagesStore, RecordingQueues } from '../../support/memory-packages-store.js';
import { ddb, lambdaContext, RECORDS_TABLE } from './support.js';
import { reconcileDeps, sweepDeps } from '../../../functions/delivery-sweep/deps.js';
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
const SETTLE_OPEN_AFTER_MS = exchange.settleOpenAfterSeconds * 1000;

class RecordingMetrics implements DeliveryMetrics {
  ages: { platform: string; seconds: number }[] = [];
  connector(_platform: string, _counts: ConnectorCounts) {}
  oldestOwedAge(platform: string, seconds: number) {
    this.ages.push({ platform, seconds });
  }
}

/** The key of package `name`. */
const keyOf = (name: string) => packageKeyOf({ sequenceNumber: '100000000000000000001', recordId: `pen_${name}`, version: 1 });

/** Package `name`'s delivery to `platform` (three record versions), owed since `owedMinutesAgo`, last queued `queuedMinutesAgo`. */
function owed(name: string, platform: PlatformName, owedMinutesAgo: number, queuedMinutesAgo = owedMinutesAgo): PackageDelivery {
  const d = newDelivery(keyOf(name), 3, platform, '', minutesAgo(owedMinutesAgo));
  return { ...d, lastQueuedAt: minutesAgo(queuedMinutesAgo).toISOString() };
}

/** The owed index as DynamoDB answers it: pages of `pageSize` (cursor = the next position), the filter applied after. */
function owedIndex(byPlatform: Partial<Record<PlatformName, PackageDelivery[]>>, pageSize = 100) {
  ddb
    .on(QueryCommand, { TableName: DELIVERIES_TABLE, IndexName: 'owed' })
    .callsFake((input: { ExpressionAttributeValues: Record<string, string>; Limit: number; ExclusiveStartKey?: { at: number }; FilterExpression?: string }) => {
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
  return sweepHandler((ctx) => sweepDeps(ctx, { now: () => NOW }), () => metrics, (ctx) => reconcileDeps(ctx, { now: () => NOW }))(event, context) as Promise<Record<PlatformName, PlatformSweep>>;
}
const requeues = () => ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
const sent = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(e.MessageBody!) })));
const queries = () => ddb.commandCalls(QueryCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  metrics = new RecordingMetrics();
  // No body is open unless a test says so.
  ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE, IndexName: 'open' }).resolves({ Items: [] });
  owedIndex({});
});

describe('delivery sweep', () => {
  it('queues again what was last queued longer ago than exchange.requeueAfterSeconds, and nothing more recent', async () => {
    const stale = owed('A', 'provincial', 60);
    const recent = owed('B', 'provincial', 5);
    const requeuedLately = owed('C', 'national', 90, 2);
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
    // One message for the package (its part '': the whole of it) on the platform's queue.
    expect(sent()).toEqual([{ url: URLS.provincial, body: { key: keyOf('A'), platform: 'provincial', path: '' } }]);
    const listQuery = queries().find((q) => q.FilterExpression)!;
    expect(listQuery).toMatchObject({ IndexName: 'owed', ExpressionAttributeValues: { ':before': new Date(NOW.getTime() - exchange.requeueAfterSeconds * 1000).toISOString() } });
  });

  it('queues a part of a split package again as that part', async () => {
    const part = { ...newDelivery(keyOf('P'), 3, 'national', '01', minutesAgo(60)) };
    owedIndex({ national: [part] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();
    expect((await run()).national).toMatchObject({ requeued: 1 });
    expect(requeues()[0]!.Key).toEqual({ pk: `PKG#${keyOf('P')}`, sk: 'national#01' });
    expect(sent()).toEqual([{ url: URLS.national, body: { key: keyOf('P'), platform: 'national', path: '01' } }]);
  });

  it('at local start ({atStart: true}, the schedule’s localStartInput) queues again everything owed and not due later, however recently queued', async () => {
    expect(schedules.deliverySweep.localStartInput).toEqual({ atStart: true });
    const stale = owed('A', 'provincial', 60);
    const recent = owed('B', 'provincial', 5);
    const inFlight = owed('C', 'national', 1, 0);
    // Put off by the connector (the platform unavailable): due again in 2 minutes, its message still in the queue.
    const dueLater = { ...owed('D', 'national', 30), lastQueuedAt: new Date(NOW.getTime() + 120_000).toISOString() };
    owedIndex({ provincial: [stale, recent], national: [inFlight, dueLater] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();

    const report = await run(250_000, schedules.deliverySweep.localStartInput);
    expect(report.provincial).toMatchObject({ requeued: 2, complete: true });
    expect(report.national).toMatchObject({ requeued: 0, complete: true });
    expect(sent().map((m) => m.body.key).sort()).toEqual([keyOf('A'), keyOf('B')].sort());
    // A scheduled event (or anything else) sweeps with the catalogue's age.
    ddb.resetHistory();
    sqs.resetHistory();
    await run(250_000, { 'detail-type': 'Scheduled Event', atStart: 'yes' });
    expect(sent().map((m) => m.body.key)).toEqual([keyOf('A')]);
  });

  it('on the reconciliation’s schedule ({reconcile: true}) reconciles instead: scans the heads, checks their claims, saves its cursor; no sweep', async () => {
    expect(schedules.deliveryReconcile).toMatchObject({ function: 'deliverySweep', input: { reconcile: true } });
    const old = new Date(NOW.getTime() - exchange.reconcile.settledAfterSeconds * 1000 - 60_000).toISOString();
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: RECONCILE_CURSOR_KEY }).resolves({});
    ddb.on(ScanCommand, { TableName: RECORDS_TABLE }).resolves({ Items: [{ ...headImage('pen_a', 2, { receivedAt: old }) }] });
    ddb.on(BatchGetCommand).resolves({ Responses: { [DELIVERIES_TABLE]: [{ recordId: 'pen_a', version: 2 }] } });
    ddb.on(PutCommand).resolves({});

    const report = (await run(250_000, schedules.deliveryReconcile.input)) as unknown as ReconcileReport;
    expect(report).toMatchObject({ outcome: 'ended', pages: 1, heads: 1, unclaimed: 0, packages: 0 });
    expect(ddb.commandCalls(ScanCommand)[0]!.args[0].input).toMatchObject({ TableName: RECORDS_TABLE, FilterExpression: 'sk = :head', Limit: exchange.reconcile.pageItems });
    expect(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems).toEqual({ [DELIVERIES_TABLE]: { Keys: [claimKey('pen_a', 2)], ProjectionExpression: 'recordId, version' } });
    const saved = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(saved).toEqual([expect.objectContaining({ TableName: DELIVERIES_TABLE, ConditionExpression: 'attribute_not_exists(pk)', Item: expect.objectContaining({ ...RECONCILE_CURSOR_KEY, heads: 1, unclaimed: 0 }) })]);
    expect(queries()).toEqual([]);
    expect(sent()).toEqual([]);
    expect(metrics.ages).toEqual([]);
  });

  it('the reconciliation at local start begins a new pass even when the last ended a minute ago; the hourly schedule does not', async () => {
    const ended = { passStartedAt: minutesAgo(5).toISOString(), endedAt: minutesAgo(1).toISOString(), heads: 0, unclaimed: 0, savedAt: minutesAgo(1).toISOString(), token: 't' };
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: RECONCILE_CURSOR_KEY }).resolves({ Item: { ...RECONCILE_CURSOR_KEY, ...ended } });
    ddb.on(ScanCommand, { TableName: RECORDS_TABLE }).resolves({ Items: [] });
    ddb.on(PutCommand).resolves({});
    expect(await run(250_000, schedules.deliveryReconcile.input)).toMatchObject({ outcome: 'not-due', pages: 0 });
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
    expect(schedules.deliveryReconcile.localStartInput).toEqual({ reconcile: true, atStart: true });
    expect(await run(250_000, schedules.deliveryReconcile.localStartInput)).toMatchObject({ outcome: 'ended', pages: 1 });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ ConditionExpression: '#token = :previous', ExpressionAttributeValues: { ':previous': 't' } });
  });

  it('publishes each platform’s OldestOwedAgeSeconds: since the oldest owed delivery became owed, 0 when none is', async () => {
    owedIndex({ provincial: [owed('A', 'provincial', 5), owed('B', 'provincial', 30)] });
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
    owedIndex({ national: [owed('A', 'national', 60)] });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    queuesAccept();
    const report = await run();
    expect(report.national).toMatchObject({ requeued: 0, skipped: 1 });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('follows the index page by page (lastKey → ExclusiveStartKey), and counts what could not be sent without failing', async () => {
    const many = Array.from({ length: 25 }, (_, i) => owed(`N${String(i).padStart(2, '0')}`, 'national', 100 - i));
    owedIndex({ national: many }, 10);
    ddb.on(UpdateCommand).resolves({});
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));
    const report = await run();
    expect(report.national).toMatchObject({ requeued: 0, failed: 25, complete: true });
    expect(requeues()).toHaveLength(25);
    const pages = queries().filter((q) => q.IndexName === 'owed' && q.FilterExpression && q.ExpressionAttributeValues![':platform'] === 'national');
    expect(pages.map((q) => q.ExclusiveStartKey)).toEqual([undefined, { at: 10 }, { at: 20 }]);
  });

  it('stops while it still has time left, and says the sweep is not complete', async () => {
    owedIndex({ provincial: [owed('A', 'provincial', 60)], national: [owed('B', 'national', 60)] });
    ddb.on(UpdateCommand).resolves({});
    queuesAccept();
    const report = await run(SWEEP_MARGIN_MS);
    expect(report.provincial).toMatchObject({ requeued: 0, complete: false, oldestOwedAgeSeconds: 3600 });
    expect(requeues()).toEqual([]);
  });
});

describe('delivery sweep: package bodies left open', () => {
  const refs: PackageRef[] = [
    { recordId: 'pen_open0', version: 1, operation: 'upsert' },
    { recordId: 'pen_open1', version: 4, operation: 'delete' },
  ];
  /** Package O's body as the table holds it: open since `openedMinutesAgo`. */
  const openBody = (openedMinutesAgo: number) => ({ ...bodyKey(keyOf('O')), key: keyOf('O'), openedAt: minutesAgo(openedMinutesAgo).toISOString(), refs: encodeRefs(refs), openFor: OPEN_FOR });

  /** A table holding body O open: the open index lists it, its claims and deliveries are written, its close is answered. */
  function openPackageInTable(openedMinutesAgo: number) {
    const body = openBody(openedMinutesAgo);
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE, IndexName: 'open' }).resolves({ Items: [{ pk: body.pk, sk: body.sk, openFor: OPEN_FOR, openedAt: body.openedAt }] });
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: bodyKey(keyOf('O')) }).resolves({ Item: body });
    ddb.on(PutCommand, { TableName: DELIVERIES_TABLE }).resolves({});
    ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).callsFake((input: { Key: { sk: string }; ExpressionAttributeValues: Record<string, unknown> }) => {
      if (input.Key.sk !== 'BODY') return {};
      const { openFor: _open, ...closed } = body;
      return { Attributes: { ...closed, refs: input.ExpressionAttributeValues[':refs'] } };
    });
    queuesAccept();
  }
  const puts = () => ddb.commandCalls(PutCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);

  it('settles a body open longer than exchange.settleOpenAfterSeconds before sweeping: claimed, closed, its deliveries created and queued', async () => {
    openPackageInTable(5);
    const report = await run();
    const openQuery = queries()[0]!;
    expect(openQuery).toMatchObject({ IndexName: 'open', ExpressionAttributeValues: { ':open': OPEN_FOR, ':before': new Date(NOW.getTime() - SETTLE_OPEN_AFTER_MS).toISOString() } });
    // The owed index is read after the open bodies were settled.
    expect(queries().slice(1).every((q) => q.IndexName === 'owed')).toBe(true);
    // Each candidate claimed for O (written once), then O closed with them, then a delivery per platform.
    expect(puts().filter((p) => String(p.Item!.pk).startsWith('REC#'))).toEqual(
      refs.map((r) => expect.objectContaining({ Item: expect.objectContaining({ ...claimKey(r.recordId, r.version), key: keyOf('O') }), ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    const close = ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input).find((u) => u.Key!.sk === 'BODY')!;
    expect(close).toMatchObject({ ConditionExpression: 'openFor = :open', ExpressionAttributeValues: { ':refs': encodeRefs(refs), ':open': OPEN_FOR } });
    expect(puts().filter((p) => p.Item!.sk !== 'BODY' && String(p.Item!.pk).startsWith('PKG#')).map((p) => [p.Item!.sk, p.Item!.state, p.Item!.from, p.Item!.to])).toEqual([
      ['provincial', 'pending', 0, 2],
      ['national', 'pending', 0, 2],
    ]);
    expect(sent().map((m) => m.body).sort((a, b) => a.platform.localeCompare(b.platform))).toEqual([
      { key: keyOf('O'), platform: 'national', path: '' },
      { key: keyOf('O'), platform: 'provincial', path: '' },
    ]);
    expect(report.provincial).toMatchObject({ complete: true });
  });

  it('at local start settles every open body at once (age 0), as it requeues everything owed', async () => {
    openPackageInTable(0);
    await run(250_000, schedules.deliverySweep.localStartInput);
    expect(queries()[0]).toMatchObject({ IndexName: 'open', ExpressionAttributeValues: { ':before': NOW.toISOString() } });
  });

  it('goes on with the owed sweep and the lag metric when a settled package’s messages cannot be queued (its deliveries stay owed)', async () => {
    openPackageInTable(5);
    owedIndex({ provincial: [owed('A', 'provincial', 60)] });
    // The queues refuse package O's messages only.
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
      if (input.Entries.some((e) => JSON.parse(e.MessageBody).key === keyOf('O'))) throw new Error('connect ECONNREFUSED');
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })), Failed: [] };
    });
    const report = await run();
    // O is closed and its deliveries created (pending: the owed sweep queues them once they have waited).
    expect(puts().filter((p) => p.Item!.pk === `PKG#${keyOf('O')}`).map((p) => [p.Item!.sk, p.Item!.state])).toEqual([
      ['provincial', 'pending'],
      ['national', 'pending'],
    ]);
    expect(report.provincial).toMatchObject({ requeued: 1, complete: true, oldestOwedAgeSeconds: 3600 });
    expect(metrics.ages.map((a) => a.platform)).toEqual(['provincial', 'national']);
  });
});

/** The sweep's rules against the in-memory packages store (its indexes paged by key, as DynamoDB pages them). */
function deps(store: MemoryPackagesStore, queues: RecordingQueues, over: Partial<SweepDeps> = {}): SweepDeps {
  return { store, queues, requeueAfterMs: 15 * 60_000, settleOpenAfterMs: 60_000, now: () => NOW, remainingMs: () => 250_000, ...over };
}

describe('sweepDeliveries', () => {
  it('queues again every stale delivery while the owed list shrinks between its pages (requeued ones filtered out, a delivered one out of the index)', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    const stale = Array.from({ length: 7 }, (_, i) => owed(`S${i}`, 'national', 60 - i));
    for (const d of stale) await store.createDelivery(d);
    // The connector delivers S1 once the sweep has read the first page: it leaves the owed index.
    const listOwed = store.listOwed.bind(store);
    let pages = 0;
    store.listOwed = async (...args) => {
      const page = await listOwed(...args);
      if (++pages === 1) expect(await store.markDelivered(stale[1]!, NOW.toISOString(), 0)).toBe('updated');
      return page;
    };
    const report = await sweepDeliveries(deps(store, queues, { platforms: ['national'], pageSize: 2 }));
    expect(report.national).toMatchObject({ requeued: 6, skipped: 1, failed: 0, complete: true });
    expect(queues.sent.map((m) => m.key)).toEqual(stale.filter((_, i) => i !== 1).map((d) => d.key));
    expect(pages).toBe(4);
  });
});

describe('settleOpenPackages', () => {
  const ref = (recordId: string, version = 1): PackageRef => ({ recordId, version, operation: 'upsert' });

  it('settles a body open longer than settleOpenAfterMs as the fan-out would, and leaves a younger one', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    await store.openBody(keyOf('old'), [ref('pen_a'), ref('pen_b', 2)], minutesAgo(2).toISOString());
    // Opened 30 seconds ago: its fan-out may still be running.
    await store.openBody(keyOf('young'), [ref('pen_c')], new Date(NOW.getTime() - 30_000).toISOString());

    expect(await settleOpenPackages(deps(store, queues))).toEqual({ settled: 1, claimedElsewhere: 0, failed: 0, complete: true });
    expect(await store.getBody(keyOf('old'))).toMatchObject({ open: false, refs: [ref('pen_a'), ref('pen_b', 2)] });
    expect((await store.getClaim('pen_a', 1))!.key).toBe(keyOf('old'));
    expect((await store.getClaim('pen_b', 2))!.key).toBe(keyOf('old'));
    expect((await store.listDeliveries(keyOf('old'))).map((d) => [d.platform, d.path, d.state, d.from, d.to]).sort()).toEqual([
      ['national', '', 'pending', 0, 2],
      ['provincial', '', 'pending', 0, 2],
    ]);
    expect(queues.sent.map((m) => [m.key, m.platform, m.path]).sort()).toEqual([
      [keyOf('old'), 'national', ''],
      [keyOf('old'), 'provincial', ''],
    ]);
    // The young one is left for its fan-out: not claimed, still open, nothing queued.
    expect(await store.getBody(keyOf('young'))).toMatchObject({ open: true });
    expect(await store.getClaim('pen_c', 1)).toBeUndefined();
    expect(await store.listDeliveries(keyOf('young'))).toEqual([]);
  });

  it('leaves out of a body the versions another package claimed, and settles that package too', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    // The batch was read again with another composition: package other claimed pen_b, and stopped before closing.
    await store.openBody(keyOf('other'), [ref('pen_b')], minutesAgo(3).toISOString());
    await store.claim('pen_b', 1, keyOf('other'), minutesAgo(3).toISOString());
    await store.openBody(keyOf('mine'), [ref('pen_a'), ref('pen_b')], minutesAgo(5).toISOString());

    const report = await settleOpenPackages(deps(store, queues));
    expect(report).toEqual({ settled: 2, claimedElsewhere: 1, failed: 0, complete: true });
    expect(await store.getBody(keyOf('mine'))).toMatchObject({ open: false, refs: [ref('pen_a')] });
    expect(await store.getBody(keyOf('other'))).toMatchObject({ open: false, refs: [ref('pen_b')] });
    // Each package has one delivery per platform, whichever settled it first.
    expect((await store.listDeliveries(keyOf('mine'))).filter((d) => d.path === '')).toHaveLength(2);
    expect((await store.listDeliveries(keyOf('other'))).filter((d) => d.path === '')).toHaveLength(2);
  });

  it('leaves a body closed between the read of the open index and its own read (its fan-out finished meanwhile)', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    await store.openBody(keyOf('racing'), [ref('pen_a'), ref('pen_b')], minutesAgo(5).toISOString());
    const listOpen = store.listOpen.bind(store);
    store.listOpen = async (...args) => {
      const page = await listOpen(...args);
      // The fan-out, read again, claims pen_a only (pen_b went to another package) and closes the body.
      await store.claim('pen_a', 1, keyOf('racing'), NOW.toISOString());
      await store.closeBody(keyOf('racing'), [ref('pen_a')]);
      return page;
    };
    expect(await settleOpenPackages(deps(store, queues))).toEqual({ settled: 0, claimedElsewhere: 0, failed: 0, complete: true });
    expect(await store.getClaim('pen_b', 1)).toBeUndefined();
    expect(await store.getBody(keyOf('racing'))).toMatchObject({ open: false, refs: [ref('pen_a')] });
    // Its deliveries are the fan-out's to create: the sweep queued nothing.
    expect(queues.sent).toEqual([]);
  });

  it('counts a body it cannot settle now and goes on with the others; the next sweep settles it', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    await store.openBody(keyOf('stuck'), [ref('pen_s')], minutesAgo(9).toISOString());
    await store.openBody(keyOf('refused'), [ref('pen_r')], minutesAgo(8).toISOString());
    await store.openBody(keyOf('fine'), [ref('pen_f')], minutesAgo(7).toISOString());
    // The table refuses stuck's claim for now; the queues refuse refused's messages.
    const claim = store.claim.bind(store);
    let tableDown = true;
    store.claim = async (recordId, version, key, at) => {
      if (tableDown && key === keyOf('stuck')) throw Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
      return claim(recordId, version, key, at);
    };
    queues.refuse = (m) => m.key === keyOf('refused');

    expect(await settleOpenPackages(deps(store, queues))).toEqual({ settled: 2, claimedElsewhere: 0, failed: 2, complete: true });
    expect(await store.getBody(keyOf('stuck'))).toMatchObject({ open: true });
    // Closed, its deliveries created and owed: the owed sweep queues them once they have waited.
    expect(await store.getBody(keyOf('refused'))).toMatchObject({ open: false });
    expect((await store.listDeliveries(keyOf('refused'))).map((d) => d.owedBy).sort()).toEqual(['national', 'provincial']);
    expect(queues.sent.map((m) => m.key)).toEqual([keyOf('fine'), keyOf('fine')]);

    tableDown = false;
    queues.refuse = () => false;
    expect(await settleOpenPackages(deps(store, queues))).toEqual({ settled: 1, claimedElsewhere: 0, failed: 0, complete: true });
    expect(await store.getBody(keyOf('stuck'))).toMatchObject({ open: false, refs: [ref('pen_s')] });
  });

  it('goes through the open index page by page, oldest first', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    for (let i = 0; i < 5; i++) await store.openBody(keyOf(`page${i}`), [ref(`pen_p${i}`)], minutesAgo(10 - i).toISOString());
    const settledOrder: string[] = [];
    const closeBody = store.closeBody.bind(store);
    store.closeBody = async (key, refs) => (settledOrder.push(key), closeBody(key, refs));
    expect(await settleOpenPackages(deps(store, queues, { pageSize: 2 }))).toEqual({ settled: 5, claimedElsewhere: 0, failed: 0, complete: true });
    expect(settledOrder).toEqual([0, 1, 2, 3, 4].map((i) => keyOf(`page${i}`)));
  });

  it('stops while it still has time left and says it is not complete: what it did not reach stays open for the next sweep', async () => {
    const store = new MemoryPackagesStore();
    const queues = new RecordingQueues();
    for (let i = 0; i < 3; i++) await store.openBody(keyOf(`late${i}`), [ref(`pen_l${i}`)], minutesAgo(10 - i).toISOString());
    // Time for one page of one body, then no more.
    const left = [SWEEP_MARGIN_MS + 1];
    const report = await settleOpenPackages(deps(store, queues, { pageSize: 1, remainingMs: () => left.shift() ?? SWEEP_MARGIN_MS }));
    expect(report).toEqual({ settled: 1, claimedElsewhere: 0, failed: 0, complete: false });
    expect(await store.getBody(keyOf('late0'))).toMatchObject({ open: false });
    expect(await store.getBody(keyOf('late1'))).toMatchObject({ open: true });
    expect(await store.getBody(keyOf('late2'))).toMatchObject({ open: true });

    // No time at all: nothing read.
    const untouched = new MemoryPackagesStore();
    await untouched.openBody(keyOf('late0'), [ref('pen_l0')], minutesAgo(10).toISOString());
    expect(await settleOpenPackages(deps(untouched, new RecordingQueues(), { remainingMs: () => SWEEP_MARGIN_MS }))).toEqual({ settled: 0, claimedElsewhere: 0, failed: 0, complete: false });
    expect(await untouched.getBody(keyOf('late0'))).toMatchObject({ open: true });
  });
});
