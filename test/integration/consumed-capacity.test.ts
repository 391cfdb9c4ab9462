/**
 * The capacity meter (shared/aws/consumed-capacity.ts) against DynamoDB Local through the real SDK: every
 * metered call asks for its consumed capacity, and the units are added up as DynamoDB prices them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { capacitySince, consumedCapacity, meterCapacity } from '../../shared/aws/consumed-capacity.js';
import type { StoredHead, StoredVersion } from '../../shared/domain/record-model.js';
import { DynamoRecordsStore } from '../../shared/store/records-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

let dynamo: TestDynamo;
let doc: DynamoDBDocumentClient;
const table = tables.records.localName;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const { endpoint, region, credentials } = dynamo.emulator;
  doc = DynamoDBDocumentClient.from(meterCapacity(new DynamoDBClient({ endpoint, region, credentials })));
});

afterAll(async () => {
  doc?.destroy();
  await dynamo?.stop();
});

describe('consumed capacity meter', () => {
  it('counts a write unit per KB written, twice that in a transaction, and read units apart', async () => {
    const before = consumedCapacity();
    // About 2.5 KB: three write units.
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'REC#meter-1', sk: 'HEAD', text: 'x'.repeat(2500) } }));
    expect(capacitySince(before)).toEqual({ read: 0, write: 3, transactWrite: 0 });

    const beforeTransaction = consumedCapacity();
    await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: table, Item: { pk: 'REC#meter-2', sk: 'HEAD', text: 'small' } } }] }));
    // AWS prices a transactional write at 2 units per KB; DynamoDB Local reports 4 (counted apart, so the benchmark can say both).
    expect(capacitySince(beforeTransaction)).toEqual({ read: 0, write: 4, transactWrite: 4 });

    const beforeRead = consumedCapacity();
    await doc.send(new GetCommand({ TableName: table, Key: { pk: 'REC#meter-1', sk: 'HEAD' }, ConsistentRead: true }));
    expect(capacitySince(beforeRead)).toEqual({ read: 1, write: 0, transactWrite: 0 });
  });

  it('a new record costs its head’s plain write units, no transaction; an update is a transaction', async () => {
    const records = new DynamoRecordsStore(doc, table);
    // About 1.5 KB, with a subject key (an entry in the bySubject index, as a pushed head has).
    const head = (version: number) => ({ id: 'meter-rec', version, contentHash: `h${version}`, subjectKey: 'USCC#meter', fields: { XK_NR: 'x'.repeat(1500) } }) as unknown as StoredHead;

    // What the same item costs written plain, under another key.
    const beforePlain = consumedCapacity();
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'REC#meter-raw', sk: 'HEAD', ...head(1), id: 'meter-raw' } }));
    const plain = capacitySince(beforePlain);
    expect(plain.write).toBeGreaterThanOrEqual(2);

    const beforeCreate = consumedCapacity();
    expect(await records.write([{ op: 'create', head: head(1) }])).toEqual(['written']);
    expect(capacitySince(beforeCreate)).toEqual({ read: 0, write: plain.write, transactWrite: 0 });

    const beforeUpdate = consumedCapacity();
    const version = { ...head(1), receivedAt: '2026-01-05T00:00:00.000Z', supersededAt: '2026-01-06T00:00:00.000Z' } as unknown as StoredVersion;
    expect(await records.write([{ op: 'update', head: head(2), previous: head(1), version }])).toEqual(['written']);
    const update = capacitySince(beforeUpdate);
    expect(update.transactWrite).toBeGreaterThan(0);
    expect(update.write).toBe(update.transactWrite);

    // Created again: refused (the record exists): the head stays the update's.
    expect(await records.write([{ op: 'create', head: head(1) }])).toEqual(['conflict']);
    expect((await records.getRecord('meter-rec'))!.head.version).toBe(2);
  });

  it('leaves a caller’s own ReturnConsumedCapacity setting as it was', async () => {
    const out = await doc.send(new PutCommand({ TableName: table, Item: { pk: 'REC#meter-3', sk: 'HEAD' }, ReturnConsumedCapacity: 'INDEXES' }));
    expect(out.ConsumedCapacity?.Table?.CapacityUnits).toBeGreaterThan(0);
  });
});
