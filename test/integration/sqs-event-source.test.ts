/**
 * Lambda's SQS event-source mapping on this machine (infra/local/sqs-poller.ts) against the real
 * emulator (fauxqs, infra/local/sqs-local.ts) through the real AWS SDK, with test handlers run by the
 * local Lambda runtime's in-process invoker: batches reach the function as SQSEvents and are deleted;
 * partial batch failures come back alone, after the visibility timeout; an item failing
 * maxReceiveCount times lands in the dead-letter queue; a throwing function gets its whole batch
 * again; at most maxConcurrency invocations run at once; stop() ends the long poll at once, and the
 * emulator takes nothing for the abandoned poll.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueueSpec } from '../../infra/catalogue.js';
import { inProcessInvoker, type FunctionInvoker } from '../../infra/local/lambda-runtime.js';
import { localSqsClientConfig, startSqsLocal, type SqsLocal } from '../../infra/local/sqs-local.js';
import { startSqsEventSource, startSqsEventSources, type SqsEventSource } from '../../infra/local/sqs-poller.js';
import { provisionQueues, type ProvisionedQueue } from '../../infra/local/sqs-provision.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: 'HUBTESTSQS0000000002', secretAccessKey: 'not-checked-by-the-emulator' };
const temp = mkdtempSync(join(tmpdir(), 'hub-sqs-poller-'));
const MAX_RECEIVES = 2;
/** The queues’ visibility timeout here (the catalogue’s is six minutes): a failed message comes back within seconds, and not while its batch is still being collected (a 1 s window). */
const VISIBILITY_SECONDS = 3;

/** One work queue per test (no test sees another's messages), each with its dead-letter queue. */
const names = ['batch', 'partial', 'poison', 'throwing', 'concurrency', 'stop', 'catalogue'] as const;
type TestQueue = (typeof names)[number];
const testQueues: Record<string, QueueSpec> = Object.fromEntries(
  names.flatMap((name) => [
    [name, { envVar: 'X', localName: `test-${name}`, description: 't', visibilityTimeoutSeconds: 360, retentionSeconds: 3600, deadLetter: { queue: `${name}Dead`, maxReceiveCount: MAX_RECEIVES } }],
    [`${name}Dead`, { envVar: 'X', localName: `test-${name}-dlq`, description: 't', visibilityTimeoutSeconds: 360, retentionSeconds: 3600 }],
  ]),
);

let sqs: SqsLocal;
let client: SQSClient;
let pollClient: SQSClient;
let queues: Record<string, ProvisionedQueue>;
const logged: string[] = [];
const running: { stop(): Promise<void> }[] = [];

/** What the test handler does with each event; set by each test. */
let handle: (event: SQSEvent) => Promise<SQSBatchResponse | void> = async () => undefined;
const invocations: SQSEvent[] = [];
const invoker: FunctionInvoker = inProcessInvoker({
  connectorProvincial: async (event: SQSEvent) => {
    invocations.push(event);
    return handle(event);
  },
});

beforeAll(async () => {
  sqs = await startSqsLocal({ dir: join(temp, 'sqs') });
  client = new SQSClient(localSqsClientConfig({ endpoint: sqs.endpoint, region: REGION, credentials }));
  pollClient = new SQSClient(localSqsClientConfig({ endpoint: sqs.endpoint, region: REGION, credentials }, { longPolls: true }));
  queues = (await provisionQueues(client, { endpoint: sqs.endpoint, queues: testQueues, visibilityTimeoutSeconds: VISIBILITY_SECONDS })).queues;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  invocations.length = 0;
  logged.length = 0;
  handle = async () => undefined;
});

afterAll(async () => {
  client?.destroy();
  pollClient?.destroy();
  await sqs?.stop();
  rmSync(temp, { recursive: true, force: true });
});

function poll(queue: TestQueue, spec: { batchSize?: number; maxConcurrency?: number; maxBatchingWindowSeconds?: number } = {}): SqsEventSource {
  const poller = startSqsEventSource({
    name: `test-${queue}`,
    spec: { function: 'connectorProvincial', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 2, ...spec },
    queue: queues[queue]!,
    client: pollClient,
    invoker,
    region: REGION,
    log: (line) => logged.push(line),
  });
  running.push(poller);
  return poller;
}

