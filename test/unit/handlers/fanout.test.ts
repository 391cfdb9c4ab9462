/**
 * The fan-out function (functions/fanout/handler.ts) with mocked DynamoDB and SQS: each new record version in the
 * change stream becomes a delivery owed to each platform (a conditional put) and a message on its queue; a stream
 * record read twice writes once; rewrites of the same version are not changes; failures are reported per record.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { platforms, queues, tables } from '../../../infra/catalogue.js';
import { messageBody } from '../../../shared/upward/delivery-model.js';
import { packageIdOf } from '../../../shared/upward/exchange-package.js';
import { ddb } from './support.js';
import { handler } from '../../../functions/fanout/handler.js';

const DELIVERIES_TABLE = 'test-deliveries';
const PROVINCIAL_URL = 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-provincial';
const NATIONAL_URL = 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national';
process.env[tables.deliveries.envVar] = DELIVERIES_TABLE;
process.env[queues[platforms.provincial.queue].envVar] = PROVINCIAL_URL;
process.env[queues[platforms.national.queue].envVar] = NATIONAL_URL;

const sqs = mockClient(SQSClient);
const PERSON_ID = '110102199101010078';

function head(id: string, version: number, overrides: Record<string, unknown> = {}) {
  return {
    pk: `REC#${id}`,
    sk: 'HEAD',
    id,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    version,
    status: 'active',
    publication: { state: 'pending-review', from: '2026-01-05' },
    receivedAt: '2026-01-06T00:00:00.000Z',
    fields: { CF_XDR_MC: '张三', CF_WSH: `罚${id}` },
    // What a stored head carries: a ciphertext (here a stand-in that spells a number, to show it is never logged or sent).
    certificate: { type: '001', cipher: `v1.${PERSON_ID}`, hash: 'v1#h' },
    ...overrides,
  };
}

let sequence = 100;
function streamRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', newImage?: Record<string, unknown>, oldImage?: Record<string, unknown>): DynamoDBRecord {
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: String(sequence++),
      ...(newImage ? { NewImage: marshall(newImage, { removeUndefinedValues: true }) as never } : {}),
      ...(oldImage ? { OldImage: marshall(oldImage, { removeUndefinedValues: true }) as never } : {}),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const event = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const puts = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
const sent = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(e.MessageBody!) })));

/** SQS accepts every entry of every batch. */
function queuesAccept() {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })), Failed: [] }));
}

/** The deliveries table as DynamoDB holds it: a put succeeds once per key, then is refused with the item there. */
function deliveriesTable() {
  const items = new Map<string, Record<string, unknown>>();
  ddb.on(PutCommand, { TableName: DELIVERIES_TABLE }).callsFake((input: { Item: Record<string, unknown> }) => {
    const key = `${input.Item.pk}|${input.Item.sk}`;
    const existing = items.get(key);
    if (existing) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(existing) as never });
    items.set(key, input.Item);
    return {};
  });
  return items;
}

beforeEach(() => {
  ddb.reset();
  sqs.reset();
});

