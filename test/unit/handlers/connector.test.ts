/**
 * The connector function (functions/connector/handler.ts) with mocked DynamoDB and SQS and an injected POST:
 * what each answer of the platform makes it do to the delivery, the dead-letter queue and the batch response,
 * that every retry resends the same bytes under the same Idempotency-Key, and its metrics. No real waiting:
 * the back-off's sleep, random and clock are injected. One test goes over a real local HTTP server.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { exchange, platforms, queues, tables } from '../../../infra/catalogue.js';
import type { StoredHead } from '../../../shared/domain/record-model.js';
import { refusalReason, type ConnectorDeps } from '../../../shared/upward/connector.js';
import { REDACTED_ID } from '../../../shared/domain/identity-number-text.js';
import { REDELIVERY_BASE_SECONDS, redeliveryDelaySeconds } from '../../../shared/upward/retry-policy.js';
import { deliveryKey, newDelivery, type Delivery } from '../../../shared/upward/delivery-model.js';
import type { ConnectorCounts, DeliveryMetrics } from '../../../shared/upward/delivery-metrics.js';
import { REASON_ATTRIBUTE } from '../../../shared/upward/delivery-queues.js';
import { packageIdOf, sha256Hex } from '../../../shared/upward/exchange-package.js';
import { ANSWER_READ_CHARS, type PlatformRequest, type PlatformResponse } from '../../../shared/upward/platform-client.js';
import { senderUscc, SenderConfigurationError } from '../../../shared/upward/sender.js';
import { IDENTITY_NUMBER, personLicence, storedLicence } from './fixtures.js';
import { RECORDS_TABLE, ddb, department, lambdaContext } from './support.js';
import { connectorDeps } from '../../../functions/connector/deps.js';
import { connectorHandler } from '../../../functions/connector/handler.js';

const DELIVERIES_TABLE = 'test-deliveries';
const BASE_URL = 'https://national.example.test/exchange/';
const DLQ_URL = 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national-dlq';
const QUEUE_URL = 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national';
const SENDER = '91110000600037341L';
process.env[tables.deliveries.envVar] = DELIVERIES_TABLE;
process.env.HUB_PLATFORM = 'national';
process.env[platforms.national.urlEnvVar] = BASE_URL;
process.env[queues[platforms.national.deadLetterQueue].envVar] = DLQ_URL;
process.env[queues[platforms.national.queue].envVar] = QUEUE_URL;
process.env[exchange.senderUsccEnvVar] = SENDER;

const sqs = mockClient(SQSClient);
const MAX_RECEIVES = queues.national.deadLetter.maxReceiveCount;
const NOW = new Date('2026-05-01T08:00:00.000Z');

class RecordingMetrics implements DeliveryMetrics {
  connectorCounts: { platform: string; counts: ConnectorCounts }[] = [];
  ages: { platform: string; seconds: number }[] = [];
  connector(platform: string, counts: ConnectorCounts) {
    this.connectorCounts.push({ platform, counts });
  }
  oldestOwedAge(platform: string, seconds: number) {
    this.ages.push({ platform, seconds });
  }
}

type Answer = PlatformResponse | Error;
interface Posted {
  url: string;
  request: PlatformRequest;
}

/** The platform: answers each POST of a package with the next scripted answer for its record (the last one repeats). */
class ScriptedPlatform {
  posted: Posted[] = [];
  constructor(private readonly scripts: Record<string, Answer[]> = {}) {}
  post = async (url: string, request: PlatformRequest): Promise<PlatformResponse> => {
    this.posted.push({ url, request });
    const recordId = (JSON.parse(request.body) as { body: { records: { recordId: string }[] } }).body.records[0]!.recordId;
    const script = this.scripts[recordId] ?? [{ status: 200, text: '' }];
    const answer = script.length > 1 ? script.shift()! : script[0]!;
    if (answer instanceof Error) throw answer;
    return answer;
  };
}

let metrics: RecordingMetrics;
let slept: number[];

