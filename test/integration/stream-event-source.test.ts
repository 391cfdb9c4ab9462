/**
 * Lambda's DynamoDB Streams event-source mapping on this machine (infra/local/stream-poller.ts)
 * against DynamoDB Local's real stream: Lambda's event, order, batches, filtering, retries of the same
 * batch, bisecting, partial batch failures, and a position that survives a stop, a new poller and a
 * restart of DynamoDB Local itself.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkSkTable } from '../support/pk-sk-table.js';
import type { EventSourceSpec } from '../../infra/catalogue.js';
import { randomCredentials, startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import type { FunctionInvoker, InvokeOutcome } from '../../infra/local/lambda-runtime.js';
import { STREAM_POSITIONS_FILE, startStreamPollers, type StreamPollers } from '../../infra/local/stream-poller.js';

const REGION = 'cn-north-1';
const root = mkdtempSync(join(tmpdir(), 'hub-stream-'));
const dbPath = join(root, 'dynamodb');
const credentials = randomCredentials();
let emulator: DynamoDbLocal;
let client: DynamoDBClient;

const connect = () => new DynamoDBClient({ endpoint: emulator.endpoint, region: REGION, credentials });

beforeAll(async () => {
  emulator = await startDynamoDbLocal({ dbPath, credentials });
  client = connect();
});

afterAll(async () => {
  client?.destroy();
  await emulator?.stop();
  rmSync(root, { recursive: true, force: true });
});

let tableCount = 0;
/** A records-like table of its own (pk, sk, NEW_AND_OLD_IMAGES stream) and a data folder of its own. */
async function freshTable(): Promise<{ table: string; dataDir: string; streamArn: string }> {
  const table = `stream-test-${++tableCount}`;
  const { streamArn } = await createPkSkTable(client, table, { stream: true });
  return { table, dataDir: mkdtempSync(join(root, 'data-')), streamArn: streamArn! };
}

const put = (table: string, pk: string, sk = 'HEAD', extra: Record<string, string> = {}) =>
  client.send(
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: pk }, sk: { S: sk }, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { S: v }])) },
    }),
  );

type Spec = Extract<EventSourceSpec, { type: 'dynamodb-stream' }>;
const baseSpec: Spec = {
  type: 'dynamodb-stream',
  table: 'records',
  function: 'fanout',
  batchSize: 100,
  maxBatchingWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  retryAttempts: -1,
  bisectBatchOnError: false,
  reportBatchItemFailures: true,
  description: 'test',
};

/** A function that records each event it gets and answers as `answer` says (by the call's number, from 0). */
function recordingFunction(answer: (event: DynamoDBStreamEvent, call: number) => InvokeOutcome | Promise<InvokeOutcome> = () => ({ status: 'ok', result: null })) {
  const events: DynamoDBStreamEvent[] = [];
  const invoker: FunctionInvoker = {
    invoke: async (_fn, event) => {
      const e = event as DynamoDBStreamEvent;
      events.push(structuredClone(e));
      return answer(e, events.length - 1);
    },
    close: async () => undefined,
  };
  return { events, invoker };
}

const pkOf = (r: DynamoDBRecord) => (r.dynamodb!.Keys!.pk as { S: string }).S;
const pks = (event: DynamoDBStreamEvent) => event.Records.map(pkOf);

