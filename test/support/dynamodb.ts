/** DynamoDB Local in memory with the catalogue's tables, for integration tests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localCredentials, startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import { provisionTables } from '../../infra/local/provision.js';

export interface TestDynamo {
  emulator: DynamoDbLocal;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const emulator = await startDynamoDbLocal({});
  const client = new DynamoDBClient({ endpoint: emulator.endpoint, region: 'cn-north-1', credentials: localCredentials });
  await provisionTables(client);
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