function run(platform: ScriptedPlatform, event: SQSEvent, options: { remainingMs?: number; deps?: Partial<ConnectorDeps> } = {}) {
  const handler = connectorHandler(
    (context) =>
      connectorDeps(context, {
        post: platform.post,
        sleep: async (ms) => void slept.push(ms),
        random: () => 0.5,
        now: () => NOW,
        ...options.deps,
      }),
    () => metrics,
  );
  const context: Context = { ...lambdaContext('credit-hub-connectorNational'), getRemainingTimeInMillis: () => options.remainingMs ?? 55_000 };
  return handler(event, context);
}

let messageNo = 0;
function message(recordId: string, version: number, receiveCount = 1): SQSRecord {
  messageNo++;
  return {
    messageId: `msg-${messageNo}`,
    receiptHandle: `rh-${messageNo}`,
    body: JSON.stringify({ recordId, version, platform: 'national' }),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:cn-north-1:000000000000:hub-national',
    awsRegion: 'cn-north-1',
  };
}
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** Stored: the heads given, and a delivery for each (pending unless said otherwise). */
function stored(heads: StoredHead[], deliveries: Partial<Delivery>[] = []) {
  for (const head of heads) ddb.on(GetCommand, { TableName: RECORDS_TABLE, Key: { pk: `REC#${head.id}`, sk: 'HEAD' } }).resolves({ Item: { pk: `REC#${head.id}`, sk: 'HEAD', ...head } });
  for (const d of deliveries) {
    const delivery = { ...newDelivery({ id: d.recordId!, version: d.version!, status: 'active', publication: { state: 'pending-review', from: '2026-01-01' } }, 'national', NOW), ...d } as Delivery;
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: deliveryKey(delivery) }).resolves({ Item: { ...deliveryKey(delivery), ...delivery } });
  }
  ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
}

const updates = () => ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
const deadLettered = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
const visibilityChanges = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
const plusSeconds = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

let licence: StoredHead;
let other: StoredHead;

beforeEach(async () => {
  ddb.reset();
  sqs.reset();
  metrics = new RecordingMetrics();
  slept = [];
  licence ??= await storedLicence(department, personLicence(1), new Date('2026-04-30T01:02:03.456Z'));
  other ??= await storedLicence(department, personLicence(2), new Date('2026-04-30T01:02:03.456Z'));
});