function start(table: string, dataDir: string, invoker: FunctionInvoker, spec: Partial<Spec> = {}, logged: string[] = []): StreamPollers {
  return startStreamPollers({
    endpoint: emulator.endpoint,
    region: REGION,
    credentials,
    invoker,
    dataDir,
    hasFunction: () => true,
    eventSources: { recordChanges: { ...baseSpec, ...spec } },
    tables: { records: { localName: table } },
    log: (line) => logged.push(line),
    idlePollMs: 50,
    discoverEveryMs: 200,
    retryBackoff: { firstMs: 20, maxMs: 80 },
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function positions(dataDir: string): Record<string, { after?: string; finished?: boolean }> {
  const doc = JSON.parse(readFileSync(join(dataDir, STREAM_POSITIONS_FILE), 'utf8')) as { mappings: Record<string, { shards: Record<string, { after?: string }> }> };
  return doc.mappings.recordChanges!.shards;
}
const lastPosition = (dataDir: string) => Object.values(positions(dataDir)).at(-1)?.after;

describe('the stream event-source mapping', () => {
  it('delivers every change, in order, as the DynamoDB Streams event Lambda sends', async () => {
    const { table, dataDir, streamArn } = await freshTable();
    await client.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'REC#a' }, sk: { S: 'HEAD' }, version: { N: '1' }, blob: { B: new Uint8Array([1, 2, 3]) } } }),
    );
    await client.send(
      new UpdateItemCommand({ TableName: table, Key: { pk: { S: 'REC#a' }, sk: { S: 'HEAD' } }, UpdateExpression: 'SET version = :v', ExpressionAttributeValues: { ':v': { N: '2' } } }),
    );
    await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'REC#a' }, sk: { S: 'HEAD' } } }));
    const fn = recordingFunction();
    const pollers = start(table, dataDir, fn.invoker);
    try {
      expect(pollers.names).toEqual(['recordChanges']);
      await waitFor('three records', () => fn.events.flatMap((e) => e.Records).length >= 3);
      for (let i = 4; i <= 6; i++) await put(table, `REC#${i}`);
      await waitFor('six records', () => fn.events.flatMap((e) => e.Records).length >= 6);
      const records = fn.events.flatMap((e) => e.Records);
      expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE', 'INSERT', 'INSERT', 'INSERT']);
      expect(records.map(pkOf)).toEqual(['REC#a', 'REC#a', 'REC#a', 'REC#4', 'REC#5', 'REC#6']);
      const sequence = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
      expect([...sequence].sort((x, y) => (x < y ? -1 : 1))).toEqual(sequence);
      const [insert, modify, remove] = records;
      expect(insert).toMatchObject({
        eventSource: 'aws:dynamodb',
        eventVersion: expect.any(String),
        eventID: expect.any(String),
        awsRegion: REGION,
        eventSourceARN: streamArn,
        dynamodb: {
          Keys: { pk: { S: 'REC#a' }, sk: { S: 'HEAD' } },
          NewImage: { pk: { S: 'REC#a' }, sk: { S: 'HEAD' }, version: { N: '1' }, blob: { B: Buffer.from([1, 2, 3]).toString('base64') } },
          StreamViewType: 'NEW_AND_OLD_IMAGES',
          SequenceNumber: expect.any(String),
          SizeBytes: expect.any(Number),
          ApproximateCreationDateTime: expect.any(Number),
        },
      });
      expect(insert!.dynamodb!.OldImage).toBeUndefined();
      expect(Math.abs(insert!.dynamodb!.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(3600);
      expect(modify!.dynamodb).toMatchObject({ OldImage: { version: { N: '1' } }, NewImage: { version: { N: '2' } } });
      expect(remove!.dynamodb).toMatchObject({ OldImage: { version: { N: '2' } } });
      expect(remove!.dynamodb!.NewImage).toBeUndefined();
      // The position is kept after each batch, and no temp file is left beside it.
      await waitFor('the position of the last record', () => lastPosition(dataDir) === records.at(-1)!.dynamodb!.SequenceNumber);
      expect(readdirSync(dataDir)).toEqual([STREAM_POSITIONS_FILE]);
    } finally {
      await pollers.stop();
    }
  });

  it('sends at most batchSize records per invocation', async () => {
    const { table, dataDir } = await freshTable();
    for (let i = 1; i <= 7; i++) await put(table, `REC#${i}`);
    const fn = recordingFunction();
    const pollers = start(table, dataDir, fn.invoker, { batchSize: 3 });
    try {
      await waitFor('seven records', () => fn.events.flatMap((e) => e.Records).length >= 7);
      expect(fn.events.map((e) => e.Records.length)).toEqual([3, 3, 1]);
      expect(fn.events.flatMap(pks)).toEqual(['REC#1', 'REC#2', 'REC#3', 'REC#4', 'REC#5', 'REC#6', 'REC#7']);
    } finally {
      await pollers.stop();
    }
  });

  it('filters on the new image: only HEAD items reach the function, REMOVEs never; the position moves past the others', async () => {
    const { table, dataDir } = await freshTable();
    await put(table, 'REC#1');
    await put(table, 'REC#1', 'V#0000000001');
    await put(table, 'REC#1', 'HEAD', { state: 'changed' });
    await put(table, 'REC#2', 'V#0000000001');
    await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'REC#1' }, sk: { S: 'HEAD' } } }));
    await put(table, 'REC#3', 'V#0000000001');
    const fn = recordingFunction();
    const pollers = start(table, dataDir, fn.invoker, { newImageEquals: { sk: 'HEAD' } });
    try {
      // Everything is read, the last (filtered) record included: its sequence number is the position.
      await waitFor('the whole stream processed', () => {
        const after = existsSync(join(dataDir, STREAM_POSITIONS_FILE)) ? lastPosition(dataDir) : undefined;
        return after !== undefined && fn.events.length > 0 && BigInt(after) > BigInt(fn.events.at(-1)!.Records.at(-1)!.dynamodb!.SequenceNumber!);
      });
      const records = fn.events.flatMap((e) => e.Records);
      expect(records.map((r) => [r.eventName, pkOf(r), (r.dynamodb!.NewImage!.sk as { S: string }).S])).toEqual([
        ['INSERT', 'REC#1', 'HEAD'],
        ['MODIFY', 'REC#1', 'HEAD'],
      ]);
    } finally {
      await pollers.stop();
    }
  });

  it('gives a failing function the same batch again, with nothing later before it, and logs each failure without the records', async () => {
    const { table, dataDir } = await freshTable();
    for (const pk of ['REC#1', 'REC#2', 'REC#3']) await put(table, pk, 'HEAD', { name: 'content-never-logged' });
    const answers: InvokeOutcome[] = [
      { status: 'error', errorType: 'Error', errorMessage: 'store unavailable' },
      { status: 'timeout', timeoutSeconds: 30 },
      { status: 'crashed', errorMessage: 'the execution environment exited (code 1)' },
    ];
    const fn = recordingFunction((_e, call) => answers[call] ?? { status: 'ok', result: { batchItemFailures: [] } });
    const logged: string[] = [];
    const pollers = start(table, dataDir, fn.invoker, { batchSize: 2 }, logged);
    try {
      await waitFor('all three delivered', () => fn.events.length >= 5);
      expect(fn.events.map(pks)).toEqual([['REC#1', 'REC#2'], ['REC#1', 'REC#2'], ['REC#1', 'REC#2'], ['REC#1', 'REC#2'], ['REC#3']]);
      // The same records, the same event ids: a retry, not new events.
      expect(new Set(fn.events.slice(0, 4).map((e) => e.Records.map((r) => r.eventID).join()))).toHaveProperty('size', 1);
      const failures = logged.filter((l) => l.includes('invocation'));
      expect(failures).toHaveLength(3);
      expect(failures[0]).toMatch(/failed with Error: store unavailable for 2 records/);
      expect(failures[1]).toMatch(/timed out after 30 s/);
      expect(failures[2]).toMatch(/crashed/);
      expect(logged.join('\n')).not.toContain('content-never-logged');
    } finally {
      await pollers.stop();
    }
  });

  it('bisects a failing batch and retries each half (bisectBatchOnError)', async () => {
    const { table, dataDir } = await freshTable();
    for (const pk of ['REC#a', 'REC#b', 'REC#c', 'REC#d']) await put(table, pk);
    let poisonFailures = 0;
    const fn = recordingFunction((event) => {
      if (pks(event).includes('REC#c') && poisonFailures < 3) {
        poisonFailures++;
        return { status: 'error', errorType: 'Error', errorMessage: 'poison' };
      }
      return { status: 'ok', result: null };
    });
    const pollers = start(table, dataDir, fn.invoker, { bisectBatchOnError: true });
    try {
      await waitFor('REC#d delivered', () => fn.events.some((e) => pks(e).includes('REC#d') && e.Records.length === 1));
      expect(fn.events.map(pks)).toEqual([['REC#a', 'REC#b', 'REC#c', 'REC#d'], ['REC#a', 'REC#b'], ['REC#c', 'REC#d'], ['REC#c'], ['REC#c'], ['REC#d']]);
    } finally {
      await pollers.stop();
    }
  });

  it('skips a batch once retryAttempts are spent, and says so', async () => {
    const { table, dataDir } = await freshTable();
    for (const pk of ['REC#1', 'REC#2', 'REC#3']) await put(table, pk);
    const fn = recordingFunction((event) => (pks(event).includes('REC#1') ? { status: 'error', errorType: 'Error', errorMessage: 'always' } : { status: 'ok', result: null }));
    const logged: string[] = [];
    const pollers = start(table, dataDir, fn.invoker, { batchSize: 2, retryAttempts: 1 }, logged);
    try {
      await waitFor('REC#3 delivered', () => fn.events.some((e) => pks(e).includes('REC#3')));
      expect(fn.events.map(pks)).toEqual([['REC#1', 'REC#2'], ['REC#1', 'REC#2'], ['REC#3']]);
      expect(logged.filter((l) => l.includes('retries exhausted'))).toHaveLength(1);
    } finally {
      await pollers.stop();
    }
  });

  it('resumes at the first failed record of a partial batch failure (reportBatchItemFailures)', async () => {
    const { table, dataDir } = await freshTable();
    for (const pk of ['REC#1', 'REC#2', 'REC#3', 'REC#4']) await put(table, pk);
    const fn = recordingFunction((event, call) => {
      const seq = (pk: string) => event.Records.find((r) => pkOf(r) === pk)!.dynamodb!.SequenceNumber!;
      // The first time REC#4 and REC#3 fail (in any order): Lambda retries from the lowest.
      if (call === 0) return { status: 'ok', result: { batchItemFailures: [{ itemIdentifier: seq('REC#4') }, { itemIdentifier: seq('REC#3') }] } };
      // An identifier that is not in the batch fails all of it.
      if (call === 1) return { status: 'ok', result: { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] } };
      return { status: 'ok', result: { batchItemFailures: [] } };
    });
    const pollers = start(table, dataDir, fn.invoker);
    try {
      await waitFor('three invocations', () => fn.events.length >= 3);
      expect(fn.events.map(pks)).toEqual([['REC#1', 'REC#2', 'REC#3', 'REC#4'], ['REC#3', 'REC#4'], ['REC#3', 'REC#4']]);
      await waitFor('the last position', () => lastPosition(dataDir) === fn.events[0]!.Records[3]!.dynamodb!.SequenceNumber);
    } finally {
      await pollers.stop();
    }
  });

  it('keeps its position across a stop, a new poller and a restart of DynamoDB Local: every record once, none twice', async () => {
    const { table, dataDir } = await freshTable();
    const delivered: string[] = [];
    const fn = recordingFunction((event) => {
      delivered.push(...pks(event));
      return { status: 'ok', result: null };
    });
    await put(table, 'REC#1');
    await put(table, 'REC#2');
    let pollers = start(table, dataDir, fn.invoker);
    await waitFor('the first two', () => delivered.length >= 2);
    await pollers.stop();

    // Written while no poller runs: the next one delivers exactly these.
    await put(table, 'REC#3');
    await put(table, 'REC#4');
    pollers = start(table, dataDir, fn.invoker);
    await waitFor('the next two', () => delivered.length >= 4);
    await pollers.stop();

    // Stopped in the middle of an invocation: that batch is delivered again, as Lambda would.
    let hang = true;
    const hanging = recordingFunction((event) => {
      if (hang) return new Promise<InvokeOutcome>(() => undefined);
      delivered.push(...pks(event));
      return { status: 'ok', result: null };
    });
    await put(table, 'REC#5');
    pollers = start(table, dataDir, hanging.invoker);
    await waitFor('REC#5 in flight', () => hanging.events.length === 1);
    await pollers.stop();
    hang = false;

    // DynamoDB Local restarted: shard iterators are gone, sequence numbers are not.
    client.destroy();
    await emulator.stop();
    emulator = await startDynamoDbLocal({ dbPath, credentials });
    client = connect();
    await put(table, 'REC#6');
    pollers = start(table, dataDir, hanging.invoker);
    try {
      await waitFor('REC#5 and REC#6', () => delivered.length >= 6);
      await put(table, 'REC#7');
      await waitFor('REC#7', () => delivered.length >= 7);
    } finally {
      await pollers.stop();
    }
    expect(delivered).toEqual(['REC#1', 'REC#2', 'REC#3', 'REC#4', 'REC#5', 'REC#6', 'REC#7']);
  });

  it('starts at the end of the stream at its first start when the mapping says LATEST, and stays there across a restart', async () => {
    const { table, dataDir } = await freshTable();
    await put(table, 'REC#old1');
    await put(table, 'REC#old2');
    const fn = recordingFunction();
    let pollers = start(table, dataDir, fn.invoker, { startingPosition: 'LATEST' });
    await waitFor('the positions file', () => existsSync(join(dataDir, STREAM_POSITIONS_FILE)));
    await pollers.stop();
    pollers = start(table, dataDir, fn.invoker, { startingPosition: 'LATEST' });
    try {
      await put(table, 'REC#new');
      await waitFor('the new record', () => fn.events.length >= 1);
      expect(fn.events.flatMap(pks)).toEqual(['REC#new']);
    } finally {
      await pollers.stop();
    }
  });

  it('starts no mapping for a function that does not exist, and stops at once', async () => {
    const { table, dataDir } = await freshTable();
    const fn = recordingFunction();
    const pollers = startStreamPollers({
      endpoint: emulator.endpoint,
      region: REGION,
      credentials,
      invoker: fn.invoker,
      dataDir,
      hasFunction: () => false,
      eventSources: { recordChanges: baseSpec },
      tables: { records: { localName: table } },
      log: () => undefined,
    });
    expect(pollers.names).toEqual([]);
    await pollers.stop();
    expect(existsSync(join(dataDir, STREAM_POSITIONS_FILE))).toBe(false);
  });
});

// Credentials other than the data folder's see another (empty) database: the poller must use the same ones.
describe('credentials', () => {
  it('a poller with other credentials does not find the table', async () => {
    const { table, dataDir } = await freshTable();
    const logged: string[] = [];
    const pollers = startStreamPollers({
      endpoint: emulator.endpoint,
      region: REGION,
      credentials: { accessKeyId: `HUB${randomBytes(16).toString('hex').toUpperCase()}`, secretAccessKey: 'x' },
      invoker: recordingFunction().invoker,
      dataDir,
      hasFunction: () => true,
      eventSources: { recordChanges: baseSpec },
      tables: { records: { localName: table } },
      log: (l) => logged.push(l),
      discoverEveryMs: 50,
    });
    try {
      await waitFor('a log line', () => logged.length > 0);
      expect(logged[0]).toMatch(/cannot describe table stream-test-\d+ \(ResourceNotFoundException\)/);
    } finally {
      await pollers.stop();
    }
  });
});
