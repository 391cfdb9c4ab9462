/**
 * How DynamoRecordsStore.write() (shared/store/records-store.ts) writes, against a mocked document client: a new
 * record is one conditional PutItem of its head (a transactional write costs twice the units), at most 50 in
 * flight; an update is a transaction of its two items; the outcomes come back in the order of the changes; a
 * refused condition is a conflict, a TransactionConflict is written again in a later round; once the signal fires
 * nothing more is started, and the call ends only when what was in flight has ended.
 */
import { ConditionalCheckFailedException, DynamoDBClient, ProvisionedThroughputExceededException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredHead, StoredVersion } from '../../shared/domain/record-model.js';
import { DynamoRecordsStore, MAX_PUTS_IN_FLIGHT, type RecordWrite } from '../../shared/store/records-store.js';

const TABLE = 'test-records';
const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoRecordsStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'cn-north-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })), TABLE);

/** What the store reads of a head: its id, version and content hash; the rest is carried as is. */
const head = (id: string, version: number) => ({ id, version, contentHash: `hash-${id}-${version}`, fields: { XK_NR: `内容 ${version}` } }) as unknown as StoredHead;
const create = (id: string): RecordWrite => ({ op: 'create', head: head(id, 1) });
const update = (id: string): RecordWrite => ({
  op: 'update',
  head: head(id, 2),
  previous: head(id, 1),
  version: { ...head(id, 1), receivedAt: '2026-01-05T00:00:00.000Z', supersededAt: '2026-01-06T00:00:00.000Z' } as unknown as StoredVersion,
});

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const transactionConflict = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
const canceled = (...codes: string[]) => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

const puts = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!.map((a) => `${a.Put!.Item!.id} ${a.Put!.Item!.sk}`));
const nextTurn = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
});