describe('connector', () => {
  it('POSTs the package to <base URL>/packages under its Idempotency-Key, and marks the delivery delivered on a 2xx', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 202, text: 'ok' }] });
    expect(await run(platform, event(message(licence.id, 1)))).toEqual({ batchItemFailures: [] });

    expect(platform.posted).toHaveLength(1);
    const { url, request } = platform.posted[0]!;
    expect(url).toBe('https://national.example.test/exchange/packages');
    expect(request.headers).toEqual({ 'Content-Type': 'application/json', 'Idempotency-Key': packageIdOf('national', licence.id, 1) });
    expect(request.timeoutMs).toBe(exchange.requestTimeoutSeconds * 1000);
    const pkg = JSON.parse(request.body) as { header: Record<string, unknown>; body: { records: { fields: Record<string, string>; operation: string }[] } };
    expect(pkg.header).toMatchObject({ packageId: packageIdOf('national', licence.id, 1), sender: SENDER, createdAt: licence.receivedAt, recordCount: 1 });
    expect(pkg.header.bodySha256).toBe(sha256Hex(JSON.stringify(pkg.body)));
    expect(pkg.body.records[0]!.fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);
    expect(pkg.body.records[0]!.operation).toBe('upsert');

    expect(updates()).toHaveLength(1);
    expect(updates()[0]).toMatchObject({
      Key: deliveryKey({ recordId: licence.id, version: 1, platform: 'national' }),
      UpdateExpression: expect.stringContaining('REMOVE owedBy'),
      ExpressionAttributeValues: expect.objectContaining({ ':delivered': 'delivered', ':at': NOW.toISOString(), ':n': 0 }),
    });
    expect(metrics.connectorCounts).toEqual([{ platform: 'national', counts: { delivered: 1, retried: 0, deadLettered: 0 } }]);
  });

  it('retries a 503 after a jittered back-off with the same key and the very same bytes', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, text: 'busy' }, { status: 200, text: '' }] });
    expect(await run(platform, event(message(licence.id, 1)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(2);
    expect(platform.posted[1]!.request.body).toBe(platform.posted[0]!.request.body);
    expect(platform.posted[1]!.request.headers).toEqual(platform.posted[0]!.request.headers);
    // Full jitter: random 0.5 of the first retry's ceiling (250 ms).
    expect(slept).toEqual([125]);
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered', ':n': 1 });
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 1, retried: 1, deadLettered: 0 });
  });

  it('waits as long as a 429’s Retry-After asks, and retries timeouts and network errors too', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 429, retryAfter: '7', text: '' }, timeout, new TypeError('fetch failed'), { status: 200, text: '' }] });
    expect(await run(platform, event(message(licence.id, 1)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(4);
    expect(slept[0]).toBe(7000);
    expect(new Set(platform.posted.map((p) => p.request.body)).size).toBe(1);
  });

  it('sends a package refused with a 4xx to the dead-letter queue at once, alone: the other message of the batch is delivered', async () => {
    stored([licence, other], [{ recordId: licence.id, version: 1 }, { recordId: other.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 400, text: `{"error":"XK_XKLB 无效 for ${IDENTITY_NUMBER}"}` }] });
    const poison = message(licence.id, 1);
    const result = await run(platform, event(poison, message(other.id, 1)));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(platform.posted.filter((p) => p.request.body.includes(licence.id))).toHaveLength(1);
    expect(deadLettered()).toEqual([
      { QueueUrl: DLQ_URL, MessageBody: poison.body, MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: expect.stringMatching(/^HTTP 400: /) } } },
    ]);
    const failed = updates().find((u) => u.Key!.pk === `REC#${licence.id}`)!;
    expect(failed.ExpressionAttributeValues).toMatchObject({ ':failedState': 'failed', ':n': 1 });
    // The platform's answer, without the identity number it echoed.
    expect(failed.ExpressionAttributeValues![':reason']).toMatch(/^HTTP 400: \{"error":"XK_XKLB 无效 for \[REDACTED-ID\]"\}$/);
    expect(JSON.stringify(deadLettered())).not.toContain(IDENTITY_NUMBER);
    expect(updates().find((u) => u.Key!.pk === `REC#${other.id}`)!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered' });
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 1, retried: 0, deadLettered: 1 });
  });

  it('keeps a refusal’s reason to the status and 300 characters of the answer', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    await run(new ScriptedPlatform({ [licence.id]: [{ status: 422, text: 'x'.repeat(400) }] }), event(message(licence.id, 1)));
    expect(updates()[0]!.ExpressionAttributeValues![':reason']).toBe(`HTTP 422: ${'x'.repeat(300)}`);
  });

  it('redacts identity numbers before it cuts the answer: none survives in part at the cut', async () => {
    // The number straddles the 300th character: cut first, its first 12 digits would survive.
    const straddling = `${'x'.repeat(288)}${IDENTITY_NUMBER}${'y'.repeat(50)}`;
    expect(refusalReason({ status: 400, text: straddling })).toBe(`HTTP 400: ${`${'x'.repeat(288)}${REDACTED_ID}${'y'.repeat(50)}`.slice(0, 300)}`);
    // Cut short by the read itself (the answer's first ANSWER_READ_CHARS): what is left of it is redacted at the cut.
    const cutByRead = `${'x'.repeat(290)}${IDENTITY_NUMBER.slice(0, 10)}`;
    expect(refusalReason({ status: 400, text: cutByRead })).toBe(`HTTP 400: ${'x'.repeat(290)}${REDACTED_ID}`);
    // Fewer than 6 digits at the cut are left alone.
    expect(refusalReason({ status: 400, text: `${'x'.repeat(295)}12345` })).toBe(`HTTP 400: ${'x'.repeat(295)}12345`);
    for (let at = 280; at <= 300; at++) {
      const reason = refusalReason({ status: 400, text: `${'x'.repeat(at)}${IDENTITY_NUMBER}${'y'.repeat(ANSWER_READ_CHARS - at - 18)}` });
      expect(reason, `number at ${at}`).not.toMatch(/\d{6}/);
    }
  });

  it('does not send a version superseded by a newer one, and marks it superseded', async () => {
    stored([{ ...licence, version: 3 }], [{ recordId: licence.id, version: 2 }]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(licence.id, 2)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toEqual([]);
    expect(updates()).toEqual([expect.objectContaining({ Key: deliveryKey({ recordId: licence.id, version: 2, platform: 'national' }), ExpressionAttributeValues: expect.objectContaining({ ':superseded': 'superseded' }) })]);
  });

  it('does nothing for a delivery already delivered or superseded (a duplicate message), nor for one it does not know', async () => {
    stored([licence, other], [{ recordId: licence.id, version: 1, state: 'delivered' }, { recordId: other.id, version: 1, state: 'superseded' }]);
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: deliveryKey({ recordId: 'lic_UNKNOWN', version: 1, platform: 'national' }) }).resolves({});
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(licence.id, 1), message(other.id, 1), message('lic_UNKNOWN', 1)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toEqual([]);
    expect(updates()).toEqual([]);
  });

  it('does not send a failed delivery again (a duplicate of a refused message): nothing posted, nothing dead-lettered twice', async () => {
    stored([licence], [{ recordId: licence.id, version: 1, state: 'failed', failedReason: 'HTTP 400', owedBy: undefined }]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(licence.id, 1)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toEqual([]);
    expect(updates()).toEqual([]);
    expect(deadLettered()).toEqual([]);
  });

  it('sends a redriven delivery (made pending again by the redrive) and marks it delivered', async () => {
    stored([licence], [{ recordId: licence.id, version: 1, state: 'pending' }]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(licence.id, 1, 6)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(1);
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered' });
  });

  it('gives a message back to the queue when the platform stays unavailable, hidden base × 2^receiveCount, counting the attempts and when it is due again', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 500, text: '' }] });
    const m = message(licence.id, 1, 2);
    expect(await run(platform, event(m))).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toHaveLength(exchange.attemptsPerInvocation);
    expect(slept).toHaveLength(exchange.attemptsPerInvocation - 1);
    const delay = REDELIVERY_BASE_SECONDS * 2 ** 2;
    expect(visibilityChanges()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: m.receiptHandle, VisibilityTimeout: delay }]);
    // The sweep's age counts from when the message is due again (not from when the record was first queued).
    expect(updates()).toEqual([
      expect.objectContaining({ UpdateExpression: 'SET lastQueuedAt = :due ADD attempts :n', ExpressionAttributeValues: { ':n': exchange.attemptsPerInvocation, ':due': plusSeconds(delay) } }),
    ]);
    expect(deadLettered()).toEqual([]);
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 0, retried: exchange.attemptsPerInvocation - 1, deadLettered: 0 });
  });

  it('hides the message at least as long as the platform’s Retry-After asked, at most 12 hours, never 0', async () => {
    stored([licence, other], [{ recordId: licence.id, version: 1 }, { recordId: other.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, retryAfter: '3600', text: '' }], [other.id]: [{ status: 429, retryAfter: '999999', text: '' }] });
    const a = message(licence.id, 1, 1);
    const b = message(other.id, 1, 1);
    await run(platform, event(a, b));
    expect(visibilityChanges().sort((x, y) => x.ReceiptHandle!.localeCompare(y.ReceiptHandle!))).toEqual(
      [
        { QueueUrl: QUEUE_URL, ReceiptHandle: a.receiptHandle, VisibilityTimeout: 3600 },
        { QueueUrl: QUEUE_URL, ReceiptHandle: b.receiptHandle, VisibilityTimeout: 43_200 },
      ].sort((x, y) => x.ReceiptHandle.localeCompare(y.ReceiptHandle)),
    );
    expect(redeliveryDelaySeconds(0, 0, 0)).toBe(1);
  });

  it('still gives the message back when its visibility cannot be changed (it returns after the queue’s timeout)', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    sqs.on(ChangeMessageVisibilityCommand).rejects(Object.assign(new Error('receipt handle expired'), { name: 'ReceiptHandleIsInvalid' }));
    const m = message(licence.id, 1, 1);
    expect(await run(new ScriptedPlatform({ [licence.id]: [{ status: 502, text: '' }] }), event(m))).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(visibilityChanges()).toHaveLength(1);
  });

  it('on the message’s last receive, lets it go and leaves the delivery pending (owed: the sweep and the nightly sync send it again); never failed, never dead-lettered', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, text: '' }] });
    const m = message(licence.id, 1, MAX_RECEIVES);
    // Not a batch item failure: the event-source mapping deletes it, so SQS never moves it to the dead-letter queue.
    expect(await run(platform, event(m))).toEqual({ batchItemFailures: [] });
    expect(updates()).toEqual([
      expect.objectContaining({ UpdateExpression: 'SET lastQueuedAt = :due ADD attempts :n', ExpressionAttributeValues: { ':n': exchange.attemptsPerInvocation, ':due': NOW.toISOString() } }),
    ]);
    expect(JSON.stringify(updates())).not.toContain('failed');
    expect(deadLettered()).toEqual([]);
    expect(visibilityChanges()).toEqual([]);
    expect(metrics.connectorCounts[0]!.counts.deadLettered).toBe(0);
  });

  it('treats a 3xx as the platform unavailable (a redirect is not followed): retried, never a refusal', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 301, text: 'moved' }, { status: 307, text: '' }, { status: 200, text: '' }] });
    expect(await run(platform, event(message(licence.id, 1)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(3);
    expect(deadLettered()).toEqual([]);
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered', ':n': 2 });
  });

  it('marks the delivery failed (`internal: <error name>`, no message) when a fault that is not the platform’s hits the message’s last receive; earlier receives change nothing', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const denied = Object.assign(new Error(`KMS denied decrypting for ${IDENTITY_NUMBER}`), { name: 'AccessDeniedException' });
    const cipher = async () => {
      throw denied;
    };
    const early = message(licence.id, 1, MAX_RECEIVES - 1);
    expect(await run(new ScriptedPlatform(), event(early), { deps: { cipher } })).toEqual({ batchItemFailures: [{ itemIdentifier: early.messageId }] });
    expect(updates()).toEqual([]);

    const last = message(licence.id, 1, MAX_RECEIVES);
    expect(await run(new ScriptedPlatform(), event(last), { deps: { cipher } })).toEqual({ batchItemFailures: [{ itemIdentifier: last.messageId }] });
    expect(updates()).toEqual([
      expect.objectContaining({
        Key: deliveryKey({ recordId: licence.id, version: 1, platform: 'national' }),
        ExpressionAttributeValues: expect.objectContaining({ ':failedState': 'failed', ':reason': 'internal: AccessDeniedException', ':n': 0 }),
      }),
    ]);
    expect(JSON.stringify(updates())).not.toContain(IDENTITY_NUMBER);
    expect(deadLettered()).toEqual([]);
    expect(metrics.connectorCounts.at(-1)!.counts.deadLettered).toBe(1);
  });

  it('never waits past the invocation’s time: a Retry-After longer than what is left ends the tries at once', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, retryAfter: '120', text: '' }] });
    const m = message(licence.id, 1);
    expect(await run(platform, event(m), { remainingMs: 50_000 })).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it('does not start a POST it has no time to finish', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform();
    const m = message(licence.id, 1);
    expect(await run(platform, event(m), { remainingMs: exchange.requestTimeoutSeconds * 1000 })).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toEqual([]);
    // No attempt counted; the message is put off as any other the platform did not take.
    expect(updates()).toEqual([expect.objectContaining({ ExpressionAttributeValues: { ':n': 0, ':due': plusSeconds(REDELIVERY_BASE_SECONDS * 2) } })]);
    expect(visibilityChanges()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: m.receiptHandle, VisibilityTimeout: REDELIVERY_BASE_SECONDS * 2 }]);
  });

  it('delivers the messages of a batch in parallel: a slow POST does not hold up the next', async () => {
    stored([licence, other], [{ recordId: licence.id, version: 1 }, { recordId: other.id, version: 1 }]);
    let releaseSlow!: () => void;
    const slowMayFinish = new Promise<void>((resolve) => (releaseSlow = resolve));
    const post = async (_url: string, request: PlatformRequest): Promise<PlatformResponse> => {
      // The first message's POST answers only once the second's has been sent: sequential delivery would never end.
      if (request.body.includes(licence.id)) await slowMayFinish;
      else releaseSlow();
      return { status: 200, text: '' };
    };
    expect(await run(new ScriptedPlatform(), event(message(licence.id, 1), message(other.id, 1)), { deps: { post } })).toEqual({ batchItemFailures: [] });
    expect(updates()).toHaveLength(2);
  });

  it('dead-letters a message it cannot read, or one for the other platform, without retrying it', async () => {
    stored([]);
    const unreadable = { ...message('x', 1), body: 'not json' };
    const misrouted = { ...message('lic_X', 1), body: JSON.stringify({ recordId: 'lic_X', version: 1, platform: 'provincial' }) };
    expect(await run(new ScriptedPlatform(), event(unreadable, misrouted))).toEqual({ batchItemFailures: [] });
    expect(deadLettered().map((d) => d.MessageBody)).toEqual([unreadable.body, misrouted.body]);
  });

  it('fails clearly, sending nothing, while the sender USCC is not configured', async () => {
    stored([licence], [{ recordId: licence.id, version: 1 }]);
    const platform = new ScriptedPlatform();
    const m = message(licence.id, 1);
    const result = await run(platform, event(m), { deps: { sender: () => senderUscc({}) } });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toEqual([]);
    expect(() => senderUscc({})).toThrow(SenderConfigurationError);
  });

  it('gives the message back when a store fails (the error is not the platform’s)', async () => {
    stored([licence], []);
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE }).rejects(new Error('ProvisionedThroughputExceededException'));
    const m = message(licence.id, 1);
    expect(await run(new ScriptedPlatform(), event(m))).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
  });
});

