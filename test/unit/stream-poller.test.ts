/**
 * The stream poller's logic around the Streams API (infra/local/stream-poller.ts), with the SDK mocked:
 * shard lineage (a child after its parent is finished), DescribeStream pages, an expired iterator, a
 * position older than the stream keeps; and its pure parts: the filter, the answer of a batch, Lambda's
 * attribute values. DynamoDB Local has one shard per stream, so these cases cannot be made there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventSourceSpec } from '../../infra/catalogue.js';
import type { FunctionInvoker } from '../../infra/local/lambda-runtime.js';
import { STREAM_POSITIONS_FILE, batchOutcome, lambdaAttributeValue, passesFilter, startStreamPollers } from '../../infra/local/stream-poller.js';

const dynamo = mockClient(DynamoDBClient);
const streams = mockClient(DynamoDBStreamsClient);
const sqs = mockClient(SQSClient);
const STREAM = 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x';
const dirs: string[] = [];

beforeEach(() => {
  dynamo.reset();
  streams.reset();
  sqs.reset();
  dynamo.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: STREAM, StreamSpecification: { StreamEnabled: true } } });
});
afterEach(() => {
  dynamo.reset();
  streams.reset();
});
afterAll(() => {
  dynamo.restore();
  streams.restore();
  sqs.restore();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const record = (seq: string, pk: string): _Record => ({
  eventID: `e${seq}`,
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  dynamodb: { SequenceNumber: seq, Keys: { pk: { S: pk } }, NewImage: { pk: { S: pk }, sk: { S: 'HEAD' } }, SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES' },
});

const spec: Extract<EventSourceSpec, { type: 'dynamodb-stream' }> = {
  type: 'dynamodb-stream',
  table: 'records',
  function: 'fanout',
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  retryAttempts: -1,
  bisectBatchOnError: false,
  reportBatchItemFailures: true,
  description: 'test',
};

type Spec = Extract<EventSourceSpec, { type: 'dynamodb-stream' }>;
const FAILURES_URL = 'http://127.0.0.1:9/000000000000/hub-stream-failures';

function poller(
  dataDir: string,
  delivered: string[],
  logged: string[] = [],
  fails: (pk: string) => boolean = () => false,
  options: { spec?: Partial<Spec>; failureQueues?: Record<string, { url: string }> } = {},
) {
  const invoker: FunctionInvoker = {
    invoke: async (_fn, event) => {
      const pks = (event as DynamoDBStreamEvent).Records.map((r) => (r.dynamodb!.Keys!.pk as { S: string }).S);
      if (pks.some(fails)) return { status: 'error', errorType: 'Error', errorMessage: 'fails' };
      delivered.push(...pks);
      return { status: 'ok', result: null };
    },
    close: async () => undefined,
  };
  return startTestPollers(invoker, dataDir, { ...options, log: (l) => logged.push(l) });
}

/** The pollers of these tests: one mapping (`changes`, over table `t`) that invokes `invoker`, polling fast. */
function startTestPollers(invoker: FunctionInvoker, dataDir: string, options: { spec?: Partial<Spec>; failureQueues?: Record<string, { url: string }>; log?: (line: string) => void } = {}) {
  return startStreamPollers({
    endpoint: 'http://127.0.0.1:1',
    region: 'cn-north-1',
    credentials: { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 's' },
    invoker,
    dataDir,
    hasFunction: () => true,
    eventSources: { changes: { ...spec, ...options.spec } },
    tables: { records: { localName: 't' } },
    ...(options.failureQueues ? { onFailure: { connection: { endpoint: 'http://127.0.0.1:9', region: 'cn-north-1' }, queues: options.failureQueues } } : {}),
    log: options.log ?? (() => undefined),
    idlePollMs: 5,
    discoverEveryMs: 10,
    retryBackoff: { firstMs: 5, maxMs: 10 },
  });
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hub-stream-unit-'));
  dirs.push(d);
  return d;
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('shards', () => {
  it('lists every page of shards, and reads a child only after its parent is finished', async () => {
    const calls: string[] = [];
    streams.on(DescribeStreamCommand).callsFake((input: { ExclusiveStartShardId?: string }) =>
      input.ExclusiveStartShardId === 'parent'
        ? { StreamDescription: { Shards: [{ ShardId: 'child', ParentShardId: 'parent', SequenceNumberRange: { StartingSequenceNumber: '300' } }] } }
        : {
            StreamDescription: {
              Shards: [{ ShardId: 'parent', SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' } }],
              LastEvaluatedShardId: 'parent',
            },
          },
    );
    streams.on(GetShardIteratorCommand).callsFake((input: { ShardId: string; ShardIteratorType: string }) => {
      calls.push(`iterator ${input.ShardId} ${input.ShardIteratorType}`);
      return { ShardIterator: input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' ? `${input.ShardId}-after` : `${input.ShardId}-1` };
    });
    const pages: Record<string, { Records: _Record[]; NextShardIterator?: string }> = {
      'parent-1': { Records: [record('100', 'P1'), record('150', 'P2')], NextShardIterator: 'parent-2' },
      'parent-2': { Records: [record('200', 'P3')], NextShardIterator: 'parent-3' },
      // Closed and read to its end: no next iterator.
      'parent-3': { Records: [] },
      'child-1': { Records: [record('300', 'C1')], NextShardIterator: 'child-2' },
      'child-2': { Records: [], NextShardIterator: 'child-2' },
      'child-after': { Records: [], NextShardIterator: 'child-after' },
    };
    streams.on(GetRecordsCommand).callsFake((input: { ShardIterator: string }) => {
      calls.push(`records ${input.ShardIterator}`);
      return pages[input.ShardIterator];
    });
    const delivered: string[] = [];
    const dir = dataDir();
    const pollers = poller(dir, delivered);
    try {
      await waitFor('the child’s record', () => delivered.includes('C1'));
    } finally {
      await pollers.stop();
    }
    expect(delivered).toEqual(['P1', 'P2', 'P3', 'C1']);
    expect(calls.indexOf('iterator child TRIM_HORIZON')).toBeGreaterThan(calls.indexOf('records parent-3'));
    // A new poller on the same folder does not read the finished parent again.
    calls.length = 0;
    const again: string[] = [];
    const second = poller(dir, again);
    try {
      await waitFor('the child read again', () => calls.includes('records child-after'));
    } finally {
      await second.stop();
    }
    expect(calls.filter((c) => c.includes('parent'))).toEqual([]);
    expect(calls).toContain('iterator child AFTER_SEQUENCE_NUMBER');
    expect(again).toEqual([]);
  });

  it('takes a new iterator after the last record read when one expires', async () => {
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 's', SequenceNumberRange: { StartingSequenceNumber: '1' } }] } });
    const iterators: { type: string; seq?: string }[] = [];
    streams.on(GetShardIteratorCommand).callsFake((input: { ShardIteratorType: string; SequenceNumber?: string }) => {
      iterators.push({ type: input.ShardIteratorType, ...(input.SequenceNumber ? { seq: input.SequenceNumber } : {}) });
      return { ShardIterator: input.SequenceNumber === '7' ? 'after-7' : 'start' };
    });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'start' })
      .resolves({ Records: [record('7', 'A')], NextShardIterator: 'stale' })
      .on(GetRecordsCommand, { ShardIterator: 'stale' })
      .rejects(new ExpiredIteratorException({ message: 'expired', $metadata: {} }))
      .on(GetRecordsCommand, { ShardIterator: 'after-7' })
      .resolves({ Records: [record('8', 'B')], NextShardIterator: 'idle' })
      .on(GetRecordsCommand, { ShardIterator: 'idle' })
      .resolves({ Records: [], NextShardIterator: 'idle' });
    const delivered: string[] = [];
    const pollers = poller(dataDir(), delivered);
    try {
      await waitFor('B', () => delivered.includes('B'));
    } finally {
      await pollers.stop();
    }
    expect(delivered).toEqual(['A', 'B']);
    expect(iterators).toEqual([{ type: 'TRIM_HORIZON' }, { type: 'AFTER_SEQUENCE_NUMBER', seq: '7' }]);
  });

  it('reads from the oldest record left when its position was trimmed away, and says so', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, STREAM_POSITIONS_FILE), JSON.stringify({ note: '', mappings: { changes: { streamArn: STREAM, shards: { s: { after: '5' } } } } }));
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 's', SequenceNumberRange: { StartingSequenceNumber: '50' } }] } });
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' })
      .rejects(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }))
      .on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' })
      .resolves({ ShardIterator: 'oldest' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'oldest' })
      .resolves({ Records: [record('50', 'X')], NextShardIterator: 'idle' })
      .on(GetRecordsCommand, { ShardIterator: 'idle' })
      .resolves({ Records: [], NextShardIterator: 'idle' });
    const delivered: string[] = [];
    const logged: string[] = [];
    const pollers = poller(dir, delivered, logged);
    try {
      await waitFor('X', () => delivered.includes('X'));
    } finally {
      await pollers.stop();
    }
    expect(logged.some((l) => /the position 5 is older than the stream keeps/.test(l))).toBe(true);
  });
});