describe('DynamoRecordsStore.write', () => {
  it('puts each new record’s head alone, only if absent; writes each update’s head and old version in a transaction', async () => {
    expect(await store.write([create('a'), update('b'), create('c')])).toEqual(['written', 'written', 'written']);
    expect(puts()).toEqual([
      { TableName: TABLE, Item: { pk: 'REC#a', sk: 'HEAD', ...head('a', 1) }, ConditionExpression: 'attribute_not_exists(pk)' },
      { TableName: TABLE, Item: { pk: 'REC#c', sk: 'HEAD', ...head('c', 1) }, ConditionExpression: 'attribute_not_exists(pk)' },
    ]);
    const [transaction] = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    expect(transaction).toEqual([
      {
        Put: {
          TableName: TABLE,
          Item: { pk: 'REC#b', sk: 'HEAD', ...head('b', 2) },
          ConditionExpression: 'version = :v AND contentHash = :h',
          ExpressionAttributeValues: { ':v': 1, ':h': 'hash-b-1' },
        },
      },
      { Put: { TableName: TABLE, Item: expect.objectContaining({ pk: 'REC#b', sk: 'V#0000000001', version: 1 }), ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);
  });

  it('answers in the order of the changes: a refused create or update is a conflict, the rest of a cancelled transaction is written again', async () => {
    ddb.on(PutCommand, { Item: { pk: 'REC#c' } }).rejects(conditionFailed());
    ddb.on(TransactWriteCommand).rejectsOnce(canceled('None', 'None', 'ConditionalCheckFailed', 'None')).resolves({});
    expect(await store.write([create('a'), update('b'), create('c'), update('d'), create('e')])).toEqual(['written', 'written', 'conflict', 'conflict', 'written']);
    // Each create sent once: a refused one is the caller's to decide again.
    expect(puts().map((p) => p.Item!.id)).toEqual(['a', 'c', 'e']);
    expect(transactions()).toEqual([
      ['b HEAD', 'b V#0000000001', 'd HEAD', 'd V#0000000001'],
      ['b HEAD', 'b V#0000000001'],
    ]);
  });

  it('writes again in a later round a new record whose PutItem met a transaction on the same item', async () => {
    ddb.on(PutCommand, { Item: { pk: 'REC#b' } }).rejectsOnce(transactionConflict()).resolves({});
    expect(await store.write([create('a'), create('b')])).toEqual(['written', 'written']);
    expect(puts().map((p) => p.Item!.id)).toEqual(['a', 'b', 'b']);
  });

  it('groups updates into transactions of at most 100 items, an update never split', async () => {
    const changes = Array.from({ length: 120 }, (_, i) => update(`u${i}`));
    expect(await store.write(changes)).toEqual(changes.map(() => 'written'));
    expect(transactions().map((t) => t.length)).toEqual([100, 100, 40]);
    expect(puts()).toHaveLength(0);
  });

  it(`keeps at most ${MAX_PUTS_IN_FLIGHT} PutItems in flight`, async () => {
    let inFlight = 0;
    let most = 0;
    ddb.on(PutCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await nextTurn();
      inFlight--;
      return {};
    });
    const changes = Array.from({ length: 2 * MAX_PUTS_IN_FLIGHT + 10 }, (_, i) => create(`c${i}`));
    expect(await store.write(changes)).toEqual(changes.map(() => 'written'));
    expect(puts().map((p) => p.Item!.id)).toEqual(changes.map((c) => c.head.id));
    expect(most).toBe(MAX_PUTS_IN_FLIGHT);
  });

  it('after another error starts no more PutItems, and throws it once those in flight have ended', async () => {
    const slowDown = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
    let ended = 0;
    ddb.on(PutCommand).callsFake(async (input: { Item: { id: string } }) => {
      if (input.Item.id === 'c0') throw slowDown;
      await nextTurn();
      ended++;
      return {};
    });
    let endedAtThrow = -1;
    await expect(
      store.write(Array.from({ length: 2 * MAX_PUTS_IN_FLIGHT }, (_, i) => create(`c${i}`))).catch((e) => {
        endedAtThrow = ended;
        throw e;
      }),
    ).rejects.toBe(slowDown);
    expect(puts()).toHaveLength(MAX_PUTS_IN_FLIGHT);
    expect(endedAtThrow).toBe(MAX_PUTS_IN_FLIGHT - 1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('starts nothing once the signal has fired', async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(store.write([create('a'), update('b')], controller.signal)).rejects.toBe(reason);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('when the signal fires mid-way, aborts the PutItems in flight, starts no other, and ends once they have ended', async () => {
    const controller = new AbortController();
    let ended = 0;
    let started = 0;
    // As the SDK does with the abortSignal it is given: a request in flight rejects when the signal fires (here
    // after 0, 1 or 2 turns of the event loop, so that they do not all end at once).
    ddb.on(PutCommand).callsFake(() => {
      const turns = started++ % 3;
      return new Promise((_, reject) =>
        controller.signal.addEventListener(
          'abort',
          async () => {
            for (let t = 0; t < turns; t++) await nextTurn();
            ended++;
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          },
          { once: true },
        ),
      );
    });
    const writing = store.write([...Array.from({ length: MAX_PUTS_IN_FLIGHT + 35 }, (_, i) => create(`c${i}`)), update('u')], controller.signal);
    let settledWith: number | undefined;
    const settled = writing.then(
      () => undefined,
      (e: Error) => {
        settledWith = ended;
        return e;
      },
    );
    await nextTurn();
    expect(puts()).toHaveLength(MAX_PUTS_IN_FLIGHT);
    // Each sent with the signal, which the SDK aborts it with.
    const options = ddb.commandCalls(PutCommand).map((c) => (c.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined);
    expect(options.every((o) => o?.abortSignal === controller.signal)).toBe(true);
    controller.abort(new Error('deadline'));
    expect((await settled)?.name).toBe('AbortError');
    expect(settledWith).toBe(MAX_PUTS_IN_FLIGHT);
    expect(puts()).toHaveLength(MAX_PUTS_IN_FLIGHT);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
