/**
 * How many requests the AWS clients of this container sent, per service and per operation: every attempt
 * counts (the SDK's own retries included), since AWS bills each request it answers. A handler reads the
 * difference over its work and logs it with the capacity units (consumed-capacity.ts): what the work costs in
 * requests (SQS, S3, Lambda) and in DynamoDB units. The benchmark (bench/upward.ts) adds these lines up.
 *
 * Counted per attempt: the middleware sits in the finalizeRequest step below the SDK's retry middleware, so
 * each request that goes out passes it once.
 *
 * SQS bills a request per 64 KB of its payload (the message bodies and attributes): a send of more is also
 * counted under `SQS.<operation>.extra64KB`, one for each 64 KB chunk past the first.
 */
import { capacitySince, consumedCapacity, type CapacityUnits } from './consumed-capacity.js';

/** Requests by `<service>.<operation>` (`DynamoDB.GetItem`, `SQS.SendMessageBatch`, `S3.PutObject`, `Lambda.Invoke`). */
export type RequestCounts = Record<string, number>;

const counted: RequestCounts = {};

/** The requests this container's metered clients sent so far. */
export function requestCounts(): RequestCounts {
  return { ...counted };
}

/** The requests sent since `before` (a requestCounts() taken earlier); operations with none are left out. */
export function requestsSince(before: RequestCounts): RequestCounts {
  const out: RequestCounts = {};
  for (const [name, n] of Object.entries(counted)) {
    const since = n - (before[name] ?? 0);
    if (since > 0) out[name] = since;
  }
  return out;
}

/** `DynamoDBClient` + `GetItemCommand` → `DynamoDB.GetItem`. */
export function operationName(clientName: string | undefined, commandName: string | undefined): string {
  const service = (clientName ?? 'unknown').replace(/Client$/, '') || 'unknown';
  const command = (commandName ?? 'unknown').replace(/Command$/, '') || 'unknown';
  return `${service}.${command}`;
}

/** SQS's billing unit of a request's payload. */
export const SQS_CHUNK_BYTES = 64 * 1024;

interface SqsMessageInput {
  MessageBody?: string;
  MessageAttributes?: Record<string, { StringValue?: string; BinaryValue?: Uint8Array; DataType?: string }>;
}

const messageBytes = (m: SqsMessageInput) =>
  Buffer.byteLength(m.MessageBody ?? '') +
  Object.entries(m.MessageAttributes ?? {}).reduce((n, [name, a]) => n + Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '') + Buffer.byteLength(a.StringValue ?? '') + (a.BinaryValue?.byteLength ?? 0), 0);

/** The 64 KB chunks past the first that SQS bills a request of `bytes` of payload as (a send or a receive). */
export function extraSqsChunks(bytes: number): number {
  return Math.max(0, Math.ceil(bytes / SQS_CHUNK_BYTES) - 1);
}

/** The 64 KB chunks an SQS send is billed as, past the first: by its messages' bodies and attributes. */
export function sqsExtraChunks(input: unknown): number {
  const i = (input ?? {}) as SqsMessageInput & { Entries?: SqsMessageInput[] };
  return extraSqsChunks(i.Entries ? i.Entries.reduce((n, e) => n + messageBytes(e), 0) : messageBytes(i));
}

interface MeteredClient {
  middlewareStack: { add(middleware: any, options: Record<string, unknown>): void };
}

/** Counts every request `client` sends (each attempt). Returns the client. */
export function meterRequests<T extends MeteredClient>(client: T): T {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (args: unknown) => {
      const name = operationName(context.clientName, context.commandName);
      counted[name] = (counted[name] ?? 0) + 1;
      if (name.startsWith('SQS.Send')) {
        const extra = sqsExtraChunks((args as { input?: unknown }).input);
        if (extra > 0) counted[`${name}.extra64KB`] = (counted[`${name}.extra64KB`] ?? 0) + extra;
      }
      return next(args);
    },
    // Below the retry middleware (finalizeRequest, priority high): once per attempt.
    { step: 'finalizeRequest', priority: 'low', name: 'hubRequestMeter', override: true },
  );
  return client;
}

/** Where a piece of work started: the counters of requests and capacity units then. */
export interface UsageMark {
  requests: RequestCounts;
  capacity: CapacityUnits;
}

/** What a piece of work cost, for its summary log line. */
export interface AwsUsage {
  readUnits: number;
  writeUnits: number;
  /** The part of writeUnits consumed by TransactWriteItems (DynamoDB Local reports these at twice AWS's price). */
  transactWriteUnits: number;
  requests: RequestCounts;
}

export function usageMark(): UsageMark {
  return { requests: requestCounts(), capacity: consumedCapacity() };
}

export function usageSince(mark: UsageMark): AwsUsage {
  const units = capacitySince(mark.capacity);
  return { readUnits: units.read, writeUnits: units.write, transactWriteUnits: units.transactWrite, requests: requestsSince(mark.requests) };
}