describe('an iterator taken on an empty shard (DynamoDB Local)', () => {
  it('takes a new iterator at once when reading with it says the data was trimmed, and delivers', async () => {
    const dir = dataDir();
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 's', SequenceNumberRange: { StartingSequenceNumber: '1' } }] } });
    let iterators = 0;
    streams.on(GetShardIteratorCommand).callsFake(() => ({ ShardIterator: `it-${++iterators}` }));
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .rejects(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }))
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .resolves({ Records: [record('3', 'Y')], NextShardIterator: 'idle' })
      .on(GetRecordsCommand, { ShardIterator: 'idle' })
      .resolves({ Records: [], NextShardIterator: 'idle' });
    const delivered: string[] = [];
    const logged: string[] = [];
    const pollers = poller(dir, delivered, logged);
    try {
      await waitFor('Y', () => delivered.includes('Y'));
    } finally {
      await pollers.stop();
    }
    expect(iterators).toBe(2);
    expect(logged.filter((l) => /cannot read the stream/.test(l))).toEqual([]);
  });
});

describe('batches', () => {
  it('puts no more records in a batch than fit in Lambda’s 6 MB payload', async () => {
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 's', SequenceNumberRange: { StartingSequenceNumber: '1' } }] } });
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'start' });
    const big = (seq: string, pk: string) => {
      const r = record(seq, pk);
      r.dynamodb!.NewImage!.text = { S: 'x'.repeat(2_500_000) };
      return r;
    };
    streams
      .on(GetRecordsCommand, { ShardIterator: 'start' })
      .resolves({ Records: [big('1', 'A'), big('2', 'B'), big('3', 'C')], NextShardIterator: 'idle' })
      .on(GetRecordsCommand, { ShardIterator: 'idle' })
      .resolves({ Records: [], NextShardIterator: 'idle' });
    const batches: string[][] = [];
    const invoker: FunctionInvoker = {
      invoke: async (_fn, event) => {
        batches.push((event as DynamoDBStreamEvent).Records.map((r) => (r.dynamodb!.Keys!.pk as { S: string }).S));
        return { status: 'ok', result: null };
      },
      close: async () => undefined,
    };
    const pollers = startTestPollers(invoker, dataDir());
    try {
      await waitFor('C', () => batches.flat().includes('C'));
    } finally {
      await pollers.stop();
    }
    expect(batches).toEqual([['A', 'B'], ['C']]);
  });
});

