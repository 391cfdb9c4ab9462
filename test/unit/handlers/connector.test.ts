/**
 * The connector function (functions/connector/handler.ts, shared/upward/connector.ts) with mocked DynamoDB and SQS
 * and an injected POST: what each answer of the platform to a package makes it do to the package's delivery, the
 * dead-letter queue, the platform's queue and the batch response; that every retry resends the same bytes under
 * the same Idempotency-Key; how a package refused whole is split until the record refused is alone (against the
 * in-memory packages store, the parts' messages taken from the mocked queue); and its metrics. No real waiting:
 * the back-off's sleep, random and clock are injected. One test goes over a real local HTTP server.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { exchange, platforms, queues, tables } from '../../../infra/catalogue.js';
import { REDACTED_ID } from '../../../shared/domain/identity-number-text.js';
import type { StoredHead } from '../../../shared/domain/record-model.js';
import { refusalReason, type ConnectorDeps } from '../../../shared/upward/connector.js';
import type { ConnectorCounts, DeliveryMetrics } from '../../../shared/upward/delivery-metrics.js';
import { REASON_ATTRIBUTE } from '../../../shared/upward/delivery-queues.js';
import { sha256Hex } from '../../../shared/upward/exchange-package.js';
import { encodeInlineVersions, inlineVersionsFor } from '../../../shared/upward/inline-versions.js';
import {
  bodyKey,
  deliveryKey,
  encodeRefs,
  leafFor,
  messageBody,
  newDelivery,
  packageIdOf,
  packageKeyOf,
  partRange,
  type PackageDelivery,
  type PackageRef,
  type PartPath,
} from '../../../shared/upward/package-model.js';
import { ANSWER_READ_CHARS, type PlatformRequest, type PlatformResponse } from '../../../shared/upward/platform-client.js';
import { REDELIVERY_BASE_SECONDS, redeliveryDelaySeconds } from '../../../shared/upward/retry-policy.js';
import { senderUscc, SenderConfigurationError } from '../../../shared/upward/sender.js';
import { MemoryPackagesStore } from '../../support/memory-packages-store.js';
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
/** When the packages of these tests were opened (their createdAt on the wire). */
const OPENED = '2026-04-30T01:02:04.000Z';

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
interface SentPackage {
  header: Record<string, unknown>;
  body: { records: { recordId: string; version: number; operation: string; fields: Record<string, string> }[] };
}
const parsed = (p: Posted) => JSON.parse(p.request.body) as SentPackage;

/** The platform: answers each POST of a package with the next scripted answer for its first record (the last one repeats). */
class ScriptedPlatform {
  posted: Posted[] = [];
  constructor(private readonly scripts: Record<string, Answer[]> = {}) {}
  post = async (url: string, request: PlatformRequest): Promise<PlatformResponse> => {
    this.posted.push({ url, request });
    const recordId = (JSON.parse(request.body) as SentPackage).body.records[0]!.recordId;
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

/** A package of these heads' current versions (its key from its first). */
interface TestPackage {
  key: string;
  refs: PackageRef[];
}
let packageNo = 0;
function pkg(...heads: StoredHead[]): TestPackage {
  packageNo++;
  return {
    key: packageKeyOf({ sequenceNumber: String(4_900_000 + packageNo), recordId: heads[0]!.id, version: heads[0]!.version }),
    refs: heads.map((h) => ({ recordId: h.id, version: h.version, operation: 'upsert' as const })),
  };
}

let messageNo = 0;
/** A message for a part of package `p`, maybe carrying its versions (inline-versions.ts). */
function message(p: { key: string }, path: PartPath = '', receiveCount = 1, versions?: string): SQSRecord {
  messageNo++;
  return {
    messageId: `msg-${messageNo}`,
    receiptHandle: `rh-${messageNo}`,
    body: messageBody({ key: p.key, platform: 'national', path, ...(versions !== undefined ? { versions } : {}) }),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:cn-north-1:000000000000:hub-national',
    awsRegion: 'cn-north-1',
  };
}
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** The records table's items the connector may read (heads, V# items), answered to its BatchGets. */
function recordsTable(items: Record<string, unknown>[]) {
  const byKey = new Map(items.map((i) => [`${String(i.pk)}|${String(i.sk)}`, i]));
  ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string; sk: string }[] }> }) => ({
    Responses: { [RECORDS_TABLE]: input.RequestItems[RECORDS_TABLE]!.Keys.map((k) => byKey.get(`${k.pk}|${k.sk}`)).filter((i) => i !== undefined) },
  }));
}
const headItem = (head: StoredHead) => ({ pk: `REC#${head.id}`, sk: 'HEAD', ...head });
/** What a message carries of a head's version (the fan-out takes it from the stream record). */
const contentOf = ({ id, kind, sourceId, version, fields, certificate }: StoredHead) => ({ id, kind, sourceId, version, fields, ...(certificate ? { certificate } : {}) });

/**
 * Stored: the heads, the packages' bodies (closed unless said), and a delivery to the national platform of each
 * package (pending and whole unless said otherwise).
 */
