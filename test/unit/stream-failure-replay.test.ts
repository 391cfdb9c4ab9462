/**
 * A stream batch given up and reported (shared/streams/failure-record.ts), and its replay from the stream once the
 * fault is fixed (shared/streams/replay.ts, tools/replay-stream-failure.ts), with the Streams and Lambda APIs mocked:
 * the record Lambda writes and what reading one accepts; the batch read from its first sequence number to its last,
 * filtered as the mapping filters, and given to the function as the mapping would have; what cannot be replayed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, TrimmedDataAccessException, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseStreamFailureRecord, streamFailureRecord, type ReportedBatch } from '../../shared/streams/failure-record.js';
import { readReportedBatch, replayReportedBatch, ReplayError } from '../../shared/streams/replay.js';
import { REPLAYABLE_MAPPINGS, runReplayStreamFailure } from '../../tools/replay-stream-failure.js';

const streams = mockClient(DynamoDBStreamsClient);
const lambda = mockClient(LambdaClient);
const STREAM = 'arn:aws:dynamodb:cn-northwest-1:123456789012:table/CreditHub-RecordsTable/stream/2026-11-28T00:00:00.000';
const FUNCTION = 'arn:aws:lambda:cn-northwest-1:123456789012:function:CreditHub-Fanout';
const dirs: string[] = [];

beforeEach(() => {
  streams.reset();
  lambda.reset();
});
afterAll(() => {
  streams.restore();
  lambda.restore();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const head = (seq: string, pk: string, sk = 'HEAD'): _Record => ({
  eventID: `e${seq}`,
  eventName: 'MODIFY',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  dynamodb: { SequenceNumber: seq, Keys: { pk: { S: pk }, sk: { S: sk } }, NewImage: { pk: { S: pk }, sk: { S: sk } }, SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES' },
});

const batch: ReportedBatch = {
  functionArn: FUNCTION,
  condition: 'RecordAgeExceeded',
  streamArn: STREAM,
  shardId: 'shardId-00000001',
  startSequenceNumber: '200',
  endSequenceNumber: '400',
  batchSize: 2,
};

/** The shard from 200 on, in two pages: 200 (a head), 300 (a version item, filtered out), then 400 (a head) and 500 (after the batch). */
function shardFrom200(): void {
  streams.on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: '200' }).resolves({ ShardIterator: 'at-200' });
  streams
    .on(GetRecordsCommand, { ShardIterator: 'at-200' })
    .resolves({ Records: [head('200', 'REC#1'), head('300', 'REC#1', 'V#0000000002')], NextShardIterator: 'page-2' })
    .on(GetRecordsCommand, { ShardIterator: 'page-2' })
    .resolves({ Records: [head('400', 'REC#2'), head('500', 'REC#3')], NextShardIterator: 'page-3' });
}

const invokedEvent = () => JSON.parse(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array)) as DynamoDBStreamEvent;

