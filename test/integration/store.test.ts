/**
 * The stores and the ingest service against DynamoDB Local (AWS's emulator,
 * with transactions), through the real AWS SDK.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { tables } from '../../infra/catalogue.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { ensureLocalKeys, LocalKeyring } from '../../shared/crypto/local-keyring.js';
import { submitRecords, type SubmitDeps } from '../../shared/ingest/submit.js';
import { DynamoRecordsStore } from '../../shared/store/records-store.js';
import { DynamoSourcesStore, SourceExistsError, type KeyPrincipal } from '../../shared/store/sources-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { seriousPenaltyPublication } from '../support/dates.js';
import { DECISION_DATE, license, penalty, PERSON_ID, personLicense, SOURCE_USCC, SUBJECT_USCC } from '../support/fixtures.js';

let db: TestDynamo;
let keyDir: string;
let deps: SubmitDeps;
let records: DynamoRecordsStore;
let sources: DynamoSourcesStore;
let hasher: LookupHasher;
const source: KeyPrincipal = { sourceId: 'scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license', 'penalty'] };

beforeAll(async () => {
  db = await startTestDynamo();
  keyDir = mkdtempSync(join(tmpdir(), 'hub-keys-'));
  ensureLocalKeys(keyDir);
  const keyring = new LocalKeyring(keyDir);
  hasher = new LookupHasher(keyring);
  records = new DynamoRecordsStore(db.doc, tables.records.localName);
  sources = new DynamoSourcesStore(db.doc, tables.sources.localName);
  deps = { store: records, cipher: new FieldCipher(keyring), hasher };
});

afterAll(async () => {
  rmSync(keyDir, { recursive: true, force: true });
  await db?.stop();
});

describe('sources store', () => {
  const base = { name: '市法院', uscc: SOURCE_USCC, role: 'court' as const, kinds: ['dishonest-debtor' as const], createdAt: '2026-11-23T00:00:00.000Z', keyRotatedAt: '2026-11-23T00:00:00.000Z' };

  it('creates a source, finds it by key hash, refuses a taken id', async () => {
    await sources.create({ id: 'court-a', ...base }, 'hash-a');
    expect(await sources.principalForKey('hash-a')).toEqual({ sourceId: 'court-a', name: '市法院', uscc: SOURCE_USCC, role: 'court', kinds: ['dishonest-debtor'] });
    await expect(sources.create({ id: 'court-a', ...base }, 'hash-other')).rejects.toBeInstanceOf(SourceExistsError);
    // The refused create left no key behind.
    expect(await sources.principalForKey('hash-other')).toBeUndefined();
  });

  it('rotates a key: the old hash stops working, the new one works', async () => {
    await sources.create({ id: 'court-b', ...base }, 'hash-b1');
    expect(await sources.rotateKey('court-b', 'hash-b2', '2026-11-24T00:00:00.000Z')).toBe(true);
    expect(await sources.principalForKey('hash-b1')).toBeUndefined();
    expect(await sources.principalForKey('hash-b2')).toMatchObject({ sourceId: 'court-b' });
    const listed = (await sources.list()).find((s) => s.id === 'court-b');
    expect(listed?.keyRotatedAt).toBe('2026-11-24T00:00:00.000Z');
    expect(JSON.stringify(listed)).not.toContain('hash-b');
  });

  it('reports an unknown source on rotation', async () => {
    expect(await sources.rotateKey('nobody', 'hash-x', '2026-11-24T00:00:00.000Z')).toBe(false);
    expect(await sources.principalForKey('hash-x')).toBeUndefined();
  });
});

describe('submitting records', () => {
  it('accepts new records, then reports the same content as duplicates', async () => {
    const batch = [license('int-1'), license('int-2'), penalty('int-3')];
    const first = await submitRecords(PUSH_KINDS.license, source, batch.slice(0, 2), deps);
    expect(first).toMatchObject({ accepted: 2, updated: 0, duplicates: 0, rejected: 0 });
    const again = await submitRecords(PUSH_KINDS.license, source, batch.slice(0, 2), deps);
    expect(again).toMatchObject({ accepted: 0, updated: 0, duplicates: 2, rejected: 0 });
    expect(again.results.map((r) => r.id)).toEqual(first.results.map((r) => r.id));
  });

  it('keeps every version when content changes', async () => {
    const v1 = await submitRecords(PUSH_KINDS.penalty, source, [penalty('int-v')], deps);
    const v2 = await submitRecords(PUSH_KINDS.penalty, source, [penalty('int-v', { CF_NR_FK: '6' })], deps);
    const v3 = await submitRecords(PUSH_KINDS.penalty, source, [penalty('int-v', { CF_NR_FK: '7', SXDJ: '严重' })], deps);
    expect([v1.results[0]!.status, v2.results[0]!.status, v3.results[0]!.status]).toEqual(['accepted', 'updated', 'updated']);
    const stored = await records.getRecord(v1.results[0]!.id!);
    expect(stored!.head.version).toBe(3);
    expect(stored!.head.fields.CF_NR_FK).toBe('7');
    expect(stored!.head.publication).toMatchObject(seriousPenaltyPublication(DECISION_DATE));
    expect(stored!.versions.map((v) => [v.version, v.fields.CF_NR_FK])).toEqual([
      [1, '5'],
      [2, '6'],
    ]);
    expect(stored!.head.firstReceivedAt <= stored!.head.receivedAt).toBe(true);
  });

  it('leaves nothing of a rejected record', async () => {
    const before = await db.client.send(new ScanCommand({ TableName: tables.records.localName, Select: 'COUNT' }));
    const result = await submitRecords(PUSH_KINDS.license, source, [license('int-bad', { XK_JDRQ: '2026-02-30' }), license('int-bad2', { XK_LYDWDM: SUBJECT_USCC })], deps);
    expect(result).toMatchObject({ accepted: 0, rejected: 2 });
    expect(result.results[1]!.errors).toEqual([expect.objectContaining({ field: 'XK_LYDWDM' })]);
    const after = await db.client.send(new ScanCommand({ TableName: tables.records.localName, Select: 'COUNT' }));
    expect(after.Count).toBe(before.Count);
  });

  it('applies the same record twice in one batch in order', async () => {
    const result = await submitRecords(PUSH_KINDS.license, source, [license('int-twice'), license('int-twice', { XK_NR: '改了' }), license('int-twice', { XK_NR: '改了' })], deps);
    expect(result.results.map((r) => r.status)).toEqual(['accepted', 'updated', 'duplicate']);
    const stored = await records.getRecord(result.results[0]!.id!);
    expect(stored!.head.version).toBe(2);
  });

  it('stores identity numbers so that reading the table does not reveal them, and finds subjects by keyed hash', async () => {
    const result = await submitRecords(PUSH_KINDS.license, source, [personLicense('int-person')], deps);
    expect(result.accepted).toBe(1);
    const scan = await db.client.send(new ScanCommand({ TableName: tables.records.localName }));
    const raw = JSON.stringify(scan.Items);
    expect(raw).not.toContain(PERSON_ID);
    expect(raw).not.toContain(PERSON_ID.slice(0, 14));
    const hash = await hasher.hash('cert:01', PERSON_ID);
    const bySubject = await db.doc.send(
      new QueryCommand({ TableName: tables.records.localName, IndexName: 'bySubject', KeyConditionExpression: 'subjectKey = :k', ExpressionAttributeValues: { ':k': `PID#${hash}` } }),
    );
    expect(bySubject.Items?.map((i) => i.id)).toEqual([result.results[0]!.id]);
    const byUscc = await db.doc.send(
      new QueryCommand({ TableName: tables.records.localName, IndexName: 'bySubject', KeyConditionExpression: 'subjectKey = :k', ExpressionAttributeValues: { ':k': `USCC#${SUBJECT_USCC}` } }),
    );
    expect(byUscc.Items!.length).toBeGreaterThan(0);
  });

  it('settles concurrent pushes of the same record: one accepted, the rest updated or duplicate, no version lost', async () => {
    const contents = ['甲', '乙', '丙', '丁'];
    const results = await Promise.all(contents.map((c) => submitRecords(PUSH_KINDS.license, source, [license('int-race', { XK_NR: c })], deps)));
    const statuses = results.map((r) => r.results[0]!.status);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1);
    expect(statuses.every((s) => s === 'accepted' || s === 'updated')).toBe(true);
    const stored = await records.getRecord(results[0]!.results[0]!.id!);
    expect(stored!.head.version).toBe(4);
    expect(new Set([...stored!.versions.map((v) => v.fields.XK_NR), stored!.head.fields.XK_NR])).toEqual(new Set(contents));
  });

  it('takes 1,000 records in one request', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => license(`bulk-${i}`));
    const result = await submitRecords(PUSH_KINDS.license, source, batch, deps);
    expect(result).toMatchObject({ accepted: 1000, rejected: 0 });
    const again = await submitRecords(PUSH_KINDS.license, source, batch, deps);
    expect(again.duplicates).toBe(1000);
  });
});

describe('change stream (what later fan-out reads)', () => {
  it('emits INSERT and MODIFY images of the records table in DynamoDB Local, without identity numbers', async () => {
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBStreamsClient, DescribeStreamCommand, GetShardIteratorCommand, GetRecordsCommand } = await import('@aws-sdk/client-dynamodb-streams');
    const table = await db.client.send(new DescribeTableCommand({ TableName: tables.records.localName }));
    expect(table.Table?.StreamSpecification).toMatchObject({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const streams = new DynamoDBStreamsClient({ endpoint: db.emulator.endpoint, region: db.emulator.region, credentials: db.emulator.credentials });
    try {
      const first = await submitRecords(PUSH_KINDS.license, source, [personLicense('stream-1')], deps);
      await submitRecords(PUSH_KINDS.license, source, [personLicense('stream-1', { XK_NR: '变更' })], deps);
      const id = first.results[0]!.id!;
      const stream = await streams.send(new DescribeStreamCommand({ StreamArn: table.Table!.LatestStreamArn! }));
      const events: { name?: string; sk?: string; version?: string; raw: string }[] = [];
      for (const shard of stream.StreamDescription?.Shards ?? []) {
        const iterator = await streams.send(new GetShardIteratorCommand({ StreamArn: table.Table!.LatestStreamArn!, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
        let next = iterator.ShardIterator;
        for (let page = 0; next && page < 50; page++) {
          const out = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: 1000 }));
          for (const r of out.Records ?? []) {
            if (r.dynamodb?.Keys?.pk?.S !== `REC#${id}`) continue;
            events.push({ name: r.eventName, sk: r.dynamodb.Keys.sk?.S, version: r.dynamodb.NewImage?.version?.N, raw: JSON.stringify(r) });
          }
          if (!out.Records?.length) break;
          next = out.NextShardIterator;
        }
      }
      expect(events.map((e) => [e.name, e.sk, e.version])).toEqual(
        expect.arrayContaining([
          ['INSERT', 'HEAD', '1'],
          ['MODIFY', 'HEAD', '2'],
          ['INSERT', 'V#0000000001', '1'],
        ]),
      );
      expect(events).toHaveLength(3);
      for (const e of events) expect(e.raw).not.toContain(PERSON_ID);
    } finally {
      streams.destroy();
    }
  });
});
