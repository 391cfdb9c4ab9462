/**
 * The DynamoDB BatchStore against DynamoDB Local: the port's contract, and a
 * whole ingest through the real records store with a crash in the middle.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { DynamoBatchesStore, UNFINISHED_INDEX } from '../../shared/store/batches-store.js';
import { DynamoRecordsStore } from '../../shared/store/records-store.js';
import { DEFAULT_LIMITS, ingestBatch } from '../../shared/batch/ingest-batch.js';
import type { BatchStore } from '../../shared/batch/ports.js';
import { sweepBatches } from '../../shared/batch/sweep-batches.js';
import { BatchHarness, COURT, sampleFile } from '../support/batch-harness.js';
import { describeBatchStoreContract } from '../support/batch-store-contract.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { Crash, RecordingContinuer } from '../support/memory-batch-ports.js';

let db: TestDynamo;
let batches: DynamoBatchesStore;

beforeAll(async () => {
  // The catalogue's tables, the batches table with its sparse index included (infra/local/provision.ts).
  db = await startTestDynamo();
  batches = new DynamoBatchesStore(db.doc, tables.batches.localName);
});

afterAll(async () => {
  await db?.stop();
});

describeBatchStoreContract('DynamoDB', () => ({ store: batches, add: (batch) => batches.create(batch) }));

describe('DynamoBatchesStore', () => {
  it('works on the catalogue’s table: keys pk/sk, the sparse index it queries', async () => {
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: tables.batches.localName }));
    expect(Table!.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table!.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema])).toEqual([
      [
        UNFINISHED_INDEX,
        [
          { AttributeName: 'unfinished', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
      ],
    ]);
  });

  it('keeps the index sparse: an item is in it while waiting or processing, and leaves it when finished', async () => {
    const h = new BatchHarness();
    try {
      await batches.create(h.addBatch('sparse', { format: 'ndjson' }));
      const indexed = async () => {
        const out = await db.doc.send(new ScanCommand({ TableName: tables.batches.localName, IndexName: UNFINISHED_INDEX }));
        return (out.Items ?? []).map((i) => i.id as string);
      };
      expect(await indexed()).toContain('sparse');
      await batches.takeLease('sparse', 'w1', Date.now() + 60_000, Date.now());
      expect(await batches.fail('sparse', 'w1', 'x', new Date().toISOString())).toBe('ok');
      expect(await indexed()).not.toContain('sparse');
      expect(await batches.get('sparse')).toMatchObject({ status: 'failed' });
    } finally {
      h.close();
    }
  });

  it('refuses to create a batch id twice', async () => {
    const h = new BatchHarness();
    try {
      const batch = h.addBatch('twice', { format: 'ndjson' });
      await batches.create(batch);
      await expect(batches.create(batch)).rejects.toThrow(/conditional/i);
    } finally {
      h.close();
    }
  });
});

describe('a batch ingested through DynamoDB, with a crash in the middle', () => {
  it('ends with the manifest’s exact counts, each record stored once', async () => {
    const { bytes, manifest } = await sampleFile({ rows: 300, format: 'csv', encoding: 'gb18030', bad: 0.05, repeats: 0.05, seed: 41 });
    const h = new BatchHarness();
    try {
      const records = new DynamoRecordsStore(db.doc, tables.records.localName);
      await batches.create(h.addBatch('dynamo-crash', { format: 'csv', encoding: 'gb18030' }, bytes));
      // A worker that dies (like a SIGKILLed process) when it is about to save its 4th checkpoint: its chunk is written, the checkpoint not.
      let saves = 0;
      const dying: BatchStore = {
        get: (id) => batches.get(id),
        takeLease: (...a) => batches.takeLease(...a),
        begin: (...a) => batches.begin(...a),
        complete: (...a) => batches.complete(...a),
        fail: (...a) => batches.fail(...a),
        listUnfinished: () => batches.listUnfinished(),
        releaseLease: async () => {
          throw new Crash('a dead worker releases nothing');
        },
        saveCheckpoint: async (...a) => {
          if (++saves === 4) throw new Crash('died before its checkpoint');
          return batches.saveCheckpoint(...a);
        },
      };
      const limits = { chunkRows: 60 };
      await expect(ingestBatch('dynamo-crash', { ...h.deps({ records, limits }), store: dying })).rejects.toBeInstanceOf(Crash);
      const stalled = await batches.get('dynamo-crash');
      expect(stalled).toMatchObject({ status: 'processing', checkpoint: { counts: { total: 120 } } });

      // Its lease expires; the sweep finds the batch and another worker finishes it.
      h.clock += DEFAULT_LIMITS.leaseMs + 1;
      const continuer = new RecordingContinuer();
      const swept = await sweepBatches({ store: batches, objects: h.objects, continuer, now: () => h.clock });
      expect(swept.resumed).toContain('dynamo-crash');
      const outcome = await ingestBatch('dynamo-crash', { ...h.deps({ records, limits }), store: batches });
      expect(outcome).toMatchObject({ outcome: 'completed', counts: manifest.expected });
      expect(await batches.get('dynamo-crash')).toMatchObject({ status: 'completed', checkpoint: { counts: manifest.expected }, rejectsKey: 'rejects/dynamo-crash.ndjson' });
      expect(h.rejects.rows('rejects/dynamo-crash.ndjson')).toHaveLength(manifest.expected.rejected);

      const heads = await db.doc.send(new ScanCommand({ TableName: tables.records.localName, FilterExpression: 'sk = :h AND sourceId = :s', ExpressionAttributeValues: { ':h': 'HEAD', ':s': COURT.sourceId } }));
      expect(heads.Items).toHaveLength(manifest.expected.accepted);
      const versions = await db.doc.send(new ScanCommand({ TableName: tables.records.localName, FilterExpression: 'begins_with(sk, :v)', ExpressionAttributeValues: { ':v': 'V#' } }));
      expect(versions.Items).toHaveLength(manifest.expected.updated);
    } finally {
      h.close();
    }
  });
});
