/**
 * The DynamoDB packages store (shared/upward/packages-store.ts) against DynamoDB Local with the catalogue's
 * `deliveries` table and its indexes, through the real AWS SDK: claims written once, a body opened once and closed
 * once, every conditional transition of a delivery (split included: the parts created in the same transaction),
 * the platforms' feedback kept on the claims, and the sparse indexes (owed, failed, open) holding exactly what
 * they should.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { bodyKey, claimKey, deliveryKey, newDelivery, packageKeyOf, type DeliveryRef, type PackageDelivery, type PackageRef, type PartPath, type PlatformName } from '../../shared/upward/package-model.js';
import { DynamoPackagesStore, FAILED_INDEX, OPEN_FOR, OPEN_INDEX, OWED_INDEX, type StoredFeedback } from '../../shared/upward/packages-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

const TABLE = tables.deliveries.localName;
let db: TestDynamo;
let store: DynamoPackagesStore;

beforeAll(async () => {
  db = await startTestDynamo();
  store = new DynamoPackagesStore(db.doc, TABLE);
});

afterAll(async () => {
  await db?.stop();
});

let n = 0;
/** A package key of its own. */
function newKey(): string {
  n++;
  return packageKeyOf({ sequenceNumber: String(7_000_000 + n), recordId: `pen_STORE${n}`, version: 1 });
}
/** `count` refs of records of their own. */
function refsOf(count: number): PackageRef[] {
  n++;
  return Array.from({ length: count }, (_, i) => ({ recordId: `pen_R${n}x${i}`, version: i + 1, operation: i % 3 === 2 ? ('delete' as const) : ('upsert' as const) }));
}
/** A new pending delivery of a new package of `count` refs (or of part `path` of it), owed since `at`. */
function delivery(platform: PlatformName, at: string, count = 4, path: PartPath = '', key = newKey()): PackageDelivery {
  return newDelivery(key, count, platform, path, new Date(at));
}
const raw = async (key: { pk: string; sk: string }) => (await db.doc.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;
const ref = (d: DeliveryRef): DeliveryRef => ({ key: d.key, platform: d.platform, path: d.path });

/** What an index holds for a partition value, with its sort key between `from` and `to`. */
async function indexed(index: string, partition: [string, string], sort: [string, string, string]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: index,
        KeyConditionExpression: '#p = :p AND #s BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#p': partition[0], '#s': sort[0] },
        ExpressionAttributeValues: { ':p': partition[1], ':from': sort[1], ':to': sort[2] },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
const names = (items: Record<string, unknown>[]) => items.map((i) => `${String(i.pk)}|${String(i.sk)}`).sort();
const itemName = (k: { pk: string; sk: string }) => `${k.pk}|${k.sk}`;

describe('the deliveries table', () => {
  it('has keys pk/sk and the sparse indexes owed, failed, open (keys only) and byDay', async () => {
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table!.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const indexes = new Map((Table!.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g]));
    const keys = (name: string) => indexes.get(name)?.KeySchema?.map((k) => [k.AttributeName, k.KeyType]);
    expect(keys(OWED_INDEX)).toEqual([
      ['owedBy', 'HASH'],
      ['owedSince', 'RANGE'],
    ]);
    expect(keys(FAILED_INDEX)).toEqual([
      ['failedBy', 'HASH'],
      ['failedAt', 'RANGE'],
    ]);
    expect(keys(OPEN_INDEX)).toEqual([
      ['openFor', 'HASH'],
      ['openedAt', 'RANGE'],
    ]);
    expect(indexes.get(OPEN_INDEX)!.Projection?.ProjectionType).toBe('KEYS_ONLY');
    expect(keys('byDay')).toEqual([
      ['changeDay', 'HASH'],
      ['createdAt', 'RANGE'],
    ]);
  });
});

