/** Creates the catalogue's tables in DynamoDB Local and its buckets in the S3 emulator, as the CDK stack creates them on AWS. */
import { CreateBucketCommand, HeadBucketCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
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

/** Creates missing tables; leaves existing ones (and their data) alone. Returns the names created. */
export async function provisionTables(client: DynamoDBClient): Promise<string[]> {
  const created: string[] = [];
  for (const spec of Object.values(tables) as TableSpec[]) {
    try {
      await client.send(new DescribeTableCommand({ TableName: spec.localName }));
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
                  Projection: { ProjectionType: 'ALL' },
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
