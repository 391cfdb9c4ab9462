/**
 * The publication decisions' adapters against DynamoDB Local with the catalogue's tables:
 * - the sparse index publicationQueue holds exactly the heads waiting for review (oldest first, paged) and the
 *   approved ones by end (the expire job's `before`), and a decision moves a head between them;
 * - a decision is written only on the version it was decided on (a second writer of the same version loses), with
 *   the replaced head kept as a version;
 * - an objection filed in the record's transaction, and resolved only once;
 * - a data folder made before the index existed gets it at the next start, its data kept.
 */
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { provisionTables } from '../../infra/local/provision.js';
import { dishonestyPublication, GRADE, type StoredHead } from '../../shared/domain/record-model.js';
import { approve, markObjection, withQueue, withhold } from '../../shared/publication/decisions.js';
import { decideOnRecord, DynamoDecisionsStore } from '../../shared/publication/decisions-store.js';
import { newObjection } from '../../shared/publication/objection-model.js';
import { DynamoObjectionsStore } from '../../shared/publication/objections-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

let db: TestDynamo;
let store: DynamoDecisionsStore;
const RECORDS = tables.records.localName;

function head(n: number, waitingSince: string): StoredHead {
  const h: StoredHead = {
    id: `pen_${'abcdefghij'[n]!.repeat(26)}`,
    kind: 'penalty',
    sourceId: 's',
    identity: `d${n}`,
    version: 1,
    subjectKey: 'USCC#x',
    decisionDate: '2026-05-11',
    late: false,
    firstReceivedAt: waitingSince,
    receivedAt: waitingSince,
    status: 'active',
    fields: { CF_WSH: `d${n}` },
    contentHash: `h${n}`,
    publication: dishonestyPublication(GRADE.general, '2026-05-11'),
  };
  return withQueue(h, waitingSince);
}
const put = (h: StoredHead) => db.doc.send(new PutCommand({ TableName: RECORDS, Item: { pk: `REC#${h.id}`, sk: 'HEAD', ...h } }));
const ctx = { by: 'operator', at: '2026-05-21T00:00:00.000Z', today: '2026-05-21' };

beforeAll(async () => {
  db = await startTestDynamo();
  store = new DynamoDecisionsStore(db.doc, RECORDS);
}, 120_000);
afterAll(async () => db?.stop());

describe('the publication queue index', () => {
  it('keeps keys only (a push writes one index unit, whatever the head’s size), and a page still gives whole heads', async () => {
    const described = await db.client.send(new DescribeTableCommand({ TableName: RECORDS }));
    expect(described.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'publicationQueue')?.Projection).toEqual({ ProjectionType: 'KEYS_ONLY' });
    const h = head(9, '2026-05-19T01:00:00.000Z');
    await put(h);
    const page = await store.queue('review', 1);
    expect(page.heads[0]).toEqual(h);
    // Out of the way of the tests below, which count the queue.
    await db.doc.send(new DeleteCommand({ TableName: RECORDS, Key: { pk: `REC#${h.id}`, sk: 'HEAD' } }));
  });

  it('lists the waiting heads oldest first, page by page, and a decision moves a head to the approved queue by its end', async () => {
    const heads = [head(1, '2026-05-20T01:00:00.000Z'), head(2, '2026-05-20T02:00:00.000Z'), head(3, '2026-05-20T03:00:00.000Z')];
    for (const h of [heads[2]!, heads[0]!, heads[1]!]) await put(h);
    const first = await store.queue('review', 2);
    expect(first.heads.map((h) => h.id)).toEqual([heads[0]!.id, heads[1]!.id]);
    const second = await store.queue('review', 2, first.next);
    expect(second.heads.map((h) => h.id)).toEqual([heads[2]!.id]);

    const result = await decideOnRecord(store, heads[0]!.id, (h) => approve(h, ctx));
    expect(result.status).toBe('written');
    expect((await store.queue('review', 10)).heads.map((h) => h.id)).toEqual([heads[1]!.id, heads[2]!.id]);
    const until = heads[0]!.publication.until!;
    expect((await store.queue('approved', 10, undefined, until)).heads).toEqual([]);
    expect((await store.queue('approved', 10, undefined, `${until}~`)).heads.map((h) => h.id)).toEqual([heads[0]!.id]);
    const version = await db.doc.send(new GetCommand({ TableName: RECORDS, Key: { pk: `REC#${heads[0]!.id}`, sk: 'V#0000000001' } }));
    expect(version.Item).toMatchObject({ version: 1, contentHash: 'h1' });
  });

  it('a decision on a version already replaced loses (conflict) and changes nothing', async () => {
    const h = head(4, '2026-05-20T04:00:00.000Z');
    await put(h);
    const approved = approve(h, ctx);
    const withheld = withhold(h, ctx, 'r');
    if ('refused' in approved || 'refused' in withheld) throw new Error('refused');
    expect(await store.commit(h, approved.head)).toBe('written');
    expect(await store.commit(h, withheld.head)).toBe('conflict');
    expect((await store.getHead(h.id))!.publication.state).toBe('approved');
  });
});

describe('objections in the record’s transaction', () => {
  it('filed with the mark; resolved once: a second resolution fails its condition', async () => {
    const objections = new DynamoObjectionsStore(db.doc, tables.objections.localName);
    const h = head(5, '2026-05-20T05:00:00.000Z');
    await put(h);
    const objection = newObjection({ id: 'obj_aaaaaaaaaaaaaaaaaaaaaaaaaa', recordId: h.id, reason: 'r', contactCipher: 'v1.x.y.z', now: new Date('2026-05-21T01:00:00.000Z') });
    const filed = await decideOnRecord(store, h.id, (x) => ({ head: markObjection(x, objection.filedAt) }), () => [objections.filing(objection)]);
    expect(filed.status).toBe('written');
    expect((await objections.listOpen(10)).items.map((o) => o.id)).toEqual([objection.id]);
    const resolution = () => [objections.resolution(objection.id, 'upheld', 'n', 'operator', '2026-05-22T00:00:00.000Z')];
    expect((await decideOnRecord(store, h.id, (x) => ({ head: { ...x, version: x.version + 1 } }), resolution)).status).toBe('written');
    expect((await objections.listOpen(10)).items).toEqual([]);
    expect((await decideOnRecord(store, h.id, (x) => ({ head: { ...x, version: x.version + 1 } }), resolution)).status).toBe('other-failed');
  });
});

describe('a data folder made before the index', () => {
  it('gets the index at the next provisioning, its items kept and listed', async () => {
    await db.client.send(new DeleteTableCommand({ TableName: RECORDS }));
    const spec = tables.records;
    await db.client.send(
      new CreateTableCommand({
        TableName: RECORDS,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'subjectKey', AttributeType: 'S' },
          { AttributeName: 'id', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{ IndexName: spec.globalIndexes[0].name, KeySchema: [{ AttributeName: 'subjectKey', KeyType: 'HASH' }, { AttributeName: 'id', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
      }),
    );
    const h = head(6, '2026-05-20T06:00:00.000Z');
    await put(h);
    expect(await provisionTables(db.client)).toEqual([`${RECORDS}/publicationQueue`]);
    const described = await db.client.send(new DescribeTableCommand({ TableName: RECORDS }));
    expect(described.Table!.GlobalSecondaryIndexes!.map((g) => g.IndexName).sort()).toEqual(['bySubject', 'publicationQueue']);
    expect((await store.queue('review', 10)).heads.map((x) => x.id)).toEqual([h.id]);
    expect(await provisionTables(db.client)).toEqual([]);
  });
});