function stored(heads: StoredHead[], packages: (TestPackage & { open?: boolean })[], deliveries: (Partial<PackageDelivery> & { key: string })[] = packages.map((p) => ({ key: p.key }))) {
  ddb.on(GetCommand).resolves({});
  recordsTable(heads.map(headItem));
  for (const p of packages) {
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: bodyKey(p.key) }).resolves({ Item: { ...bodyKey(p.key), key: p.key, openedAt: OPENED, refs: encodeRefs(p.refs), ...(p.open ? { openFor: 'claims' } : {}) } });
  }
  for (const d of deliveries) {
    const count = packages.find((p) => p.key === d.key)?.refs.length ?? 1;
    const delivery = { ...newDelivery(d.key, count, 'national', d.path ?? '', new Date(OPENED)), ...d } as PackageDelivery;
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: deliveryKey(delivery) }).resolves({ Item: { ...deliveryKey(delivery), ...delivery } });
  }
  ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  queueAccepts();
}

/** The platform's queue takes every message sent to it (the parts of a split). */
function queueAccepts() {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })), Failed: [] }));
}

const updates = () => ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
const deadLettered = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
const visibilityChanges = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
const queuedParts = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(e.MessageBody!) })));
const plusSeconds = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();
const whole = (p: TestPackage) => ({ key: p.key, platform: 'national' as const, path: '' });

let licence: StoredHead;
let other: StoredHead;
let more: StoredHead[];

beforeEach(async () => {
  ddb.reset();
  sqs.reset();
  metrics = new RecordingMetrics();
  slept = [];
  const at = new Date('2026-04-30T01:02:03.456Z');
  licence ??= await storedLicence(department, personLicence(1), at);
  other ??= await storedLicence(department, personLicence(2), at);
  more ??= await Promise.all([3, 4, 5, 6, 7, 8].map((n) => storedLicence(department, personLicence(n), at)));
});

