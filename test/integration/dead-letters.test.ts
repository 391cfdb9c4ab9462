/**
 * Dead letters and feedback against the emulators, through the real AWS SDK: the deliveries store's sparse `failed`
 * index (failedBy present exactly while failed), a redrive's failed → pending (back on the `owed` index), the
 * platforms' feedback kept on a delivery, one version's deliveries; and the dead-letter queue on fauxqs — its depth,
 * the list of GET /v1/dlq/{platform}, and a redrive by receive, send and delete (HUB_DLQ_REDRIVE=resend) that
 * leaves the messages on the platform's queue and none in the dead-letter queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { localSqsClientConfig, startSqsLocal, type SqsLocal } from '../../infra/local/sqs-local.js';
import { provisionQueues, type ProvisionedQueues } from '../../infra/local/sqs-provision.js';
import { listDeadLetters } from '../../shared/upward/dead-letter-list.js';
import { SqsDeadLetterQueue } from '../../shared/upward/dead-letter-queue.js';
import { DynamoDeliveriesStore, FAILED_INDEX } from '../../shared/upward/deliveries-store.js';
import { messageBody, newDelivery, type Delivery, type PlatformName } from '../../shared/upward/delivery-model.js';
import { redriveDeadLetters } from '../../shared/upward/redrive.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: 'HUBTESTDLQ0000000001', secretAccessKey: 'not-checked-by-the-emulator' };
const temp = mkdtempSync(join(tmpdir(), 'hub-dead-letters-'));

let db: TestDynamo;
let store: DynamoDeliveriesStore;
let sqsLocal: SqsLocal | undefined;
let client: SQSClient;
let provisioned: ProvisionedQueues;

beforeAll(async () => {
  db = await startTestDynamo();
  store = new DynamoDeliveriesStore(db.doc, tables.deliveries.localName);
  sqsLocal = await startSqsLocal({ dir: join(temp, 'sqs') });
  client = new SQSClient(localSqsClientConfig({ endpoint: sqsLocal.endpoint, region: REGION, credentials }));
  provisioned = await provisionQueues(client, { endpoint: sqsLocal.endpoint });
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await sqsLocal?.stop();
  await db?.stop();
  rmSync(temp, { recursive: true, force: true });
});

const active = { status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };
let n = 0;
/** A new pending delivery of a record of its own (ids of the record-id pattern), owed since `at`. */
function delivery(platform: PlatformName, at: string, version = 1): Delivery {
  n++;
  return newDelivery({ id: `pen_${String(n).padStart(26, 'a')}`, version, ...active }, platform, new Date(at));
}
const url = (queue: string) => provisioned.queues[queue]!.url;
async function depth(queue: string): Promise<number> {
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: url(queue), AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('DynamoDeliveriesStore: failed deliveries, redrives and feedback', () => {
  it('has the catalogue’s sparse failed index (failedBy, failedAt)', async () => {
    const failedIndex = tables.deliveries.globalIndexes.find((g) => g.name === FAILED_INDEX);
    expect(failedIndex).toMatchObject({ partitionKey: { name: 'failedBy' }, sortKey: { name: 'failedAt' } });
  });

  it('lists a failed delivery under its platform, oldest failure first; leaving `failed` takes it off the list', async () => {
    const platform: PlatformName = 'provincial';
    const [a, b, c] = [delivery(platform, '2026-04-01T00:00:00.000Z'), delivery(platform, '2026-04-01T00:00:00.000Z'), delivery(platform, '2026-04-01T00:00:00.000Z')];
    for (const d of [a, b, c]) await store.createIfAbsent(d);
    expect(await store.markFailed(b, 'HTTP 400: b', '2026-04-01T00:02:00.000Z', 1)).toBe('updated');
    expect(await store.markFailed(a, 'HTTP 422: a', '2026-04-01T00:01:00.000Z', 2)).toBe('updated');
    expect(await store.markFailed(c, 'HTTP 400: c', '2026-04-01T00:03:00.000Z', 1)).toBe('updated');
    expect(await store.get(a)).toMatchObject({ state: 'failed', failedBy: 'provincial', failedAt: '2026-04-01T00:01:00.000Z', failedReason: 'HTTP 422: a', attempts: 2 });
    expect((await store.listFailed(platform, { limit: 10 })).items.map((d) => d.recordId)).toEqual([a.recordId, b.recordId, c.recordId]);
    expect((await store.listFailed('national', { limit: 10 })).items.map((d) => d.recordId)).not.toContain(a.recordId);

    // Paged, and bounded by the time a redrive began.
    const first = await store.listFailed(platform, { limit: 1 });
    expect(first.items.map((d) => d.recordId)).toEqual([a.recordId]);
    const second = await store.listFailed(platform, { limit: 10, startKey: first.lastKey! });
    expect(second.items.map((d) => d.recordId)).toEqual([b.recordId, c.recordId]);
    expect((await store.listFailed(platform, { limit: 10, before: '2026-04-01T00:02:30.000Z' })).items.map((d) => d.recordId)).toEqual([a.recordId, b.recordId]);

    // failed → delivered (a message already on its way) and failed → superseded leave the list.
    expect(await store.markDelivered(b, '2026-04-01T00:05:00.000Z', 0)).toBe('updated');
    expect(await store.markSuperseded(c, '2026-04-01T00:05:00.000Z')).toBe('updated');
    expect(await store.get(b)).not.toHaveProperty('failedBy');
    expect(await store.get(c)).not.toHaveProperty('failedBy');
    expect((await store.listFailed(platform, { limit: 10 })).items.map((d) => d.recordId)).toEqual([a.recordId]);
  });

  it('failed → pending on a redrive: owed again (the owed index) and off the failed index; only from failed', async () => {
    const d = delivery('national', '2026-04-02T00:00:00.000Z');
    await store.createIfAbsent(d);
    expect(await store.resetToPending(d, '2026-04-02T01:00:00.000Z')).toBe('lost');
    await store.markFailed(d, 'HTTP 400: no', '2026-04-02T00:01:00.000Z', 1);
    expect(await store.resetToPending(d, '2026-04-02T01:00:00.000Z')).toBe('updated');
    const stored = await store.get(d);
    expect(stored).toMatchObject({ state: 'pending', owedBy: 'national', owedSince: '2026-04-02T01:00:00.000Z', lastQueuedAt: '2026-04-02T01:00:00.000Z', attempts: 1 });
    expect(stored).not.toHaveProperty('failedBy');
    expect((await store.listFailed('national', { limit: 1000 })).items.map((x) => x.recordId)).not.toContain(d.recordId);
    // The sweep finds it among the owed once it has waited.
    expect((await store.listOwed('national', '2026-04-02T02:00:00.000Z', 1000)).items.map((x) => x.recordId)).toContain(d.recordId);
    expect(await store.resetToPending(d, '2026-04-02T01:00:01.000Z')).toBe('lost');
    // And it can fail again, and be delivered.
    expect(await store.markFailed(d, 'HTTP 400: again', '2026-04-02T01:01:00.000Z', 1)).toBe('updated');
    expect(await store.markDelivered(d, '2026-04-02T02:00:00.000Z', 0)).toBe('updated');
  });

  it('keeps a platform’s feedback on an existing delivery, a later one replacing the earlier; none for an unknown delivery', async () => {
    const d = delivery('national', '2026-04-03T00:00:00.000Z');
    await store.createIfAbsent(d);
    await store.markDelivered(d, '2026-04-03T00:00:01.000Z', 0);
    const received = { outcome: 'received' as const, at: '2026-04-03T01:00:00.000Z', receivedAt: '2026-04-03T01:00:01.000Z' };
    const rejected = { outcome: 'rejected' as const, reason: '退回', at: '2026-04-03T02:00:00.000Z', receivedAt: '2026-04-03T02:00:01.000Z' };
    expect(await store.setFeedback(d, received)).toBe('updated');
    expect(await store.setFeedback(d, rejected)).toBe('updated');
    expect(await store.get(d)).toMatchObject({ state: 'delivered', feedback: rejected });
    expect(await store.setFeedback({ ...d, version: 7 }, received)).toBe('lost');
    expect(await store.setFeedback({ ...d, platform: 'provincial' }, received)).toBe('lost');
    expect(await store.get({ ...d, version: 7 })).toBeUndefined();
  });

  it('reads one version’s deliveries of a record, to both platforms, however many versions it has', async () => {
    const v1 = delivery('provincial', '2026-04-04T00:00:00.000Z', 1);
    const others = [
      { ...v1, platform: 'national' as const },
      { ...v1, version: 2 },
      { ...v1, version: 2, platform: 'national' as const },
      { ...v1, version: 3 },
    ];
    for (const d of [v1, ...others]) await store.createIfAbsent(d);
    const found = await store.listForVersion(v1.recordId, 2);
    expect(found.map((d) => [d.platform, d.version]).sort()).toEqual([
      ['national', 2],
      ['provincial', 2],
    ]);
    expect(await store.listForVersion(v1.recordId, 9)).toEqual([]);
  });
});

describe('the dead-letter queue on the local SQS', () => {
  it('lists the failed deliveries with the depth of the platform’s dead-letter queue', async () => {
    const d = delivery('national', '2026-04-05T00:00:00.000Z');
    await store.createIfAbsent(d);
    await store.markFailed(d, 'HTTP 400: poison', '2026-04-05T00:01:00.000Z', 1);
    await client.send(new SendMessageCommand({ QueueUrl: url('nationalDead'), MessageBody: messageBody(d) }));
    const queue = new SqsDeadLetterQueue(client, { deadLetter: url('nationalDead'), queue: url('national') });
    const page = await listDeadLetters('national', {}, { store, queue });
    expect(page.depth).toBeGreaterThanOrEqual(1);
    expect(page.items).toContainEqual({ recordId: d.recordId, version: 1, operation: 'upsert', reason: 'HTTP 400: poison', failedAt: '2026-04-05T00:01:00.000Z', attempts: 1 });
  });

  it('redrives by receive, send and delete: every failed delivery pending, every message back on the platform’s queue, the dead-letter queue empty', async () => {
    const queue = new SqsDeadLetterQueue(client, { deadLetter: url('provincialDead'), queue: url('provincial') });
    const failed = Array.from({ length: 13 }, () => delivery('provincial', '2026-04-06T00:00:00.000Z'));
    for (const d of failed) {
      await store.createIfAbsent(d);
      await store.markFailed(d, 'HTTP 400: refused', '2026-04-06T00:01:00.000Z', 1);
      await client.send(new SendMessageCommand({ QueueUrl: url('provincialDead'), MessageBody: messageBody(d) }));
    }
    const before = (await store.listFailed('provincial', { limit: 1000 })).items.length;
    const answer = await redriveDeadLetters('provincial', { store, queue, mode: 'resend', now: () => new Date(), remainingMs: () => 60_000 });
    expect(answer).toEqual({ platform: 'provincial', redriven: before, moved: 13 });
    expect((await store.listFailed('provincial', { limit: 1000 })).items).toEqual([]);
    for (const d of failed) expect((await store.get(d))!.state).toBe('pending');
    expect(await depth('provincialDead')).toBe(0);
    // Every body is on the platform's queue once.
    const bodies: string[] = [];
    for (let i = 0; i < 10 && bodies.length < 13; i++) {
      const out = await client.send(new ReceiveMessageCommand({ QueueUrl: url('provincial'), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      bodies.push(...(out.Messages ?? []).map((m) => m.Body!));
    }
    expect(bodies.sort()).toEqual(failed.map((d) => messageBody(d)).sort());
  }, 60_000);
});
