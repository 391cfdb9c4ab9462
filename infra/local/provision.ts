/** Creates the catalogue's tables in DynamoDB Local and its buckets in the S3 emulator, as the CDK stack creates them on AWS. */
import { CreateBucketCommand, HeadBucketCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { buckets, tables, type BucketSpec, type TableSpec } from '../catalogue.js';

function definitions(spec: TableSpec): AttributeDefinition[] {
  const all = [spec.partitionKey, spec.sortKey, ...spec.globalIndexes.flatMap((g) => [g.partitionKey, g.sortKey])].filter((k) => k !== undefined);
  const unique = new Map(all.map((k) => [k.name, k.type]));
  return [...unique].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

function keySchema(pk: { name: string }, sk?: { name: string }) {
  return [{ AttributeName: pk.name, KeyType: 'HASH' as const }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : [])];
}

/**
 * Adds the global secondary indexes the catalogue has and an existing table lacks (a data folder made before the
 * index was added), one at a time as DynamoDB takes them; the table's data stays. Returns the indexes added.
 */
async function addMissingIndexes(client: DynamoDBClient, spec: TableSpec, existing: readonly string[]): Promise<string[]> {
  const added: string[] = [];
  for (const g of spec.globalIndexes) {
    if (existing.includes(g.name)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: spec.localName,
        AttributeDefinitions: definitions(spec),
        GlobalSecondaryIndexUpdates: [{ Create: { IndexName: g.name, KeySchema: keySchema(g.partitionKey, g.sortKey), Projection: { ProjectionType: g.projection ?? 'ALL' } } }],
      }),
    );
    added.push(`${spec.localName}/${g.name}`);
    await indexActive(client, spec.localName, g.name);
  }
  return added;
}

/** Waits until a new index can be queried (DynamoDB builds it from the table's items first). */
async function indexActive(client: DynamoDBClient, table: string, index: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.send(new DescribeTableCommand({ TableName: table }));
    const status = described.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index)?.IndexStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`index ${index} of ${table} still ${status ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Creates missing tables (and indexes missing from existing ones); leaves existing data alone. Returns the names created. */
export async function provisionTables(client: DynamoDBClient): Promise<string[]> {
  const created: string[] = [];
  for (const spec of Object.values(tables) as TableSpec[]) {
    try {
      const described = await client.send(new DescribeTableCommand({ TableName: spec.localName }));
      created.push(...(await addMissingIndexes(client, spec, (described.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName ?? ''))));
      continue;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    try {
      await client.send(
        new CreateTableCommand({
          TableName: spec.localName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: definitions(spec),
          KeySchema: keySchema(spec.partitionKey, spec.sortKey),
          ...(spec.globalIndexes.length > 0
            ? {
                GlobalSecondaryIndexes: spec.globalIndexes.map((g) => ({
                  IndexName: g.name,
                  KeySchema: keySchema(g.partitionKey, g.sortKey),
                  Projection: { ProjectionType: g.projection ?? 'ALL' },
                })),
              }
            : {}),
          ...(spec.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
        }),
      );
      if (spec.timeToLiveAttribute) {
        await client.send(new UpdateTimeToLiveCommand({ TableName: spec.localName, TimeToLiveSpecification: { Enabled: true, AttributeName: spec.timeToLiveAttribute } }));
      }
      created.push(spec.localName);
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
  }
  return created;
}

/** Creates missing buckets; leaves existing ones (and their objects) alone. Returns the names created. */
export async function provisionBuckets(client: S3Client, specs: Readonly<Record<string, BucketSpec>> = buckets): Promise<string[]> {
  const created: string[] = [];
  for (const spec of Object.values(specs)) {
    try {
      await client.send(new HeadBucketCommand({ Bucket: spec.localName }));
      continue;
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
    await client.send(new CreateBucketCommand({ Bucket: spec.localName }));
    created.push(spec.localName);
  }
  return created;
}
