/**
 * The fan-out (shared/upward/fanout.ts, functions/fanout/handler.ts): the new record versions of a change-stream
 * batch become one package, claimed version by version, closed, owed to each platform and queued once per
 * platform; a batch read again (whole, or in another composition) places no version twice; rewrites of the same
 * version are not changes. fanOut's rules against an in-memory packages store; the handler against mocked DynamoDB
 * and SQS, through the real adapters. The same stream read in every composition, with crashes, against DynamoDB
 * Local: test/integration/fanout-exactly-once.test.ts.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { platforms, queues, tables } from '../../../infra/catalogue.js';
import { fanOut, newVersionOf, settlePackage, type FanoutDeps, type SettleReport } from '../../../shared/upward/fanout.js';
import { inlineVersionsFor } from '../../../shared/upward/inline-versions.js';
import { bodyKey, claimKey, deliveryKey, newDelivery, packageKeyOf, type DeliveryMessage, type PackageRef } from '../../../shared/upward/package-model.js';
import type { VersionContent } from '../../../shared/upward/record-versions.js';
import { MemoryPackagesStore, RecordingQueues } from '../../support/memory-packages-store.js';
import { headImage, newVersionRecord, STREAM_PERSON_ID, streamEvent, streamRecord } from '../../support/record-stream.js';
import { ddb } from './support.js';
import { logger } from '../../../shared/logger.js';
import { handler } from '../../../functions/fanout/handler.js';

const DELIVERIES_TABLE = 'test-deliveries';
const PROVINCIAL_URL = 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-provincial';
const NATIONAL_URL = 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/hub-national';
process.env[tables.deliveries.envVar] = DELIVERIES_TABLE;
process.env[queues[platforms.provincial.queue].envVar] = PROVINCIAL_URL;
process.env[queues[platforms.national.queue].envVar] = NATIONAL_URL;

const sqs = mockClient(SQSClient);
const NOW = new Date('2026-05-01T08:00:00.000Z');
const SECRETS = [STREAM_PERSON_ID, '张三', '罚pen_'];

let store: MemoryPackagesStore;
let queued: RecordingQueues;
let deps: FanoutDeps;

beforeEach(() => {
  store = new MemoryPackagesStore();
  queued = new RecordingQueues();
  deps = { store, queues: queued, now: () => NOW };
  ddb.reset();
  sqs.reset();
});

/** The key of the package a batch opens for its first new version. */
const keyOf = (record: DynamoDBRecord) => {
  const v = newVersionOf(record)!;
  return packageKeyOf(v);
};
const ref = (recordId: string, version: number, operation: PackageRef['operation'] = 'upsert'): PackageRef => ({ recordId, version, operation });
const emptyReport = (): SettleReport => ({ closed: 0, created: 0, queued: 0, claimedElsewhere: 0 });
/** A stream of new versions: record `pen_<i>` version 1, sequence numbers from 100. */
const stream = (count: number, from = 0) => Array.from({ length: count }, (_, i) => newVersionRecord(100 + from + i, `pen_${from + i}`, 1));

describe('newVersionOf', () => {
  it('reads an INSERT of a head, and a MODIFY to another version, with its sequence number and operation', () => {
    // With the version's content as the image holds it (what a package needs of it), to carry in the messages.
    expect(newVersionOf(streamRecord(5, 'INSERT', headImage('pen_A', 1)))).toEqual({
      recordId: 'pen_A',
      version: 1,
      operation: 'upsert',
      sequenceNumber: '000000000000000000005',
      content: { id: 'pen_A', kind: 'penalty', sourceId: 'shi-scjgj', version: 1, fields: { CF_XDR_MC: '张三', CF_WSH: '罚pen_A' }, certificate: { type: '001', cipher: `v1.${STREAM_PERSON_ID}`, hash: 'v1#h' } },
    });
    const removed = headImage('dd_A', 2, { kind: 'dishonest-debtor', status: 'removed', publication: { state: 'ended', endReason: 'removed', endedOn: '2026-02-01', from: '2026-01-01' } });
    expect(newVersionOf(streamRecord(6, 'MODIFY', removed, headImage('dd_A', 1)))).toMatchObject({ recordId: 'dd_A', version: 2, operation: 'delete', sequenceNumber: '000000000000000000006' });
  });

  it('gives a version without content when its image lacks what a package needs (a field that is not text): the connector reads it instead', () => {
    const v = newVersionOf(streamRecord(8, 'INSERT', headImage('pen_A', 1, { fields: { CF_NR_FK: 5 } })));
    expect(v).toEqual({ recordId: 'pen_A', version: 1, operation: 'upsert', sequenceNumber: '000000000000000000008' });
  });

  it('sees no new version in a rewrite of the same version, a removal, an item that is not a head, or a head without its publication', () => {
    expect(newVersionOf(streamRecord(1, 'MODIFY', headImage('pen_A', 3, { appliedRequests: [{ key: 'k', status: 'updated' }] }), headImage('pen_A', 3)))).toBeUndefined();
    expect(newVersionOf(streamRecord(2, 'REMOVE', undefined, headImage('pen_B', 1)))).toBeUndefined();
    expect(newVersionOf(streamRecord(3, 'INSERT', { ...headImage('pen_C', 1), sk: 'V#0000000001' }))).toBeUndefined();
    expect(newVersionOf(streamRecord(4, 'INSERT', headImage('pen_D', 1, { publication: undefined })))).toBeUndefined();
    expect(newVersionOf(streamRecord(5, 'INSERT'))).toBeUndefined();
  });

  it('refuses a new version without a sequence number: it could not name its package (the batch is read again)', () => {
    const record = streamRecord(7, 'INSERT', headImage('pen_A', 1));
    delete record.dynamodb!.SequenceNumber;
    expect(() => newVersionOf(record)).toThrow(/sequence number/);
  });
});

