import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AUDIT_TABLE,
  DELIVERIES_TABLE,
  DEPARTMENT_KEY,
  OPERATOR_KEY,
  OTHER_DEPARTMENT_KEY,
  RECORDS_TABLE,
  apiEvent,
  ddb,
  department,
  errorOf,
  invoke,
  mockKey,
  mockNoItems,
  otherDepartment,
  principal,
} from './support.js';
import { IDENTITY_NUMBER, MASKED_IDENTITY_NUMBER, companyLicence, headItem, personLicence, storedLicence } from './fixtures.js';
import { todayInChina } from '../../../shared/domain/dates.js';
import { versionOf, type StoredHead } from '../../../shared/domain/record-model.js';
import { bodyKey, claimKey, deliveryKey, encodeRefs, newDelivery, packageKeyOf, type PackageDelivery, type PartPath, type PlatformName } from '../../../shared/upward/package-model.js';
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
      .on(QueryCommand, { TableName: RECORDS_TABLE })
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

describe('GET /v1/records/{id}: audited reads of identity numbers in full', () => {
  const auditPuts = () => ddb.commandCalls(PutCommand, { TableName: AUDIT_TABLE });
  const operatorGet = (id: string, extra: { sourceIp?: string; userAgent?: string; requestId?: string } = {}) =>
    invoke(handler, apiEvent('GET /v1/records/{id}', { key: OPERATOR_KEY, pathParameters: { id }, ...extra }));

  it("writes the operator's read to the append-only audit before answering: who, which record, when, from where", async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    ddb.on(PutCommand, { TableName: AUDIT_TABLE }).resolves({});
    const before = Date.now();
    const res = await operatorGet(head.id, { sourceIp: '203.0.113.7', userAgent: `CreditConsole/2.1 ${'x'.repeat(500)}`, requestId: 'Ab1Cd2Ef3=' });
    expect(res.status).toBe(200);
    expect(res.body.fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);

    const puts = auditPuts();
    expect(puts).toHaveLength(1);
    const input = puts[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
    const item = input.Item!;
    expect(item).toMatchObject({
      pk: `READ#${head.id}`,
      recordId: head.id,
      reader: 'operator',
      readerRole: 'operator',
      route: 'GET /v1/records/{id}',
      sourceIp: '203.0.113.7',
      requestId: 'Ab1Cd2Ef3=',
    });
    expect(item.userAgent).toBe(`CreditConsole/2.1 ${'x'.repeat(182)}…`);
    const at = Date.parse(item.at);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(item.sk).toBe(`${item.at}#Ab1Cd2Ef3=`);
    expect(item.day).toBe(todayInChina(new Date(item.at)));
    // The audit holds who read what, never what was read.
    expect(JSON.stringify(input)).not.toContain(IDENTITY_NUMBER);
    expect(JSON.stringify(input)).not.toContain('1101021991');
  });

  it('audits a read whose only identity number is in a listed older version', async () => {
    const wsh = String(personLicence(9).XK_WSH);
    const old = await storedLicence(department, personLicence(9), new Date('2026-11-20T03:00:00Z'));
    const current = await storedLicence(department, companyLicence(9, { XK_WSH: wsh }), new Date('2026-11-21T03:00:00Z'));
    expect(current.id).toBe(old.id);
    expect(current.certificate).toBeUndefined();
    const head: StoredHead = { ...current, version: 2, firstReceivedAt: old.firstReceivedAt };
    ddb.on(QueryCommand).resolves({ Items: [headItem(head), { pk: `REC#${head.id}`, sk: 'V#0000000001', ...versionOf(old, current.receivedAt) }] });
    ddb.on(PutCommand, { TableName: AUDIT_TABLE }).resolves({});
    const res = await operatorGet(head.id);
    expect(res.status).toBe(200);
    expect(res.body.fields.XK_XDR_ZJHM).toBeUndefined();
    expect(res.body.versions[0].fields.XK_XDR_ZJHM).toBe(IDENTITY_NUMBER);
    expect(auditPuts()).toHaveLength(1);
  });

  it("writes nothing to the audit for the owner's masked read, nor for the operator's read of a record without an identity number", async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    expect((await get(head.id, DEPARTMENT_KEY)).status).toBe(200);
    const company = await storedLicence(department, companyLicence(3));
    ddb.on(QueryCommand).resolves({ Items: [headItem(company)] });
    expect((await operatorGet(company.id)).status).toBe(200);
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await get('lic_aaaaaaaaaaaaaaaaaaaaaaaaaa', OPERATOR_KEY)).status).toBe(404);
    expect(auditPuts()).toHaveLength(0);
  });

  it('fails the read with 503 and Retry-After, showing nothing, when the audit cannot be written for now', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    ddb.on(PutCommand, { TableName: AUDIT_TABLE }).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: {} }));
    const res = await operatorGet(head.id);
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.raw).not.toContain(IDENTITY_NUMBER);
    expect(res.raw).not.toContain(head.fields.XK_XDR_MC!);
  });

  it('fails the read with 500, showing nothing, when the audit write is refused (a fault of the hub, such as a missing grant)', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand).resolves({ Items: items });
    ddb.on(PutCommand, { TableName: AUDIT_TABLE }).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem on arn:aws:dynamodb:x'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const res = await operatorGet(head.id);
    expect(res.status).toBe(500);
    expect(errorOf(res).code).toBe('internal');
    expect(res.raw).not.toContain(IDENTITY_NUMBER);
    expect(res.raw).not.toMatch(/arn:aws|PutItem/);
  });
});