describe('claims', () => {
  it('are written once: the second claim of a version answers with the package that has it', async () => {
    const [k1, k2] = [newKey(), newKey()];
    expect(await store.claim('pen_CLAIM1', 3, k1, '2026-03-01T00:00:00.000Z')).toBe(k1);
    expect(await store.claim('pen_CLAIM1', 3, k2, '2026-03-01T00:00:01.000Z')).toBe(k1);
    expect(await store.claim('pen_CLAIM1', 3, k1, '2026-03-01T00:00:02.000Z')).toBe(k1);
    expect(await store.getClaim('pen_CLAIM1', 3)).toEqual({ recordId: 'pen_CLAIM1', version: 3, key: k1, claimedAt: '2026-03-01T00:00:00.000Z', feedback: {} });
    // Small: its keys, the version, the package and when (one write unit).
    expect(await raw(claimKey('pen_CLAIM1', 3))).toEqual({ ...claimKey('pen_CLAIM1', 3), recordId: 'pen_CLAIM1', version: 3, key: k1, claimedAt: '2026-03-01T00:00:00.000Z' });
  });

  it('of other versions of the same record are claims of their own', async () => {
    const [k1, k2] = [newKey(), newKey()];
    expect(await store.claim('pen_CLAIM2', 1, k1, '2026-03-01T00:00:00.000Z')).toBe(k1);
    expect(await store.claim('pen_CLAIM2', 2, k2, '2026-03-01T00:00:00.000Z')).toBe(k2);
    expect((await store.getClaim('pen_CLAIM2', 1))!.key).toBe(k1);
    expect((await store.getClaim('pen_CLAIM2', 2))!.key).toBe(k2);
    expect(await store.getClaim('pen_CLAIM2', 3)).toBeUndefined();
  });

  it('made at once by several packages: one wins, and every claimer is told the same package', async () => {
    const keys = Array.from({ length: 8 }, () => newKey());
    const answers = await Promise.all(keys.map((k) => store.claim('pen_RACE', 1, k, '2026-03-01T00:00:00.000Z')));
    expect(new Set(answers).size).toBe(1);
    expect(keys).toContain(answers[0]);
    expect((await store.getClaim('pen_RACE', 1))!.key).toBe(answers[0]);
  });

  it('keep each platform’s feedback, a later one replacing an earlier; a version never claimed is `lost`, and no claim appears', async () => {
    const k = newKey();
    await store.claim('pen_FB', 1, k, '2026-03-01T00:00:00.000Z');
    const received: StoredFeedback = { outcome: 'received', at: '2026-03-01T01:00:00.000Z', receivedAt: '2026-03-01T01:00:01.000Z' };
    const rejected: StoredFeedback = { outcome: 'rejected', reason: '字段无效', at: '2026-03-01T02:00:00.000Z', receivedAt: '2026-03-01T02:00:01.000Z' };
    const applied: StoredFeedback = { outcome: 'applied', measure: '限制高消费', at: '2026-03-02T00:00:00.000Z', receivedAt: '2026-03-02T00:00:01.000Z' };
    expect(await store.setFeedback('pen_FB', 1, 'national', received)).toBe('updated');
    expect(await store.setFeedback('pen_FB', 1, 'provincial', rejected)).toBe('updated');
    expect((await store.getClaim('pen_FB', 1))!.feedback).toEqual({ national: received, provincial: rejected });
    expect(await store.setFeedback('pen_FB', 1, 'national', applied)).toBe('updated');
    expect(await store.getClaim('pen_FB', 1)).toEqual({ recordId: 'pen_FB', version: 1, key: k, claimedAt: '2026-03-01T00:00:00.000Z', feedback: { national: applied, provincial: rejected } });

    expect(await store.setFeedback('pen_FB', 2, 'national', received)).toBe('lost');
    expect(await store.getClaim('pen_FB', 2)).toBeUndefined();
    expect(await raw(claimKey('pen_FB', 2))).toBeUndefined();
    // Feedback does not make a claim: the version can still be claimed, by the package that carries it.
    expect(await store.claim('pen_FB', 2, k, '2026-03-03T00:00:00.000Z')).toBe(k);
  });
});