describe('connector over HTTP', () => {
  it('POSTs over a real connection: the headers, the body byte for byte; a slow answer is a timeout, retried', async () => {
    const received: { headers: IncomingMessage['headers']; body: string; url?: string }[] = [];
    let answers = 0;
    let late: NodeJS.Timeout | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const parts: Buffer[] = [];
      req.on('data', (p: Buffer) => parts.push(p));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(parts).toString('utf8'), url: req.url });
        answers++;
        // The first answer never comes in time; the second is 201.
        if (answers === 1) late = setTimeout(() => res.writeHead(200).end(), 2_000);
        else res.writeHead(201, { 'content-type': 'application/json' }).end('{"received":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      stored([licence], [{ recordId: licence.id, version: 1 }]);
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { fetchPost } = await import('../../../shared/upward/platform-client.js');
      const result = await run(new ScriptedPlatform(), event(message(licence.id, 1)), { deps: { baseUrl, post: fetchPost, requestTimeoutMs: 200 } });
      expect(result).toEqual({ batchItemFailures: [] });
      expect(received).toHaveLength(2);
      expect(received[0]!.url).toBe('/packages');
      expect(received[0]!.headers['content-type']).toBe('application/json');
      expect(received[0]!.headers['idempotency-key']).toBe(packageIdOf('national', licence.id, 1));
      expect(received[1]!.body).toBe(received[0]!.body);
      expect(received[1]!.headers['idempotency-key']).toBe(received[0]!.headers['idempotency-key']);
      expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered', ':n': 1 });
    } finally {
      clearTimeout(late);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
