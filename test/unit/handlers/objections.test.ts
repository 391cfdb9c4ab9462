/**
 * Objections (functions/objections/handler.ts) with a mocked DynamoDB: filed with no key → 202, the objection and
 * the record's 异议处理中 mark in one transaction, the contact stored only as ciphertext (never in any request in
 * the clear, never in the log); a record not published today is 404 like an unknown one; bad input 400 naming the
 * field; the per-client limit answers 429 with Retry-After; the operator lists them with deadlines and the contact
 * decrypted, and resolves them (revoked ends publication; resolving twice is 409).
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DEPARTMENT_KEY, OPERATOR_KEY, RECORDS_TABLE, THROTTLE_TABLE, allSentInputs, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems } from './support.js';
import { tables } from '../../../infra/catalogue.js';
import { todayInChina } from '../../../shared/domain/dates.js';
import { dishonestyPublication, GRADE, type StoredHead } from '../../../shared/domain/record-model.js';
import { addWorkingDays } from '../../../shared/domain/workdays.js';
import { logger } from '../../../shared/logger.js';
import { approve, markObjection } from '../../../shared/publication/decisions.js';
import { DEFAULT_POLICY, onArrival } from '../../../shared/publication/policy.js';
import { handler } from '../../../functions/objections/handler.js';

const OBJECTIONS_TABLE = 'test-objections';
process.env[tables.objections.envVar] = OBJECTIONS_TABLE;

const ID = 'pen_cccccccccccccccccccccccccc';
const CONTACT = '13912345678';
const today = todayInChina();

function head(): StoredHead {
  const decided = today;
  const h: StoredHead = {
    id: ID,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    identity: '沪市监罚〔2026〕5号',
    version: 1,
    subjectKey: 'USCC#91310115MA1K3BTP2B',
    decisionDate: decided,
    late: false,
    firstReceivedAt: new Date().toISOString(),
    receivedAt: new Date().toISOString(),
    status: 'active',
    fields: { CF_WSH: '沪市监罚〔2026〕5号', SXDJ: GRADE.general },
    contentHash: 'h1',
    publication: dishonestyPublication(GRADE.general, decided),
  };
  return onArrival({ status: 'accepted', head: h }, DEFAULT_POLICY, h.receivedAt).head;
}
function approved(): StoredHead {
  const outcome = approve(head(), { by: 'operator', at: new Date().toISOString(), today });
  if ('refused' in outcome) throw new Error(outcome.message);
  return outcome.head;
}

const stored = (h: StoredHead) => ddb.on(GetCommand, { TableName: RECORDS_TABLE, Key: { pk: `REC#${ID}`, sk: 'HEAD' } }).resolves({ Item: { pk: `REC#${ID}`, sk: 'HEAD', ...h } });
const file = (body: unknown, sourceIp = '203.0.113.7') => invoke(handler, apiEvent('POST /v1/objections', { body: body as object, sourceIp }));
const items = () => ddb.commandCalls(TransactWriteCommand).flatMap((c) => c.args[0].input.TransactItems!);

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  ddb.on(TransactWriteCommand).resolves({});
});

describe('POST /v1/objections (no key)', () => {
  it('202 {objectionId}: the objection (contact as ciphertext, deadlines in working days) and the marked head in one transaction', async () => {
    stored(approved());
    const log = vi.spyOn(logger, 'appendKeys');
    const res = await file({ recordId: ID, reason: '处罚已撤销', contact: CONTACT });
    expect(res.status).toBe(202);
    const { objectionId } = res.body;
    expect(objectionId).toMatch(/^obj_[a-z2-7]{26}$/);
    const [headPut, versionPut, objectionPut] = items();
    expect(headPut!.Put!.Item).toMatchObject({ sk: 'HEAD', version: 3, objection: { count: 1 } });
    expect(versionPut!.Put!.Item).toMatchObject({ sk: 'V#0000000002' });
    expect(objectionPut!.Put).toMatchObject({
      TableName: OBJECTIONS_TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `OBJ#${objectionId}`, recordId: ID, status: 'open', openQueue: 'open', filedOn: today, acceptBy: addWorkingDays(today, 2), answerBy: addWorkingDays(today, 10) },
    });
    expect(objectionPut!.Put!.Item!.contactCipher).toMatch(/^v1\./);
    expect(allSentInputs()).not.toContain(CONTACT);
    expect(JSON.stringify(log.mock.calls)).not.toContain(CONTACT);
    // The client is counted under a hash of its address, never the address.
    const counter = ddb.commandCalls(UpdateCommand, { TableName: THROTTLE_TABLE }).at(-1)!.args[0].input;
    expect(JSON.stringify(counter)).not.toContain('203.0.113.7');
    log.mockRestore();
  });

  it('a record waiting for review (not on the site), or unknown: 404, nothing written', async () => {
    stored(head());
    expect((await file({ recordId: ID, reason: 'x', contact: CONTACT })).status).toBe(404);
    ddb.on(GetCommand, { TableName: RECORDS_TABLE }).resolves({});
    expect((await file({ recordId: ID, reason: 'x', contact: CONTACT })).status).toBe(404);
    expect(items()).toEqual([]);
  });

  it('bad input: 400 invalid_body naming the fields (contact too short and not a phone or e-mail, reason missing, recordId not an id)', async () => {
    const res = await file({ recordId: 'nope', contact: 'abc' });
    expect(res.status).toBe(400);
    expect(errorOf(res).details.map((d) => d.field).sort()).toEqual(['contact', 'contact', 'reason', 'recordId']);
  });

  it('over the per-client limit: 429 too_many_requests with Retry-After, before the body is read', async () => {
    ddb.on(UpdateCommand, { TableName: THROTTLE_TABLE }).rejects(Object.assign(new Error('limit'), { name: 'ConditionalCheckFailedException' }));
    const res = await file('not json at all');
    expect(res.status).toBe(429);
    expect(errorOf(res).code).toBe('too_many_requests');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  });
});

describe('the operator’s side', () => {
  it('GET /v1/objections: the open ones from the sparse index, contact decrypted, deadlines and overdue; department key 403', async () => {
    stored(approved());
    await file({ recordId: ID, reason: '处罚已撤销', contact: CONTACT });
    const objection = items()[2]!.Put!.Item!;
    ddb.on(QueryCommand, { TableName: OBJECTIONS_TABLE, IndexName: 'open' }).resolves({ Items: [objection] });
    const res = await invoke(handler, apiEvent('GET /v1/objections', { key: OPERATOR_KEY, query: { status: 'open' } }));
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({ id: objection.id, recordId: ID, contact: CONTACT, acceptBy: addWorkingDays(today, 2), answerBy: addWorkingDays(today, 10), overdue: false }),
    ]);
    expect((await invoke(handler, apiEvent('GET /v1/objections', { key: DEPARTMENT_KEY }))).status).toBe(403);
    expect((await invoke(handler, apiEvent('GET /v1/objections', { key: OPERATOR_KEY, query: { status: 'closed' } }))).status).toBe(400);
  });

  it('resolve revoked: one transaction ending publication (revoked), clearing the mark and resolving the objection only while open', async () => {
    const marked = markObjection(approved(), new Date().toISOString());
    stored(marked);
    const objectionId = 'obj_dddddddddddddddddddddddddd';
    ddb.on(GetCommand, { TableName: OBJECTIONS_TABLE }).resolves({ Item: { pk: `OBJ#${objectionId}`, sk: 'OBJ', id: objectionId, recordId: ID, status: 'open' } });
    const res = await invoke(handler, apiEvent('POST /v1/objections/{id}/resolve', { key: OPERATOR_KEY, pathParameters: { id: objectionId }, body: { outcome: 'revoked', note: '核实有误，撤销' } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: objectionId, status: 'resolved', outcome: 'revoked', recordVersion: marked.version + 1 });
    const [headPut, , resolution] = items();
    expect(headPut!.Put!.Item!.publication).toMatchObject({ state: 'ended', endReason: 'revoked' });
    expect(headPut!.Put!.Item!.objection).toBeUndefined();
    expect(resolution!.Update).toMatchObject({ TableName: OBJECTIONS_TABLE, ConditionExpression: '#status = :open' });
    expect(resolution!.Update!.UpdateExpression).toContain('REMOVE openQueue');
  });

  it('resolve: note required (400 naming it); resolved already (stored, or by a concurrent request): 409 objection_state', async () => {
    stored(markObjection(approved(), new Date().toISOString()));
    const objectionId = 'obj_dddddddddddddddddddddddddd';
    const resolve = () => invoke(handler, apiEvent('POST /v1/objections/{id}/resolve', { key: OPERATOR_KEY, pathParameters: { id: objectionId }, body: { outcome: 'upheld', note: '维持' } }));
    const noNote = await invoke(handler, apiEvent('POST /v1/objections/{id}/resolve', { key: OPERATOR_KEY, pathParameters: { id: objectionId }, body: { outcome: 'upheld' } }));
    ddb.on(GetCommand, { TableName: OBJECTIONS_TABLE }).resolves({ Item: { id: objectionId, recordId: ID, status: 'open' } });
    expect((await invoke(handler, apiEvent('POST /v1/objections/{id}/resolve', { key: OPERATOR_KEY, pathParameters: { id: objectionId }, body: { outcome: 'upheld' } }))).status).toBe(400);
    expect(noNote.status).toBe(404); // before the objection was stored: unknown
    ddb
      .on(TransactWriteCommand)
      .rejects(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }] }));
    const raced = await resolve();
    expect(raced.status).toBe(409);
    expect(errorOf(raced).code).toBe('objection_state');
    ddb.on(GetCommand, { TableName: OBJECTIONS_TABLE }).resolves({ Item: { id: objectionId, recordId: ID, status: 'resolved' } });
    expect(errorOf(await resolve()).code).toBe('objection_state');
  });
});
