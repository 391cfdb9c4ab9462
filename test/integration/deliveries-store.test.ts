/**
 * The DynamoDB deliveries store (shared/upward/deliveries-store.ts) against DynamoDB Local with the catalogue's
 * table and its sparse `owed` index, through the real AWS SDK: each conditional transition, the index holding
 * exactly the pending deliveries, and the records store's single-head read (getHead) the connectors use.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { DynamoRecordsStore } from '../../shared/store/records-store.js';
import { newDelivery, type Delivery, type PlatformName } from '../../shared/upward/delivery-model.js';
import { DynamoDeliveriesStore, OWED_INDEX } from '../../shared/upward/deliveries-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

let db: TestDynamo;
let store: DynamoDeliveriesStore;

beforeAll(async () => {
  db = await startTestDynamo();
  store = new DynamoDeliveriesStore(db.doc, tables.deliveries.localName);
});

afterAll(async () => {
  await db?.stop();
});

const active = { status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };
let n = 0;
/** A new pending delivery of a record of its own, owed since `at`. */
function delivery(platform: PlatformName, at: Date, version = 1): Delivery {
  n++;
  return newDelivery({ id: `pen_STORE${n}`, version, ...active }, platform, at);
}
const at = (iso: string) => new Date(iso);

describe('DynamoDeliveriesStore', () => {
  it('works on the catalogue’s table: keys pk/sk and the owed index (owedBy, owedSince) among its indexes', async () => {
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: tables.deliveries.localName }));
    expect(Table!.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table!.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema])).toContainEqual([
      OWED_INDEX,
      [
        { AttributeName: 'owedBy', KeyType: 'HASH' },
        { AttributeName: 'owedSince', KeyType: 'RANGE' },
      ],
    ]);
  });

  it('creates a delivery once: the second time it answers with the delivery already there', async () => {
    const d = delivery('provincial', at('2026-03-01T00:00:00.000Z'));
    expect(await store.createIfAbsent(d)).toEqual({ created: true });
    expect(await store.createIfAbsent({ ...d, createdAt: '2026-03-02T00:00:00.000Z' })).toEqual({ created: false, existing: d });
    expect(await store.get(d)).toEqual(d);
  });

  it('pending → delivered: no longer owed, its time and attempts kept; not twice', async () => {
    const d = delivery('national', at('2026-03-01T00:00:00.000Z'));
    await store.createIfAbsent(d);
    expect(await store.recordAttempt(d, 4, '2026-03-01T00:01:00.000Z')).toBe('updated');
    expect(await store.markDelivered(d, '2026-03-01T00:05:00.000Z', 1)).toBe('updated');
    const stored = await store.get(d);
    expect(stored).toMatchObject({ state: 'delivered', deliveredAt: '2026-03-01T00:05:00.000Z', attempts: 5 });
    expect(stored).not.toHaveProperty('owedBy');
    expect(await store.markDelivered(d, '2026-03-01T00:06:00.000Z', 0)).toBe('lost');
    expect(await store.markSuperseded(d, '2026-03-01T00:06:00.000Z')).toBe('lost');
    expect(await store.markFailed(d, 'HTTP 400', '2026-03-01T00:06:00.000Z', 1)).toBe('lost');
    expect((await store.get(d))!.state).toBe('delivered');
  });

  it('pending → superseded; pending → failed → delivered (a redriven message)', async () => {
    const s = delivery('provincial', at('2026-03-01T00:00:00.000Z'));
    await store.createIfAbsent(s);
    expect(await store.markSuperseded(s, '2026-03-01T00:01:00.000Z')).toBe('updated');
    expect(await store.get(s)).toMatchObject({ state: 'superseded', supersededAt: '2026-03-01T00:01:00.000Z' });

    const f = delivery('provincial', at('2026-03-01T00:00:00.000Z'));
    await store.createIfAbsent(f);
    expect(await store.markFailed(f, 'HTTP 400: 字段无效', '2026-03-01T00:01:00.000Z', 1)).toBe('updated');
    const failed = await store.get(f);
    expect(failed).toMatchObject({ state: 'failed', failedReason: 'HTTP 400: 字段无效', failedAt: '2026-03-01T00:01:00.000Z', attempts: 1 });
    expect(failed).not.toHaveProperty('owedBy');
    expect(await store.markDelivered(f, '2026-03-02T00:00:00.000Z', 0)).toBe('updated');
    const redelivered = await store.get(f);
    expect(redelivered).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(redelivered).not.toHaveProperty('failedReason');
  });

  it('counts attempts only on a delivery that exists', async () => {
    expect(await store.recordAttempt({ recordId: 'pen_NONE', version: 1, platform: 'national' }, 1, '2026-03-01T00:00:00.000Z')).toBe('lost');
  });

  it('an attempt moves lastQueuedAt to when the message is due again: the sweep’s age counts from there', async () => {
    // An era of its own (1991): the owed index shows exactly this one.
    const d = delivery('national', at('1991-01-01T00:00:00.000Z'));
    await store.createIfAbsent(d);
    expect((await store.listOwed('national', '1991-01-01T00:20:00.000Z', 10)).items.map((x) => x.recordId)).toContain(d.recordId);
    expect(await store.recordAttempt(d, 3, '1991-01-01T00:30:00.000Z')).toBe('updated');
    expect(await store.get(d)).toMatchObject({ state: 'pending', attempts: 3, lastQueuedAt: '1991-01-01T00:30:00.000Z', owedSince: d.owedSince });
    expect((await store.listOwed('national', '1991-01-01T00:20:00.000Z', 10)).items.map((x) => x.recordId)).not.toContain(d.recordId);
    expect((await store.listOwed('national', '1991-01-01T00:31:00.000Z', 10)).items.map((x) => x.recordId)).toContain(d.recordId);
    await store.markSuperseded(d, '1991-01-02T00:00:00.000Z');
  });

  it('lists a record’s deliveries, oldest version first', async () => {
    const v1 = newDelivery({ id: 'pen_LIST', version: 1, ...active }, 'national', at('2026-03-01T00:00:00.000Z'));
    const v2p = newDelivery({ id: 'pen_LIST', version: 2, ...active }, 'provincial', at('2026-03-01T00:00:00.000Z'));
    const v2n = newDelivery({ id: 'pen_LIST', version: 2, ...active }, 'national', at('2026-03-01T00:00:00.000Z'));
    for (const d of [v2n, v1, v2p]) await store.createIfAbsent(d);
    expect((await store.listForRecord('pen_LIST')).map((d) => [d.version, d.platform])).toEqual([
      [1, 'national'],
      [2, 'national'],
      [2, 'provincial'],
    ]);
  });

  it('lists what a platform owes from before a time and was last queued before it, oldest first, page by page', async () => {
    // An era of its own (1990), older than anything the other tests write, so the index shows exactly these.
    const old = [1, 2, 3, 4, 5].map((day) => delivery('national', at(`1990-01-0${day}T00:00:00.000Z`)));
    for (const d of old) await store.createIfAbsent(d);
    const requeuedLately = old[1]!;
    expect(await store.markRequeued(requeuedLately, requeuedLately.lastQueuedAt, '1990-02-01T00:00:00.000Z')).toBe('updated');
    await store.markDelivered(old[2]!, '1990-01-10T00:00:00.000Z', 0);
    await store.createIfAbsent(delivery('provincial', at('1990-01-01T00:00:00.000Z')));

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listOwed('national', '1990-01-20T00:00:00.000Z', 2, cursor);
      seen.push(...page.items.map((d) => d.recordId));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([old[0]!, old[3]!, old[4]!].map((d) => d.recordId));
    expect(pages).toBeGreaterThan(1);
    expect((await store.oldestOwed('national'))!.recordId).toBe(old[0]!.recordId);

    // Settled, they leave the index.
    for (const d of old) await store.markSuperseded(d, '1990-03-01T00:00:00.000Z');
    expect((await store.listOwed('national', '1990-01-20T00:00:00.000Z', 10)).items).toEqual([]);
  });

  it('requeues a delivery once: the mark holds only while lastQueuedAt is what was read and it is still pending', async () => {
    const d = delivery('provincial', at('2026-03-01T00:00:00.000Z'));
    await store.createIfAbsent(d);
    expect(await store.markRequeued(d, d.lastQueuedAt, '2026-03-01T01:00:00.000Z')).toBe('updated');
    expect(await store.markRequeued(d, d.lastQueuedAt, '2026-03-01T01:00:01.000Z')).toBe('lost');
    expect((await store.get(d))!.lastQueuedAt).toBe('2026-03-01T01:00:00.000Z');
    await store.markDelivered(d, '2026-03-01T02:00:00.000Z', 0);
    expect(await store.markRequeued(d, '2026-03-01T01:00:00.000Z', '2026-03-01T03:00:00.000Z')).toBe('lost');
  });

  it('has no oldest owed delivery for a platform that owes nothing', async () => {
    const spare = new DynamoDeliveriesStore(db.doc, tables.deliveries.localName);
    // Everything owed to the provincial platform so far, settled.
    let page = await spare.listOwed('provincial', '9999-12-31T00:00:00.000Z', 100);
    while (page.items.length > 0 || page.cursor) {
      for (const d of page.items) await spare.markSuperseded(d, '2026-04-01T00:00:00.000Z');
      page = await spare.listOwed('provincial', '9999-12-31T00:00:00.000Z', 100);
    }
    expect(await spare.oldestOwed('provincial')).toBeUndefined();
  });
});

describe('DynamoRecordsStore.getHead', () => {
  it('reads one record’s current version (without its keys), and nothing for an unknown id', async () => {
    const records = new DynamoRecordsStore(db.doc, tables.records.localName);
    await db.doc.send(new PutCommand({ TableName: tables.records.localName, Item: { pk: 'REC#lic_HEAD', sk: 'HEAD', id: 'lic_HEAD', version: 2, kind: 'license' } }));
    await db.doc.send(new PutCommand({ TableName: tables.records.localName, Item: { pk: 'REC#lic_HEAD', sk: 'V#0000000001', id: 'lic_HEAD', version: 1 } }));
    expect(await records.getHead('lic_HEAD')).toEqual({ id: 'lic_HEAD', version: 2, kind: 'license' });
    expect(await records.getHead('lic_NONE')).toBeUndefined();
  });
});
