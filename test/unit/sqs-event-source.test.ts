/**
 * The SQS event-source mapping's logic (infra/local/sqs-poller.ts) around a mocked SQS client: the
 * SQSEvent it builds, how it reads a function's batch response (as Lambda does with
 * ReportBatchItemFailures), how it collects a batch (batch size, batching window), what it deletes
 * after each outcome, what it logs, its retries of a failing ReceiveMessage and its concurrency cap.
 * The same against the real emulator: test/integration/sqs-event-source.test.ts.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message, type ReceiveMessageCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FunctionInvoker, InvokeOutcome } from '../../infra/local/lambda-runtime.js';
import { batchVerdict, sqsLambdaEvent, startSqsEventSource, type SqsEventSource } from '../../infra/local/sqs-poller.js';

const REGION = 'cn-north-1';
const ARN = 'arn:aws:sqs:cn-north-1:000000000000:hub-provincial';
const QUEUE = { url: 'http://127.0.0.1:1/000000000000/hub-provincial', arn: ARN };

let serial = 0;
function message(body: string, extra: Partial<Message> = {}): Message {
  const n = ++serial;
  return {
    MessageId: `m-${n}`,
    ReceiptHandle: `rh-${n}`,
    Body: body,
    MD5OfBody: `md5-${n}`,
    Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: '000000000000', ApproximateFirstReceiveTimestamp: '1700000000001' },
    ...extra,
  };
}

describe('the SQSEvent', () => {
  it('has one record per message, as Lambda builds it: system attributes as strings, message attributes in its own shape, the queue’s ARN and region', () => {
    const m = message('{"recordId":"r1","version":2,"platform":"provincial"}', {
      MD5OfMessageAttributes: 'attr-md5',
      Attributes: {
        ApproximateReceiveCount: '3',
        SentTimestamp: '1700000000000',
        SenderId: 'AIDA',
        ApproximateFirstReceiveTimestamp: '1700000000500',
        MessageGroupId: 'g1',
        SequenceNumber: '0001',
      },
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'upsert' },
        count: { DataType: 'Number', StringValue: '7' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 255]) },
      },
    });
    const plain = message('x');
    const event = sqsLambdaEvent([m, plain], ARN, REGION);
    expect(event.Records[0]).toEqual({
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body,
      attributes: { ApproximateReceiveCount: '3', SentTimestamp: '1700000000000', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '1700000000500', MessageGroupId: 'g1', SequenceNumber: '0001' },
      messageAttributes: {
        kind: { stringValue: 'upsert', stringListValues: [], binaryListValues: [], dataType: 'String' },
        count: { stringValue: '7', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        blob: { binaryValue: Buffer.from([1, 2, 255]).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: m.MD5OfBody,
      md5OfMessageAttributes: 'attr-md5',
      eventSource: 'aws:sqs',
      eventSourceARN: ARN,
      awsRegion: REGION,
    });
    expect(event.Records[1]!.messageAttributes).toEqual({});
    expect(event.Records[1]).not.toHaveProperty('md5OfMessageAttributes');
  });
});

describe('a function’s batch response, read as Lambda reads it', () => {
  const ids = ['a', 'b', 'c'];
  it.each([
    ['no answer', undefined],
    ['null', null],
    ['an empty object', {}],
    ['batchItemFailures null', { batchItemFailures: null }],
    ['batchItemFailures empty', { batchItemFailures: [] }],
  ])('is a complete success with %s', (_, result) => {
    expect(batchVerdict(result, ids)).toEqual({ failed: [] });
  });

  it('names the failed items (once each) when every itemIdentifier is in the batch', () => {
    expect(batchVerdict({ batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'c' }, { itemIdentifier: 'b' }] }, ids)).toEqual({ failed: ['b', 'c'] });
  });

  it.each([
    ['a string', 'ok', 'not an object'],
    ['a list', [{ itemIdentifier: 'a' }], 'not an object'],
    ['batchItemFailures not a list', { batchItemFailures: { itemIdentifier: 'a' } }, 'not a list'],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }, 'no itemIdentifier'],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }, 'no itemIdentifier'],
    ['a bad key name', { batchItemFailures: [{ itemId: 'a' }] }, 'no itemIdentifier'],
    ['an entry that is not an object', { batchItemFailures: ['a'] }, 'no itemIdentifier'],
    ['a message not in the batch', { batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'z' }] }, 'not in the batch'],
  ])('is a complete failure with %s', (_, result, reason) => {
    const verdict = batchVerdict(result, ids);
    expect(verdict).toHaveProperty('invalid');
    expect((verdict as { invalid: string }).invalid).toContain(reason);
  });
});

describe('the poller', () => {
  const client = new SQSClient({ region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const sqs = mockClient(client);
  /** What ReceiveMessage answers next, in order; an empty answer (after a short wait) once they are used up. */
  let answers: (Message[] | Error)[];
  let invoked: SQSEvent[];
  let outcome: (event: SQSEvent) => Promise<InvokeOutcome>;
  let logged: string[];
  let poller: SqsEventSource | undefined;

  const invoker: FunctionInvoker = {
    invoke: async (fn, event) => {
      expect(fn).toBe('connectorProvincial');
      invoked.push(event as SQSEvent);
      return outcome(event as SQSEvent);
    },
    close: async () => undefined,
  };

  beforeEach(() => {
    sqs.reset();
    answers = [];
    invoked = [];
    logged = [];
    outcome = async () => ({ status: 'ok', result: undefined });
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      const next = answers.shift();
      if (next instanceof Error) throw next;
      if (next) return { Messages: next };
      await new Promise((r) => setTimeout(r, 5));
      return {};
    });
    sqs.on(DeleteMessageBatchCommand).callsFake(async (input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
  });

  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });

  function start(spec: { batchSize?: number; maxBatchingWindowSeconds?: number; maxConcurrency?: number } = {}) {
    poller = startSqsEventSource({
      name: 'provincialDeliveries',
      spec: { function: 'connectorProvincial', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 1, ...spec },
      queue: QUEUE,
      client,
      invoker,
      region: REGION,
      log: (line) => logged.push(line),
      receiveRetryDelaysMs: [10],
    });
    return poller;
  }

  async function eventually(check: () => boolean): Promise<void> {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !check(); ) await new Promise((r) => setTimeout(r, 5));
    expect(check()).toBe(true);
  }

  const receives = () => sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input as ReceiveMessageCommandInput);
  const deleted = () => sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));

  it('long-polls for a batch (WaitTimeSeconds 20, up to batchSize, every attribute) and keeps receiving within the batching window', async () => {
    const first = [message('1'), message('2')];
    const more = [message('3'), message('4'), message('5')];
    answers = [first, more];
    start({ batchSize: 10, maxBatchingWindowSeconds: 2 });
    await eventually(() => invoked.length === 1);
    expect(invoked[0]!.Records.map((r) => r.body)).toEqual(['1', '2', '3', '4', '5']);
    expect(receives()[0]).toEqual({ QueueUrl: QUEUE.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] });
    // Within the window: only what is still missing, waiting no longer than what is left of the window (2 s).
    expect(receives()[1]).toMatchObject({ MaxNumberOfMessages: 8 });
    expect(receives()[1]!.WaitTimeSeconds).toBeGreaterThanOrEqual(1);
    expect(receives()[1]!.WaitTimeSeconds).toBeLessThanOrEqual(2);
    for (const input of receives().slice(2)) expect(input.WaitTimeSeconds === 20 || input.WaitTimeSeconds! <= 2, JSON.stringify(input)).toBe(true);
    await eventually(() => deleted().length === 5);
    expect(deleted()).toEqual([...first, ...more].map((m) => m.ReceiptHandle));
  });

  it('invokes at once when the batch is full, without waiting out the window', async () => {
    answers = [[message('1'), message('2')], [message('3')], [message('late')]];
    start({ batchSize: 3, maxBatchingWindowSeconds: 5 });
    await eventually(() => invoked.length === 1);
    expect(invoked[0]!.Records.map((r) => r.body)).toEqual(['1', '2', '3']);
    expect(receives()[1]).toMatchObject({ MaxNumberOfMessages: 1 });
  });

  it('receives with no wait when less than a second of the window is left', async () => {
    answers = [[message('1')]];
    start({ batchSize: 10, maxBatchingWindowSeconds: 0.5 });
    await eventually(() => invoked.length === 1);
    expect(receives().slice(1).length).toBeGreaterThan(0);
    for (const input of receives().slice(1, -1)) expect(input).toMatchObject({ WaitTimeSeconds: 0, MaxNumberOfMessages: 9 });
  });

  it('deletes every message except those the function reports failed', async () => {
    const batch = [message('ok'), message('bad'), message('ok too')];
    answers = [batch];
    outcome = async () => ({ status: 'ok', result: { batchItemFailures: [{ itemIdentifier: batch[1]!.MessageId }] } });
    start();
    await eventually(() => deleted().length === 2);
    expect(deleted()).toEqual([batch[0]!.ReceiptHandle, batch[2]!.ReceiptHandle]);
    expect(logged).toEqual([expect.stringMatching(/^sqs provincialDeliveries: credit-hub-connectorProvincial [0-9a-f-]{36} reported 1 of 3 messages failed/)]);
  });

  it.each<[string, InvokeOutcome, RegExp]>([
    ['an error', { status: 'error', errorType: 'TypeError', errorMessage: 'boom for 110101199003074477' }, /failed \(TypeError: boom for \[REDACTED/],
    ['a timeout', { status: 'timeout', timeoutSeconds: 60 }, /failed \(Task timed out after 60\.00 seconds\)/],
    ['a crashed environment', { status: 'crashed', errorMessage: 'the execution environment exited (code 1)' }, /failed \(the execution environment crashed: the execution environment exited \(code 1\)\)/],
    ['an invalid response', { status: 'ok', result: { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] } }, /invalid batch response \(batchItemFailures\[0\] names a message that is not in the batch\)/],
  ])('deletes nothing after %s, and logs one line without the bodies', async (_, result, line) => {
    answers = [[message('secret body 1'), message('secret body 2')]];
    outcome = async () => result;
    start();
    await eventually(() => logged.length === 1);
    await poller!.stop();
    expect(sqs.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(logged[0]).toMatch(line);
    expect(logged[0]).toContain('2');
    expect(logged[0]).not.toContain('secret body');
    expect(logged[0]).not.toContain('110101199003074477');
  });

  it('logs the messages it could not delete (they will be delivered again)', async () => {
    answers = [[message('a'), message('b')]];
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] });
    start();
    await eventually(() => logged.length === 1);
    expect(logged[0]).toMatch(/1 of 2 processed messages could not be deleted \(ReceiptHandleIsInvalid\)/);
  });

  it('tries ReceiveMessage again after a failure, with a log line, and then delivers', async () => {
    answers = [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'Error' }), [message('after')]];
    start();
    await eventually(() => invoked.length === 1);
    expect(logged).toEqual([expect.stringMatching(/^sqs provincialDeliveries: ReceiveMessage failed \(Error: connect ECONNREFUSED 127\.0\.0\.1:1\); trying again in 0\.0 s$/)]);
    expect(invoked[0]!.Records.map((r) => r.body)).toEqual(['after']);
  });

  it('holds at most maxConcurrency invocations in flight, and receives nothing more while they all run', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    answers = Array.from({ length: 20 }, (_, i) => [message(`c-${i}`)]);
    outcome = async () => {
      await released;
      return { status: 'ok', result: undefined };
    };
    start({ batchSize: 1, maxConcurrency: 3 });
    await eventually(() => invoked.length === 3);
    const receivedWhileBusy = receives().length;
    await new Promise((r) => setTimeout(r, 100));
    expect(invoked).toHaveLength(3);
    expect(receives()).toHaveLength(receivedWhileBusy);
    release();
    await eventually(() => invoked.length === 20);
    await eventually(() => deleted().length === 20);
  });

  it('stops: no receive after stop() has resolved', async () => {
    start({ maxConcurrency: 2 });
    await eventually(() => receives().length >= 2);
    await poller!.stop();
    const after = receives().length;
    await new Promise((r) => setTimeout(r, 50));
    expect(receives()).toHaveLength(after);
  });
});
