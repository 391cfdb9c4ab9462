/**
 * What the local stack exposes to the network. Everything it starts listens
 * on 127.0.0.1 only, except DynamoDB Local, which cannot be bound (no option):
 * its data is reached only with the data folder's own access key id, which the
 * stack's handlers use and a caller from another address does not have. The
 * data folder and what holds secrets in it are private to the owner.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { CREDENTIALS_FILE, LOCAL_REGION, randomCredentials, readDataFolderCredentials } from '../../infra/local/dynamodb-local.js';
import { canListSockets, listeningSockets, nonLoopbackAddress } from '../support/listening-sockets.js';
import { descendants, startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';
import { dynamoEndpointOf } from '../support/stack-records-table.js';

const ADDRESS = nonLoopbackAddress() ?? '127.0.0.1';
let dataDir: string;
let stack: StackProcess;
let dynamoPort: number;

beforeAll(async () => {
  // A folder the stack creates itself, so that its mode is the stack's doing.
  dataDir = join(tempDataDir('hub-e2e-network-'), 'data');
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'WARN' });
  dynamoPort = Number(new URL(dynamoEndpointOf(stack.output())).port);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function tablesSeen(host: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<string[]> {
  const client = new DynamoDBClient({ endpoint: `http://${host}:${dynamoPort}`, region: LOCAL_REGION, credentials, maxAttempts: 1 });
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    client.destroy();
  }
}

describe('the local stack on the network', () => {
  it.runIf(canListSockets())('listens on 127.0.0.1 only with everything it starts, DynamoDB Local excepted', () => {
    const pids = [stack.stackPid, ...descendants(stack.stackPid)];
    const open: string[] = [];
    let gateway = false;
    for (const pid of pids) {
      for (const socket of listeningSockets(pid)) {
        if (pid === stack.stackPid && socket.port === Number(new URL(stack.url).port)) gateway = true;
        if (!socket.loopbackOnly && !(pid === stack.emulatorPid && socket.port === dynamoPort)) open.push(`pid ${pid} on ${socket.address}:${socket.port}`);
      }
    }
    expect(gateway, 'the HTTP API was found among the listening sockets').toBe(true);
    expect(open).toStrictEqual([]);
  });

  it(`keeps the tables from a caller at ${ADDRESS} without the data folder's key, and serves them to the stack's handlers`, async () => {
    expect(await tablesSeen(ADDRESS, randomCredentials())).toStrictEqual([]);
    expect(await tablesSeen(ADDRESS, { accessKeyId: 'local', secretAccessKey: 'local' })).toStrictEqual([]);
    expect(await tablesSeen('127.0.0.1', readDataFolderCredentials(dataDir))).toStrictEqual(expect.arrayContaining(Object.values(tables).map((t) => t.localName)));
    // The handlers reach the store with the same key: the health check reads the sources table.
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });

  it('keeps the data folder and its secrets private to the owner', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const folder of ['keys', 'dynamodb']) expect(statSync(join(dataDir, folder)).mode & 0o777, folder).toBe(0o700);
    for (const file of [CREDENTIALS_FILE, join('keys', 'master.key'), join('keys', 'lookup.key')]) {
      expect(statSync(join(dataDir, file)).mode & 0o777, file).toBe(0o600);
    }
  });
});
