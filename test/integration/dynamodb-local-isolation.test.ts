/**
 * DynamoDB Local listens on every interface (it has no option to bind to
 * 127.0.0.1) and checks no signature. What keeps the stack's data out of reach
 * of the network is the data folder's own random access key id: without
 * -sharedDb the emulator keeps one database per key id and region. These tests
 * connect from a non-loopback address of this machine, as a neighbour on the
 * network would, and from a web page's point of view (CORS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkSkTable } from '../support/pk-sk-table.js';
import { tables } from '../../infra/catalogue.js';
import {
  CORS_ALLOW_LIST,
  CREDENTIALS_FILE,
  dataFolderCredentials,
  databaseFileName,
  emulatorArguments,
  emulatorDir,
  freePort,
  LOCAL_REGION,
  migrateSharedDatabase,
  randomCredentials,
  readDataFolderCredentials,
  SHARED_DB_FILE,
  startDynamoDbLocal,
  type DynamoDbLocal,
  type LocalCredentials,
} from '../../infra/local/dynamodb-local.js';
import { commandLine } from '../../infra/local/process-identity.js';
import { provisionTables } from '../../infra/local/provision.js';
import { canListSockets, listeningSockets, nonLoopbackAddress } from '../support/listening-sockets.js';

const root = mkdtempSync(join(tmpdir(), 'hub-ddb-isolation-'));
/** A non-loopback address of this machine; the loopback only when it has none (then only the key is tested, not the route). */
const ADDRESS = nonLoopbackAddress() ?? '127.0.0.1';
const SOURCE_KEY_ITEM = { pk: { S: 'KEY#0123456789abcdef' }, sk: { S: 'KEY' }, sourceId: { S: 'dept-a' } };

function clientAt(host: string, port: number, credentials: LocalCredentials, region = LOCAL_REGION) {
  return new DynamoDBClient({ endpoint: `http://${host}:${port}`, region, credentials, maxAttempts: 1 });
}