describe('bodies', () => {
  it('are opened once: opened again (a batch read again, whatever its composition) the body there is the answer', async () => {
    const k = newKey();
    const candidates = refsOf(5);
    expect(await store.openBody(k, candidates, '2026-03-01T00:00:00.000Z')).toEqual({ key: k, openedAt: '2026-03-01T00:00:00.000Z', refs: candidates, open: true });
    expect(await store.openBody(k, candidates.slice(2), '2026-03-01T00:05:00.000Z')).toEqual({ key: k, openedAt: '2026-03-01T00:00:00.000Z', refs: candidates, open: true });
    expect(await store.getBody(k)).toEqual({ key: k, openedAt: '2026-03-01T00:00:00.000Z', refs: candidates, open: true });
    expect(await raw(bodyKey(k))).toMatchObject({ openFor: OPEN_FOR, openedAt: '2026-03-01T00:00:00.000Z' });
  });

  it('are closed once, with the refs claimed for them; never changed after (closed again, opened again: the same)', async () => {
    const k = newKey();
    const candidates = refsOf(5);
    await store.openBody(k, candidates, '2026-03-01T00:00:00.000Z');
    const claimed = [candidates[0]!, candidates[2]!, candidates[4]!];
    const closed = { key: k, openedAt: '2026-03-01T00:00:00.000Z', refs: claimed, open: false };
    expect(await store.closeBody(k, claimed)).toEqual(closed);
    expect(await store.closeBody(k, candidates)).toEqual(closed);
    expect(await store.closeBody(k, [])).toEqual(closed);
    expect(await store.openBody(k, candidates, '2026-03-02T00:00:00.000Z')).toEqual(closed);
    expect(await store.getBody(k)).toEqual(closed);
    expect(await raw(bodyKey(k))).not.toHaveProperty('openFor');
  });

  it('may close empty (every candidate travels in another package)', async () => {
    const k = newKey();
    await store.openBody(k, refsOf(2), '2026-03-01T00:00:00.000Z');
    expect(await store.closeBody(k, [])).toEqual({ key: k, openedAt: '2026-03-01T00:00:00.000Z', refs: [], open: false });
    expect(await store.getBody(k)).toEqual({ key: k, openedAt: '2026-03-01T00:00:00.000Z', refs: [], open: false });
  });

  it('closed by two at once: both are told the same body', async () => {
    const k = newKey();
    const candidates = refsOf(3);
    await store.openBody(k, candidates, '2026-03-01T00:00:00.000Z');
    const [a, b] = await Promise.all([store.closeBody(k, candidates.slice(0, 2)), store.closeBody(k, candidates.slice(1))]);
    expect(a).toEqual(b);
    expect(a.open).toBe(false);
    expect(await store.getBody(k)).toEqual(a);
  });

  it('that do not exist: read as nothing, and not closed into existence', async () => {
    const k = newKey();
    expect(await store.getBody(k)).toBeUndefined();
    await expect(store.closeBody(k, [])).rejects.toThrow(k);
    expect(await raw(bodyKey(k))).toBeUndefined();
  });

  it('open are listed by the open index, oldest first, page by page, until closed', async () => {
    // An era of its own (1990): the open index shows exactly these.
    const keys = [3, 1, 4, 2, 5].map((day) => [newKey(), `1990-01-0${day}T00:00:00.000Z`] as const);
    for (const [k, at] of keys) await store.openBody(k, refsOf(1), at);
    const byAge = [...keys].sort((a, b) => a[1].localeCompare(b[1])).map(([k]) => k);
    const all = async (olderThan: string) => {
      const seen: string[] = [];
      let page = await store.listOpen(olderThan, 2);
      let pages = 1;
      seen.push(...page.items);
      while (page.lastKey && pages < 10) {
        page = await store.listOpen(olderThan, 2, page.lastKey);
        seen.push(...page.items);
        pages++;
      }
      return { seen: seen.filter((k) => keys.some(([x]) => x === k)), pages };
    };
    const listed = await all('1990-01-04T12:00:00.000Z');
    expect(listed.seen).toEqual(byAge.slice(0, 4));
    expect(listed.pages).toBeGreaterThan(1);
    await store.closeBody(byAge[1]!, []);
    expect((await all('1990-01-04T12:00:00.000Z')).seen).toEqual([byAge[0], byAge[2], byAge[3]]);
    // The index holds the open bodies of the era, and nothing else.
    expect(names(await indexed(OPEN_INDEX, ['openFor', OPEN_FOR], ['openedAt', '1990-01-01', '1990-12-31']))).toEqual([byAge[0], byAge[2], byAge[3], byAge[4]].map((k) => itemName(bodyKey(k!))).sort());
    for (const k of byAge) await store.closeBody(k, []);
    expect(await indexed(OPEN_INDEX, ['openFor', OPEN_FOR], ['openedAt', '1990-01-01', '1990-12-31'])).toEqual([]);
  });
});