describe('the failure record', () => {
  it('is Lambda’s: the batch by shard and sequence numbers, arrivals to the second; read back for a replay', () => {
    const record = streamFailureRecord({
      requestId: 'r-1',
      functionArn: FUNCTION,
      condition: 'RetryAttemptsExhausted',
      invokeCount: 3,
      functionError: true,
      shardId: 'shardId-00000001',
      streamArn: STREAM,
      records: [
        { sequenceNumber: '200', arrivedAt: new Date('2026-11-28T01:02:03.456Z') },
        { sequenceNumber: '400', arrivedAt: new Date('2026-11-28T01:02:05.001Z') },
      ],
      at: new Date('2026-11-28T07:02:03.789Z'),
    });
    expect(record).toEqual({
      requestContext: { requestId: 'r-1', functionArn: FUNCTION, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-28T07:02:03.789Z',
      DDBStreamBatchInfo: {
        shardId: 'shardId-00000001',
        startSequenceNumber: '200',
        endSequenceNumber: '400',
        approximateArrivalOfFirstRecord: '2026-11-28T01:02:03Z',
        approximateArrivalOfLastRecord: '2026-11-28T01:02:05Z',
        batchSize: 2,
        streamArn: STREAM,
      },
    });
    expect(parseStreamFailureRecord(JSON.stringify(record))).toEqual({ ...batch, condition: 'RetryAttemptsExhausted' });
    expect(() => streamFailureRecord({ ...{ requestId: 'r', functionArn: FUNCTION, condition: 'RecordAgeExceeded', invokeCount: 1, functionError: false, shardId: 's', streamArn: STREAM, at: new Date(0) }, records: [] })).toThrow(
      /at least one stream record/,
    );
  });

  it('reading refuses what is not one, saying what is wrong', () => {
    const good = { requestContext: { functionArn: FUNCTION, condition: 'RecordAgeExceeded' }, DDBStreamBatchInfo: { ...batch, functionArn: undefined, condition: undefined } };
    expect(() => parseStreamFailureRecord('{')).toThrow(/not JSON/);
    expect(() => parseStreamFailureRecord(JSON.stringify({ Records: [] }))).toThrow(/no DDBStreamBatchInfo/);
    expect(() => parseStreamFailureRecord(JSON.stringify({ ...good, DDBStreamBatchInfo: { ...good.DDBStreamBatchInfo, shardId: '' } }))).toThrow(/shardId missing/);
    expect(() => parseStreamFailureRecord(JSON.stringify({ ...good, DDBStreamBatchInfo: { ...good.DDBStreamBatchInfo, endSequenceNumber: '4e2' } }))).toThrow(/not a number/);
    expect(() => parseStreamFailureRecord(JSON.stringify({ ...good, DDBStreamBatchInfo: { ...good.DDBStreamBatchInfo, endSequenceNumber: '199' } }))).toThrow(/start.*after.*end/);
    expect(() => parseStreamFailureRecord(JSON.stringify({ ...good, DDBStreamBatchInfo: { ...good.DDBStreamBatchInfo, batchSize: 0 } }))).toThrow(/batchSize missing/);
    expect(parseStreamFailureRecord(JSON.stringify(good))).toEqual(batch);
  });
});

describe('replaying a reported batch', () => {
  it('reads the shard at the first sequence number up to the last, and invokes the function with the records the filter passes', async () => {
    shardFrom200();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ batchItemFailures: [] })) as never });
    const result = await replayReportedBatch({ streams: new DynamoDBStreamsClient({ region: 'cn-northwest-1' }), lambda: new LambdaClient({ region: 'cn-northwest-1' }) }, batch, {
      newImageEquals: { sk: 'HEAD' },
    });
    expect(result).toEqual({ read: 3, replayed: 2, failedAgain: [] });
    expect(streams.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input)).toEqual([
      { StreamArn: STREAM, ShardId: 'shardId-00000001', ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: '200' },
    ]);
    // It stops at the last sequence number: no read past the page holding it.
    expect(streams.commandCalls(GetRecordsCommand)).toHaveLength(2);
    const invoke = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(invoke).toMatchObject({ FunctionName: FUNCTION, InvocationType: 'RequestResponse' });
    const event = invokedEvent();
    expect(event.Records.map((r) => r.dynamodb!.SequenceNumber)).toEqual(['200', '400']);
    expect(event.Records.map((r) => [r.eventSource, r.eventSourceARN, r.awsRegion])).toEqual([
      ['aws:dynamodb', STREAM, 'cn-northwest-1'],
      ['aws:dynamodb', STREAM, 'cn-northwest-1'],
    ]);
  });

  it('names what the function reports failed again (reportBatchItemFailures); an identifier not in the batch fails it whole, as on Lambda', async () => {
    shardFrom200();
    const clients = { streams: new DynamoDBStreamsClient({ region: 'cn-northwest-1' }), lambda: new LambdaClient({ region: 'cn-northwest-1' }) };
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ batchItemFailures: [{ itemIdentifier: '400' }] })) as never })
      .resolvesOnce({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ batchItemFailures: [{ itemIdentifier: '999' }] })) as never });
    expect((await replayReportedBatch(clients, batch, { newImageEquals: { sk: 'HEAD' } })).failedAgain).toEqual(['400']);
    expect((await replayReportedBatch(clients, batch, { newImageEquals: { sk: 'HEAD' } })).failedAgain).toEqual(['200', '400']);
  });

  it('a function failing again is an error, naming its type and not its message', async () => {
    shardFrom200();
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(JSON.stringify({ errorType: 'ConditionalCheckFailedException', errorMessage: 'record 110101199003070011' })) as never,
    });
    const replay = replayReportedBatch({ streams: new DynamoDBStreamsClient({ region: 'cn-northwest-1' }), lambda: new LambdaClient({ region: 'cn-northwest-1' }) }, batch);
    await expect(replay).rejects.toThrow(ReplayError);
    await expect(replay).rejects.toThrow(/failed again \(ConditionalCheckFailedException\)/);
    await expect(replay).rejects.not.toThrow(/110101/);
  });

  it('records that have left the stream, or a shard ending before the last one, cannot be replayed, and nothing is invoked', async () => {
    const client = new DynamoDBStreamsClient({ region: 'cn-northwest-1' });
    streams.on(GetShardIteratorCommand).rejects(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }));
    await expect(readReportedBatch(client, batch)).rejects.toThrow(/have left the stream \(TrimmedDataAccessException\)/);

    streams.reset();
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'at-200' });
    streams.on(GetRecordsCommand, { ShardIterator: 'at-200' }).resolves({ Records: [head('200', 'REC#1')] });
    await expect(readReportedBatch(client, batch)).rejects.toThrow(/ends before the record 400/);

    streams.reset();
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'at-200' });
    streams.on(GetRecordsCommand, { ShardIterator: 'at-200' }).resolves({ Records: [head('250', 'REC#1'), head('400', 'REC#2')] });
    await expect(readReportedBatch(client, batch)).rejects.toThrow(/no longer holds the record 200/);
    expect(lambda.commandCalls(InvokeCommand)).toEqual([]);
  });
});

