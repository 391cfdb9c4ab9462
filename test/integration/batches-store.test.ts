/**
 * The DynamoDB BatchStore against DynamoDB Local: the port's contract, and a
 * whole ingest through the real records store with a crash in the middle.
 */
import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
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

/** The table proposed for infra/catalogue.ts (created here until the catalogue has it). */
const BATCHES_TABLE = 'hub-batches';

let db: TestDynamo;
let batches: DynamoBatchesStore;

beforeAll(async () => {
  db = await startTestDynamo();
  try {
    await db.client.send(
      new CreateTableCommand({
        TableName: BATCHES_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'unfinished', AttributeType: 'S' },
          { AttributeName: 'createdAt', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: UNFINISHED_INDEX,
            KeySchema: [
              { AttributeName: 'unfinished', KeyType: 'HASH' },
              { AttributeName: 'createdAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  batches = new DynamoBatchesStore(db.doc, BATCHES_TABLE);
});

afterAll(async () => {
  await db?.stop();
});

describeBatchStoreContract('DynamoDB', () => ({ store: batches, add: (batch) => batches.create(batch) }));

describe('DynamoBatchesStore', () => {
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