describe('fanOut', () => {
  it('makes a new version a package of it: claimed, closed, owed to each platform from now, and one message per platform', async () => {
    const record = newVersionRecord(1, 'pen_A', 1);
    const key = keyOf(record);
    expect(await fanOut(streamEvent([record]), deps)).toEqual({ records: 1, versions: 1, packages: 1, refs: 1, closed: 1, created: 2, queued: 2, claimedElsewhere: 0 });
    expect(await store.getBody(key)).toEqual({ key, openedAt: NOW.toISOString(), refs: [ref('pen_A', 1)], open: false });
    expect((await store.getClaim('pen_A', 1))!.key).toBe(key);
    expect((await store.listDeliveries(key)).sort((a, b) => a.platform.localeCompare(b.platform))).toEqual([newDelivery(key, 1, 'national', '', NOW), newDelivery(key, 1, 'provincial', '', NOW)]);
    expect(queued.sent).toEqual([
      { key, platform: 'provincial', path: '' },
      { key, platform: 'national', path: '' },
    ]);
  });

  it('puts the new versions of a batch in one package, in stream order, each with its operation; other records are not versions', async () => {
    const removed = headImage('dd_B', 2, { kind: 'dishonest-debtor', status: 'removed', publication: { state: 'ended', endReason: 'removed', endedOn: '2026-02-01', from: '2026-01-01' } });
    const records = [
      streamRecord(1, 'REMOVE', undefined, headImage('pen_X', 1)),
      newVersionRecord(2, 'pen_A', 1),
      streamRecord(3, 'MODIFY', removed, headImage('dd_B', 1)),
      streamRecord(4, 'MODIFY', headImage('pen_C', 3, { appliedRequests: [] }), headImage('pen_C', 3)),
      streamRecord(5, 'INSERT', { ...headImage('pen_D', 1), sk: 'V#0000000001' }),
      newVersionRecord(6, 'pen_E', 4),
    ];
    const report = await fanOut(streamEvent(records), deps);
    expect(report).toEqual({ records: 6, versions: 3, packages: 1, refs: 3, closed: 1, created: 2, queued: 2, claimedElsewhere: 0 });
    const key = keyOf(records[1]!);
    expect((await store.getBody(key))!.refs).toEqual([ref('pen_A', 1), ref('dd_B', 2, 'delete'), ref('pen_E', 4)]);
    expect([...store.bodies.keys()]).toEqual([key]);
    expect(store.claims.size).toBe(3);
  });

  it('does nothing for a batch without a new version', async () => {
    const report = await fanOut(streamEvent([streamRecord(1, 'REMOVE', undefined, headImage('pen_X', 1)), streamRecord(2, 'MODIFY', headImage('pen_C', 3), headImage('pen_C', 3))]), deps);
    expect(report).toEqual({ records: 2, versions: 0, packages: 0, refs: 0, closed: 0, created: 0, queued: 0, claimedElsewhere: 0 });
    expect(store.bodies.size + store.claims.size + store.deliveries.size).toBe(0);
    expect(queued.sent).toEqual([]);
  });

  it('never puts a record’s content in a body, a claim, a delivery or a message', async () => {
    await fanOut(streamEvent(stream(3)), deps);
    const written = JSON.stringify([[...store.bodies.values()], [...store.claims.values()], [...store.deliveries.values()], queued.sent]);
    for (const secret of SECRETS) expect(written).not.toContain(secret);
  });

  it('reads a batch again into the same package: nothing written twice; its deliveries queued again while still owed', async () => {
    const batch = streamEvent(stream(4));
    await fanOut(batch, deps);
    const before = JSON.stringify([[...store.bodies], [...store.claims], [...store.deliveries]]);
    expect(await fanOut(batch, { ...deps, now: () => new Date(NOW.getTime() + 60_000) })).toEqual({ records: 4, versions: 4, packages: 1, refs: 4, closed: 0, created: 0, queued: 2, claimedElsewhere: 0 });
    expect(JSON.stringify([[...store.bodies], [...store.claims], [...store.deliveries]])).toBe(before);
    expect(queued.sent).toHaveLength(4);
    expect(new Set(queued.sent.map((m) => JSON.stringify(m))).size).toBe(2);
  });

  it('does not queue again a delivery settled (delivered, failed, split) when the batch is read again', async () => {
    const batch = streamEvent(stream(4));
    await fanOut(batch, deps);
    const key = keyOf(batch.Records[0]!);
    await store.markDelivered({ key, platform: 'provincial', path: '' }, NOW.toISOString(), 0);
    await store.split({ key, platform: 'national', path: '' }, ['0', '1'].map((p) => newDelivery(key, 4, 'national', p, NOW)), NOW.toISOString(), 1);
    const refused = streamEvent(stream(2, 10));
    await fanOut(refused, deps);
    for (const platform of ['provincial', 'national'] as const) await store.markFailed({ key: keyOf(refused.Records[0]!), platform, path: '' }, 'HTTP 400', NOW.toISOString(), 1);
    queued.sent.length = 0;
    expect(await fanOut(batch, deps)).toMatchObject({ created: 0, queued: 0 });
    expect(await fanOut(refused, deps)).toMatchObject({ created: 0, queued: 0 });
    expect(queued.sent).toEqual([]);
  });

  it('leaves each version of a batch read again in another composition in the package it was claimed for, and queues that one again', async () => {
    const records = stream(6);
    await fanOut(streamEvent(records), deps);
    const first = keyOf(records[0]!);
    // The second half alone (a bisected retry): its package finds every version claimed, and closes empty.
    const half = keyOf(records[3]!);
    expect(await fanOut(streamEvent(records.slice(3)), deps)).toEqual({ records: 3, versions: 3, packages: 0, refs: 0, closed: 1, created: 0, queued: 2, claimedElsewhere: 3 });
    expect(await store.getBody(half)).toEqual({ key: half, openedAt: NOW.toISOString(), refs: [], open: false });
    expect(await store.listDeliveries(half)).toEqual([]);
    for (const r of records) expect((await store.getClaim(newVersionOf(r)!.recordId, 1))!.key).toBe(first);
    expect(queued.sent.slice(2)).toEqual([
      { key: first, platform: 'provincial', path: '' },
      { key: first, platform: 'national', path: '' },
    ]);
    // Overlapping, and longer: the versions not yet placed go in a package of their own.
    const more = [...records.slice(4), ...stream(2, 6)];
    const report = await fanOut(streamEvent(more), deps);
    expect(report).toMatchObject({ versions: 4, packages: 1, refs: 2, claimedElsewhere: 2 });
    expect((await store.getBody(keyOf(records[4]!)))!.refs).toEqual([ref('pen_6', 1), ref('pen_7', 1)]);
  });

  it('settles the package a stopped fan-out left open (read again whole or in part): its candidates claimed, then closed', async () => {
    const records = stream(5);
    const key = keyOf(records[0]!);
    // The fan-out stopped after opening the body and claiming two of its candidates.
    const candidates = records.map((r) => {
      const { recordId, version, operation } = newVersionOf(r)!;
      return { recordId, version, operation };
    });
    await store.openBody(key, candidates, new Date(NOW.getTime() - 60_000).toISOString());
    await store.claim('pen_0', 1, key, NOW.toISOString());
    await store.claim('pen_1', 1, key, NOW.toISOString());
    // Read again with its first two versions only: the body's own candidates are settled, all five.
    expect(await fanOut(streamEvent(records.slice(0, 2)), deps)).toMatchObject({ versions: 2, packages: 1, refs: 5, closed: 1, created: 2, queued: 2 });
    expect(await store.getBody(key)).toEqual({ key, openedAt: new Date(NOW.getTime() - 60_000).toISOString(), refs: candidates, open: false });
    for (const c of candidates) expect((await store.getClaim(c.recordId, c.version))!.key).toBe(key);
  });

  it('settles too the open package that holds a version of its batch (its fan-out stopped), and leaves it what it claimed', async () => {
    const records = stream(6);
    const stopped = keyOf(records[0]!);
    const all = records.map((r) => newVersionOf(r)!).map(({ recordId, version, operation }) => ({ recordId, version, operation }));
    await store.openBody(stopped, all, NOW.toISOString());
    await store.claim('pen_2', 1, stopped, NOW.toISOString());
    // A batch from the third version on: pen_2 is the stopped package's, the others are claimed for the new one.
    const report = await fanOut(streamEvent(records.slice(2)), deps);
    const key = keyOf(records[2]!);
    expect((await store.getBody(key))!.refs).toEqual(all.slice(3));
    expect(await store.getBody(stopped)).toEqual({ key: stopped, openedAt: NOW.toISOString(), refs: [all[0], all[1], all[2]], open: false });
    expect(report).toMatchObject({ packages: 1, refs: 3, closed: 2, created: 4, queued: 4 });
    expect(new Set(queued.sent.map((m) => m.key))).toEqual(new Set([key, stopped]));
  });

  it('finds the package its first version travels in when the batch’s own package is closed without it, and settles that one too (its fan-out may have stopped before its deliveries)', async () => {
    const records = stream(2);
    const key = keyOf(records[0]!);
    const owner = packageKeyOf({ sequenceNumber: '42', recordId: 'pen_0', version: 1 });
    // pen_0 travels in `owner`, closed before its deliveries were created; the batch's package holds pen_1 only.
    await store.openBody(owner, [ref('pen_0', 1)], NOW.toISOString());
    await store.claim('pen_0', 1, owner, NOW.toISOString());
    await store.closeBody(owner, [ref('pen_0', 1)]);
    await store.openBody(key, [ref('pen_0', 1), ref('pen_1', 1)], NOW.toISOString());
    await store.claim('pen_1', 1, key, NOW.toISOString());
    await store.closeBody(key, [ref('pen_1', 1)]);
    expect(await fanOut(streamEvent(records), deps)).toMatchObject({ versions: 2, packages: 1, refs: 1, created: 4, queued: 4 });
    expect((await store.listDeliveries(owner)).map((d) => d.platform).sort()).toEqual(['national', 'provincial']);
    expect(new Set(queued.sent.map((m) => m.key))).toEqual(new Set([key, owner]));
  });

  it('fails when a message is not queued, after the deliveries are written: read again, it is queued', async () => {
    const batch = streamEvent(stream(2));
    const key = keyOf(batch.Records[0]!);
    queued.refuse = (m) => m.platform === 'national';
    await expect(fanOut(batch, deps)).rejects.toThrow(/1 of 2 messages/);
    expect(await store.listDeliveries(key)).toHaveLength(2);
    queued.refuse = () => false;
    expect(await fanOut(batch, deps)).toMatchObject({ created: 0, queued: 2 });
    expect(queued.sent.filter((m) => m.platform === 'national')).toEqual([{ key, platform: 'national', path: '' }]);
  });

  it('queues to the platforms it is given', async () => {
    await fanOut(streamEvent(stream(1)), { ...deps, platforms: ['national'] });
    expect(queued.sent.map((m) => m.platform)).toEqual(['national']);
    expect([...store.deliveries.values()].map((d) => d.platform)).toEqual(['national']);
  });
});