describe('retries', () => {
  it('gives up on records older than the stream keeps (24 hours) even with retryAttempts -1, and says so', async () => {
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 's', SequenceNumberRange: { StartingSequenceNumber: '1' } }] } });
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'start' });
    const old = record('1', 'OLD');
    old.dynamodb!.ApproximateCreationDateTime = new Date(Date.now() - 25 * 3600_000);
    const fresh = record('2', 'NEW');
    fresh.dynamodb!.ApproximateCreationDateTime = new Date();
    streams
      .on(GetRecordsCommand, { ShardIterator: 'start' })
      .resolves({ Records: [old], NextShardIterator: 'next' })
      .on(GetRecordsCommand, { ShardIterator: 'next' })
      .resolves({ Records: [fresh], NextShardIterator: 'idle' })
      .on(GetRecordsCommand, { ShardIterator: 'idle' })
      .resolves({ Records: [], NextShardIterator: 'idle' });
    const delivered: string[] = [];
    const logged: string[] = [];
    const pollers = poller(dataDir(), delivered, logged, (pk) => pk === 'OLD');
    try {
      await waitFor('NEW', () => delivered.includes('NEW'));
    } finally {
      await pollers.stop();
    }
    expect(delivered).toEqual(['NEW']);
    expect(logged.filter((l) => l.includes('the records have left the stream (24 hours): they are skipped'))).toHaveLength(1);
  });
});

