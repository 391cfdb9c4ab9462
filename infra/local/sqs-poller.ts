/**
 * Lambda's SQS event-source mapping on this machine: for each `eventSources` entry of type 'sqs', up
 * to `maxConcurrency` pollers long-poll the queue (ReceiveMessage, WaitTimeSeconds 20); once one has a
 * message it keeps receiving, up to `batchSize` messages or until `maxBatchingWindowSeconds` have
 * passed, and invokes the function with the SQSEvent Lambda would send (one invocation in flight per
 * poller, so at most maxConcurrency per mapping). Then, as Lambda with ReportBatchItemFailures:
 *
 * - the function succeeded: every message is deleted except those its `batchItemFailures` name;
 * - it failed (an error, a timeout, a crashed environment) or answered a response Lambda rejects (an
 *   itemIdentifier that is empty, missing or not in the batch; a response that is not an object):
 *   nothing is deleted, and the whole batch reappears after the queue's visibility timeout.
 *
 * A message received more than the queue's maxReceiveCount times is moved to its dead-letter queue
 * by the emulator itself, at the receive, as SQS does (sqs-local.ts; test/integration/sqs-event-source.test.ts).
 * Nothing here changes a message's visibility (ChangeMessageVisibility to 0 loses messages in this
 * fauxqs version); a connector puts off a message its platform could not take itself, with a
 * ChangeMessageVisibility of a second or more on the emulator, as on AWS (test/integration/local-sqs.test.ts). One log line per failed invocation and per batch with failed items, naming the
 * request and the counts, never a message body.
 *
 * stop() ends the long polls at once (they are aborted; the emulator takes nothing for an abandoned
 * poll, fauxqs-process.mjs) and resolves once the batches already received are settled: their
 * invocations ended and their messages deleted. Closing the Lambda runtime meanwhile cuts those
 * invocations short (a crash: their messages reappear after the visibility timeout).
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { redactText } from '../../shared/logger.js';
import { eventSources as catalogueEventSources, localFunctionName, type EventSourceSpec } from '../catalogue.js';
import type { FunctionInvoker, InvokeOutcome } from './lambda-runtime.js';
import { LONG_POLL_MAX_SECONDS, localSqsClientConfig, type SqsConnection } from './sqs-local.js';

export type SqsEventSourceSpec = Extract<EventSourceSpec, { type: 'sqs' }>;

/** A queue as the mapping needs it: where to receive, and its ARN for the event. */
export interface MappedQueue {
  url: string;
  arn: string;
}

// ---------------------------------------------------------------------------------------------
// The event and the response (pure)
// ---------------------------------------------------------------------------------------------

function messageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return out;
}

/** The system attributes Lambda puts on a record (ApproximateReceiveCount, SentTimestamp, SenderId, …), as strings. */
function systemAttributes(attributes: Message['Attributes']): SQSRecordAttributes {
  const all = (attributes ?? {}) as Record<string, string | undefined>;
  const out: Record<string, string> = {};
  for (const name of ['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp', 'SequenceNumber', 'MessageGroupId', 'MessageDeduplicationId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn']) {
    const value = all[name];
    if (value !== undefined) out[name] = value;
  }
  return out as unknown as SQSRecordAttributes;
}

/** The SQSEvent Lambda sends a function for these messages of the queue `queueArn`. */
export function sqsLambdaEvent(messages: readonly Message[], queueArn: string, region: string): SQSEvent {
  return {
    Records: messages.map(
      (m): SQSRecord => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: systemAttributes(m.Attributes),
        messageAttributes: messageAttributes(m.MessageAttributes),
        md5OfBody: m.MD5OfBody ?? '',
        ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      }),
    ),
  };
}

/** What a function's answer means for its batch: the message ids that failed, or why the whole batch failed. */
export type BatchVerdict = { failed: string[] } | { invalid: string };

/**
 * A function's answer to an SQS batch, read as Lambda reads it with ReportBatchItemFailures. Complete
 * success: no answer (null, undefined), an object without `batchItemFailures`, or with it null or
 * empty. Complete failure (`invalid`): an answer that is not an object, a `batchItemFailures` that is
 * not a list, an entry without a non-empty string `itemIdentifier`, or one naming a message not in the
 * batch. Otherwise the named messages failed and the others succeeded.
 */