describe('settlePackage (the sweep, on an open body)', () => {
  it('claims the candidates of a body left open, closes it, creates and queues its deliveries', async () => {
    const key = packageKeyOf({ sequenceNumber: '9', recordId: 'pen_S', version: 1 });
    const candidates = [ref('pen_S', 1), ref('pen_T', 2, 'delete'), ref('pen_U', 1)];
    const opened = await store.openBody(key, candidates, NOW.toISOString());
    await store.claim('pen_T', 2, packageKeyOf({ sequenceNumber: '8', recordId: 'pen_T', version: 2 }), NOW.toISOString());
    await store.openBody(packageKeyOf({ sequenceNumber: '8', recordId: 'pen_T', version: 2 }), [ref('pen_T', 2, 'delete')], NOW.toISOString());
    const report = emptyReport();
    const body = await settlePackage(opened, deps, report);
    expect(body).toEqual({ key, openedAt: NOW.toISOString(), refs: [ref('pen_S', 1), ref('pen_U', 1)], open: false });
    // The package that has pen_T was open too: settled as well.
    expect(report).toEqual({ closed: 2, created: 4, queued: 4, claimedElsewhere: 1 });
    expect((await store.listOpen('9999', 10)).items).toEqual([]);
  });

  it('carries the versions in its messages only when it has every one of the package’s (the sweep has none: the connector reads them)', async () => {
    const content = (id: string) => newVersionOf(newVersionRecord(1, id, 1))!.content!;
    const messages: DeliveryMessage[] = [];
    const recording = { send: async (m: readonly DeliveryMessage[]) => (messages.push(...m), new Set<number>()) };
    const settle = async (seq: string, contents?: Map<string, VersionContent>) => {
      messages.length = 0;
      const key = packageKeyOf({ sequenceNumber: seq, recordId: 'pen_V', version: 1 });
      await settlePackage(await store.openBody(key, [ref(`pen_V${seq}`, 1), ref(`pen_W${seq}`, 1)], NOW.toISOString()), { ...deps, queues: recording }, emptyReport(), 0, contents);
      return messages;
    };
    const all = await settle('1', new Map([['pen_V1#1', content('pen_V1')], ['pen_W1#1', content('pen_W1')]]));
    expect(all.map((m) => m.platform).sort()).toEqual(['national', 'provincial']);
    for (const m of all) expect(inlineVersionsFor(m.versions, [ref('pen_V1', 1), ref('pen_W1', 1)])!.map((v) => v.id)).toEqual(['pen_V1', 'pen_W1']);
    const some = await settle('2', new Map([['pen_V2#1', content('pen_V2')]]));
    expect(some).toHaveLength(2);
    for (const m of some) expect(m).not.toHaveProperty('versions');
    for (const m of await settle('3')) expect(m).not.toHaveProperty('versions');
  });
});

