import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEPARTMENT_KEY, OPERATOR_KEY, OTHER_DEPARTMENT_KEY, RECORDS_TABLE, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems, otherDepartment, principal } from './support.js';
import { IDENTITY_NUMBER, MASKED_IDENTITY_NUMBER, headItem, personLicence, storedLicence } from './fixtures.js';
import { versionOf, type StoredHead } from '../../../shared/domain/record-model.js';
import { handler } from '../../../functions/records/handler.js';

const CHECKER_KEY = 'hub_checker-key-for-unit-tests-0123456789abcdef';
const get = (id: string, key?: string) => invoke(handler, apiEvent('GET /v1/records/{id}', { key, pathParameters: { id } }));

/** A record at version 2 whose version 1 had other content; both carry an encrypted identity number. */
async function twoVersions(): Promise<{ head: StoredHead; items: Record<string, unknown>[] }> {
  const old = await storedLicence(department, personLicence(7, { XK_NR: '旧内容' }), new Date('2026-11-20T03:00:00Z'));
  const current = await storedLicence(department, personLicence(7), new Date('2026-11-21T03:00:00Z'));
  const head: StoredHead = { ...current, version: 2, firstReceivedAt: old.firstReceivedAt };
  const version = versionOf(old, current.receivedAt);
  return { head, items: [headItem(head), { pk: `REC#${head.id}`, sk: 'V#0000000001', ...version }] };
}

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  mockKey(OTHER_DEPARTMENT_KEY, otherDepartment);
  ddb.on(QueryCommand).resolves({ Items: [] });
});