describe('connector', () => {
  it('POSTs the package to <base URL>/packages under its Idempotency-Key, its records in order, and marks the delivery delivered on a 2xx', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 202, text: 'ok' }] });
    expect(await run(platform, event(message(p)))).toEqual({ batchItemFailures: [] });

    expect(platform.posted).toHaveLength(1);
    const { url, request } = platform.posted[0]!;
    expect(url).toBe('https://national.example.test/exchange/packages');
    expect(request.headers).toEqual({ 'Content-Type': 'application/json', 'Idempotency-Key': packageIdOf('national', p.key, '') });
    expect(request.timeoutMs).toBe(exchange.requestTimeoutSeconds * 1000);
    const sent = parsed(platform.posted[0]!);
    // createdAt is when the package was opened: the same on every send, whatever day it is sent.
    expect(sent.header).toMatchObject({ packageId: packageIdOf('national', p.key, ''), sender: SENDER, createdAt: OPENED, recordCount: 2 });
    expect(sent.header.bodySha256).toBe(sha256Hex(JSON.stringify(sent.body)));
    expect(sent.body.records.map((r) => [r.recordId, r.version, r.operation])).toEqual([
      [licence.id, 1, 'upsert'],
      [other.id, 1, 'upsert'],
    ]);
    expect(sent.body.records[0]!.fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);

    expect(updates()).toHaveLength(1);
    expect(updates()[0]).toMatchObject({
      Key: deliveryKey(whole(p)),
      UpdateExpression: expect.stringContaining('REMOVE owedBy'),
      ExpressionAttributeValues: expect.objectContaining({ ':delivered': 'delivered', ':at': NOW.toISOString(), ':n': 0 }),
    });
    // Delivered counts records.
    expect(metrics.connectorCounts).toEqual([{ platform: 'national', counts: { delivered: 2, retried: 0, deadLettered: 0 } }]);
  });

  it('reads the heads in one eventually consistent BatchGet', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    await run(new ScriptedPlatform(), event(message(p)));
    const reads = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![RECORDS_TABLE]!);
    expect(reads).toEqual([{ Keys: [{ pk: `REC#${licence.id}`, sk: 'HEAD' }, { pk: `REC#${other.id}`, sk: 'HEAD' }], ConsistentRead: false }]);
  });

  it('sends the version the package carries: read from its V# item when the head has moved on', async () => {
    const v3 = { ...licence, version: 3, fields: { ...licence.fields, XK_NR: '第三版' } };
    const v2 = { id: licence.id, version: 2, receivedAt: licence.receivedAt, supersededAt: NOW.toISOString(), fields: { ...licence.fields, XK_NR: '第二版' }, certificate: licence.certificate, contentHash: 'h2' };
    const p = { key: packageKeyOf({ sequenceNumber: '77', recordId: licence.id, version: 2 }), refs: [{ recordId: licence.id, version: 2, operation: 'upsert' as const }] };
    stored([v3], [p]);
    recordsTable([headItem(v3), { pk: `REC#${licence.id}`, sk: 'V#0000000002', ...v2 }]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(p)))).toEqual({ batchItemFailures: [] });
    const sent = parsed(platform.posted[0]!);
    expect(sent.body.records[0]).toMatchObject({ recordId: licence.id, version: 2, fields: expect.objectContaining({ XK_NR: '第二版', XK_XDR_ZJHM: IDENTITY_NUMBER }) });
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered' });
  });

  it('builds the package from the versions its message carries, reading none back: the very bytes it sends when it reads them', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    const read = new ScriptedPlatform();
    await run(read, event(message(p)));
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    ddb.resetHistory();
    const carried = new ScriptedPlatform();
    const versions = encodeInlineVersions([licence, other].map(contentOf))!;
    expect(await run(carried, event(message(p, '', 1, versions)))).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(BatchGetCommand)).toEqual([]);
    expect(carried.posted[0]!.request.body).toBe(read.posted[0]!.request.body);
    expect(carried.posted[0]!.request.headers).toEqual(read.posted[0]!.request.headers);
    // The number encrypted in the message, in full in the package.
    expect(versions).not.toContain(IDENTITY_NUMBER);
    expect(parsed(carried.posted[0]!).body.records[0]!.fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);
  });

  it.each([
    ['in another order', () => encodeInlineVersions([other, licence].map(contentOf))],
    ['one missing', () => encodeInlineVersions([licence].map(contentOf))],
    ['of another version', () => encodeInlineVersions([{ ...licence, version: 2 }, other].map(contentOf))],
    ['garbled', () => 'H4sIAAAAnotgzip'],
    ['without a kind', () => encodeInlineVersions([licence, other].map((h) => ({ ...contentOf(h), kind: '' })))],
  ])('reads the versions from the table when those the message carries are not the part’s (%s)', async (_, versions) => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(p, '', 1, versions())))).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(parsed(platform.posted[0]!).body.records.map((r) => [r.recordId, r.version])).toEqual([
      [licence.id, 1],
      [other.id, 1],
    ]);
  });

  it('sends a part of a package (after a split) under the part’s own key: only its refs', async () => {
    const p = pkg(licence, other, more[0]!);
    stored([licence, other, more[0]!], [p], [{ key: p.key, path: '1' }]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(p, '1')))).toEqual({ batchItemFailures: [] });
    const sent = parsed(platform.posted[0]!);
    expect(platform.posted[0]!.request.headers['Idempotency-Key']).toBe(packageIdOf('national', p.key, '1'));
    expect(sent.header).toMatchObject({ packageId: packageIdOf('national', p.key, '1'), recordCount: 1, createdAt: OPENED });
    expect(sent.body.records.map((r) => r.recordId)).toEqual([more[0]!.id]);
    expect(updates()[0]).toMatchObject({ Key: deliveryKey({ key: p.key, platform: 'national', path: '1' }) });
  });

  it('retries a 503 after a jittered back-off with the same key and the very same bytes', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, text: 'busy' }, { status: 200, text: '' }] });
    expect(await run(platform, event(message(p)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(2);
    expect(platform.posted[1]!.request.body).toBe(platform.posted[0]!.request.body);
    expect(platform.posted[1]!.request.headers).toEqual(platform.posted[0]!.request.headers);
    // Full jitter: random 0.5 of the first retry's ceiling (250 ms).
    expect(slept).toEqual([125]);
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered', ':n': 1 });
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 1, retried: 1, deadLettered: 0 });
  });

  it('sends the same bytes on a later receive (another invocation, another day) as on the first', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    const first = new ScriptedPlatform();
    await run(first, event(message(p)));
    const later = new ScriptedPlatform();
    await run(later, event(message(p, '', 3)), { deps: { now: () => new Date(NOW.getTime() + 3 * 86_400_000) } });
    expect(later.posted[0]!.request.body).toBe(first.posted[0]!.request.body);
    expect(later.posted[0]!.request.headers).toEqual(first.posted[0]!.request.headers);
  });

  it('waits as long as a 429’s Retry-After asks, and retries timeouts and network errors too', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 429, retryAfter: '7', text: '' }, timeout, new TypeError('fetch failed'), { status: 200, text: '' }] });
    expect(await run(platform, event(message(p)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(4);
    expect(slept[0]).toBe(7000);
    expect(new Set(platform.posted.map((x) => x.request.body)).size).toBe(1);
    expect(new Set(platform.posted.map((x) => x.request.headers['Idempotency-Key'])).size).toBe(1);
  });

  it('sends a package of one record refused with a 4xx to the dead-letter queue at once, alone: the other message of the batch is delivered', async () => {
    const poisoned = pkg(licence);
    const fine = pkg(other);
    stored([licence, other], [poisoned, fine]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 400, text: `{"error":"XK_XKLB 无效 for ${IDENTITY_NUMBER}"}` }] });
    const poison = message(poisoned);
    const result = await run(platform, event(poison, message(fine)));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(platform.posted.filter((x) => x.request.body.includes(licence.id))).toHaveLength(1);
    expect(deadLettered()).toEqual([
      { QueueUrl: DLQ_URL, MessageBody: poison.body, MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: expect.stringMatching(/^HTTP 400: /) } } },
    ]);
    const failed = updates().find((u) => u.Key!.pk === bodyKey(poisoned.key).pk)!;
    expect(failed.ExpressionAttributeValues).toMatchObject({ ':failedState': 'failed', ':n': 1 });
    // The platform's answer, without the identity number it echoed.
    expect(failed.ExpressionAttributeValues![':reason']).toMatch(/^HTTP 400: \{"error":"XK_XKLB 无效 for \[REDACTED-ID\]"\}$/);
    expect(JSON.stringify(deadLettered())).not.toContain(IDENTITY_NUMBER);
    expect(updates().find((u) => u.Key!.pk === bodyKey(fine.key).pk)!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered' });
    // Nothing split: a part of one record is refused as it is.
    expect(ddb.commandCalls(TransactWriteCommand)).toEqual([]);
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 1, retried: 0, deadLettered: 1 });
  });

  it('keeps a refusal’s reason to the status and 300 characters of the answer', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    await run(new ScriptedPlatform({ [licence.id]: [{ status: 422, text: 'x'.repeat(400) }] }), event(message(p)));
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

  it('splits a package of several refused with a 4xx: the delivery split and its two parts created in one transaction, queued with their own keys', async () => {
    const p = pkg(licence, other, more[0]!);
    stored([licence, other, more[0]!], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 400, text: 'one of them is wrong' }] });
    expect(await run(platform, event(message(p)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(1);
    const transactions = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    expect(transactions).toHaveLength(1);
    const [split, ...parts] = transactions[0]!;
    expect(split!.Update).toMatchObject({ Key: deliveryKey(whole(p)), ConditionExpression: '#state = :pending', ExpressionAttributeValues: expect.objectContaining({ ':split': 'split', ':n': 1 }) });
    expect(parts.map((x) => x.Put!.Item)).toEqual([
      { ...deliveryKey({ key: p.key, platform: 'national', path: '0' }), ...newDelivery(p.key, 3, 'national', '0', NOW) },
      { ...deliveryKey({ key: p.key, platform: 'national', path: '1' }), ...newDelivery(p.key, 3, 'national', '1', NOW) },
    ]);
    expect(parts.map((x) => x.Put!.ConditionExpression)).toEqual(['attribute_not_exists(pk)', 'attribute_not_exists(pk)']);
    // Each part's message carries its share of the versions (read once, for the whole): 2 and 1 of them.
    expect(queuedParts()).toEqual([
      { url: QUEUE_URL, body: { key: p.key, platform: 'national', path: '0', versions: encodeInlineVersions([licence, other].map(contentOf)) } },
      { url: QUEUE_URL, body: { key: p.key, platform: 'national', path: '1', versions: encodeInlineVersions([more[0]!].map(contentOf)) } },
    ]);
    expect(new Set([packageIdOf('national', p.key, ''), packageIdOf('national', p.key, '0'), packageIdOf('national', p.key, '1')]).size).toBe(3);
    // Not a failure, not delivered: nothing dead-lettered, no update of its own.
    expect(deadLettered()).toEqual([]);
    expect(updates()).toEqual([]);
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 0, retried: 0, deadLettered: 0 });
  });

  it('queues no part when another receive split the package first (the transaction is refused)', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    ddb.on(TransactWriteCommand).rejects(new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }] }));
    expect(await run(new ScriptedPlatform({ [licence.id]: [{ status: 400, text: '' }] }), event(message(p)))).toEqual({ batchItemFailures: [] });
    expect(queuedParts()).toEqual([]);
    expect(deadLettered()).toEqual([]);
  });

  it('lets a split part the queue did not take wait for the sweep (it is pending, owed): the message is done', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));
    expect(await run(new ScriptedPlatform({ [licence.id]: [{ status: 400, text: '' }] }), event(message(p)))).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('does nothing for a delivery already delivered, split or failed (a duplicate message), nor for one it does not know', async () => {
    const [a, b, c] = [pkg(licence), pkg(other, more[0]!), pkg(more[1]!)];
    stored([licence, other, more[0]!, more[1]!], [a, b, c], [
      { key: a.key, state: 'delivered', owedBy: undefined },
      { key: b.key, state: 'split', owedBy: undefined },
      { key: c.key, state: 'failed', failedReason: 'HTTP 400', owedBy: undefined },
    ]);
    const unknown = { key: packageKeyOf({ sequenceNumber: '1', recordId: 'lic_UNKNOWN', version: 1 }) };
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(a), message(b), message(c), message(unknown), message(b, '0')))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toEqual([]);
    expect(updates()).toEqual([]);
    expect(deadLettered()).toEqual([]);
    expect(queuedParts()).toEqual([]);
    expect(ddb.commandCalls(TransactWriteCommand)).toEqual([]);
    // Not even the body or the records are read.
    expect(ddb.commandCalls(BatchGetCommand)).toEqual([]);
  });

  it('sends a redriven delivery (made pending again by the redrive) and marks it delivered', async () => {
    const p = pkg(licence);
    stored([licence], [p], [{ key: p.key, state: 'pending', failedReason: 'HTTP 400', attempts: 1 }]);
    const platform = new ScriptedPlatform();
    expect(await run(platform, event(message(p, '', 6)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(1);
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered' });
  });

  it('gives a message back to the queue when the platform stays unavailable, hidden base × 2^receiveCount, counting the attempts and when it is due again', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 500, text: '' }] });
    const m = message(p, '', 2);
    expect(await run(platform, event(m))).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toHaveLength(exchange.attemptsPerInvocation);
    expect(slept).toHaveLength(exchange.attemptsPerInvocation - 1);
    const delay = REDELIVERY_BASE_SECONDS * 2 ** 2;
    expect(visibilityChanges()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: m.receiptHandle, VisibilityTimeout: delay }]);
    // The sweep's age counts from when the message is due again (not from when the package was first queued).
    expect(updates()).toEqual([
      expect.objectContaining({ Key: deliveryKey(whole(p)), UpdateExpression: 'SET lastQueuedAt = :due ADD attempts :n', ExpressionAttributeValues: { ':n': exchange.attemptsPerInvocation, ':due': plusSeconds(delay) } }),
    ]);
    expect(deadLettered()).toEqual([]);
    expect(queuedParts()).toEqual([]);
    expect(metrics.connectorCounts[0]!.counts).toEqual({ delivered: 0, retried: exchange.attemptsPerInvocation - 1, deadLettered: 0 });
  });

  it('hides the message at least as long as the platform’s Retry-After asked, at most 12 hours, never 0', async () => {
    const [a, b] = [pkg(licence), pkg(other)];
    stored([licence, other], [a, b]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, retryAfter: '3600', text: '' }], [other.id]: [{ status: 429, retryAfter: '999999', text: '' }] });
    const ma = message(a, '', 1);
    const mb = message(b, '', 1);
    await run(platform, event(ma, mb));
    expect(visibilityChanges().sort((x, y) => x.ReceiptHandle!.localeCompare(y.ReceiptHandle!))).toEqual(
      [
        { QueueUrl: QUEUE_URL, ReceiptHandle: ma.receiptHandle, VisibilityTimeout: 3600 },
        { QueueUrl: QUEUE_URL, ReceiptHandle: mb.receiptHandle, VisibilityTimeout: 43_200 },
      ].sort((x, y) => x.ReceiptHandle.localeCompare(y.ReceiptHandle)),
    );
    expect(redeliveryDelaySeconds(0, 0, 0)).toBe(1);
  });

  it('still gives the message back when its visibility cannot be changed (it returns after the queue’s timeout)', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    sqs.on(ChangeMessageVisibilityCommand).rejects(Object.assign(new Error('receipt handle expired'), { name: 'ReceiptHandleIsInvalid' }));
    const m = message(p, '', 1);
    expect(await run(new ScriptedPlatform({ [licence.id]: [{ status: 502, text: '' }] }), event(m))).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(visibilityChanges()).toHaveLength(1);
  });

  it('on the message’s last receive, lets it go and leaves the delivery pending (owed: the sweep and the nightly sync send it again); never failed, never dead-lettered', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, text: '' }] });
    const m = message(p, '', MAX_RECEIVES);
    // Not a batch item failure: the event-source mapping deletes it, so SQS never moves it to the dead-letter queue.
    expect(await run(platform, event(m))).toEqual({ batchItemFailures: [] });
    expect(updates()).toEqual([
      expect.objectContaining({ UpdateExpression: 'SET lastQueuedAt = :due ADD attempts :n', ExpressionAttributeValues: { ':n': exchange.attemptsPerInvocation, ':due': NOW.toISOString() } }),
    ]);
    expect(JSON.stringify(updates())).not.toContain('failed');
    expect(deadLettered()).toEqual([]);
    expect(visibilityChanges()).toEqual([]);
    // An unavailable platform never splits a package.
    expect(ddb.commandCalls(TransactWriteCommand)).toEqual([]);
    expect(metrics.connectorCounts[0]!.counts.deadLettered).toBe(0);
  });

  it('treats a 3xx as the platform unavailable (a redirect is not followed): retried, never a refusal', async () => {
    const p = pkg(licence, other);
    stored([licence, other], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 301, text: 'moved' }, { status: 307, text: '' }, { status: 200, text: '' }] });
    expect(await run(platform, event(message(p)))).toEqual({ batchItemFailures: [] });
    expect(platform.posted).toHaveLength(3);
    expect(deadLettered()).toEqual([]);
    expect(ddb.commandCalls(TransactWriteCommand)).toEqual([]);
    expect(updates()[0]!.ExpressionAttributeValues).toMatchObject({ ':delivered': 'delivered', ':n': 2 });
  });

  it('marks the delivery failed (`internal: <error name>`, no message) when a fault that is not the platform’s hits the message’s last receive; earlier receives change nothing', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const denied = Object.assign(new Error(`KMS denied decrypting for ${IDENTITY_NUMBER}`), { name: 'AccessDeniedException' });
    const cipher = async () => {
      throw denied;
    };
    const early = message(p, '', MAX_RECEIVES - 1);
    expect(await run(new ScriptedPlatform(), event(early), { deps: { cipher } })).toEqual({ batchItemFailures: [{ itemIdentifier: early.messageId }] });
    expect(updates()).toEqual([]);

    const last = message(p, '', MAX_RECEIVES);
    expect(await run(new ScriptedPlatform(), event(last), { deps: { cipher } })).toEqual({ batchItemFailures: [{ itemIdentifier: last.messageId }] });
    expect(updates()).toEqual([
      expect.objectContaining({
        Key: deliveryKey(whole(p)),
        ExpressionAttributeValues: expect.objectContaining({ ':failedState': 'failed', ':reason': 'internal: AccessDeniedException', ':n': 0 }),
      }),
    ]);
    expect(JSON.stringify(updates())).not.toContain(IDENTITY_NUMBER);
    expect(deadLettered()).toEqual([]);
    expect(metrics.connectorCounts.at(-1)!.counts.deadLettered).toBe(1);
  });

  it('fails a package a record of which is no longer stored (given back; failed `internal` on the last receive)', async () => {
    const p = pkg(licence, other);
    stored([licence], [p]);
    const platform = new ScriptedPlatform();
    const early = message(p, '', 1);
    expect(await run(platform, event(early))).toEqual({ batchItemFailures: [{ itemIdentifier: early.messageId }] });
    const last = message(p, '', MAX_RECEIVES);
    expect(await run(platform, event(last))).toEqual({ batchItemFailures: [{ itemIdentifier: last.messageId }] });
    expect(platform.posted).toEqual([]);
    expect(updates()).toEqual([expect.objectContaining({ Key: deliveryKey(whole(p)), ExpressionAttributeValues: expect.objectContaining({ ':reason': 'internal: Error' }) })]);
  });

  it('gives the message back when the package’s body is missing or still open (a fault: a delivery is created only once its body is closed)', async () => {
    const open = { ...pkg(licence), open: true };
    const missing = pkg(other);
    stored([licence, other], [open], [{ key: open.key }, { key: missing.key }]);
    const a = message(open);
    const b = message(missing);
    const platform = new ScriptedPlatform();
    const result = await run(platform, event(a, b));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([a.messageId, b.messageId].sort());
    expect(platform.posted).toEqual([]);
  });

  it('never waits past the invocation’s time: a Retry-After longer than what is left ends the tries at once', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const platform = new ScriptedPlatform({ [licence.id]: [{ status: 503, retryAfter: '120', text: '' }] });
    const m = message(p);
    expect(await run(platform, event(m), { remainingMs: 50_000 })).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it('does not start a POST it has no time to finish', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const platform = new ScriptedPlatform();
    const m = message(p);
    expect(await run(platform, event(m), { remainingMs: exchange.requestTimeoutSeconds * 1000 })).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toEqual([]);
    // No attempt counted; the message is put off as any other the platform did not take.
    expect(updates()).toEqual([expect.objectContaining({ ExpressionAttributeValues: { ':n': 0, ':due': plusSeconds(REDELIVERY_BASE_SECONDS * 2) } })]);
    expect(visibilityChanges()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: m.receiptHandle, VisibilityTimeout: REDELIVERY_BASE_SECONDS * 2 }]);
  });

  it('delivers the messages of a batch in parallel: a slow POST does not hold up the next', async () => {
    const [a, b] = [pkg(licence), pkg(other)];
    stored([licence, other], [a, b]);
    let releaseSlow!: () => void;
    const slowMayFinish = new Promise<void>((resolve) => (releaseSlow = resolve));
    const post = async (_url: string, request: PlatformRequest): Promise<PlatformResponse> => {
      // The first message's POST answers only once the second's has been sent: sequential delivery would never end.
      if (request.body.includes(licence.id)) await slowMayFinish;
      else releaseSlow();
      return { status: 200, text: '' };
    };
    expect(await run(new ScriptedPlatform(), event(message(a), message(b)), { deps: { post } })).toEqual({ batchItemFailures: [] });
    expect(updates()).toHaveLength(2);
  });

  it('dead-letters a message it cannot read, one of the old design (a record version), or one for the other platform, without retrying it', async () => {
    stored([], []);
    const p = pkg(licence);
    const unreadable = { ...message(p), body: 'not json' };
    const oldDesign = { ...message(p), body: JSON.stringify({ recordId: licence.id, version: 1, platform: 'national' }) };
    const misrouted = { ...message(p), body: messageBody({ key: p.key, platform: 'provincial', path: '' }) };
    expect(await run(new ScriptedPlatform(), event(unreadable, oldDesign, misrouted))).toEqual({ batchItemFailures: [] });
    expect(deadLettered().map((d) => d.MessageBody)).toEqual([unreadable.body, oldDesign.body, misrouted.body]);
    expect(deadLettered().map((d) => d.MessageAttributes![REASON_ATTRIBUTE]!.StringValue)).toEqual([
      expect.stringMatching(/^unreadable message: /),
      expect.stringMatching(/^unreadable message: key/),
      "a message for platform provincial on national's queue",
    ]);
  });

  it('fails clearly, sending nothing, while the sender USCC is not configured', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    const platform = new ScriptedPlatform();
    const m = message(p);
    const result = await run(platform, event(m), { deps: { sender: () => senderUscc({}) } });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
    expect(platform.posted).toEqual([]);
    expect(() => senderUscc({})).toThrow(SenderConfigurationError);
  });

  it('gives the message back when a store fails (the error is not the platform’s)', async () => {
    const p = pkg(licence);
    stored([licence], [p]);
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE }).rejects(new Error('ProvisionedThroughputExceededException'));
    const m = message(p);
    expect(await run(new ScriptedPlatform(), event(m))).toEqual({ batchItemFailures: [{ itemIdentifier: m.messageId }] });
  });
});

