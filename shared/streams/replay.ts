/**
 * Replays a stream batch that an event-source mapping gave up and reported (failure-record.ts), once the fault is
 * fixed and while the stream still holds its records (24 hours; the mappings give up after 6, infra/catalogue.ts
 * STREAM_FAILURE_RECORD_AGE_SECONDS): reads the shard from the record's startSequenceNumber (GetShardIterator
 * AT_SEQUENCE_NUMBER, GetRecords) to its endSequenceNumber, keeps the records the mapping's filter passes, and
 * invokes the function once, synchronously, with the event the mapping would have sent. The fan-out and the site
 * publisher are idempotent (a record version already handled is handled again to the same end), so a replay is
 * safe, and so is replaying the same record twice.
 *
 * Never logs or returns record content: only counts and sequence numbers.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamApiRecord,
  type DynamoDBStreamsClient,
} from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { ReportedBatch } from './failure-record.js';
import { lambdaStreamEvent, passesFilter } from './lambda-event.js';

export interface ReplayOptions {
  /** The mapping's event filter on the new image (its `newImageEquals`): records it does not pass are not replayed, as the mapping never sent them. */
  newImageEquals?: Readonly<Record<string, string>>;
  /** The function to invoke; the record's functionArn unless given. */
  functionName?: string;
  /** The region the event names (awsRegion): the stream's, read from its ARN unless given. */
  region?: string;
  /** GetRecords calls at most (a guard against reading an open shard's tip forever). */
  maxReads?: number;
}

export interface ReplayResult {
  /** Records read from the stream between the two sequence numbers, and those the filter passed (sent to the function). */
  read: number;
  replayed: number;
  /** The sequence numbers the function reported as failed again (reportBatchItemFailures); empty when all succeeded. */
  failedAgain: string[];
}

/** The batch cannot be replayed (its records have left the stream, the shard is gone) or the function failed. */
export class ReplayError extends Error {
  override name = 'ReplayError';
}

const seq = (r: StreamApiRecord) => BigInt(r.dynamodb!.SequenceNumber!);
const errorName = (e: unknown) => (e as { name?: string })?.name ?? 'Error';

/** The stream records of a reported batch, in order: from its first sequence number to its last, both included. */
export async function readReportedBatch(streams: DynamoDBStreamsClient, batch: ReportedBatch, maxReads = 1_000): Promise<StreamApiRecord[]> {
  let iterator: string | undefined;
  try {
    const out = await streams.send(
      new GetShardIteratorCommand({ StreamArn: batch.streamArn, ShardId: batch.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: batch.startSequenceNumber }),
    );
    iterator = out.ShardIterator;
  } catch (e) {
    const name = errorName(e);
    if (name === 'TrimmedDataAccessException' || name === 'ResourceNotFoundException') {
      throw new ReplayError(`the records from ${batch.startSequenceNumber} have left the stream (${name}): the batch can no longer be replayed from it`);
    }
    throw e;
  }
  const end = BigInt(batch.endSequenceNumber);
  const found: StreamApiRecord[] = [];
  for (let reads = 0; iterator && reads < maxReads; reads++) {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const records = out.Records ?? [];
    for (const r of records) {
      if (seq(r) > end) return checked(found, batch);
      found.push(r);
    }
    if (found.length > 0 && seq(found.at(-1)!) === end) return checked(found, batch);
    // An open shard answers an empty page at its tip: the end sequence number lies behind it, so it is not there.
    if (records.length === 0 && found.length > 0) break;
    iterator = out.NextShardIterator;
  }
  return checked(found, batch);
}

function checked(found: StreamApiRecord[], batch: ReportedBatch): StreamApiRecord[] {
  if (found[0]?.dynamodb?.SequenceNumber !== batch.startSequenceNumber) {
    throw new ReplayError(`the stream no longer holds the record ${batch.startSequenceNumber}: the batch can no longer be replayed from it`);
  }
  if (found.at(-1)?.dynamodb?.SequenceNumber !== batch.endSequenceNumber) {
    throw new ReplayError(`the shard ends before the record ${batch.endSequenceNumber}: the batch can no longer be replayed whole`);
  }
  return found;
}

/** Reads the reported batch from the stream and invokes the function with it, as the mapping would have. */
export async function replayReportedBatch(
  clients: { streams: DynamoDBStreamsClient; lambda: LambdaClient },
  batch: ReportedBatch,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const records = await readReportedBatch(clients.streams, batch, options.maxReads);
  const passing = records.filter((r) => passesFilter(r, options.newImageEquals));
  if (passing.length === 0) return { read: records.length, replayed: 0, failedAgain: [] };
  const region = options.region ?? batch.streamArn.split(':')[3] ?? '';
  const event = lambdaStreamEvent(passing, batch.streamArn, region);
  const out = await clients.lambda.send(
    new InvokeCommand({ FunctionName: options.functionName ?? batch.functionArn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
  );
  const payload = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    let type = out.FunctionError;
    try {
      type = (JSON.parse(payload) as { errorType?: string }).errorType ?? type;
    } catch {
      // Not JSON: the FunctionError is all there is to say.
    }
    throw new ReplayError(`the function failed again (${type}): the batch stays unreplayed; fix the fault and replay it again`);
  }
  const sequenceNumbers = new Set(passing.map((r) => r.dynamodb!.SequenceNumber!));
  let failures: unknown = undefined;
  try {
    failures = payload ? (JSON.parse(payload) as { batchItemFailures?: unknown } | null)?.batchItemFailures : undefined;
  } catch {
    failures = undefined;
  }
  const ids = Array.isArray(failures) ? failures.map((f) => (f as { itemIdentifier?: unknown } | null)?.itemIdentifier) : [];
  // As Lambda reads the answer: an identifier that is empty or not in the batch fails the whole batch.
  const failedAgain = ids.some((id) => typeof id !== 'string' || !sequenceNumbers.has(id)) ? [...sequenceNumbers] : (ids as string[]);
  return { read: records.length, replayed: passing.length, failedAgain };
}