describe('batches given up: reported to the on-failure queue as Lambda’s failure record', () => {
  /** One shard holding `records`, read once, then nothing new. */
  function shardHolding(...records: _Record[]): void {
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 'shardId-0001', SequenceNumberRange: { StartingSequenceNumber: '1' } }] } });
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'start' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'start' })
      .resolves({ Records: records, NextShardIterator: 'idle' })
      .on(GetRecordsCommand, { ShardIterator: 'idle' })
      .resolves({ Records: [], NextShardIterator: 'idle' });
  }
  const reporting = { onFailure: 'streamFailures' as const };
  const sentBodies = () => sqs.commandCalls(SendMessageCommand).map((c) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(c.args[0].input.MessageBody!) }));

  it('retries spent: sends the record (shard, sequence numbers, invocations, no record content), moves past the batch and goes on', async () => {
    const arrived = new Date(Date.now() - 60_000);
    const a = record('100', 'A');
    a.dynamodb!.ApproximateCreationDateTime = arrived;
    shardHolding(a, record('200', 'B'));
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const delivered: string[] = [];
    const logged: string[] = [];
    const dir = dataDir();
    const pollers = poller(dir, delivered, logged, (pk) => pk === 'A', { spec: { batchSize: 1, retryAttempts: 1, ...reporting }, failureQueues: { streamFailures: { url: FAILURES_URL } } });
    try {
      await waitFor('B', () => delivered.includes('B'));
    } finally {
      await pollers.stop();
    }
    expect(delivered).toEqual(['B']);
    const sent = sentBodies();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(FAILURES_URL);
    const body = sent[0]!.body;
    expect(body).toEqual({
      requestContext: { requestId: expect.any(String), functionArn: 'arn:aws:lambda:cn-north-1:000000000000:function:credit-hub-fanout', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      DDBStreamBatchInfo: {
        shardId: 'shardId-0001',
        startSequenceNumber: '100',
        endSequenceNumber: '100',
        approximateArrivalOfFirstRecord: arrived.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        approximateArrivalOfLastRecord: arrived.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        batchSize: 1,
        streamArn: STREAM,
      },
    });
    // The record names the batch; it never carries the records' content.
    expect(JSON.stringify(body)).not.toContain('"A"');
    expect(logged.filter((l) => l.includes('retries exhausted: they are skipped and reported to the queue streamFailures'))).toHaveLength(1);
    const positions = JSON.parse(readFileSync(join(dir, STREAM_POSITIONS_FILE), 'utf8')) as { mappings: { changes: { shards: Record<string, { after?: string }> } } };
    expect(positions.mappings.changes.shards['shardId-0001']!.after).toBe('200');
  });

  it('records older than maximumRecordAgeSeconds: given up at their first failure, as RecordAgeExceeded', async () => {
    const old = record('100', 'OLD');
    old.dynamodb!.ApproximateCreationDateTime = new Date(Date.now() - 2 * 3600_000);
    const fresh = record('200', 'NEW');
    fresh.dynamodb!.ApproximateCreationDateTime = new Date();
    shardHolding(old, fresh);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const delivered: string[] = [];
    const logged: string[] = [];
    const pollers = poller(dataDir(), delivered, logged, (pk) => pk === 'OLD', {
      spec: { batchSize: 1, retryAttempts: -1, maximumRecordAgeSeconds: 3600, ...reporting },
      failureQueues: { streamFailures: { url: FAILURES_URL } },
    });
    try {
      await waitFor('NEW', () => delivered.includes('NEW'));
    } finally {
      await pollers.stop();
    }
    expect(delivered).toEqual(['NEW']);
    const [sent] = sentBodies();
    expect(sent!.body.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 1 });
    expect(sent!.body.DDBStreamBatchInfo).toMatchObject({ startSequenceNumber: '100', endSequenceNumber: '100', batchSize: 1 });
    expect(logged.filter((l) => l.includes('older than maximumRecordAgeSeconds (3600 s): they are skipped and reported to the queue streamFailures'))).toHaveLength(1);
  });

  it('a partial batch failure given up: the record covers the records from the first failed one, without functionError', async () => {
    shardHolding(record('100', 'A'), record('200', 'B'), record('300', 'C'));
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const calls: string[][] = [];
    const invoker: FunctionInvoker = {
      invoke: async (_fn, event) => {
        const records = (event as DynamoDBStreamEvent).Records;
        calls.push(records.map((r) => (r.dynamodb!.Keys!.pk as { S: string }).S));
        const b = records.find((r) => (r.dynamodb!.Keys!.pk as { S: string }).S === 'B');
        return { status: 'ok', result: b ? { batchItemFailures: [{ itemIdentifier: b.dynamodb!.SequenceNumber }] } : null };
      },
      close: async () => undefined,
    };
    const pollers = startTestPollers(invoker, dataDir(), { spec: { retryAttempts: 0, ...reporting }, failureQueues: { streamFailures: { url: FAILURES_URL } } });
    try {
      await waitFor('the report', () => sqs.commandCalls(SendMessageCommand).length > 0);
    } finally {
      await pollers.stop();
    }
    expect(calls).toEqual([['A', 'B', 'C']]);
    const [sent] = sentBodies();
    expect(sent!.body.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(sent!.body.DDBStreamBatchInfo).toMatchObject({ startSequenceNumber: '200', endSequenceNumber: '300', batchSize: 2 });
  });

  it('the queue refusing: the report is sent again, and nothing later in the shard is delivered before it is taken', async () => {
    shardHolding(record('100', 'A'), record('200', 'B'));
    const order: string[] = [];
    let sends = 0;
    sqs.on(SendMessageCommand).callsFake(() => {
      sends++;
      if (sends === 1) {
        order.push('report refused');
        throw Object.assign(new Error('queue unavailable'), { name: 'ServiceUnavailable' });
      }
      order.push('report taken');
      return { MessageId: 'm1' };
    });
    const logged: string[] = [];
    // What the function is given goes into the same list, when it is given.
    const pollers = poller(dataDir(), order, logged, (pk) => pk === 'A', { spec: { batchSize: 1, retryAttempts: 0, ...reporting }, failureQueues: { streamFailures: { url: FAILURES_URL } } });
    try {
      await waitFor('B', () => order.includes('B'));
    } finally {
      await pollers.stop();
    }
    expect(order).toEqual(['report refused', 'report taken', 'B']);
    expect(logged.filter((l) => l.includes('cannot report the batch given up to the queue streamFailures (ServiceUnavailable'))).toHaveLength(1);
  });

  it('a mapping whose on-failure queue is not there says so at its start, and only logs what it gives up', async () => {
    shardHolding(record('100', 'A'), record('200', 'B'));
    const delivered: string[] = [];
    const logged: string[] = [];
    const pollers = poller(dataDir(), delivered, logged, (pk) => pk === 'A', { spec: { batchSize: 1, retryAttempts: 0, ...reporting } });
    try {
      await waitFor('B', () => delivered.includes('B'));
    } finally {
      await pollers.stop();
    }
    expect(logged).toContain('stream changes: its on-failure queue streamFailures is not there: batches given up are only logged');
    expect(logged.filter((l) => l.endsWith('retries exhausted: they are skipped'))).toHaveLength(1);
    expect(sqs.commandCalls(SendMessageCommand)).toEqual([]);
  });
});