async function tablesSeenBy(client: DynamoDBClient): Promise<string[]> {
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    client.destroy();
  }
}

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe(`DynamoDB Local reached from ${ADDRESS === '127.0.0.1' ? 'the loopback (this machine has no other address)' : `a non-loopback address (${ADDRESS})`}`, () => {
  const dataDir = join(root, 'data');
  let emulator: DynamoDbLocal;
  let credentials: LocalCredentials;

  beforeAll(async () => {
    mkdirSync(dataDir, { mode: 0o700 });
    credentials = dataFolderCredentials(dataDir);
    emulator = await startDynamoDbLocal({ dbPath: join(dataDir, 'dynamodb'), logFile: join(dataDir, 'dynamodb-local.log'), credentials });
    const client = clientAt('127.0.0.1', emulator.port, credentials);
    try {
      await provisionTables(client);
      await client.send(new PutItemCommand({ TableName: tables.sources.localName, Item: SOURCE_KEY_ITEM }));
    } finally {
      client.destroy();
    }
  }, 120_000);

  afterAll(async () => {
    await emulator?.stop();
  });

  it('is open on that address: the port is not bound to the loopback only (why the key matters)', async () => {
    expect(await tablesSeenBy(clientAt(ADDRESS, emulator.port, randomCredentials()))).toStrictEqual([]);
  });

  it('shows a caller with an unknown access key id no table, and lets it neither read nor mint a source key', async () => {
    const stranger = randomCredentials();
    expect(await tablesSeenBy(clientAt(ADDRESS, emulator.port, stranger))).toStrictEqual([]);
    const client = clientAt(ADDRESS, emulator.port, stranger);
    try {
      await expect(client.send(new GetItemCommand({ TableName: tables.sources.localName, Key: { pk: SOURCE_KEY_ITEM.pk, sk: SOURCE_KEY_ITEM.sk } }))).rejects.toBeInstanceOf(
        ResourceNotFoundException,
      );
      await expect(client.send(new PutItemCommand({ TableName: tables.sources.localName, Item: { ...SOURCE_KEY_ITEM, pk: { S: 'KEY#minted' } } }))).rejects.toBeInstanceOf(
        ResourceNotFoundException,
      );
    } finally {
      client.destroy();
    }
  });

  it('shows the old shared key id ("local") and the stack key id in another region nothing either', async () => {
    expect(await tablesSeenBy(clientAt(ADDRESS, emulator.port, { accessKeyId: 'local', secretAccessKey: 'local' }))).toStrictEqual([]);
    expect(await tablesSeenBy(clientAt(ADDRESS, emulator.port, credentials, 'us-east-1'))).toStrictEqual([]);
  });

  it('shows the tables to the data folder’s key, from the same address: the key isolates, not the address', async () => {
    expect(await tablesSeenBy(clientAt(ADDRESS, emulator.port, credentials))).toStrictEqual(expect.arrayContaining(Object.values(tables).map((t) => t.localName)));
    const client = clientAt(ADDRESS, emulator.port, credentials);
    try {
      const got = await client.send(new GetItemCommand({ TableName: tables.sources.localName, Key: { pk: SOURCE_KEY_ITEM.pk, sk: SOURCE_KEY_ITEM.sk } }));
      expect(got.Item?.sourceId?.S).toBe('dept-a');
    } finally {
      client.destroy();
    }
  });

  it.each(['https://evil.example', 'http://localhost:3000', 'null'])('answers a CORS preflight from %s without Access-Control-Allow-Origin', async (origin) => {
    const res = await fetch(`http://127.0.0.1:${emulator.port}/`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-target' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('runs without -sharedDb, without telemetry, with a CORS allow-list that is not *', () => {
    const args = emulatorArguments('/x', 1234, '/db');
    expect(args).not.toContain('-sharedDb');
    expect(args).toContain('-disableTelemetry');
    expect(args[args.indexOf('-cors') + 1]).toBe(CORS_ALLOW_LIST);
    expect(CORS_ALLOW_LIST).toMatch(/^https:\/\/[a-z-]+\.invalid$/);
    const running = commandLine(emulator.pid);
    if (running) {
      expect(running).not.toContain('-sharedDb');
      expect(running).toContain('-disableTelemetry');
      expect(running[running.indexOf('-cors') + 1]).toBe(CORS_ALLOW_LIST);
    }
  });

  it.runIf(canListSockets())('listens on all interfaces, as documented (DynamoDB Local has no bind option)', () => {
    const sockets = listeningSockets(emulator.pid).filter((s) => s.port === emulator.port);
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets.some((s) => !s.loopbackOnly)).toBe(true);
  });

  it('keeps its database in the key id’s file, in a folder only the owner can open', () => {
    expect(existsSync(join(dataDir, 'dynamodb', databaseFileName(credentials)))).toBe(true);
    expect(existsSync(join(dataDir, 'dynamodb', SHARED_DB_FILE))).toBe(false);
    expect(statSync(join(dataDir, 'dynamodb')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'dynamodb-local.log')).mode & 0o077).toBe(0);
  });
});