/** The deliveries table as DynamoDB answers the fan-out: puts once per key (refused with the item there), the body's close, reads. */
function deliveriesTable() {
  const items = new Map<string, Record<string, unknown>>();
  const id = (k: Record<string, unknown>) => `${String(k.pk)}|${String(k.sk)}`;
  const refused = (item?: Record<string, unknown>) => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, ...(item ? { Item: marshall(item) as never } : {}) });
  ddb.on(PutCommand, { TableName: DELIVERIES_TABLE }).callsFake((input: { Item: Record<string, unknown>; ConditionExpression?: string }) => {
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
    const existing = items.get(id(input.Item));
    if (existing) throw refused(existing);
    items.set(id(input.Item), input.Item);
    return {};
  });
  ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).callsFake((input: { Key: Record<string, unknown>; UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> }) => {
    // The fan-out's only update: a body closed with its claimed refs.
    expect(input.UpdateExpression).toBe('SET refs = :refs REMOVE openFor');
    const item = items.get(id(input.Key));
    if (!item || item.openFor !== input.ExpressionAttributeValues[':open']) throw refused();
    const closed: Record<string, unknown> = { ...item, refs: input.ExpressionAttributeValues[':refs'] };
    delete closed.openFor;
    items.set(id(input.Key), closed);
    return { Attributes: closed };
  });
  ddb.on(GetCommand, { TableName: DELIVERIES_TABLE }).callsFake((input: { Key: Record<string, unknown> }) => ({ Item: items.get(id(input.Key)) }));
  return items;
}

