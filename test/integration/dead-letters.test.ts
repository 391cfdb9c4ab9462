/**
 * Dead letters, feedback and a record's delivery view against the emulators, through the real AWS SDK and the
 * packages store (docs/upward-packages.md): the list of GET /v1/dlq/{platform} — each failed delivery (a part of one
 * record the platform refused, or a whole package the hub could not send) listed by the record versions its
 * package's body gives, paged by the opaque cursor over DynamoDB's own keys of the `failed` index — with the depth of
 * the dead-letter queue on fauxqs; a redrive by receive, send and delete (HUB_DLQ_REDRIVE=resend) that makes every
 * failed delivery pending again, leaves the messages on the platform's queue and none in the dead-letter queue; the
 * platforms' feedback kept on the claims, and GET /v1/records/{id}'s view of a version after a split.
 *
 * The store's transitions and indexes themselves: test/integration/packages-store.test.ts.
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
import { readVersionDeliveries, recordDeliveryView } from '../../shared/upward/delivery-view.js';
import { recordFeedback } from '../../shared/upward/feedback.js';
import { messageBody, newDelivery, packageKeyOf, type DeliveryRef, type PackageRef, type PlatformName } from '../../shared/upward/package-model.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { redriveDeadLetters } from '../../shared/upward/redrive.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: 'HUBTESTDLQ0000000001', secretAccessKey: 'not-checked-by-the-emulator' };
const temp = mkdtempSync(join(tmpdir(), 'hub-dead-letters-'));

let db: TestDynamo;
let store: DynamoPackagesStore;
let sqsLocal: SqsLocal | undefined;
let client: SQSClient;
let provisioned: ProvisionedQueues;

beforeAll(async () => {
  db = await startTestDynamo();
  store = new DynamoPackagesStore(db.doc, tables.deliveries.localName);
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

let n = 0;
/** A package of `count` record versions of records of their own, opened at `at`, each claimed for it, closed. */
async function packaged(count: number, at: string): Promise<{ key: string; refs: PackageRef[] }> {
  n++;
  const refs: PackageRef[] = Array.from({ length: count }, (_, i) => ({ recordId: `pen_dl${n}x${i}`, version: i + 1, operation: i === 1 ? 'delete' : 'upsert' }));
  const key = packageKeyOf({ sequenceNumber: String(9_100_000 + n), recordId: refs[0]!.recordId, version: 1 });
  await store.openBody(key, refs, at);
  for (const r of refs) expect(await store.claim(r.recordId, r.version, key, at)).toBe(key);
  await store.closeBody(key, refs);
  return { key, refs };
}

/**
 * A package of two whose delivery to `platform` the platform refused: split, its first record delivered in part
 * '0', its second refused alone in part '1' (failed at `failedAt`, with `reason`). The failed part.
 */
async function refusedPart(platform: PlatformName, at: string, failedAt: string, reason: string): Promise<{ ref: DeliveryRef; refs: PackageRef[] }> {
  const { key, refs } = await packaged(2, at);
  const whole = newDelivery(key, 2, platform, '', new Date(at));
  await store.createDelivery(whole);
  expect(await store.split(whole, ['0', '1'].map((p) => newDelivery(key, 2, platform, p, new Date(at))), at, 1)).toBe('updated');
  expect(await store.markDelivered({ key, platform, path: '0' }, at, 0)).toBe('updated');
  const ref = { key, platform, path: '1' };
  expect(await store.markFailed(ref, reason, failedAt, 1)).toBe('updated');
  return { ref, refs };
}

/** A package of `count` the hub could not send to `platform` at all (`internal: …`): the whole of it failed. */
async function internalFailure(platform: PlatformName, count: number, at: string, failedAt: string): Promise<{ ref: DeliveryRef; refs: PackageRef[] }> {
  const { key, refs } = await packaged(count, at);
  await store.createDelivery(newDelivery(key, count, platform, '', new Date(at)));
  const ref = { key, platform, path: '' };
  expect(await store.markFailed(ref, 'internal: TypeError', failedAt, 0)).toBe('updated');
  return { ref, refs };
}