async function send(queue: string, bodies: string[], attributes?: Record<string, MessageAttributeValue>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queues[queue]!.url,
        Entries: chunk.map((body, j) => ({ Id: String(j), MessageBody: body, ...(attributes ? { MessageAttributes: attributes } : {}) })),
      }),
    );
    expect(sent.Failed ?? []).toEqual([]);
    ids.push(...sent.Successful!.sort((a, b) => Number(a.Id) - Number(b.Id)).map((s) => s.MessageId!));
  }
  return ids;
}

/** Messages visible and in flight. */
async function depth(queue: string): Promise<{ visible: number; inFlight: number }> {
  const got = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queues[queue]!.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(got.Attributes!.ApproximateNumberOfMessages), inFlight: Number(got.Attributes!.ApproximateNumberOfMessagesNotVisible) };
}

async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (await check()) return;
  expect(await check(), 'the condition held in time').toBe(true);
}

const records = (): SQSRecord[] => invocations.flatMap((e) => e.Records);
const deliveriesOf = (body: string) => records().filter((r) => r.body === body);
const emptied = async (queue: string) => {
  const d = await depth(queue);
  return d.visible === 0 && d.inFlight === 0;
};

describe('the SQS event-source mapping', () => {
  it('delivers the queue’s messages to the function as Lambda’s SQSEvent, and deletes them once it succeeds', async () => {
    const bodies = ['a', 'b', 'c', 'd', 'e'].map((x) => JSON.stringify({ recordId: `r-${x}`, version: 1, platform: 'provincial' }));
    const before = Date.now();
    const ids = await send('batch', bodies, { traceId: { DataType: 'String', StringValue: 'trace-1' } });
    poll('batch');
    await eventually(() => records().length === 5);
    await eventually(() => emptied('batch'));

    expect(records().map((r) => r.messageId).sort()).toEqual([...ids].sort());
    for (const event of invocations) expect(event.Records.length).toBeLessThanOrEqual(10);
    const record = records().find((r) => r.messageId === ids[0])!;
    expect(record).toEqual({
      messageId: ids[0],
      receiptHandle: expect.any(String),
      body: bodies[0],
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: { traceId: { stringValue: 'trace-1', stringListValues: [], binaryListValues: [], dataType: 'String' } },
      md5OfBody: createHash('md5').update(bodies[0]!).digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queues.batch!.arn,
      awsRegion: REGION,
    });
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThanOrEqual(before - 1000);
    // Each message was delivered once, and deleted.
    expect(records()).toHaveLength(5);
    expect(logged).toEqual([]);
  });

  it('on a partial batch failure deletes the others and delivers only the failed one again, after the visibility timeout', async () => {
    const bodies = ['ok-1', 'fails-once', 'ok-2', 'ok-3'];
    handle = async (event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'fails-once' && r.attributes.ApproximateReceiveCount === '1').map((r) => ({ itemIdentifier: r.messageId })),
    });
    const ids = await send('partial', bodies);
    poll('partial');
    await eventually(() => deliveriesOf('fails-once').length === 2);
    await eventually(() => emptied('partial'));

    expect(deliveriesOf('fails-once').map((r) => [r.messageId, r.attributes.ApproximateReceiveCount])).toEqual([
      [ids[1], '1'],
      [ids[1], '2'],
    ]);
    for (const ok of ['ok-1', 'ok-2', 'ok-3']) expect(deliveriesOf(ok), ok).toHaveLength(1);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^sqs test-partial: credit-hub-connectorProvincial [0-9a-f-]{36} reported 1 of \d+ messages failed/);
    expect(logged[0]).not.toContain('fails-once');
  });

  it('moves a message that fails maxReceiveCount times to the dead-letter queue, without holding up the others', async () => {
    handle = async (event) => ({ batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })) });
    const [poisonId] = await send('poison', ['poison', 'good-1', 'good-2']);
    poll('poison');
    await eventually(async () => (await depth('poisonDead')).visible === 1);
    await eventually(() => emptied('poison'));

    expect(deliveriesOf('poison').map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']); // MAX_RECEIVES receives, then the dead-letter queue
    expect(deliveriesOf('good-1')).toHaveLength(1);
    expect(deliveriesOf('good-2')).toHaveLength(1);
    const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: queues.poisonDead!.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(dead.Messages!.map((m) => [m.MessageId, m.Body])).toEqual([[poisonId, 'poison']]);
  });

  it('delivers the whole batch again when the function throws, and logs one line without the bodies', async () => {
    let thrown = false;
    handle = async () => {
      if (!thrown) {
        thrown = true;
        throw new Error('platform unreachable');
      }
    };
    const bodies = ['t-1', 't-2', 't-3'];
    await send('throwing', bodies);
    poll('throwing', { maxConcurrency: 1 });
    await eventually(() => bodies.every((b) => deliveriesOf(b).some((r) => r.attributes.ApproximateReceiveCount === '2')));
    await eventually(() => emptied('throwing'));

    const [first] = invocations;
    // Every message of the failed batch came back, once more.
    for (const r of first!.Records) expect(deliveriesOf(r.body).map((d) => d.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    const failures = logged.filter((l) => l.includes(' failed ('));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      new RegExp(`^sqs test-throwing: credit-hub-connectorProvincial [0-9a-f-]{36} failed \\(Error: platform unreachable\\): none of its ${first!.Records.length} messages deleted`),
    );
    for (const b of bodies) expect(logged.join('\n')).not.toContain(b);
  });

  it('runs at most maxConcurrency invocations at once', async () => {
    let inFlight = 0;
    let most = 0;
    handle = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 100));
      inFlight--;
    };
    const bodies = Array.from({ length: 12 }, (_, i) => `c-${i}`);
    await send('concurrency', bodies);
    poll('concurrency', { batchSize: 1, maxConcurrency: 3, maxBatchingWindowSeconds: 0 });
    await eventually(() => records().length === 12);
    await eventually(() => emptied('concurrency'));
    expect(invocations.every((e) => e.Records.length === 1)).toBe(true);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
  });

  it('ends its long poll when stopped, and the emulator takes nothing for the abandoned poll', async () => {
    const receives: { started: number; ended?: string }[] = [];
    const watched = new SQSClient(localSqsClientConfig({ endpoint: sqs.endpoint, region: REGION, credentials }, { longPolls: true }));
    watched.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'ReceiveMessageCommand') return next(args);
        const entry: (typeof receives)[number] = { started: Date.now() };
        receives.push(entry);
        try {
          const out = await next(args);
          entry.ended = 'answered';
          return out;
        } catch (e) {
          entry.ended = (e as Error).name;
          throw e;
        }
      },
      { step: 'initialize', name: 'watchReceives' },
    );
    try {
      const poller = startSqsEventSource({
        name: 'test-stop',
        spec: { function: 'connectorProvincial', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 1 },
        queue: queues.stop!,
        client: watched,
        invoker,
        region: REGION,
        log: (line) => logged.push(line),
      });
      await eventually(() => receives.length === 1);
      // The poll is held open by the emulator (an empty queue, WaitTimeSeconds 20) until stop() aborts it.
      await new Promise((r) => setTimeout(r, 300));
      expect(receives[0]!.ended).toBeUndefined();
      await poller.stop();
      expect(receives).toHaveLength(1);
      expect(receives[0]!.ended).toBe('AbortError');
      // The emulator has seen the connection close; a message sent now stays for the next consumer.
      await new Promise((r) => setTimeout(r, 300));
      await client.send(new SendMessageCommand({ QueueUrl: queues.stop!.url, MessageBody: 'after stop' }));
      expect(await depth('stop')).toEqual({ visible: 1, inFlight: 0 });
      expect(invocations).toEqual([]);
      expect(logged).toEqual([]);
    } finally {
      watched.destroy();
    }
  });

  it('starts one mapping per SQS event source of a catalogue whose function exists, on the provisioned queues', async () => {
    const sources = startSqsEventSources({
      connection: { endpoint: sqs.endpoint, region: REGION, credentials },
      queues,
      invoker,
      hasFunction: (fn) => fn === 'connectorProvincial',
      log: (line) => logged.push(line),
      eventSources: {
        fromCatalogueQueue: { type: 'sqs', queue: 'catalogue' as never, function: 'connectorProvincial', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 2, reportBatchItemFailures: true, description: 't' },
        noFunction: { type: 'sqs', queue: 'catalogue' as never, function: 'connectorNational', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 2, reportBatchItemFailures: true, description: 't' },
        stream: { type: 'dynamodb-stream', table: 'records', function: 'connectorProvincial', batchSize: 100, maxBatchingWindowSeconds: 1, startingPosition: 'TRIM_HORIZON', retryAttempts: -1, bisectBatchOnError: true, reportBatchItemFailures: true, description: 't' },
      },
    });
    running.push(sources);
    expect(sources.names).toEqual(['fromCatalogueQueue']);
    await send('catalogue', ['via catalogue']);
    await eventually(() => deliveriesOf('via catalogue').length === 1);
    await eventually(() => emptied('catalogue'));
    expect(deliveriesOf('via catalogue')[0]!.eventSourceARN).toBe(queues.catalogue!.arn);
  });
});