describe('tools/replay-stream-failure.ts', () => {
  const record = (b: ReportedBatch) =>
    JSON.stringify({
      requestContext: { requestId: 'r', functionArn: b.functionArn, condition: b.condition, approximateInvokeCount: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-28T07:00:00.000Z',
      DDBStreamBatchInfo: { shardId: b.shardId, startSequenceNumber: b.startSequenceNumber, endSequenceNumber: b.endSequenceNumber, batchSize: b.batchSize, streamArn: b.streamArn },
    });
  const clientsFor = () => ({ streams: new DynamoDBStreamsClient({ region: 'cn-northwest-1' }), lambda: new LambdaClient({ region: 'cn-northwest-1' }) });

  it('offers the stream mappings that report batches they give up', () => {
    expect(REPLAYABLE_MAPPINGS.sort()).toEqual(['recordChanges', 'recordPublishing']);
  });

  it('replays the record given on stdin with the mapping’s filter, prints counts and sequence numbers as JSON, exit 0', async () => {
    shardFrom200();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('null') as never });
    const out: string[] = [];
    const err: string[] = [];
    const status = await runReplayStreamFailure(['--mapping', 'recordChanges'], { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: () => record(batch) }, clientsFor);
    expect([status, err]).toEqual([0, []]);
    expect(JSON.parse(out.join(''))).toEqual({ mapping: 'recordChanges', shardId: 'shardId-00000001', startSequenceNumber: '200', endSequenceNumber: '400', read: 3, replayed: 2, failedAgain: [] });
    expect(invokedEvent().Records.map((r) => r.dynamodb!.SequenceNumber)).toEqual(['200', '400']);
  });

  it('reads the record from --file; records failed again are exit 1 with a line saying to keep the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-replay-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'record.json'), record(batch));
    shardFrom200();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ batchItemFailures: [{ itemIdentifier: '200' }] })) as never });
    const err: string[] = [];
    const status = await runReplayStreamFailure(['--mapping', 'recordPublishing', '--file', join(dir, 'record.json')], { stdout: () => undefined, stderr: (t) => err.push(t), readStdin: () => '' }, clientsFor);
    expect(status).toBe(1);
    expect(err.join('')).toMatch(/reported 1 records failed again.*keep the message/);
  });

  it('an unknown mapping or a message that is not a failure record: one line, exit status not 0, nothing read or invoked', async () => {
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (t: string) => err.push(t), readStdin: () => '{"Records":[]}' };
    expect(await runReplayStreamFailure(['--mapping', 'provincialDeliveries'], io, clientsFor)).not.toBe(0);
    expect(err.join('')).toMatch(/Allowed choices are recordChanges, recordPublishing/);
    err.length = 0;
    expect(await runReplayStreamFailure(['--mapping', 'recordChanges'], io, clientsFor)).toBe(1);
    expect(err).toEqual(['replay-stream-failure: 重放失败 (replay failed): not a stream failure record: no DDBStreamBatchInfo or requestContext\n']);
    expect(streams.calls()).toEqual([]);
    expect(lambda.calls()).toEqual([]);
  });
});