/** SQS takes every entry, except those `refuse` names. */
function queuesAccept(refuse: (url: string, body: { platform: string }) => boolean = () => false) {
  sqs.on(SendMessageBatchCommand).callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
    const no = input.Entries.filter((e) => refuse(input.QueueUrl, JSON.parse(e.MessageBody)));
    return {
      Successful: input.Entries.filter((e) => !no.includes(e)).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
      Failed: no.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
    };
  });
}

const puts = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
const sent = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(e.MessageBody!) })));

describe('fan-out function', () => {
  it('writes a batch’s package in the deliveries table (body, claims, close, a delivery per platform, all conditional) and queues it on each platform’s queue', async () => {
    const items = deliveriesTable();
    queuesAccept();
    const records = [newVersionRecord(1, 'pen_A', 1), newVersionRecord(2, 'pen_B', 2)];
    const key = keyOf(records[0]!);
    expect(await handler(streamEvent(records))).toEqual({ batchItemFailures: [] });

    expect(puts().map((p) => `${String(p.Item!.pk)}|${String(p.Item!.sk)}`)).toEqual(
      expect.arrayContaining([bodyKey(key), claimKey('pen_A', 1), claimKey('pen_B', 2), deliveryKey({ key, platform: 'provincial', path: '' }), deliveryKey({ key, platform: 'national', path: '' })].map((k) => `${k.pk}|${k.sk}`)),
    );
    expect(puts()).toHaveLength(5);
    expect(puts().every((p) => p.TableName === DELIVERIES_TABLE)).toBe(true);
    expect(items.get(`${bodyKey(key).pk}|BODY`)).toMatchObject({ key, refs: 'pen_A 1 u\npen_B 2 u' });
    expect(items.get(`${bodyKey(key).pk}|BODY`)).not.toHaveProperty('openFor');
    expect(items.get(`REC#pen_B|V#0000000002`)).toMatchObject({ key, recordId: 'pen_B', version: 2 });
    expect(items.get(`${bodyKey(key).pk}|national`)).toMatchObject({ state: 'pending', owedBy: 'national', from: 0, to: 2 });
    // Each message carries the package's versions, as the stream records hold them, in the package's order.
    const versions = sent()[0]!.body.versions as string;
    expect(sent()).toEqual([
      { url: PROVINCIAL_URL, body: { key, platform: 'provincial', path: '', versions } },
      { url: NATIONAL_URL, body: { key, platform: 'national', path: '', versions } },
    ]);
    expect(inlineVersionsFor(versions, [ref('pen_A', 1), ref('pen_B', 2)])!.map((v) => [v.id, v.version, v.fields.CF_WSH])).toEqual([
      ['pen_A', 1, '罚pen_A'],
      ['pen_B', 2, '罚pen_B'],
    ]);
  });

  it('never puts a record’s content in the table; a message carries its versions as stored (the number encrypted); logs counts only', async () => {
    deliveriesTable();
    queuesAccept();
    const info = vi.spyOn(logger, 'info');
    try {
      const records = stream(3);
      await handler(streamEvent(records));
      const written = JSON.stringify(ddb.calls().map((c) => (c.args[0] as { input: unknown }).input));
      for (const secret of SECRETS) expect(written).not.toContain(secret);
      // The messages: their package, and its versions exactly as the stream records hold them (nothing decrypted:
      // the fan-out has no key to decrypt with).
      const bodies = sent().map((m) => m.body as { versions: string });
      expect(bodies).toHaveLength(2);
      for (const body of bodies) {
        const versions = inlineVersionsFor(body.versions, [0, 1, 2].map((i) => ref(`pen_${i}`, 1)))!;
        expect(versions).toEqual(records.map((r) => newVersionOf(r)!.content));
        expect(JSON.stringify({ ...body, versions: undefined })).not.toContain('张三');
      }
      const line = info.mock.calls.find((c) => c[0] === 'fan-out');
      expect(line![1]).toMatchObject({ records: 3, versions: 3, packages: 1, refs: 3, closed: 1, created: 2, queued: 2, claimedElsewhere: 0 });
      for (const secret of [...SECRETS, 'pen_0']) expect(JSON.stringify(line)).not.toContain(secret);
    } finally {
      info.mockRestore();
    }
  });

  it('fails the whole batch when a message cannot be queued (the stream reads it again); read again, the package is found and queued', async () => {
    deliveriesTable();
    queuesAccept((url) => url === NATIONAL_URL);
    const batch = streamEvent(stream(2));
    const key = keyOf(batch.Records[0]!);
    await expect(handler(batch)).rejects.toThrow(/not queued/);
    sqs.reset();
    queuesAccept();
    ddb.resetHistory();
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    // Nothing new written (each put refused with the item there), the package's two messages queued.
    expect(sent().map((s) => s.body)).toEqual([
      { key, platform: 'provincial', path: '', versions: expect.any(String) },
      { key, platform: 'national', path: '', versions: expect.any(String) },
    ]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('fails the whole batch when a write fails, queueing nothing', async () => {
    deliveriesTable();
    queuesAccept();
    ddb.on(PutCommand, { TableName: DELIVERIES_TABLE, Item: claimKey('pen_1', 1) } as never).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(handler(streamEvent(stream(3)))).rejects.toThrow(ProvisionedThroughputExceededException);
    expect(sqs.calls()).toHaveLength(0);
  });
});