describe('fan-out', () => {
  it('turns a new version into a delivery owed to each platform, then a message on each platform’s queue', async () => {
    deliveriesTable();
    queuesAccept();
    const result = await handler(event(streamRecord('INSERT', head('pen_A', 1))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(puts()).toHaveLength(2);
    for (const [i, platform] of (['provincial', 'national'] as const).entries()) {
      expect(puts()[i]).toMatchObject({
        TableName: DELIVERIES_TABLE,
        ConditionExpression: 'attribute_not_exists(pk)',
        Item: {
          pk: 'REC#pen_A',
          sk: `${platform}#0000000001`,
          recordId: 'pen_A',
          version: 1,
          platform,
          operation: 'upsert',
          state: 'pending',
          idempotencyKey: packageIdOf(platform, 'pen_A', 1),
          owedBy: platform,
        },
      });
      expect(puts()[i]!.Item!.owedSince).toEqual(puts()[i]!.Item!.lastQueuedAt);
    }
    expect(sent()).toEqual([
      { url: PROVINCIAL_URL, body: { recordId: 'pen_A', version: 1, platform: 'provincial' } },
      { url: NATIONAL_URL, body: { recordId: 'pen_A', version: 1, platform: 'national' } },
    ]);
  });

  it('never puts a record’s content in a delivery or a message', async () => {
    deliveriesTable();
    queuesAccept();
    await handler(event(streamRecord('INSERT', head('pen_A', 1))));
    const written = JSON.stringify([puts(), sqs.calls().map((c) => (c.args[0] as { input: unknown }).input)]);
    for (const secret of [PERSON_ID, '张三', '罚pen_A']) expect(written).not.toContain(secret);
  });

  it('writes a stream record read twice once, and queues it again while it is still owed', async () => {
    deliveriesTable();
    queuesAccept();
    const record = streamRecord('INSERT', head('pen_A', 1));
    await handler(event(record));
    await handler(event(record));
    expect(puts()).toHaveLength(4);
    expect(ddb.commandCalls(PutCommand).every((c) => c.args[0].input.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);
    expect(sent()).toHaveLength(4);
    expect(new Set(sent().map((s) => messageBody(s.body))).size).toBe(2);
  });

  it('does not queue again a delivery already settled (delivered, superseded, failed)', async () => {
    const items = deliveriesTable();
    queuesAccept();
    const record = streamRecord('INSERT', head('pen_A', 1));
    await handler(event(record));
    for (const item of items.values()) item.state = 'delivered';
    sqs.resetHistory();
    expect(await handler(event(record))).toEqual({ batchItemFailures: [] });
    expect(sent()).toEqual([]);
  });

  it('turns an updated record (MODIFY with a new version) into the new version’s deliveries; a removal into a delete', async () => {
    deliveriesTable();
    queuesAccept();
    const removed = head('dd_A', 2, { kind: 'dishonest-debtor', status: 'removed', publication: { state: 'ended', endReason: 'removed', endedOn: '2026-02-01', from: '2026-01-01' } });
    await handler(event(streamRecord('MODIFY', removed, head('dd_A', 1))));
    expect(puts().map((p) => [p.Item!.sk, p.Item!.operation])).toEqual([
      ['provincial#0000000002', 'delete'],
      ['national#0000000002', 'delete'],
    ]);
    expect(sent().map((s) => s.body.version)).toEqual([2, 2]);
  });

  it('ignores rewrites of a head that keep its version, removals of items, and items that are not heads', async () => {
    deliveriesTable();
    queuesAccept();
    const rewritten = head('pen_A', 3, { appliedRequests: [{ key: 'k', status: 'updated' }] });
    const result = await handler(
      event(
        streamRecord('MODIFY', rewritten, head('pen_A', 3)),
        streamRecord('REMOVE', undefined, head('pen_B', 1)),
        streamRecord('INSERT', { ...head('pen_C', 1), sk: 'V#0000000001' }),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(puts()).toEqual([]);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('sends up to ten messages per request to each queue', async () => {
    deliveriesTable();
    queuesAccept();
    const records = Array.from({ length: 12 }, (_, i) => streamRecord('INSERT', head(`pen_${i}`, 1)));
    await handler(event(...records));
    const batches = sqs.commandCalls(SendMessageBatchCommand).map((c) => [c.args[0].input.QueueUrl, c.args[0].input.Entries!.length]);
    expect(batches.sort()).toEqual([
      [NATIONAL_URL, 10],
      [NATIONAL_URL, 2],
      [PROVINCIAL_URL, 10],
      [PROVINCIAL_URL, 2],
    ]);
  });

  it('reports by sequence number the records whose message could not be sent, and only those', async () => {
    deliveriesTable();
    const a = streamRecord('INSERT', head('pen_A', 1));
    const b = streamRecord('INSERT', head('pen_B', 1));
    const c = streamRecord('INSERT', head('pen_C', 1));
    sqs.on(SendMessageBatchCommand).callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
      // The national queue refuses pen_B's message; everything else is queued.
      const refused = input.Entries.filter((e) => input.QueueUrl === NATIONAL_URL && JSON.parse(e.MessageBody).recordId === 'pen_B');
      return {
        Successful: input.Entries.filter((e) => !refused.includes(e)).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
        Failed: refused.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
      };
    });
    const result = await handler(event(a, b, c));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: b.dynamodb!.SequenceNumber }] });
  });

  it('reports every record of a send request that failed as a whole', async () => {
    deliveriesTable();
    sqs.on(SendMessageBatchCommand, { QueueUrl: PROVINCIAL_URL }).rejects(new Error('connect ECONNREFUSED'));
    sqs.on(SendMessageBatchCommand, { QueueUrl: NATIONAL_URL }).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
      Failed: [],
    }));
    const a = streamRecord('INSERT', head('pen_A', 1));
    const b = streamRecord('INSERT', head('pen_B', 1));
    const result = await handler(event(a, b));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a.dynamodb!.SequenceNumber, b.dynamodb!.SequenceNumber]);
  });

  it('reports a record whose delivery could not be written, and does not queue it', async () => {
    const a = streamRecord('INSERT', head('pen_A', 1));
    const b = streamRecord('INSERT', head('pen_B', 1));
    ddb.on(PutCommand).resolves({});
    ddb.on(PutCommand, { Item: { pk: 'REC#pen_B', sk: 'national#0000000001' } } as never).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    queuesAccept();
    const result = await handler(event(a, b));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: b.dynamodb!.SequenceNumber }] });
    expect(sent().map((s) => s.body.recordId)).toEqual(['pen_A', 'pen_A']);
  });
});