describe('GET /v1/records/{id}', () => {
  it('answers 401 without a key', async () => {
    const res = await get('lic_aaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('unauthorized');
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('answers 404 for a well-formed id that is not stored, after querying REC#<id>', async () => {
    const res = await get('lic_aaaaaaaaaaaaaaaaaaaaaaaaaa', DEPARTMENT_KEY);
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('not_found');
    const queries = ddb.commandCalls(QueryCommand);
    expect(queries).toHaveLength(1);
    expect(queries[0]!.args[0].input).toMatchObject({ TableName: RECORDS_TABLE, ExpressionAttributeValues: { ':pk': 'REC#lic_aaaaaaaaaaaaaaaaaaaaaaaaaa' } });
  });

  it('answers 404 for an id that only has version items and no head', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items.slice(1) });
    expect((await get(head.id, OPERATOR_KEY)).status).toBe(404);
  });

  it.each(['nothing', 'LIC_AAAAAAAAAAAAAAAAAAAAAAAAAA', 'lic_aaaaaaaaaaaaaaaaaaaaaaaaa1', "lic_a' OR 1=1"])('answers 404 for a malformed id (%s) without querying', async (id) => {
    const res = await get(id, DEPARTMENT_KEY);
    expect(res.status).toBe(404);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it("answers another source's key exactly as an unknown id: 404, same code, same message, same body", async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    const someoneElses = await get(head.id, OTHER_DEPARTMENT_KEY);
    ddb.on(QueryCommand).resolves({ Items: [] });
    const unknown = await get(head.id, OTHER_DEPARTMENT_KEY);
    expect(unknown.status).toBe(404);
    expect(someoneElses.status).toBe(404);
    expect(errorOf(someoneElses)).toEqual({ code: 'not_found', message: `没有记录${head.id} (unknown record id)`, details: [] });
    expect(someoneElses.raw).toBe(unknown.raw);
    expect(someoneElses.headers).toEqual(unknown.headers);
    expect(someoneElses.raw).not.toContain('1101021991');
    expect(someoneElses.raw).not.toContain(head.fields.XK_XDR_MC!);
  });

  it('answers a source without kinds (a checker) as for an unknown id too', async () => {
    const { head, items } = await twoVersions();
    mockKey(CHECKER_KEY, principal({ sourceId: 'checker', role: 'checker', kinds: [] }));
    ddb.on(QueryCommand).resolves({ Items: items });
    const res = await get(head.id, CHECKER_KEY);
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('not_found');
  });

  it('quotes at most 64 characters of the id back', async () => {
    const res = await get('a'.repeat(12_000), DEPARTMENT_KEY);
    expect(res.status).toBe(404);
    expect(errorOf(res).message).toBe(`没有记录${'a'.repeat(64)}… (unknown record id)`);
    expect(res.raw.length).toBeLessThan(300);
  });

  it('shows the owner the record with the identity number masked, in the fields and every version', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    const res = await get(head.id, DEPARTMENT_KEY);
    expect(res.status).toBe(200);
    expect(res.raw).not.toContain(IDENTITY_NUMBER);
    expect(res.raw).not.toContain(head.certificate!.cipher);
    expect(res.body).toMatchObject({
      id: head.id,
      kind: 'license',
      source: department.sourceId,
      status: 'active',
      version: 2,
      firstReceivedAt: '2026-11-20T03:00:00.000Z',
      receivedAt: '2026-11-21T03:00:00.000Z',
      publication: head.publication,
      delivery: { provincial: { state: 'pending' }, national: { state: 'pending' } },
    });
    expect(res.body.fields.XK_XDR_ZJHM).toBe(MASKED_IDENTITY_NUMBER);
    expect(res.body.fields.XK_XDR_LB).toBe('03');
    expect(res.body.labels).toMatchObject({ XK_XDR_LB: '自然人', XK_XDR_ZJLX: '身份证', XK_XKLB: '普通', XK_ZT: '有效' });
    expect(res.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(res.body.versions[0].fields).toMatchObject({ XK_XDR_ZJHM: MASKED_IDENTITY_NUMBER, XK_NR: '旧内容' });
    expect(res.body.versions[0].supersededAt).toBe('2026-11-21T03:00:00.000Z');
    expect(res.body.versions[1].fields).toMatchObject({ XK_XDR_ZJHM: MASKED_IDENTITY_NUMBER, XK_NR: '食品销售' });
    expect(res.raw).not.toMatch(/"pk"|"sk"|subjectKey|"cipher"|"hash"/);
  });

  it('shows the operator the identity number in full', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    const res = await get(head.id, OPERATOR_KEY);
    expect(res.status).toBe(200);
    expect(res.body.fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);
    expect(res.body.versions[0].fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);
    expect(res.body.versions[1].fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);
  });

  it('reads every page of the record (versions on a later page)', async () => {
    const { head, items } = await twoVersions();
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [items[0]!], LastEvaluatedKey: { pk: `REC#${head.id}`, sk: 'HEAD' } })
      .resolvesOnce({ Items: [items[1]!] });
    const res = await get(head.id, DEPARTMENT_KEY);
    expect(res.status).toBe(200);
    expect(res.body.versions).toHaveLength(2);
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: `REC#${head.id}`, sk: 'HEAD' });
  });

  it('does not decrypt a ciphertext moved onto another record (context-bound): 500 without internals', async () => {
    const { head } = await twoVersions();
    const other = await storedLicence(department, personLicence(8));
    const forged = { ...head, certificate: other.certificate! };
    ddb.on(QueryCommand).resolves({ Items: [headItem(forged)] });
    const res = await get(head.id, OPERATOR_KEY);
    expect(res.status).toBe(500);
    expect(errorOf(res).code).toBe('internal');
    expect(res.raw).not.toContain(IDENTITY_NUMBER);
  });

  it('answers 500 internal without internals when DynamoDB fails', async () => {
    ddb.on(QueryCommand).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded on arn:aws:dynamodb:x', $metadata: {} }));
    const res = await get('lic_aaaaaaaaaaaaaaaaaaaaaaaaaa', OPERATOR_KEY);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.raw).not.toMatch(/arn:aws|throughput/i);
  });
});
