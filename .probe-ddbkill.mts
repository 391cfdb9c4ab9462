import { DynamoDBClient, CreateTableCommand, TransactWriteItemsCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from './infra/local/dynamodb-local.ts';
const [phase, dbPath, sig] = process.argv.slice(2);
const e = await startDynamoDbLocal({ dbPath });
const c = new DynamoDBClient({ endpoint: e.endpoint, region: 'cn-north-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
if (phase === 'write') {
  await c.send(new CreateTableCommand({ TableName: 'ttt', AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
  for (let i = 1; i <= 20; i++)
    await c.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'ttt', Item: { k: { S: 'a' }, v: { N: String(i) } } } }, { Put: { TableName: 'ttt', Item: { k: { S: 'b' + i }, v: { N: String(i) } } } }] }));
  process.kill(e.pid, sig);
  await new Promise(r => setTimeout(r, 1500));
  process.exit(0);
} else {
  const r = await c.send(new GetItemCommand({ TableName: 'ttt', Key: { k: { S: 'a' } } })).catch(err => String(err));
  console.log(process.argv[4], 'read', JSON.stringify((r as any).Item?.v ?? r));
  await e.stop();
}