describe('GET /v1/records/{id}: delivery to the upward platforms', () => {
  const deliveriesCalls = () => [...ddb.commandCalls(GetCommand, { TableName: DELIVERIES_TABLE }), ...ddb.commandCalls(QueryCommand, { TableName: DELIVERIES_TABLE })].map((c) => c.args[0].input);
  const deliveryQueries = () => ddb.commandCalls(QueryCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);
  const KEY = packageKeyOf({ sequenceNumber: '49666000000000000000000000000000000000000000000007', recordId: 'lic_other', version: 1 });
  /** The package carrying the record's version 2, second of its two record versions. */
  function mockPackage(head: StoredHead) {
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: bodyKey(KEY) }).resolves({
      Item: { ...bodyKey(KEY), key: KEY, openedAt: '2026-11-21T03:00:01.000Z', refs: encodeRefs([{ recordId: 'lic_other', version: 1, operation: 'upsert' }, { recordId: head.id, version: 2, operation: 'upsert' }]) },
    });
  }
  /** The claim of the record's `version`, as the deliveries table holds it, with the platforms' feedback attributes. */
  function mockClaim(head: StoredHead, version: number, feedback: Record<string, unknown> = {}) {
    ddb.on(GetCommand, { TableName: DELIVERIES_TABLE, Key: claimKey(head.id, version) }).resolves({
      Item: { ...claimKey(head.id, version), recordId: head.id, version, key: KEY, claimedAt: '2026-11-21T03:00:01.000Z', ...feedback },
    });
  }
  /** A delivery (part `path`) of the package, as the table holds it. */
  function deliveryItem(platform: PlatformName, path: PartPath, over: Partial<PackageDelivery> = {}) {
    const { owedBy: _o, ...d } = { ...newDelivery(KEY, 2, platform, path, new Date('2026-11-21T03:00:01.000Z')), ...over };
    return { ...deliveryKey(d), ...d };
  }
  const rejected = { outcome: 'rejected', reason: '统一社会信用代码不存在', at: '2026-11-21T04:00:00.000Z', receivedAt: '2026-11-21T04:00:01.000Z' };

  it("shows each platform's delivery of the current version (state, times, reason, attempts, feedback): its claim, then its package's body and deliveries", async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE }).resolves({ Items: items });
    mockClaim(head, 2, { feedback_provincial: rejected });
    mockPackage(head);
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).resolves({
      Items: [
        deliveryItem('provincial', '', { state: 'delivered', deliveredAt: '2026-11-21T03:00:05.000Z', attempts: 2 }),
        // The national platform refused the package: split; the part with the record alone refused again.
        deliveryItem('national', '', { state: 'split', splitAt: '2026-11-21T03:00:03.000Z', attempts: 1 }),
        deliveryItem('national', '0', { state: 'delivered', deliveredAt: '2026-11-21T03:00:04.000Z' }),
        deliveryItem('national', '1', { state: 'failed', failedAt: '2026-11-21T03:00:06.000Z', failedReason: 'HTTP 400: bad field', attempts: 1, failedBy: 'national' }),
      ],
    });
    const res = await get(head.id, DEPARTMENT_KEY);
    expect(res.status).toBe(200);
    expect(res.body.delivery).toEqual({
      provincial: { state: 'delivered', version: 2, deliveredAt: '2026-11-21T03:00:05.000Z', attempts: 2, feedback: rejected },
      national: { state: 'failed', version: 2, failedAt: '2026-11-21T03:00:06.000Z', reason: 'HTTP 400: bad field', attempts: 1 },
    });
    expect(ddb.commandCalls(GetCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input.Key)).toEqual([claimKey(head.id, 2), bodyKey(KEY)]);
    expect(deliveryQueries()).toEqual([expect.objectContaining({ TableName: DELIVERIES_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `PKG#${KEY}` } })]);
    expect(res.raw).not.toMatch(/owedBy|failedBy|packageId|PKG#|"pk"|feedback_/);
  });

  it('shows the current version pending for both platforms when it has no claim (an older version’s claim is not its), reading no package', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE }).resolves({ Items: items });
    mockClaim(head, 1, { feedback_national: rejected });
    mockPackage(head);
    const res = await get(head.id, OPERATOR_KEY);
    expect(res.status).toBe(200);
    expect(res.body.delivery).toEqual({ provincial: { state: 'pending', version: 2 }, national: { state: 'pending', version: 2 } });
    expect(deliveriesCalls()).toEqual([expect.objectContaining({ Key: claimKey(head.id, 2) })]);
  });

  it('reads every page of the package’s deliveries', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE }).resolves({ Items: items });
    mockClaim(head, 2);
    mockPackage(head);
    const lastKey = { pk: `PKG#${KEY}`, sk: 'national' };
    ddb
      .on(QueryCommand, { TableName: DELIVERIES_TABLE })
      .resolvesOnce({ Items: [deliveryItem('national', '', { state: 'delivered', deliveredAt: '2026-11-21T03:00:05.000Z' })], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [deliveryItem('provincial', '', { state: 'delivered', deliveredAt: '2026-11-21T03:00:09.000Z' })] });
    const res = await get(head.id, DEPARTMENT_KEY);
    expect(res.body.delivery).toEqual({
      provincial: { state: 'delivered', version: 2, deliveredAt: '2026-11-21T03:00:09.000Z' },
      national: { state: 'delivered', version: 2, deliveredAt: '2026-11-21T03:00:05.000Z' },
    });
    expect(deliveryQueries()[1]!.ExclusiveStartKey).toEqual(lastKey);
  });

  it("reads no delivery for a caller who may not see the record (another source's key: 404)", async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE }).resolves({ Items: items });
    expect((await get(head.id, OTHER_DEPARTMENT_KEY)).status).toBe(404);
    expect(deliveriesCalls()).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the deliveries table is throttled, showing nothing', async () => {
    const { head, items } = await twoVersions();
    ddb.on(QueryCommand, { TableName: RECORDS_TABLE }).resolves({ Items: items });
    mockClaim(head, 2);
    mockPackage(head);
    ddb.on(QueryCommand, { TableName: DELIVERIES_TABLE }).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: {} }));
    const res = await get(head.id, DEPARTMENT_KEY);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.raw).not.toContain(head.fields.XK_XDR_MC!);
  });
});