export function batchVerdict(result: unknown, messageIds: readonly string[]): BatchVerdict {
  if (result === null || result === undefined) return { failed: [] };
  if (typeof result !== 'object' || Array.isArray(result)) return { invalid: `the response is not an object (${Array.isArray(result) ? 'array' : typeof result})` };
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { failed: [] };
  if (!Array.isArray(failures)) return { invalid: 'batchItemFailures is not a list' };
  const inBatch = new Set(messageIds);
  const failed = new Set<string>();
  for (const [i, entry] of failures.entries()) {
    const id = entry && typeof entry === 'object' ? (entry as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return { invalid: `batchItemFailures[${i}] has no itemIdentifier` };
    if (!inBatch.has(id)) return { invalid: `batchItemFailures[${i}] names a message that is not in the batch` };
    failed.add(id);
  }
  return { failed: [...failed] };
}

function describeFailure(outcome: Exclude<InvokeOutcome, { status: 'ok' }>): string {
  switch (outcome.status) {
    case 'error':
      return `${outcome.errorType}: ${redactText(outcome.errorMessage)}`;
    case 'timeout':
      return `Task timed out after ${outcome.timeoutSeconds.toFixed(2)} seconds`;
    case 'crashed':
      return `the execution environment crashed: ${redactText(outcome.errorMessage)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// One mapping
// ---------------------------------------------------------------------------------------------

export interface SqsEventSourceOptions {
  /** The mapping's name (a key of `eventSources`), for the log. */
  name: string;
  spec: Pick<SqsEventSourceSpec, 'function' | 'batchSize' | 'maxBatchingWindowSeconds' | 'maxConcurrency'>;
  queue: MappedQueue;
  /** A client of the emulator made for long polls (localSqsClientConfig with longPolls); not destroyed by stop(). */
  client: SQSClient;
  invoker: FunctionInvoker;
  region: string;
  log?: (line: string) => void;
  /** The long poll's WaitTimeSeconds (default and at most 20). */
  waitTimeSeconds?: number;
  /** Waits after a failed ReceiveMessage, growing from the first to the last (default 1 s … 10 s). */
  receiveRetryDelaysMs?: readonly number[];
}

export interface SqsEventSource {
  readonly name: string;
  /** Ends the long polls at once; resolves once the batches already received are settled. */
  stop(): Promise<void>;
}

const RECEIVE_RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000];
/** Within the batching window, how long to wait before asking again after an empty short receive. */
const WINDOW_PAUSE_MS = 50;
/** ReceiveMessage takes at most this many messages (an SQS limit). */
const RECEIVE_MAX = 10;

const isAbort = (e: unknown) => (e as Error)?.name === 'AbortError';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const { name, spec, queue, client, invoker, region } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fn = spec.function;
  const fnName = localFunctionName(fn);
  const waitTimeSeconds = Math.min(options.waitTimeSeconds ?? LONG_POLL_MAX_SECONDS, LONG_POLL_MAX_SECONDS);
  const retryDelays = options.receiveRetryDelaysMs ?? RECEIVE_RETRY_DELAYS_MS;
  const batchSize = Math.max(1, spec.batchSize);
  const windowMs = spec.maxBatchingWindowSeconds * 1000;
  const stopping = new AbortController();

  const receive = async (max: number, wait: number, signal?: AbortSignal): Promise<Message[]> => {
    const answer = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(max, RECEIVE_MAX),
        WaitTimeSeconds: wait,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      signal ? { abortSignal: signal } : {},
    );
    return answer.Messages ?? [];
  };

  /** A batch: the first message by long poll (aborted by stop()), then more until the batch is full or the window has passed. */
  const collectBatch = async (): Promise<Message[]> => {
    const batch = [...(await receive(batchSize, waitTimeSeconds, stopping.signal))];
    if (batch.length === 0) return batch;
    const deadline = Date.now() + windowMs;
    // Messages in hand are delivered, stop() or not: these receives are short and never aborted.
    while (batch.length < batchSize && !stopping.signal.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const wait = Math.floor(remaining / 1000);
      let more: Message[];
      try {
        more = await receive(batchSize - batch.length, wait);
      } catch {
        break; // the emulator is gone or failing: the batch in hand is delivered, the next long poll says why
      }
      batch.push(...more);
      if (more.length === 0 && wait === 0) await sleep(Math.min(remaining, WINDOW_PAUSE_MS), stopping.signal);
    }
    return batch;
  };

  const deleteMessages = async (messages: readonly Message[], requestId: string): Promise<void> => {
    for (let i = 0; i < messages.length; i += RECEIVE_MAX) {
      const chunk = messages.slice(i, i + RECEIVE_MAX);
      try {
        const answer = await client.send(
          new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }),
        );
        const failed = answer.Failed ?? [];
        if (failed.length > 0) {
          const codes = [...new Set(failed.map((f) => f.Code ?? 'unknown'))].join(', ');
          log(`sqs ${name}: ${fnName} ${requestId}: ${failed.length} of ${chunk.length} processed messages could not be deleted (${codes}); they will be delivered again`);
        }
      } catch (e) {
        log(`sqs ${name}: ${fnName} ${requestId}: ${chunk.length} processed messages could not be deleted (${(e as Error).name}: ${(e as Error).message}); they will be delivered again`);
      }
    }
  };

  const deliver = async (batch: Message[]): Promise<void> => {
    const requestId = randomUUID();
    const outcome = await invoker.invoke(fn, sqsLambdaEvent(batch, queue.arn, region), requestId);
    if (outcome.status !== 'ok') {
      log(`sqs ${name}: ${fnName} ${requestId} failed (${describeFailure(outcome)}): none of its ${batch.length} messages deleted, they reappear after the visibility timeout`);
      return;
    }
    const verdict = batchVerdict(
      outcome.result,
      batch.map((m) => m.MessageId!),
    );
    if ('invalid' in verdict) {
      log(`sqs ${name}: ${fnName} ${requestId} answered an invalid batch response (${verdict.invalid}): the whole batch of ${batch.length} failed, none deleted`);
      return;
    }
    if (verdict.failed.length > 0) {
      log(`sqs ${name}: ${fnName} ${requestId} reported ${verdict.failed.length} of ${batch.length} messages failed: those reappear after the visibility timeout`);
    }
    const failed = new Set(verdict.failed);
    await deleteMessages(
      batch.filter((m) => !failed.has(m.MessageId!)),
      requestId,
    );
  };

  const poller = async (): Promise<void> => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      let batch: Message[];
      try {
        batch = await collectBatch();
        failures = 0;
      } catch (e) {
        if (stopping.signal.aborted || isAbort(e)) break;
        const delay = retryDelays[Math.min(failures, retryDelays.length - 1)] ?? 1_000;
        failures++;
        log(`sqs ${name}: ReceiveMessage failed (${(e as Error).name}: ${(e as Error).message}); trying again in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay, stopping.signal);
        continue;
      }
      if (batch.length > 0) await deliver(batch);
    }
  };

  const pollers = Array.from({ length: Math.max(1, spec.maxConcurrency) }, () =>
    poller().catch((e: Error) => log(`sqs ${name}: poller ended by an unexpected error: ${e.stack ?? e.message}`)),
  );

  return {
    name,
    async stop() {
      stopping.abort();
      await Promise.all(pollers);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The catalogue's mappings
// ---------------------------------------------------------------------------------------------

export interface SqsEventSourcesOptions {
  /** The emulator (SqsLocal.endpoint), the region every client signs with, and the credentials. */
  connection: SqsConnection;
  /** The provisioned queues by catalogue name (provisionQueues(...).queues). */
  queues: Readonly<Record<string, MappedQueue>>;
  invoker: FunctionInvoker;
  /** Whether a function exists (mappings to others are not started: the stack says so at start). */
  hasFunction: (fn: string) => boolean;
  log?: (line: string) => void;
  /** The mappings; the catalogue's unless given (tests). Entries of another type are skipped. */
  eventSources?: Readonly<Record<string, EventSourceSpec>>;
  waitTimeSeconds?: number;
}

export interface SqsEventSources {
  /** The mappings that run. */
  readonly names: readonly string[];
  /** Stops every mapping (see SqsEventSource.stop) and closes their client. */
  stop(): Promise<void>;
}

/** Starts a poller for every SQS mapping whose function exists, on one long-poll client of the emulator. */
export function startSqsEventSources(options: SqsEventSourcesOptions): SqsEventSources {
  const client = new SQSClient(localSqsClientConfig(options.connection, { longPolls: true }));
  const started: SqsEventSource[] = [];
  for (const [name, spec] of Object.entries(options.eventSources ?? catalogueEventSources) as [string, EventSourceSpec][]) {
    if (spec.type !== 'sqs' || !options.hasFunction(spec.function)) continue;
    const queue = options.queues[spec.queue];
    if (!queue) {
      for (const s of started) void s.stop();
      client.destroy();
      throw new Error(`eventSources.${name} reads the queue ${spec.queue}, which was not provisioned`);
    }
    started.push(
      startSqsEventSource({
        name,
        spec,
        queue,
        client,
        invoker: options.invoker,
        region: options.connection.region,
        ...(options.log ? { log: options.log } : {}),
        ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
      }),
    );
  }
  return {
    names: started.map((s) => s.name),
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
      client.destroy();
    },
  };
}
