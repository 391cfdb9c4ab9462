/**
 * The review and repair endpoints (functions/publication/handler.ts) with a mocked DynamoDB: the operator sets the
 * policy, reads the review queue from the sparse index with an opaque cursor, approves, withholds (reason required:
 * 400 naming the field) and repairs (409 before the grade's minimum period, from an injected clock; allowed on its
 * last day). Each decision is one transaction: the new head on the version read, and the head it replaces as a
 * version. Every other key is refused.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEPARTMENT_KEY, OPERATOR_KEY, RECORDS_TABLE, SOURCES_TABLE, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems } from './support.js';
import { addMonths } from '../../../shared/domain/dates.js';
import { dishonestyPublication, GRADE, type StoredHead } from '../../../shared/domain/record-model.js';
import { DynamoDecisionsStore } from '../../../shared/publication/decisions-store.js';
import { DynamoPolicyStore } from '../../../shared/publication/policy-store.js';
import { onArrival, DEFAULT_POLICY } from '../../../shared/publication/policy.js';
import { dynamo } from '../../../shared/aws/clients.js';
import { publicationHandler } from '../../../functions/publication/handler.js';
import { addDays } from '../../support/dates.js';

const DECIDED = '2026-03-16';
const MIN_UNTIL = addMonths(DECIDED, 3);
let now = new Date(`${DECIDED}T02:00:00.000Z`);
const handler = publicationHandler(() => ({
  decisions: new DynamoDecisionsStore(dynamo(), RECORDS_TABLE),
  policy: new DynamoPolicyStore(dynamo(), SOURCES_TABLE),
  now: () => now,
}));

const ID = 'pen_bbbbbbbbbbbbbbbbbbbbbbbbbb';
function pending(): StoredHead {
  const head: StoredHead = {
    id: ID,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    identity: '沪市监罚〔2026〕9号',
    version: 1,
    subjectKey: 'USCC#91310115MA1K3BTP2B',
    decisionDate: DECIDED,
    late: false,
    firstReceivedAt: '2026-03-16T02:00:00.000Z',
    receivedAt: '2026-03-16T02:00:00.000Z',
    status: 'active',
    fields: { CF_XDR_MC: '某公司', CF_WSH: '沪市监罚〔2026〕9号', SXDJ: GRADE.general },
    contentHash: 'h1',
    publication: dishonestyPublication(GRADE.general, DECIDED),
  };
  return onArrival({ status: 'accepted', head }, DEFAULT_POLICY, head.receivedAt).head;
}

const post = (route: string, body?: unknown, key = OPERATOR_KEY) =>
  invoke(handler, apiEvent(`POST /v1/records/{id}/${route}`, { key, pathParameters: { id: ID }, ...(body !== undefined ? { body: body as object } : {}) }));
const stored = (head: StoredHead) => ddb.on(GetCommand, { TableName: RECORDS_TABLE, Key: { pk: `REC#${ID}`, sk: 'HEAD' } }).resolves({ Item: { pk: `REC#${ID}`, sk: 'HEAD', ...head } });
const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  ddb.on(TransactWriteCommand).resolves({});
  now = new Date(`${DECIDED}T02:00:00.000Z`);
});

describe('decisions', () => {
  it('approve: one transaction — the new head (version 2, approved, who/when/why) on version 1 and its content, and version 1 kept', async () => {
    stored(pending());
    const res = await post('approve', { note: '核实无误' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ID, version: 2, publication: { state: 'approved', from: DECIDED, minUntil: MIN_UNTIL } });
    const [items] = transactions();
    expect(items).toHaveLength(2);
    expect(items![0]!.Put).toMatchObject({
      TableName: RECORDS_TABLE,
      ConditionExpression: 'version = :v AND contentHash = :h',
      ExpressionAttributeValues: { ':v': 1, ':h': 'h1' },
      Item: { pk: `REC#${ID}`, sk: 'HEAD', version: 2, publicationQueue: 'approved', publication: { state: 'approved', decisions: [{ action: 'approve', by: 'operator', note: '核实无误' }] } },
    });
    expect(items![1]!.Put).toMatchObject({ Item: { pk: `REC#${ID}`, sk: 'V#0000000001', version: 1 }, ConditionExpression: 'attribute_not_exists(pk)' });
  });

  it('approve with no body at all is fine; approving it again is 409 publication_state', async () => {
    stored(pending());
    expect((await post('approve')).status).toBe(200);
    const approved = (ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!.Item as StoredHead);
    stored(approved);
    const again = await post('approve', {});
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('publication_state');
  });

  it('withhold without a reason: 400 invalid_body naming reason, nothing written', async () => {
    stored(pending());
    const res = await post('withhold', {});
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'invalid_body', details: [{ field: 'reason' }] });
    expect(transactions()).toEqual([]);
  });

  it('withhold: withheld, out of the queues', async () => {
    stored(pending());
    const res = await post('withhold', { reason: '信息待核实' });
    expect(res.body.publication.state).toBe('withheld');
    const item = transactions()[0]![0]!.Put!.Item!;
    expect(item.publicationQueue).toBeUndefined();
    expect(item.publication.decisions).toEqual([{ action: 'withhold', by: 'operator', at: now.toISOString(), note: '信息待核实' }]);
  });

  it('repair: 409 repair_too_early the day before the minimum period ends (China date of the injected clock), 200 ended/repaired on that day', async () => {
    stored(pending());
    // 15:59 UTC is 23:59 in China: still the day before minUntil; a minute later it is minUntil there.
    now = new Date(`${addDays(MIN_UNTIL, -1)}T15:59:00.000Z`);
    const early = await post('repair', { reason: '已整改' });
    expect(early.status).toBe(409);
    expect(errorOf(early)).toMatchObject({ code: 'repair_too_early', message: expect.stringContaining(MIN_UNTIL) });
    expect(transactions()).toEqual([]);
    now = new Date(`${addDays(MIN_UNTIL, -1)}T16:00:00.000Z`); // 00:00 on minUntil in China
    const res = await post('repair', { reason: '已整改' });
    expect(res.status).toBe(200);
    expect(res.body.publication).toMatchObject({ state: 'ended', endReason: 'repaired', endedOn: MIN_UNTIL });
  });

  it('a head changed meanwhile: decided again on the fresh head', async () => {
    stored(pending());
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }))
      .resolves({});
    const res = await post('approve', {});
    expect(res.status).toBe(200);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('an unknown record: 404; a department key: 403', async () => {
    expect((await post('approve', {})).status).toBe(404);
    expect((await post('approve', {}, DEPARTMENT_KEY)).status).toBe(403);
  });
});

describe('the review queue and the policy', () => {
  it('GET /v1/reviews reads the sparse index oldest first, and its next cursor continues where the page stopped', async () => {
    const head = pending();
    // The index keeps keys only: the page's heads are then read by their keys.
    const keys = { pk: `REC#${ID}`, sk: 'HEAD', publicationQueue: 'review', publicationQueueKey: head.publicationQueueKey };
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE, IndexName: 'publicationQueue' }).resolves({ Items: [keys], LastEvaluatedKey: keys });
    ddb.on(BatchGetCommand).resolves({ Responses: { [RECORDS_TABLE]: [{ pk: `REC#${ID}`, sk: 'HEAD', ...head }] } });
    const res = await invoke(handler, apiEvent('GET /v1/reviews', { key: OPERATOR_KEY, query: { limit: '1' } }));
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([expect.objectContaining({ id: ID, kind: 'penalty', name: '某公司', waitingSince: head.publicationQueueKey, underObjection: false })]);
    const query = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query).toMatchObject({ KeyConditionExpression: 'publicationQueue = :q', ExpressionAttributeValues: { ':q': 'review' }, Limit: 1 });
    expect(query.ScanIndexForward).not.toBe(false);
    expect(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems).toEqual({ [RECORDS_TABLE]: { Keys: [{ pk: `REC#${ID}`, sk: 'HEAD' }] } });
    await invoke(handler, apiEvent('GET /v1/reviews', { key: OPERATOR_KEY, query: { cursor: res.body.next } }));
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: `REC#${ID}`, sk: 'HEAD', publicationQueue: 'review', publicationQueueKey: head.publicationQueueKey });
    const bad = await invoke(handler, apiEvent('GET /v1/reviews', { key: OPERATOR_KEY, query: { cursor: 'not-a-cursor' } }));
    expect(errorOf(bad)).toMatchObject({ code: 'invalid_query', details: [{ field: 'cursor' }] });
  });

  it('PUT /v1/publication-policy stores it (who, when); a bad kind is 400 naming the field; GET without one set is the default', async () => {
    ddb.on(PutCommand, { TableName: SOURCES_TABLE }).resolves({});
    const bad = await invoke(handler, apiEvent('PUT /v1/publication-policy', { key: OPERATOR_KEY, body: { approvedOnArrival: { kinds: ['licence'], sources: [] } } }));
    expect(errorOf(bad)).toMatchObject({ code: 'invalid_body', details: [{ field: 'approvedOnArrival.kinds.0' }] });
    const res = await invoke(handler, apiEvent('PUT /v1/publication-policy', { key: OPERATOR_KEY, body: { approvedOnArrival: { kinds: ['license'], sources: ['shi-scjgj'] } } }));
    expect(res.status).toBe(200);
    expect(ddb.commandCalls(PutCommand, { TableName: SOURCES_TABLE })[0]!.args[0].input.Item).toEqual({
      pk: 'POLICY',
      sk: 'PUBLICATION',
      approvedOnArrival: { kinds: ['license'], sources: ['shi-scjgj'] },
      updatedBy: 'operator',
      updatedAt: now.toISOString(),
    });
    const read = await invoke(handler, apiEvent('GET /v1/publication-policy', { key: OPERATOR_KEY }));
    expect(read.body).toEqual({ approvedOnArrival: { kinds: [], sources: [] } });
  });
});