describe('deliveries', () => {
  it('are created once: the second time the answer is the delivery already there', async () => {
    const d = delivery('provincial', '2026-03-01T00:00:00.000Z');
    expect(await store.createDelivery(d)).toEqual({ created: true });
    expect(await store.createDelivery({ ...d, createdAt: '2026-03-02T00:00:00.000Z', lastQueuedAt: '2026-03-02T00:00:00.000Z' })).toEqual({ created: false, existing: d });
    expect(await store.getDelivery(d)).toEqual(d);
    expect(await raw(deliveryKey(d))).toEqual({ ...deliveryKey(d), ...d });
  });

  it('of a package are listed together (every platform, every part), without its body', async () => {
    const k = newKey();
    await store.openBody(k, refsOf(4), '2026-03-01T00:00:00.000Z');
    const whole = delivery('national', '2026-03-01T00:00:00.000Z', 4, '', k);
    const other = delivery('provincial', '2026-03-01T00:00:00.000Z', 4, '', k);
    for (const d of [whole, other]) await store.createDelivery(d);
    const parts = ['0', '1'].map((p) => delivery('national', '2026-03-01T00:01:00.000Z', 4, p, k));
    expect(await store.split(whole, parts, '2026-03-01T00:01:00.000Z', 1)).toBe('updated');
    const listed = await store.listDeliveries(k);
    expect(listed.map((d) => `${d.platform}#${d.path}`).sort()).toEqual(['national#', 'national#0', 'national#1', 'provincial#']);
    expect(listed.find((d) => d.path === '1')).toEqual(parts[1]);
    expect(await store.listDeliveries(newKey())).toEqual([]);
    expect(await store.getDelivery({ key: k, platform: 'national', path: '01' })).toBeUndefined();
  });

  it('pending → delivered: no longer owed, its time and attempts kept; settled once', async () => {
    const d = delivery('national', '2026-03-01T00:00:00.000Z');
    await store.createDelivery(d);
    expect(await store.recordAttempt(d, 4, '2026-03-01T00:01:00.000Z')).toBe('updated');
    expect(await store.markDelivered(d, '2026-03-01T00:05:00.000Z', 1)).toBe('updated');
    const stored = await store.getDelivery(d);
    expect(stored).toMatchObject({ state: 'delivered', deliveredAt: '2026-03-01T00:05:00.000Z', attempts: 5 });
    expect(stored).not.toHaveProperty('owedBy');
    expect(stored).not.toHaveProperty('failedBy');
    expect(await store.markDelivered(d, '2026-03-01T00:06:00.000Z', 0)).toBe('lost');
    expect(await store.markFailed(d, 'HTTP 400', '2026-03-01T00:06:00.000Z', 1)).toBe('lost');
    expect(await store.split(d, [delivery('national', '2026-03-01T00:06:00.000Z', 4, '0', d.key)], '2026-03-01T00:06:00.000Z', 1)).toBe('lost');
    expect(await store.resetToPending(d, '2026-03-01T00:06:00.000Z')).toBe('lost');
    expect(await store.markRequeued(d, d.lastQueuedAt, '2026-03-01T00:06:00.000Z')).toBe('lost');
    expect(await store.getDelivery(d)).toEqual(stored);
    expect(await store.listDeliveries(d.key)).toEqual([stored]);
  });

  it('pending → failed (listed as failed, no longer owed) → failed again → delivered (a redriven message)', async () => {
    const f = delivery('provincial', '2026-03-01T00:00:00.000Z');
    await store.createDelivery(f);
    expect(await store.markFailed(f, 'HTTP 400: 字段无效', '2026-03-01T00:01:00.000Z', 1)).toBe('updated');
    const failed = await store.getDelivery(f);
    expect(failed).toMatchObject({ state: 'failed', failedReason: 'HTTP 400: 字段无效', failedAt: '2026-03-01T00:01:00.000Z', failedBy: 'provincial', attempts: 1 });
    expect(failed).not.toHaveProperty('owedBy');
    expect(await store.markFailed(f, 'internal: AccessDeniedException', '2026-03-01T00:02:00.000Z', 0)).toBe('updated');
    expect(await store.getDelivery(f)).toMatchObject({ state: 'failed', failedReason: 'internal: AccessDeniedException', failedAt: '2026-03-01T00:02:00.000Z', attempts: 1 });
    // A failed delivery is not split (only a pending one is sent).
    expect(await store.split(f, [delivery('provincial', '2026-03-01T00:03:00.000Z', 4, '0', f.key)], '2026-03-01T00:03:00.000Z', 1)).toBe('lost');
    expect(await store.getDelivery({ ...f, path: '0' })).toBeUndefined();
    expect(await store.markDelivered(f, '2026-03-02T00:00:00.000Z', 0)).toBe('updated');
    const redelivered = await store.getDelivery(f);
    expect(redelivered).toMatchObject({ state: 'delivered', attempts: 1, deliveredAt: '2026-03-02T00:00:00.000Z' });
    expect(redelivered).not.toHaveProperty('failedBy');
    expect(redelivered).not.toHaveProperty('owedBy');
  });

  it('failed → pending (a redrive): owed again from then, no longer listed as failed, the last failure kept as history; only from failed', async () => {
    const f = delivery('national', '2026-03-01T00:00:00.000Z');
    await store.createDelivery(f);
    expect(await store.resetToPending(f, '2026-03-01T00:00:30.000Z')).toBe('lost');
    await store.markFailed(f, 'HTTP 422', '2026-03-01T00:01:00.000Z', 2);
    expect(await store.resetToPending(f, '2026-03-05T00:00:00.000Z')).toBe('updated');
    const pending = await store.getDelivery(f);
    expect(pending).toMatchObject({ state: 'pending', owedBy: 'national', owedSince: '2026-03-05T00:00:00.000Z', lastQueuedAt: '2026-03-05T00:00:00.000Z', failedReason: 'HTTP 422', failedAt: '2026-03-01T00:01:00.000Z', attempts: 2 });
    expect(pending).not.toHaveProperty('failedBy');
    expect(await store.resetToPending(f, '2026-03-06T00:00:00.000Z')).toBe('lost');
  });

  it('pending → split: the parts created pending in the same transaction; not split twice, and no part written then', async () => {
    const whole = delivery('national', '2026-03-01T00:00:00.000Z', 5);
    await store.createDelivery(whole);
    const parts = ['0', '1'].map((p) => delivery('national', '2026-03-01T00:02:00.000Z', 5, p, whole.key));
    expect(await store.split(whole, parts, '2026-03-01T00:02:00.000Z', 1)).toBe('updated');
    const split = await store.getDelivery(whole);
    expect(split).toMatchObject({ state: 'split', splitAt: '2026-03-01T00:02:00.000Z', attempts: 1 });
    expect(split).not.toHaveProperty('owedBy');
    for (const part of parts) expect(await store.getDelivery(part)).toEqual(part);
    expect(parts.map((p) => [p.from, p.to])).toEqual([
      [0, 3],
      [3, 5],
    ]);

    // Split again (a duplicate message): lost, and the parts there are left as they were.
    const again = ['0', '1'].map((p) => delivery('national', '2026-03-01T00:09:00.000Z', 5, p, whole.key));
    expect(await store.split(whole, again, '2026-03-01T00:09:00.000Z', 1)).toBe('lost');
    expect(await store.getDelivery(whole)).toEqual(split);
    for (const part of parts) expect(await store.getDelivery(part)).toEqual(part);

    // A part splits in its turn.
    const quarter = ['00', '01'].map((p) => delivery('national', '2026-03-01T00:03:00.000Z', 5, p, whole.key));
    expect(await store.split(parts[0]!, quarter, '2026-03-01T00:03:00.000Z', 1)).toBe('updated');
    expect((await store.listDeliveries(whole.key)).map((d) => [d.path, d.state]).sort()).toEqual([
      ['', 'split'],
      ['0', 'split'],
      ['00', 'pending'],
      ['01', 'pending'],
      ['1', 'pending'],
    ]);
  });

  it('a split whose part exists already changes nothing (one transaction): the delivery stays pending', async () => {
    const whole = delivery('provincial', '2026-03-01T00:00:00.000Z', 4);
    await store.createDelivery(whole);
    const [first, second] = ['0', '1'].map((p) => delivery('provincial', '2026-03-01T00:02:00.000Z', 4, p, whole.key));
    await store.createDelivery(first!);
    expect(await store.split(whole, [first!, second!], '2026-03-01T00:02:00.000Z', 1)).toBe('lost');
    expect(await store.getDelivery(whole)).toEqual(whole);
    expect(await store.getDelivery(second!)).toBeUndefined();
  });

  it('counts attempts only on a delivery that exists, moving lastQueuedAt to when its message is due again', async () => {
    expect(await store.recordAttempt({ key: newKey(), platform: 'national', path: '' }, 1, '2026-03-01T00:00:00.000Z')).toBe('lost');
    const d = delivery('national', '2026-03-01T00:00:00.000Z');
    await store.createDelivery(d);
    expect(await store.recordAttempt(d, 3, '2026-03-01T00:30:00.000Z')).toBe('updated');
    expect(await store.recordAttempt(d, 0, '2026-03-01T01:30:00.000Z')).toBe('updated');
    expect(await store.getDelivery(d)).toEqual({ ...d, attempts: 3, lastQueuedAt: '2026-03-01T01:30:00.000Z' });
  });

  it('are requeued once: the mark holds only while lastQueuedAt is what was read and it is still pending', async () => {
    const d = delivery('provincial', '2026-03-01T00:00:00.000Z');
    await store.createDelivery(d);
    expect(await store.markRequeued(d, d.lastQueuedAt, '2026-03-01T01:00:00.000Z')).toBe('updated');
    expect(await store.markRequeued(d, d.lastQueuedAt, '2026-03-01T01:00:01.000Z')).toBe('lost');
    expect((await store.getDelivery(d))!.lastQueuedAt).toBe('2026-03-01T01:00:00.000Z');
    await store.markDelivered(d, '2026-03-01T02:00:00.000Z', 0);
    expect(await store.markRequeued(d, '2026-03-01T01:00:00.000Z', '2026-03-01T03:00:00.000Z')).toBe('lost');
  });
});