describe('connector: a package refused whole, split until the refused record is alone', () => {
  /**
   * The platform refuses (400, echoing an identity number) any package holding the poison record, and takes any
   * other, remembering under which key each record arrived.
   */
  class PickyPlatform {
    posted: Posted[] = [];
    delivered = new Map<string, string[]>();
    constructor(private readonly poison: string) {}
    post = async (url: string, request: PlatformRequest): Promise<PlatformResponse> => {
      this.posted.push({ url, request });
      const records = (JSON.parse(request.body) as SentPackage).body.records;
      if (records.some((r) => r.recordId === this.poison)) return { status: 400, text: `{"error":"证件号码 ${IDENTITY_NUMBER} 无效","record":"${this.poison}"}` };
      for (const r of records) this.delivered.set(r.recordId, [...(this.delivered.get(r.recordId) ?? []), request.headers['Idempotency-Key']!]);
      return { status: 201, text: '' };
    };
  }

  /**
   * Delivers the package's message (without versions: read from the table), then every part's message the
   * connector queued, as queued (each carrying its part's versions), until none is left; each message received
   * `receives` times.
   */
  async function deliverAll(p: TestPackage, packages: MemoryPackagesStore, platform: PickyPlatform, receives = 1) {
    const outcomes: string[] = [];
    let pending: { path: PartPath; versions?: string }[] = [{ path: '' }];
    let seen = 0;
    while (pending.length > 0) {
      const batch = pending.flatMap(({ path, versions }) => Array.from({ length: receives }, () => message(p, path, 1, versions)));
      expect(await run(new ScriptedPlatform(), event(...batch), { deps: { packages, post: platform.post } })).toEqual({ batchItemFailures: [] });
      outcomes.push(...pending.map((m) => m.path));
      const parts = queuedParts().slice(seen);
      seen += parts.length;
      for (const part of parts) {
        expect(part).toEqual({ url: QUEUE_URL, body: { key: p.key, platform: 'national', path: part.body.path, versions: expect.any(String) } });
        // Each part carries exactly its own share of the package's versions, in order.
        const { from, to } = partRange(p.refs.length, part.body.path);
        expect(inlineVersionsFor(part.body.versions, p.refs.slice(from, to))).toBeDefined();
      }
      pending = parts.map((part) => ({ path: part.body.path as PartPath, versions: part.body.versions as string }));
    }
    return outcomes;
  }

  async function splitScenario(count: number, poisonAt: number, receives = 1) {
    const heads = [licence, other, ...more].slice(0, count);
    const p = pkg(...heads);
    stored(heads, [p], []);
    const packages = new MemoryPackagesStore();
    await packages.openBody(p.key, p.refs, OPENED);
    await packages.closeBody(p.key, p.refs);
    await packages.createDelivery(newDelivery(p.key, count, 'national', '', new Date(OPENED)));
    const platform = new PickyPlatform(heads[poisonAt]!.id);
    const messages = await deliverAll(p, packages, platform, receives);
    return { heads, p, packages, platform, messages };
  }

  for (const [count, poisonAt] of [
    [5, 3],
    [8, 0],
    [7, 6],
    [2, 1],
  ] as const) {
    it(`${count} records, the ${poisonAt + 1}th refused: split down to it alone, dead-lettered and failed with a redacted reason; the others delivered once each, one key each`, async () => {
      const { heads, p, packages, platform } = await splitScenario(count, poisonAt);
      const poison = heads[poisonAt]!;
      const deliveries = await packages.listDeliveries(p.key);

      // Every record is in one part not split: the poison one failed, alone; each other delivered.
      for (let i = 0; i < count; i++) {
        const leaf = leafFor(deliveries, i)!;
        if (i === poisonAt) {
          expect(leaf).toMatchObject({ state: 'failed', to: leaf.from + 1, failedBy: 'national' });
          expect(leaf.failedReason).toBe(`HTTP 400: {"error":"证件号码 ${REDACTED_ID} 无效","record":"${poison.id}"}`);
        } else {
          expect(leaf.state, `record ${i}`).toBe('delivered');
        }
      }
      // Split ones are exactly those that held the poison record with others.
      for (const d of deliveries.filter((x) => x.state === 'split')) expect(d.from <= poisonAt && poisonAt < d.to && d.to - d.from > 1).toBe(true);
      const failed = deliveries.find((d) => d.state === 'failed')!;
      // One split per half on the way down to the poison record: two parts each.
      expect(deliveries.filter((x) => x.state === 'split')).toHaveLength(failed.path.length);
      expect(deliveries).toHaveLength(1 + 2 * failed.path.length);
      for (const d of deliveries) {
        expect(d.packageId).toBe(packageIdOf('national', p.key, d.path));
        expect(partRange(count, d.path)).toEqual({ from: d.from, to: d.to });
      }

      // Each other record reached the platform once, under one key, its part's; the poison one never taken.
      expect(platform.delivered.has(poison.id)).toBe(false);
      for (const [i, head] of heads.entries()) {
        if (i === poisonAt) continue;
        const keys = platform.delivered.get(head.id);
        expect(keys, head.id).toHaveLength(1);
        expect(keys![0]).toBe(leafFor(deliveries, i)!.packageId);
      }
      // A POST per part that was sent: the split ones (refused), the delivered ones, the failed one.
      expect(platform.posted).toHaveLength(deliveries.length);
      expect(new Set(platform.posted.map((x) => x.request.headers['Idempotency-Key'])).size).toBe(deliveries.length);

      // The poison record's part alone in the dead-letter queue, its reason without the identity number.
      // As received: the failed part's message, carrying the poison record's version alone.
      expect(deadLettered()).toEqual([{ QueueUrl: DLQ_URL, MessageBody: expect.any(String), MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: failed.failedReason } } }]);
      const dead = JSON.parse(deadLettered()[0]!.MessageBody!) as { key: string; path: string; versions: string };
      expect(dead).toMatchObject({ key: p.key, platform: 'national', path: failed.path });
      expect(inlineVersionsFor(dead.versions, [p.refs[poisonAt]!])).toBeDefined();
      expect(JSON.stringify([deadLettered(), deliveries])).not.toContain(IDENTITY_NUMBER);
      // Nothing owed any more but the failed part, which the operator redrives.
      expect((await packages.listOwed('national', '9999', 100)).items).toEqual([]);
      expect((await packages.listFailed('national', { limit: 10 })).items.map((d) => d.path)).toEqual([failed.path]);
    });
  }

  it('a package of one record refused: not split, dead-lettered at once', async () => {
    const { p, packages, platform, messages } = await splitScenario(1, 0);
    expect(messages).toEqual(['']);
    expect(await packages.listDeliveries(p.key)).toEqual([expect.objectContaining({ path: '', state: 'failed' })]);
    expect(platform.posted).toHaveLength(1);
  });

  it('each message received twice (a duplicate of each): the same outcome, nothing sent twice', async () => {
    const { heads, p, packages, platform } = await splitScenario(5, 2, 2);
    const deliveries = await packages.listDeliveries(p.key);
    // Two receives at once may both send a part: under the same key, the same bytes (the platform keeps one).
    for (const [i, head] of heads.entries()) if (i !== 2) expect(new Set(platform.delivered.get(head.id)), head.id).toEqual(new Set([leafFor(deliveries, i)!.packageId]));
    expect(leafFor(deliveries, 2)).toMatchObject({ state: 'failed' });
    // Split once: one set of parts queued, however many receives refused it.
    expect(new Set(queuedParts().map((q) => q.body.path)).size).toBe(queuedParts().length);
    expect(deadLettered().length).toBeGreaterThanOrEqual(1);
    expect(new Set(deadLettered().map((d) => d.MessageBody)).size).toBe(1);
  });
});

describe('connector over HTTP', () => {
  it('POSTs over a real connection: the headers, the body byte for byte; a slow answer is a timeout, retried', async () => {
    const received: { headers: IncomingMessage['headers']; body: string; url?: string }[] = [];
    let answers = 0;
    let late: NodeJS.Timeout | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
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
      const p = pkg(licence, other);
      stored([licence, other], [p]);
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { fetchPost } = await import('../../../shared/upward/platform-client.js');
      const result = await run(new ScriptedPlatform(), event(message(p)), { deps: { baseUrl, post: fetchPost, requestTimeoutMs: 200 } });
      expect(result).toEqual({ batchItemFailures: [] });
      expect(received).toHaveLength(2);
      expect(received[0]!.url).toBe('/packages');
      expect(received[0]!.headers['content-type']).toBe('application/json');
      expect(received[0]!.headers['idempotency-key']).toBe(packageIdOf('national', p.key, ''));
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
