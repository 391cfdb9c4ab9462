/**
 * DynamoDB Local in memory with the catalogue's tables, for integration tests. Each emulator has
 * credentials of its own (random, `emulator.credentials`): DynamoDB Local keeps one database per
 * access key id and region, so every client of a test must use them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import { provisionTables } from '../../infra/local/provision.js';

export interface TestDynamo {
  emulator: DynamoDbLocal;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const emulator = await startDynamoDbLocal({});
  const client = new DynamoDBClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials });
  try {
    await provisionTables(client);
  } catch (e) {
    client.destroy();
    await emulator.stop();
    throw e;
  }
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    emulator,
    client,
    doc,
    stop: async () => {
      client.destroy();
      await emulator.stop();
    },
  };
}