describe('the sparse indexes', () => {
  it('owed holds exactly the pending deliveries, failed exactly the failed ones, open exactly the open bodies', async () => {
    // An era of its own (1991): the indexes show exactly these.
    const at = '1991-01-01T00:00:00.000Z';
    const k = newKey();
    await store.openBody(k, refsOf(4), at);
    const open = newKey();
    await store.openBody(open, refsOf(1), '1991-01-01T00:00:01.000Z');
    await store.closeBody(k, refsOf(4));
    const pending = delivery('national', at, 4, '', k);
    const other = delivery('provincial', at, 4, '', k);
    const delivered = delivery('national', '1991-01-02T00:00:00.000Z');
    const failed = delivery('national', '1991-01-03T00:00:00.000Z');
    const redriven = delivery('national', '1991-01-04T00:00:00.000Z');
    const split = delivery('national', '1991-01-05T00:00:00.000Z', 3);
    for (const d of [pending, other, delivered, failed, redriven, split]) await store.createDelivery(d);
    await store.markDelivered(delivered, '1991-02-01T00:00:00.000Z', 0);
    await store.markFailed(failed, 'HTTP 400', '1991-02-02T00:00:00.000Z', 1);
    await store.markFailed(redriven, 'HTTP 400', '1991-02-03T00:00:00.000Z', 1);
    await store.resetToPending(redriven, '1991-02-04T00:00:00.000Z');
    const parts = ['0', '1'].map((p) => delivery('national', '1991-01-06T00:00:00.000Z', 3, p, split.key));
    await store.split(split, parts, '1991-01-06T00:00:00.000Z', 1);
    const partFailed = parts[1]!;
    await store.markFailed(partFailed, 'HTTP 400: the part of one record', '1991-02-05T00:00:00.000Z', 1);

    const era = (field: string): [string, string, string] => [field, '1991-01-01', '1991-12-31'];
    expect(names(await indexed(OWED_INDEX, ['owedBy', 'national'], era('owedSince')))).toEqual([pending, redriven, parts[0]!].map((d) => itemName(deliveryKey(d))).sort());
    expect(names(await indexed(OWED_INDEX, ['owedBy', 'provincial'], era('owedSince')))).toEqual([itemName(deliveryKey(other))]);
    expect(names(await indexed(FAILED_INDEX, ['failedBy', 'national'], era('failedAt')))).toEqual([failed, partFailed].map((d) => itemName(deliveryKey(d))).sort());
    expect(await indexed(FAILED_INDEX, ['failedBy', 'provincial'], era('failedAt'))).toEqual([]);
    expect(names(await indexed(OPEN_INDEX, ['openFor', OPEN_FOR], era('openedAt')))).toEqual([itemName(bodyKey(open))]);
    // byDay is not sparse: every delivery of the day, parts included, under its platform and China day.
    expect(names(await indexed('byDay', ['changeDay', 'national#1991-01-06'], ['createdAt', '1991', '1992']))).toEqual(parts.map((d) => itemName(deliveryKey(d))).sort());

    // Settled, they leave.
    await store.markDelivered(pending, '1991-03-01T00:00:00.000Z', 0);
    await store.markDelivered(redriven, '1991-03-01T00:00:00.000Z', 0);
    await store.markDelivered(parts[0]!, '1991-03-01T00:00:00.000Z', 0);
    await store.markDelivered(other, '1991-03-01T00:00:00.000Z', 0);
    await store.markDelivered(failed, '1991-03-01T00:00:00.000Z', 0);
    await store.resetToPending(partFailed, '1991-03-01T00:00:00.000Z');
    await store.closeBody(open, []);
    expect(names(await indexed(OWED_INDEX, ['owedBy', 'national'], era('owedSince')))).toEqual([itemName(deliveryKey(partFailed))]);
    expect(await indexed(OWED_INDEX, ['owedBy', 'provincial'], era('owedSince'))).toEqual([]);
    expect(await indexed(FAILED_INDEX, ['failedBy', 'national'], era('failedAt'))).toEqual([]);
    expect(await indexed(OPEN_INDEX, ['openFor', OPEN_FOR], era('openedAt'))).toEqual([]);
    await store.markDelivered(partFailed, '1991-03-02T00:00:00.000Z', 0);
  });

  it('lists what a platform owes from before a time and was last queued before it, oldest first, page by page', async () => {
    // An era of its own (1992).
    const old = [1, 2, 3, 4, 5].map((day) => delivery('national', `1992-01-0${day}T00:00:00.000Z`));
    for (const d of old) await store.createDelivery(d);
    expect(await store.markRequeued(old[1]!, old[1]!.lastQueuedAt, '1992-02-01T00:00:00.000Z')).toBe('updated');
    await store.markDelivered(old[2]!, '1992-01-10T00:00:00.000Z', 0);
    await store.createDelivery(delivery('provincial', '1992-01-01T00:00:00.000Z'));

    const seen: string[] = [];
    let page = await store.listOwed('national', '1992-01-20T00:00:00.000Z', 2);
    let pages = 1;
    seen.push(...page.items.map((d) => d.key));
    while (page.lastKey && pages < 10) {
      page = await store.listOwed('national', '1992-01-20T00:00:00.000Z', 2, page.lastKey);
      seen.push(...page.items.map((d) => d.key));
      pages++;
    }
    // Older eras of this file (1991) are all settled: only these are owed before 1992-01-20.
    expect(seen).toEqual([old[0]!, old[3]!, old[4]!].map((d) => d.key));
    expect(pages).toBeGreaterThan(1);
    expect(page.items.every((d) => d.platform === 'national' && d.state === 'pending')).toBe(true);
    expect((await store.oldestOwed('national'))!.key).toBe(old[0]!.key);
    expect(await store.oldestOwed('national')).toEqual(old[0]);

    for (const d of old) await store.markDelivered(d, '1992-03-01T00:00:00.000Z', 0);
    expect((await store.listOwed('national', '1992-01-20T00:00:00.000Z', 10)).items).toEqual([]);
  });

  it('lists a platform’s failed deliveries that failed before a time, oldest first, page by page', async () => {
    // An era of its own (1993).
    const failed = [4, 2, 3, 1].map((day) => [delivery('provincial', '1993-01-01T00:00:00.000Z'), `1993-02-0${day}T00:00:00.000Z`] as const);
    for (const [d, at] of failed) {
      await store.createDelivery(d);
      await store.markFailed(d, `HTTP 400: ${at}`, at, 1);
    }
    const byAge = [...failed].sort((a, b) => a[1].localeCompare(b[1])).map(([d]) => d.key);
    const mine = (items: PackageDelivery[]) => items.map((d) => d.key).filter((k) => byAge.includes(k));
    const first = await store.listFailed('provincial', { limit: 2, before: '1993-02-04T00:00:00.000Z' });
    expect(first.lastKey).toBeDefined();
    const second = await store.listFailed('provincial', { limit: 2, before: '1993-02-04T00:00:00.000Z', startKey: first.lastKey });
    expect([...mine(first.items), ...mine(second.items)]).toEqual(byAge.slice(0, 3));
    expect(first.items[0]).toMatchObject({ state: 'failed', failedBy: 'provincial', failedReason: 'HTTP 400: 1993-02-01T00:00:00.000Z' });
    expect(mine((await store.listFailed('provincial', { limit: 100 })).items)).toEqual(byAge);
    for (const [d] of failed) await store.markDelivered(d, '1993-03-01T00:00:00.000Z', 0);
    expect(mine((await store.listFailed('provincial', { limit: 100 })).items)).toEqual([]);
  });

  it('has no oldest owed delivery for a platform that owes nothing', async () => {
    // Everything owed to the provincial platform so far, settled.
    let page = await store.listOwed('provincial', '9999-12-31T00:00:00.000Z', 100);
    for (;;) {
      for (const d of page.items) expect(await store.markDelivered(ref(d), '2026-04-01T00:00:00.000Z', 0)).toBe('updated');
      if (!page.lastKey) break;
      page = await store.listOwed('provincial', '9999-12-31T00:00:00.000Z', 100, page.lastKey);
    }
    expect(await store.oldestOwed('provincial')).toBeUndefined();
  });
});