describe('pure parts', () => {
  it('filters on string attributes of the new image; no new image never passes', () => {
    const head = record('1', 'A');
    expect(passesFilter(head, undefined)).toBe(true);
    expect(passesFilter(head, { sk: 'HEAD' })).toBe(true);
    expect(passesFilter({ ...head, dynamodb: { ...head.dynamodb, NewImage: { sk: { S: 'V#0000000001' } } } }, { sk: 'HEAD' })).toBe(false);
    expect(passesFilter({ ...head, dynamodb: { ...head.dynamodb, NewImage: { sk: { N: '1' } } } }, { sk: '1' })).toBe(false);
    expect(passesFilter({ ...head, eventName: 'REMOVE', dynamodb: { ...head.dynamodb, NewImage: undefined, OldImage: { sk: { S: 'HEAD' } } } }, { sk: 'HEAD' })).toBe(false);
  });

  it('reads a batch’s answer as Lambda does', () => {
    const seqs = ['10', '20', '30'];
    expect(batchOutcome(null, seqs, true)).toEqual({ ok: true });
    expect(batchOutcome(undefined, seqs, true)).toEqual({ ok: true });
    expect(batchOutcome({}, seqs, true)).toEqual({ ok: true });
    expect(batchOutcome({ batchItemFailures: [] }, seqs, true)).toEqual({ ok: true });
    expect(batchOutcome({ batchItemFailures: null }, seqs, true)).toEqual({ ok: true });
    expect(batchOutcome({ batchItemFailures: [{ itemIdentifier: '30' }, { itemIdentifier: '20' }] }, seqs, true)).toEqual({ retryFrom: 1 });
    expect(batchOutcome({ batchItemFailures: [{ itemIdentifier: '' }] }, seqs, true)).toEqual({ retryFrom: 0 });
    expect(batchOutcome({ batchItemFailures: [{ itemIdentifier: '99' }] }, seqs, true)).toEqual({ retryFrom: 0 });
    expect(batchOutcome({ batchItemFailures: [{ id: '20' }] }, seqs, true)).toEqual({ retryFrom: 0 });
    expect(batchOutcome({ batchItemFailures: 'x' }, seqs, true)).toEqual({ retryFrom: 0 });
    // Without reportBatchItemFailures the answer is not looked at.
    expect(batchOutcome({ batchItemFailures: [{ itemIdentifier: '20' }] }, seqs, false)).toEqual({ ok: true });
  });

  it('writes attribute values as Lambda does: binary as base64, at any depth', () => {
    expect(lambdaAttributeValue({ B: new Uint8Array([255, 0]) })).toEqual({ B: '/wA=' });
    expect(lambdaAttributeValue({ BS: [new Uint8Array([1]), new Uint8Array([2])] })).toEqual({ BS: ['AQ==', 'Ag=='] });
    expect(
      lambdaAttributeValue({ M: { a: { L: [{ B: new Uint8Array([1]) }, { NULL: true }, { BOOL: false }, { N: '1.5' }, { SS: ['x'] }, { NS: ['2'] }] } } }),
    ).toEqual({ M: { a: { L: [{ B: 'AQ==' }, { NULL: true }, { BOOL: false }, { N: '1.5' }, { SS: ['x'] }, { NS: ['2'] }] } } });
  });
});