describe('the data folder’s credentials', () => {
  it('are made at the first start, kept with mode 0600, and the same at every later start', () => {
    const dir = join(root, 'creds');
    mkdirSync(dir);
    const first = dataFolderCredentials(dir);
    expect(first.accessKeyId).toMatch(/^HUB[0-9A-F]{32}$/);
    expect(first.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    expect(statSync(join(dir, CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
    expect(dataFolderCredentials(dir)).toStrictEqual(first);
    expect(readDataFolderCredentials(dir)).toStrictEqual(first);
  });

  it('differ between data folders', () => {
    const [a, b] = ['creds-a', 'creds-b'].map((name) => {
      mkdirSync(join(root, name));
      return dataFolderCredentials(join(root, name));
    });
    expect(a!.accessKeyId).not.toBe(b!.accessKeyId);
  });

  it('are made private again when the file was readable by others', () => {
    const dir = join(root, 'creds-open');
    mkdirSync(dir);
    writeFileSync(join(dir, CREDENTIALS_FILE), JSON.stringify(randomCredentials()), { mode: 0o644 });
    dataFolderCredentials(dir);
    expect(statSync(join(dir, CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('are refused when damaged, naming the file', () => {
    const dir = join(root, 'creds-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, CREDENTIALS_FILE), JSON.stringify({ accessKeyId: 'a b', secretAccessKey: 'x' }), { mode: 0o600 });
    expect(() => dataFolderCredentials(dir)).toThrow(new RegExp(`${CREDENTIALS_FILE} 已损坏 \\(is damaged`));
  });
});

/** Runs DynamoDB Local as the stack did before (-sharedDb) on a folder, writes a table and an item, and stops it. */
async function writeWithSharedDb(dbPath: string): Promise<void> {
  mkdirSync(dbPath, { recursive: true });
  const port = await freePort();
  const dir = emulatorDir();
  const child: ChildProcess = spawn('java', [...emulatorArguments(dir, port, dbPath), '-sharedDb'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const client = clientAt('127.0.0.1', port, { accessKeyId: 'local', secretAccessKey: 'local' });
    try {
      for (const deadline = Date.now() + 60_000; ; ) {
        try {
          await client.send(new ListTablesCommand({}));
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await createPkSkTable(client, tables.sources.localName);
      await client.send(new PutItemCommand({ TableName: tables.sources.localName, Item: SOURCE_KEY_ITEM }));
    } finally {
      client.destroy();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
}

describe('a data folder made while the stack ran DynamoDB Local with -sharedDb', () => {
  it('has its tables moved to the data folder key’s database at the first start, and reached with that key only', async () => {
    const dataDir = join(root, 'shared');
    const dbPath = join(dataDir, 'dynamodb');
    await writeWithSharedDb(dbPath);
    expect(existsSync(join(dbPath, SHARED_DB_FILE))).toBe(true);

    const credentials = dataFolderCredentials(dataDir);
    const said: string[] = [];
    const emulator = await startDynamoDbLocal({ dbPath, credentials, log: (line) => said.push(line) });
    try {
      expect(said.join('\n')).toContain(`moved the tables of ${SHARED_DB_FILE} to the data folder's own database`);
      // The key id is the secret that keeps the tables: it is not printed (it names the database file).
      expect(said.join('\n')).not.toContain(credentials.accessKeyId);
      expect(readdirSync(dbPath)).not.toContain(SHARED_DB_FILE);
      expect(readdirSync(dbPath)).toContain(databaseFileName(credentials));
      const client = clientAt(ADDRESS, emulator.port, credentials);
      try {
        const got = await client.send(new GetItemCommand({ TableName: tables.sources.localName, Key: { pk: SOURCE_KEY_ITEM.pk, sk: SOURCE_KEY_ITEM.sk } }));
        expect(got.Item?.sourceId?.S).toBe('dept-a');
      } finally {
        client.destroy();
      }
      expect(await tablesSeenBy(clientAt(ADDRESS, emulator.port, { accessKeyId: 'local', secretAccessKey: 'local' }))).toStrictEqual([]);
    } finally {
      await emulator.stop();
    }
    // A later start has nothing to move.
    const again = await startDynamoDbLocal({ dbPath, credentials, log: (line) => said.push(line) });
    await again.stop();
    expect(said.filter((l) => l.includes('moved'))).toHaveLength(1);
  }, 180_000);

  it('is left untouched, and the start refused, when the folder also holds the key’s own database', () => {
    const dbPath = join(root, 'both', 'dynamodb');
    mkdirSync(dbPath, { recursive: true });
    const credentials = randomCredentials();
    writeFileSync(join(dbPath, SHARED_DB_FILE), 'shared');
    writeFileSync(join(dbPath, databaseFileName(credentials)), 'own');
    expect(() => migrateSharedDatabase(dbPath, credentials)).toThrow(/同时有 shared-local-instance\.db .*left untouched/);
    try {
      migrateSharedDatabase(dbPath, credentials);
    } catch (e) {
      expect((e as Error).message).not.toContain(credentials.accessKeyId);
    }
    expect(readFileSync(join(dbPath, SHARED_DB_FILE), 'utf8')).toBe('shared');
    expect(readFileSync(join(dbPath, databaseFileName(credentials)), 'utf8')).toBe('own');
  });

  it('moves the SQLite side files with the database', () => {
    const dbPath = join(root, 'journal', 'dynamodb');
    mkdirSync(dbPath, { recursive: true });
    const credentials = randomCredentials();
    writeFileSync(join(dbPath, SHARED_DB_FILE), 'db');
    writeFileSync(join(dbPath, `${SHARED_DB_FILE}-journal`), 'journal');
    expect(migrateSharedDatabase(dbPath, credentials)).toBe(true);
    expect(readFileSync(join(dbPath, `${databaseFileName(credentials)}-journal`), 'utf8')).toBe('journal');
    expect(readdirSync(dbPath).sort()).toStrictEqual([databaseFileName(credentials), `${databaseFileName(credentials)}-journal`].sort());
    expect(migrateSharedDatabase(dbPath, credentials)).toBe(false);
  });
});