const url = (queue: string) => provisioned.queues[queue]!.url;
async function depth(queue: string): Promise<number> {
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: url(queue), AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('the dead-letter list on the local emulators', () => {
  it('lists each failed delivery by the record versions it carries, oldest failure first, with the depth of the platform’s dead-letter queue', async () => {
    const refused = await refusedPart('national', '2026-04-05T00:00:00.000Z', '2026-04-05T00:01:00.000Z', 'HTTP 400: poison');
    const internal = await internalFailure('national', 3, '2026-04-05T00:00:00.000Z', '2026-04-05T00:02:00.000Z');
    await client.send(new SendMessageCommand({ QueueUrl: url('nationalDead'), MessageBody: messageBody(refused.ref) }));
    const queue = new SqsDeadLetterQueue(client, { deadLetter: url('nationalDead'), queue: url('national') });

    const page = await listDeadLetters('national', {}, { store, queue });
    expect(page.depth).toBe(1);
    expect(page.items).toEqual([
      // The refused part: its record alone.
      { recordId: refused.refs[1]!.recordId, version: 2, operation: 'delete', reason: 'HTTP 400: poison', failedAt: '2026-04-05T00:01:00.000Z', attempts: 1 },
      // The package the hub could not send: every record version in it.
      ...internal.refs.map((r) => ({ recordId: r.recordId, version: r.version, operation: r.operation, reason: 'internal: TypeError', failedAt: '2026-04-05T00:02:00.000Z', attempts: 0 })),
    ]);
    expect(page).not.toHaveProperty('next');
    // The other platform's list is its own.
    expect((await listDeadLetters('provincial', {}, { store, queue })).items.map((i) => i.recordId)).not.toContain(refused.refs[1]!.recordId);
  });

  it('pages by the opaque cursor over the failed index’s own keys, a failed delivery at a time', async () => {
    const queue = new SqsDeadLetterQueue(client, { deadLetter: url('nationalDead'), queue: url('national') });
    const all = (await listDeadLetters('national', {}, { store, queue })).items;
    const seen: typeof all = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listDeadLetters('national', { limit: 1, ...(cursor ? { cursor } : {}) }, { store, queue });
      seen.push(...page.items);
      cursor = page.next;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(all);
    // Two failed deliveries (the second of three versions): two pages, and maybe an empty last one.
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(pages).toBeLessThanOrEqual(3);
    expect(cursor).toBeUndefined();
  });

  it('redrives by receive, send and delete: every failed delivery pending, every message back on the platform’s queue, the dead-letter queue empty', async () => {
    const queue = new SqsDeadLetterQueue(client, { deadLetter: url('provincialDead'), queue: url('provincial') });
    const failed: DeliveryRef[] = [];
    for (let i = 0; i < 12; i++) failed.push((await refusedPart('provincial', '2026-04-06T00:00:00.000Z', '2026-04-06T00:01:00.000Z', 'HTTP 400: refused')).ref);
    failed.push((await internalFailure('provincial', 3, '2026-04-06T00:00:00.000Z', '2026-04-06T00:02:00.000Z')).ref);
    for (const ref of failed) await client.send(new SendMessageCommand({ QueueUrl: url('provincialDead'), MessageBody: messageBody(ref) }));
    const began = new Date('2026-04-07T00:00:00.000Z');

    const answer = await redriveDeadLetters('provincial', { store, queue, mode: 'resend', now: () => began, remainingMs: () => 60_000, pageSize: 5 });
    expect(answer).toEqual({ platform: 'provincial', redriven: 13, moved: 13 });
    expect((await store.listFailed('provincial', { limit: 1000 })).items).toEqual([]);
    for (const ref of failed) {
      expect(await store.getDelivery(ref)).toMatchObject({ state: 'pending', owedBy: 'provincial', owedSince: began.toISOString(), lastQueuedAt: began.toISOString() });
    }
    expect(await depth('provincialDead')).toBe(0);
    // Every body is on the platform's queue once.
    const bodies: string[] = [];
    for (let i = 0; i < 10 && bodies.length < 13; i++) {
      const out = await client.send(new ReceiveMessageCommand({ QueueUrl: url('provincial'), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      bodies.push(...(out.Messages ?? []).map((m) => m.Body!));
    }
    expect(bodies.sort()).toEqual(failed.map((ref) => messageBody(ref)).sort());
  }, 60_000);
});

describe('feedback and the delivery view on DynamoDB Local', () => {
  it('keeps each platform’s feedback on the version’s claim, and shows it with the state of the part that carries the version', async () => {
    const refused = await refusedPart('national', '2026-04-08T00:00:00.000Z', '2026-04-08T00:01:00.000Z', 'HTTP 400: XK_XDR_MC 缺失');
    const [kept, refusedRef] = refused.refs as [PackageRef, PackageRef];
    const provincial = newDelivery(refused.ref.key, 2, 'provincial', '', new Date('2026-04-08T00:00:00.000Z'));
    await store.createDelivery(provincial);
    await store.markDelivered(provincial, '2026-04-08T00:00:05.000Z', 0);

    const now = () => new Date('2026-04-08T02:00:00.000Z');
    const answer = await recordFeedback(
      'national',
      [
        { recordId: refusedRef.recordId, version: refusedRef.version, outcome: 'received' },
        { recordId: refusedRef.recordId, version: refusedRef.version, outcome: 'rejected', reason: '名称缺失', at: '2026-04-08T09:30:00+08:00' },
        // A version never packaged.
        { recordId: refusedRef.recordId, version: 7, outcome: 'received' },
      ],
      { store, now },
    );
    expect(answer).toEqual({ recorded: 2, unknown: [{ index: 2, recordId: refusedRef.recordId, version: 7 }] });
    expect(await store.getClaim(refusedRef.recordId, 7)).toBeUndefined();
    expect(await recordFeedback('provincial', [{ recordId: refusedRef.recordId, version: refusedRef.version, outcome: 'received' }], { store, now })).toEqual({ recorded: 1, unknown: [] });

    const view = recordDeliveryView(refusedRef.recordId, refusedRef.version, await readVersionDeliveries(store, refusedRef.recordId, refusedRef.version));
    expect(view).toEqual({
      provincial: {
        state: 'delivered',
        version: refusedRef.version,
        deliveredAt: '2026-04-08T00:00:05.000Z',
        feedback: { outcome: 'received', at: '2026-04-08T02:00:00.000Z', receivedAt: '2026-04-08T02:00:00.000Z' },
      },
      national: {
        state: 'failed',
        version: refusedRef.version,
        failedAt: '2026-04-08T00:01:00.000Z',
        reason: 'HTTP 400: XK_XDR_MC 缺失',
        attempts: 1,
        // The later feedback replaced the earlier.
        feedback: { outcome: 'rejected', reason: '名称缺失', at: '2026-04-08T01:30:00.000Z', receivedAt: '2026-04-08T02:00:00.000Z' },
      },
    });
    // The other record of the package: delivered to both, in part '0' for the national platform, no feedback.
    expect(recordDeliveryView(kept.recordId, kept.version, await readVersionDeliveries(store, kept.recordId, kept.version))).toEqual({
      provincial: { state: 'delivered', version: kept.version, deliveredAt: '2026-04-08T00:00:05.000Z' },
      national: { state: 'delivered', version: kept.version, deliveredAt: '2026-04-08T00:00:00.000Z' },
    });
    // A version with no claim: pending for both.
    expect(recordDeliveryView(kept.recordId, 9, await readVersionDeliveries(store, kept.recordId, 9))).toEqual({
      provincial: { state: 'pending', version: 9 },
      national: { state: 'pending', version: 9 },
    });
  });
});
