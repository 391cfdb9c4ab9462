/**
 * A table keyed as the hub's are (string `pk` and `sk`, on demand), for tests that need one of their own in
 * DynamoDB Local: with a NEW_AND_OLD_IMAGES stream, as the records table has, when asked.
 */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Creates the table; returns its stream's ARN when it has one. */
export async function createPkSkTable(client: DynamoDBClient, name: string, options: { stream?: boolean } = {}): Promise<{ streamArn?: string }> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      ...(options.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
    }),
  );
  if (!options.stream) return {};
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  return { streamArn: Table!.LatestStreamArn! };
}
