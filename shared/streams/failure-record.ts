/**
 * Lambda's failure record of a DynamoDB stream batch that an event-source mapping gave up (its retries spent, or
 * its records older than MaximumRecordAgeInSeconds), as Lambda sends it to the mapping's on-failure destination
 * (AWS Lambda Developer Guide, "Retaining discarded records for a DynamoDB event source"). It names the batch by
 * shard and sequence numbers and holds no record content: the records themselves are read again from the stream
 * (while it still keeps them, 24 hours) to replay the batch (replay.ts).
 *
 * The local stack's stream poller (infra/local/stream-poller.ts) writes the same record with streamFailureRecord.
 */

/** Why the batch was given up. */
export type StreamFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface StreamFailureRecord {
  requestContext: {
    /** The last invocation's request id. */
    requestId: string;
    functionArn: string;
    condition: StreamFailureCondition;
    approximateInvokeCount: number;
  };
  responseContext: {
    statusCode: number;
    executedVersion: string;
    /** Absent when the function answered (with batch item failures). */
    functionError?: 'Handled' | 'Unhandled';
  };
  version: '1.0';
  /** When the batch was given up (ISO 8601). */
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    /** ISO 8601, to the second, as Lambda writes them. */
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
    batchSize: number;
    streamArn: string;
  };
}

/** A record of a stream batch: its sequence number and when it arrived in the stream. */
export interface BatchRecord {
  sequenceNumber: string;
  arrivedAt?: Date;
}

export interface StreamFailure {
  requestId: string;
  functionArn: string;
  condition: StreamFailureCondition;
  invokeCount: number;
  /** Whether the last invocation failed (an error, a timeout, a crash) rather than answering with batch item failures. */
  functionError: boolean;
  shardId: string;
  streamArn: string;
  /** The records given up, in stream order (at least one). */
  records: readonly BatchRecord[];
  /** When it was given up. */
  at: Date;
}

const toTheSecond = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The failure record Lambda sends for a batch it gave up. */
export function streamFailureRecord(failure: StreamFailure): StreamFailureRecord {
  const first = failure.records[0];
  const last = failure.records.at(-1);
  if (!first || !last) throw new Error('a failure record names at least one stream record');
  return {
    requestContext: { requestId: failure.requestId, functionArn: failure.functionArn, condition: failure.condition, approximateInvokeCount: failure.invokeCount },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(failure.functionError ? { functionError: 'Unhandled' as const } : {}) },
    version: '1.0',
    timestamp: failure.at.toISOString(),
    DDBStreamBatchInfo: {
      shardId: failure.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      ...(first.arrivedAt ? { approximateArrivalOfFirstRecord: toTheSecond(first.arrivedAt) } : {}),
      ...(last.arrivedAt ? { approximateArrivalOfLastRecord: toTheSecond(last.arrivedAt) } : {}),
      batchSize: failure.records.length,
      streamArn: failure.streamArn,
    },
  };
}

/** What replaying a reported batch needs of its failure record. */
export interface ReportedBatch {
  functionArn: string;
  condition: string;
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
}

const SEQUENCE_NUMBER = /^\d{1,40}$/;

/** Reads a failure record (an SQS message body); refuses anything else with what is wrong. */
export function parseStreamFailureRecord(body: string): ReportedBatch {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new Error('not a stream failure record: the message is not JSON');
  }
  const o = (doc ?? {}) as { requestContext?: Record<string, unknown>; DDBStreamBatchInfo?: Record<string, unknown> };
  const info = o.DDBStreamBatchInfo;
  const context = o.requestContext;
  if (!info || typeof info !== 'object' || !context || typeof context !== 'object') throw new Error('not a stream failure record: no DDBStreamBatchInfo or requestContext');
  const text = (value: unknown, name: string) => {
    if (typeof value !== 'string' || value === '') throw new Error(`not a stream failure record: ${name} missing`);
    return value;
  };
  const start = text(info.startSequenceNumber, 'startSequenceNumber');
  const end = text(info.endSequenceNumber, 'endSequenceNumber');
  if (!SEQUENCE_NUMBER.test(start) || !SEQUENCE_NUMBER.test(end)) throw new Error('not a stream failure record: a sequence number is not a number');
  if (BigInt(start) > BigInt(end)) throw new Error('not a stream failure record: startSequenceNumber is after endSequenceNumber');
  const batchSize = info.batchSize;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) throw new Error('not a stream failure record: batchSize missing');
  return {
    functionArn: text(context.functionArn, 'functionArn'),
    condition: text(context.condition, 'condition'),
    streamArn: text(info.streamArn, 'streamArn'),
    shardId: text(info.shardId, 'shardId'),
    startSequenceNumber: start,
    endSequenceNumber: end,
    batchSize,
  };
}
