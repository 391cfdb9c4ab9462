/**
 * A port chosen by freePort() can be taken by another process before DynamoDB Local's JVM binds
 * it. DynamoDB Local then stays up with no listener, so without care the start waits out its whole
 * timeout (a CI run once failed so). The start reads the emulator's output, stops it, and tries
 * another port; with a port given, it fails at once and says why.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort, startDynamoDbLocal } from '../../infra/local/dynamodb-local.js';

let taken: Server;
let takenPort: number;
let root: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hub-port-taken-'));
  // It accepts and never answers (as an unrelated server may); its connections are cut at the end.
  taken = createServer((socket) => sockets.push(socket));
  // On every interface, as DynamoDB Local binds: its bind then fails.
  await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', () => resolve()));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => taken.close(resolve));
});

describe('DynamoDB Local on a port taken before it binds', () => {
  it('is stopped and started again on another port; the log says so', async () => {
    const ports = [takenPort];
    const said: string[] = [];
    const started = Date.now();
    const emulator = await startDynamoDbLocal({ pickPort: async () => ports.shift() ?? freePort(), log: (l) => said.push(l) });
    try {
      expect(emulator.port).not.toBe(takenPort);
      expect(said.join('\n')).toContain(`could not bind http://127.0.0.1:${takenPort}: the port was taken; trying another port`);
      // Well before the 60 s an unanswering emulator is given.
      expect(Date.now() - started).toBeLessThan(55_000);
      const client = new DynamoDBClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials });
      try {
        expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      } finally {
        client.destroy();
      }
    } finally {
      await emulator.stop();
    }
  }, 120_000);

  it('fails at once, naming the port, when that port was asked for; the log file holds the JVM’s reason', async () => {
    const logFile = join(root, 'dynamodb-local.log');
    await expect(startDynamoDbLocal({ port: takenPort, logFile })).rejects.toThrow(`could not bind http://127.0.0.1:${takenPort}: the port was taken`);
    expect(readFileSync(logFile, 'utf8')).toMatch(/BindException|Failed to bind/);
  }, 120_000);
});
