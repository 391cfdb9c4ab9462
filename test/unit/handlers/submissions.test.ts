import { ConditionalCheckFailedException, ProvisionedThroughputExceededException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEPARTMENT_KEY,
  OPERATOR_KEY,
  OTHER_USCC,
  RECORDS_TABLE,
  SOURCE_USCC,
  allSentInputs,
  apiEvent,
  ddb,
  department,
  errorOf,
  invoke,
  mockKey,
  mockNoItems,
  principal,
  sentInputs,
} from './support.js';
import { IDENTITY_NUMBER, companyLicence, heads, penalty, personLicence, storedLicence } from './fixtures.js';
import { api } from '../../../infra/catalogue.js';
import { recordId } from '../../../shared/domain/record-model.js';
import { PUSH_KINDS } from '../../../contracts/kinds.js';
import { fieldCipher, lookupHasher } from '../../../shared/config.js';
import { prepareRecord } from '../../../shared/ingest/prepare.js';
import { addMonths } from '../../../shared/domain/dates.js';
import { lateDecisionDate, recentDecisionDate } from '../../support/dates.js';
import { DECISION_DATE } from '../../support/fixtures.js';
import { handler } from '../../../functions/submissions/handler.js';
import { MAX_PUTS_IN_FLIGHT } from '../../../shared/store/records-store.js';
import { gzipSync } from 'node:zlib';
import { encodeGb18030 } from '../../support/gb18030.js';

const LICENSE_ONLY_KEY = 'hub_licence-only-department-key-000000000000';
const CHECKER_KEY = 'hub_checker-key-00000000000000000000000000000';

const push = (kind: string, body: unknown, key = DEPARTMENT_KEY) =>
  invoke(handler, apiEvent('POST /v1/submissions/{kind}', { key, pathParameters: { kind }, body: typeof body === 'string' ? body : (body as object) }));

const licenceId = (n: number, source = department.sourceId) => recordId('lic', 'license', source, `京市监许〔2026〕${n}号`);

const canceled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
/** A new record's conditional PutItem refused: the record exists. */
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
/** A new record's PutItem met a transaction on the same item under way. */
const transactionConflict = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });

const throughput = () => new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput (table arn:aws:dynamodb:cn-north-1:1:table/x)', $metadata: {} });

/** New records are written by conditional PutItems of their heads, updates by transactions. */
const createPuts = () => ddb.commandCalls(PutCommand, { TableName: RECORDS_TABLE }).map((c) => c.args[0].input);

/** Every item written to the records table: the new records' heads, in push order, then the updates' items. */
function writtenItems(): Record<string, any>[] {
  return [...createPuts().map((p) => p.Item!), ...ddb.commandCalls(TransactWriteCommand).flatMap((c) => c.args[0].input.TransactItems!.map((a) => a.Put!.Item!))];
}

/** Both kinds of record writes, serialized (to search for what must never be sent). */
const sentWrites = () => sentInputs(PutCommand) + sentInputs(TransactWriteCommand);

function noRecordWrites() {
  expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(0);
  expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
}

/** No record written at all, neither created nor updated. */
function nothingWritten() {
  expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
}

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  mockKey(LICENSE_ONLY_KEY, principal({ kinds: ['license'] }));
  mockKey(CHECKER_KEY, principal({ sourceId: 'bank-1', role: 'checker', kinds: [] }));
  ddb.on(BatchGetCommand).resolves({ Responses: { [RECORDS_TABLE]: [] } });
  ddb.on(PutCommand, { TableName: RECORDS_TABLE }).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
});

describe('POST /v1/submissions/{kind}: who may push what', () => {
  it('answers 404 unknown_kind for a kind the endpoint does not take', async () => {
    for (const kind of ['lottery', 'commitment', 'toString', '__proto__']) {
      const res = await push(kind, { records: [personLicence(1)] });
      expect(res.status, kind).toBe(404);
      expect(errorOf(res).code).toBe('unknown_kind');
    }
    noRecordWrites();
  });

  it('refuses with 403 the whole request for a kind the source may not push, touching no record', async () => {
    const res = await push('penalty', { records: [penalty(1), penalty(2)] }, LICENSE_ONLY_KEY);
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1); // the key lookup only
    noRecordWrites();
  });

  it('refuses the operator and a checker with 403', async () => {
    const operator = await push('license', { records: [personLicence(1)] }, OPERATOR_KEY);
    expect(operator.status).toBe(403);
    expect(errorOf(operator).code).toBe('forbidden');
    const checker = await push('license', { records: [personLicence(1)] }, CHECKER_KEY);
    expect(checker.status).toBe(403);
    noRecordWrites();
  });

  it('answers 401 without a key and for an unknown key', async () => {
    const none = await invoke(handler, apiEvent('POST /v1/submissions/{kind}', { pathParameters: { kind: 'license' }, body: { records: [personLicence(1)] } }));
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const unknown = await push('license', { records: [personLicence(1)] }, 'hub_unknown-key-000000000000000000000000000');
    expect(unknown.status).toBe(401);
    noRecordWrites();
  });
});

describe('POST /v1/submissions/{kind}: the request body', () => {
  it('answers 400 malformed_json for malformed JSON and for an empty body', async () => {
    const res = await push('license', '{"records": [');
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('malformed_json');
    const empty = await invoke(handler, apiEvent('POST /v1/submissions/{kind}', { key: DEPARTMENT_KEY, pathParameters: { kind: 'license' } }));
    expect(empty.status).toBe(400);
    noRecordWrites();
  });

  it.each([
    ['an array', JSON.stringify([personLicence(1)])],
    ['a string', '"records"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('answers 400 when the body is %s, not an object', async (_what, body) => {
    const res = await push('license', body);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('invalid_body');
    noRecordWrites();
  });

  it.each([
    ['records is missing', {}],
    ['records is an object', { records: { 0: personLicence(1) } }],
    ['records is a string', { records: 'all of them' }],
    ['records is empty', { records: [] }],
    ['there is an unknown top-level field', { records: [personLicence(1)], dryRun: true }],
  ])('answers 400 invalid_submission when %s', async (_what, body) => {
    const res = await push('license', body);
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe('invalid_submission');
    expect(error.details.length).toBeGreaterThan(0);
    noRecordWrites();
  });

  it('accepts 1000 records but answers 400 for 1001, on field records', async () => {
    const res = await push('license', { records: Array.from({ length: 1001 }, () => ({})) });
    expect(res.status).toBe(400);
    expect(errorOf(res).details.map((d) => d.field)).toContain('records');
    noRecordWrites();

    const ok = await push('license', { records: Array.from({ length: 1000 }, () => ({})) });
    expect(ok.status).toBe(200);
    expect(ok.body.rejected).toBe(1000);
  });

  it('answers 413 payload_too_large for a body over 6 MB, before parsing it', async () => {
    const big = `{"records":[{"BZ":"${'x'.repeat(api.maxBodyBytes)}"}]}`;
    const res = await push('license', big);
    expect(res.status).toBe(413);
    expect(errorOf(res).code).toBe('payload_too_large');

    const bigAndMalformed = `{"records":[${'x'.repeat(api.maxBodyBytes)}`;
    expect((await push('license', bigAndMalformed)).status).toBe(413);
    noRecordWrites();
  });

  it('counts the limit in bytes (UTF-8), not characters, and decodes base64 bodies', async () => {
    const chars = Math.ceil(api.maxBodyBytes / 3) + 10; // about 2 M characters, over 6 MB in UTF-8
    const res = await push('license', `{"records":[{"BZ":"${'备'.repeat(chars)}"}]}`);
    expect(res.status).toBe(413);

    const encoded = Buffer.from(JSON.stringify({ records: [personLicence(1)] })).toString('base64');
    const b64 = await invoke(
      handler,
      apiEvent('POST /v1/submissions/{kind}', { key: DEPARTMENT_KEY, pathParameters: { kind: 'license' }, body: encoded, isBase64Encoded: true }),
    );
    expect(b64.status).toBe(200);
    expect(b64.body.accepted).toBe(1);
  });
});

describe('POST /v1/submissions/{kind}: charsets, compression and duplicate keys', () => {
  const RARE = '𠮷'; // U+20BB7: four bytes in GB18030, in no GB2312/GBK table
  const gbPenalty = penalty(1, { CF_WSH: `吉市监罚〔2026〕${RARE}1号`, CF_XDR_MC: `${RARE}祥商贸有限公司`, CF_FRDB: `${RARE}大明`, CF_SY: '经查，当事人“无证经营”。' });
  const bytesPush = (bytes: Buffer, headers: Record<string, string>) =>
    invoke(handler, apiEvent('POST /v1/submissions/{kind}', { key: DEPARTMENT_KEY, pathParameters: { kind: 'penalty' }, headers, body: bytes.toString('base64'), isBase64Encoded: true }));

  it('decodes a charset=gb18030 body: the stored document number (part of the id) and names are the characters sent', async () => {
    const res = await bytesPush(encodeGb18030(JSON.stringify({ records: [gbPenalty] })), { 'content-type': 'application/json; charset=GB18030' });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toEqual({ index: 0, status: 'accepted', id: recordId('pen', 'penalty', department.sourceId, `吉市监罚〔2026〕${RARE}1号`) });
    expect(writtenItems()[0]!.fields).toMatchObject({ CF_WSH: `吉市监罚〔2026〕${RARE}1号`, CF_XDR_MC: `${RARE}祥商贸有限公司`, CF_FRDB: `${RARE}大明`, CF_SY: '经查，当事人“无证经营”。' });
  });

  it('refuses the same GB18030 bytes without a charset with 400 malformed_text at the first bad byte, storing nothing (no mojibake)', async () => {
    const text = JSON.stringify({ records: [gbPenalty] });
    const res = await bytesPush(encodeGb18030(text), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe('malformed_text');
    expect(error.message).toContain(`byte offset ${text.search(/[^\x00-\x7f]/)}`); // the JSON is ASCII up to its first Chinese character
    noRecordWrites();
  });

  it('refuses raw invalid UTF-8 instead of storing U+FFFD, and U+FFFD that a front end left in a text body', async () => {
    const raw = Buffer.concat([Buffer.from('{"records":[{"CF_WSH":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    const res = await bytesPush(raw, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('malformed_text');
    const damaged = await push('penalty', JSON.stringify({ records: [penalty(1, { CF_XDR_MC: '\ufffd\ufffd科技有限公司' })] }));
    expect(damaged.status).toBe(400);
    expect(errorOf(damaged).code).toBe('malformed_text');
    noRecordWrites();
  });

  it('answers 400 unsupported_charset naming a charset it does not read', async () => {
    const res = await bytesPush(Buffer.from(JSON.stringify({ records: [penalty(1)] })), { 'content-type': 'application/json; charset=big5' });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'unsupported_charset', message: expect.stringContaining('"big5"') });
    noRecordWrites();
  });

  it('accepts a gzip body (Content-Encoding: gzip), GB18030 inside', async () => {
    const res = await bytesPush(gzipSync(encodeGb18030(JSON.stringify({ records: [gbPenalty] }))), { 'content-type': 'application/json; charset=gb18030', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    expect(writtenItems()[0]!.fields.CF_WSH).toBe(`吉市监罚〔2026〕${RARE}1号`);
  });

  it('answers a gzip body over 6 MB once decompressed with 413, and a corrupt one with 400', async () => {
    const big = gzipSync(Buffer.from(`{"records":[{"BZ":"${' '.repeat(api.maxBodyBytes)}"}]}`));
    expect(big.length).toBeLessThan(100_000);
    const res = await bytesPush(big, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(errorOf(res).code).toBe('payload_too_large');
    const corrupt = await bytesPush(Buffer.from('{"records":[]}'), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(errorOf(corrupt).code).toBe('malformed_text');
    noRecordWrites();
  });

  it.each(['br', 'deflate', 'gzip, br'])('answers Content-Encoding: %s with 415 unsupported_encoding and Accept-Encoding, echoing no body bytes', async (coding) => {
    const res = await bytesPush(Buffer.from([0x1b, 0xff, 0x00, 0x8b, 0x07, 0x80]), { 'content-encoding': coding });
    expect(res.status).toBe(415);
    expect(errorOf(res).code).toBe('unsupported_encoding');
    expect(res.headers['accept-encoding']).toBe('gzip');
    expect(res.raw).toMatch(/^[\x20-\x7e\u4e00-\u9fff]*$/);
    noRecordWrites();
  });

  it('rejects only the record that repeats a key (naming it) and processes the others', async () => {
    const body = JSON.stringify({ records: [penalty(1), penalty(2), penalty(3)] }).replace('"CF_NR":"警告"', '"CF_NR_FK":"2","CF_NR":"警告","CF_NR_FK":"999"');
    const res = await push('penalty', body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, rejected: 1 });
    expect(res.body.results[0]).toEqual({ index: 0, status: 'rejected', errors: [{ field: 'CF_NR_FK', message: expect.stringMatching(/^字段重复 \(duplicate key CF_NR_FK/) }] });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['rejected', 'accepted', 'accepted']);
    expect(writtenItems().map((i) => i.fields.CF_WSH).sort()).toEqual(['京市监罚〔2026〕2号', '京市监罚〔2026〕3号']);
    expect(sentWrites()).not.toContain('999');
  });

  it('sees a key written with an escape as the same key ("CF_NR_FK" and "CF_NR_\\u0046K")', async () => {
    const body = JSON.stringify({ records: [penalty(1)] }).replace('"CF_NR":"警告"', '"CF_NR":"警告","CF_NR_\\u0046K":"1","CF_NR_FK":"2"');
    const res = await push('penalty', body);
    expect(res.body.results[0]).toMatchObject({ status: 'rejected', errors: [{ field: 'CF_NR_FK' }] });
  });

  it('answers 400 duplicate_key for a key repeated outside the records (two "records" keys)', async () => {
    const res = await push('penalty', `{"records":[${JSON.stringify(penalty(1))}],"records":[${JSON.stringify(penalty(2))}]}`);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'duplicate_key', details: [{ field: 'records' }] });
    noRecordWrites();
  });
});

describe('POST /v1/submissions/{kind}: per-record results', () => {
  it('accepts a new record: a conditional PutItem of the head (no transaction), results with its id', async () => {
    const res = await push('license', { records: [personLicence(1)] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, updated: 0, duplicates: 0, rejected: 0 });
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0]).toMatchObject({ index: 0, status: 'accepted', id: licenceId(1) });

    const batchGet = ddb.commandCalls(BatchGetCommand);
    expect(batchGet).toHaveLength(1);
    expect(batchGet[0]!.args[0].input.RequestItems![RECORDS_TABLE]).toMatchObject({ Keys: [{ pk: `REC#${licenceId(1)}`, sk: 'HEAD' }], ConsistentRead: false });

    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    const writes = createPuts();
    expect(writes).toHaveLength(1);
    const [put] = writes;
    expect(put).toMatchObject({ TableName: RECORDS_TABLE, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(put!.ExpressionAttributeValues).toBeUndefined();
    expect(put!.Item).toMatchObject({
      pk: `REC#${licenceId(1)}`,
      sk: 'HEAD',
      id: licenceId(1),
      kind: 'license',
      sourceId: department.sourceId,
      version: 1,
      fields: { XK_XDR_LB: '03', XK_XDR_ZJLX: '01', XK_XKLB: '01', XK_ZT: '1', XK_LYDWDM: SOURCE_USCC, XK_LYDW: department.name },
    });
    expect(put!.Item!.certificate.cipher).toMatch(/^v1\./);
  });

  it('never sends the plaintext identity number to DynamoDB, only its ciphertext and keyed hash', async () => {
    const res = await push('license', { records: [personLicence(1), personLicence(2, { XK_XDR_ZJHM: '110102199101010078' })] });
    expect(res.body.accepted).toBe(2);
    expect(createPuts()).toHaveLength(2);
    const writes = sentWrites();
    expect(writes).not.toContain(IDENTITY_NUMBER);
    expect(writes).not.toContain('1101021991');
    expect(allSentInputs()).not.toContain(IDENTITY_NUMBER);
    for (const item of writtenItems()) {
      expect(item.fields).not.toHaveProperty('XK_XDR_ZJHM');
      expect(item.certificate).toMatchObject({ type: '01' });
      expect(item.subjectKey).toMatch(/^PID#/);
      expect(item.subjectKey).not.toContain(IDENTITY_NUMBER);
    }
  });

  it('handles each record alone: valid ones accepted, invalid ones rejected with errors[].field, nothing of them written', async () => {
    const records = [
      personLicence(1),
      companyLicence(2, { XK_XDR_MC: 'REJECTED-MARKER-公司', XK_XDR_SHXYM: '91310115MA1K3BTP2C', XK_WSH: 'REJECTED-WSH-2' }),
      companyLicence(3),
      'not an object',
      personLicence(4, { XK_XDR_ZJHM: '110102199101010079', XK_WSH: 'REJECTED-WSH-4' }),
      companyLicence(5, { XK_JDRQ: '2999-01-01', XK_WSH: 'REJECTED-WSH-5' }),
      companyLicence(6, { XK_UNKNOWN: 'x', XK_WSH: 'REJECTED-WSH-6' }),
    ];
    const res = await push('license', { records });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, updated: 0, duplicates: 0, rejected: 5 });
    const results = res.body.results as { index: number; status: string; id?: string; errors?: { field: string; message: string }[] }[];
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'accepted', 'rejected', 'rejected', 'rejected', 'rejected']);
    const fields = (i: number) => results[i]!.errors!.map((e) => e.field);
    expect(fields(1)).toContain('XK_XDR_SHXYM');
    expect(fields(3)).toEqual(['']);
    expect(fields(4)).toContain('XK_XDR_ZJHM');
    expect(fields(5)).toContain('XK_JDRQ');
    expect(fields(6)).toContain('XK_UNKNOWN');
    for (const i of [1, 3, 4, 5, 6]) {
      expect(results[i]!.id).toBeUndefined();
      expect(results[i]!.errors!.every((e) => typeof e.message === 'string' && e.message.length > 0)).toBe(true);
    }

    const sent = allSentInputs();
    expect(sent).not.toContain('REJECTED');
    expect(sent).not.toContain('110102199101010079');
    expect(writtenItems().map((i) => i.id).sort()).toEqual([licenceId(1), recordId('lic', 'license', department.sourceId, '京市监许〔2026〕C3号')].sort());
  });

  it('rejects a record whose data-source code (XK_LYDWDM) is not the source USCC, on that field', async () => {
    const res = await push('license', {
      records: [
        personLicence(1, { XK_LYDWDM: OTHER_USCC }),
        personLicence(2, { XK_LYDWDM: '９１１１００００６０００３７３４１ｌ' }), // the source's own USCC, full-width lower case
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ index: 0, status: 'rejected', errors: [{ field: 'XK_LYDWDM' }] });
    expect(res.body.results[1]).toMatchObject({ index: 1, status: 'accepted' });
    expect(writtenItems().map((i) => i.id)).toEqual([licenceId(2)]);
    expect(allSentInputs()).not.toContain(OTHER_USCC);
  });

  it('rejects a penalty whose CF_SJLYDM is not the source USCC, and defaults SXDJ to 一般', async () => {
    const res = await push('penalty', { records: [penalty(1, { CF_SJLYDM: OTHER_USCC }), penalty(2)] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ status: 'rejected', errors: [{ field: 'CF_SJLYDM' }] });
    expect(res.body.results[1]).toMatchObject({ status: 'accepted', id: recordId('pen', 'penalty', department.sourceId, '京市监罚〔2026〕2号') });
    const [item] = writtenItems();
    expect(item!.fields).toMatchObject({ SXDJ: '2', CF_SJLYDM: SOURCE_USCC, CF_CFLB: '01' });
    expect(item!.publication).toMatchObject({ state: 'pending-review', grade: '2', from: DECISION_DATE, minUntil: addMonths(DECISION_DATE, 3), until: addMonths(DECISION_DATE, 12) });
  });

  it('flags a 双公示 record pushed more than 7 working days after its decision as late, and still accepts it', async () => {
    const decided = lateDecisionDate();
    const res = await push('license', { records: [companyLicence(1, { XK_JDRQ: decided, XK_YXQZ: decided })] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ status: 'accepted', late: true });
    expect(writtenItems()[0]!.late).toBe(true);
  });

  it('does not flag a record decided today (in China) as late', async () => {
    const decided = recentDecisionDate();
    const res = await push('license', { records: [companyLicence(1, { XK_JDRQ: decided, XK_YXQZ: decided })] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toEqual({ index: 0, status: 'accepted', id: recordId('lic', 'license', department.sourceId, '京市监许〔2026〕C1号') });
    expect(writtenItems()[0]!.late).toBe(false);
  });

  it('answers duplicate and writes nothing when the stored head has the same content', async () => {
    const existing = await storedLicence(department, personLicence(1), new Date('2026-11-21T02:00:00Z'));
    ddb.on(BatchGetCommand).resolves(heads(existing));
    const res = await push('license', { records: [personLicence(1)] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 0, updated: 0, duplicates: 1, rejected: 0 });
    expect(res.body.results[0]).toMatchObject({ index: 0, status: 'duplicate', id: existing.id });
    nothingWritten();
  });

  it('treats names and codes of coded fields, and blank optional fields, as the same content', async () => {
    const existing = await storedLicence(department, personLicence(1));
    ddb.on(BatchGetCommand).resolves(heads(existing));
    const res = await push('license', { records: [personLicence(1, { XK_XDR_LB: '03', XK_XKLB: '01', XK_ZT: '1', BZ: '', XK_XKBH: null })] });
    expect(res.body.results[0].status).toBe('duplicate');
    nothingWritten();
  });

  it('answers updated with changed content: head Put conditioned on the stored version, and the old head saved as V#0000000001', async () => {
    const existing = await storedLicence(department, personLicence(1, { XK_NR: '食品销售（旧）' }), new Date('2026-11-21T02:00:00Z'));
    ddb.on(BatchGetCommand).resolves(heads(existing));
    const res = await push('license', { records: [personLicence(1)] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 0, updated: 1, duplicates: 0, rejected: 0 });
    expect(res.body.results[0]).toMatchObject({ status: 'updated', id: existing.id });

    // An update stays a transaction: the new head and the old one kept as a version, together or not at all.
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    const writes = ddb.commandCalls(TransactWriteCommand);
    expect(writes).toHaveLength(1);
    const actions = writes[0]!.args[0].input.TransactItems!;
    expect(actions).toHaveLength(2);
    const [head, version] = actions.map((a) => a.Put!) as [NonNullable<(typeof actions)[0]['Put']>, NonNullable<(typeof actions)[0]['Put']>];
    expect(head.ConditionExpression).toMatch(/version = :v/);
    expect(head.ExpressionAttributeValues).toMatchObject({ ':v': 1, ':h': existing.contentHash });
    expect(head.Item).toMatchObject({ pk: `REC#${existing.id}`, sk: 'HEAD', version: 2, firstReceivedAt: existing.firstReceivedAt, fields: { XK_NR: '食品销售' } });
    expect(head.Item!.contentHash).not.toBe(existing.contentHash);
    expect(version.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(version.Item).toMatchObject({
      pk: `REC#${existing.id}`,
      sk: 'V#0000000001',
      id: existing.id,
      version: 1,
      contentHash: existing.contentHash,
      receivedAt: existing.receivedAt,
      fields: { XK_NR: '食品销售（旧）' },
    });
    expect(typeof version.Item!.supersededAt).toBe('string');
    expect(sentWrites()).not.toContain(IDENTITY_NUMBER);
  });

  it('applies the same record twice in one request in order (accepted, then duplicate or updated)', async () => {
    const first = await storedLicence(department, personLicence(1));
    ddb.on(BatchGetCommand).resolvesOnce({ Responses: { [RECORDS_TABLE]: [] } }).resolves(heads(first));
    const res = await push('license', { records: [personLicence(1), personLicence(1), personLicence(1, { XK_NR: '改' })] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate', 'updated']);
    // A read per occurrence, eventually consistent; the duplicate confirmed on a strongly consistent one.
    expect(ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![RECORDS_TABLE]!.ConsistentRead)).toEqual([false, false, true, false]);
  });
});

describe('POST /v1/submissions/{kind}: races and failures', () => {
  it('re-reads a record whose conditional create failed (created concurrently) and reports what it finds (duplicate)', async () => {
    const racer = await storedLicence(department, personLicence(1));
    ddb.on(BatchGetCommand).resolvesOnce({ Responses: { [RECORDS_TABLE]: [] } }).resolves(heads(racer));
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejectsOnce(conditionFailed()).resolves({});
    const res = await push('license', { records: [personLicence(1)] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 0, duplicates: 1, updated: 0, rejected: 0 });
    expect(res.body.results[0]).toMatchObject({ index: 0, status: 'duplicate', id: racer.id });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(createPuts()).toHaveLength(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('re-reads after a lost race and updates on top of the winner (updated, version 2)', async () => {
    const racer = await storedLicence(department, personLicence(1, { XK_NR: '别人的版本' }));
    ddb.on(BatchGetCommand).resolvesOnce({ Responses: { [RECORDS_TABLE]: [] } }).resolves(heads(racer));
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejectsOnce(conditionFailed()).resolves({});
    const res = await push('license', { records: [personLicence(1)] });
    expect(res.body.results[0]).toMatchObject({ status: 'updated', id: racer.id });
    expect(res.body).toMatchObject({ accepted: 0, updated: 1 });
    // The create lost; decided again on the winner's head, the push became an update: a transaction.
    expect(createPuts()).toHaveLength(1);
    const writes = ddb.commandCalls(TransactWriteCommand);
    expect(writes).toHaveLength(1);
    const second = writes[0]!.args[0].input.TransactItems!;
    expect(second.map((a) => a.Put!.Item!.sk)).toEqual(['HEAD', 'V#0000000001']);
    expect(second[0]!.Put!.ExpressionAttributeValues).toMatchObject({ ':v': 1, ':h': racer.contentHash });
  });

  it('writes each new record on its own: one refused (created concurrently) is re-read alone, the others stay written once', async () => {
    const racer = await storedLicence(department, companyLicence(2));
    const id1 = recordId('lic', 'license', department.sourceId, '京市监许〔2026〕C1号');
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [RECORDS_TABLE]: [] } })
      .resolves(heads(racer));
    ddb.on(PutCommand, { TableName: RECORDS_TABLE, Item: { pk: `REC#${racer.id}` } }).rejects(conditionFailed());
    const res = await push('license', { records: [companyLicence(1), companyLicence(2)] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
    expect(createPuts().map((p) => p.Item!.id)).toEqual([id1, racer.id]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    const reread = ddb.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems![RECORDS_TABLE]!.Keys;
    expect(reread).toEqual([{ pk: `REC#${racer.id}`, sk: 'HEAD' }]);
  });

  it('in a cancelled transaction of updates, writes again the updates that did not conflict and re-reads only the one that did', async () => {
    const [old1, old2] = await Promise.all([1, 2].map((n) => storedLicence(department, companyLicence(n, { XK_NR: '旧' }))));
    const racer = await storedLicence(department, companyLicence(2));
    ddb.on(BatchGetCommand).resolvesOnce(heads(old1!, old2!)).resolves(heads(racer));
    // Two reasons per update (its head, its old version): the second update's head no longer has the version read.
    ddb.on(TransactWriteCommand).rejectsOnce(canceled('None', 'None', 'ConditionalCheckFailed', 'None')).resolves({});
    const res = await push('license', { records: [companyLicence(1), companyLicence(2)] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['updated', 'duplicate']);
    const writes = ddb.commandCalls(TransactWriteCommand);
    expect(writes).toHaveLength(2);
    expect(writes[0]!.args[0].input.TransactItems!.map((a) => a.Put!.Item!.id)).toEqual([old1!.id, old1!.id, old2!.id, old2!.id]);
    expect(writes[1]!.args[0].input.TransactItems!.map((a) => [a.Put!.Item!.id, a.Put!.Item!.sk])).toEqual([
      [old1!.id, 'HEAD'],
      [old1!.id, 'V#0000000001'],
    ]);
    const reread = ddb.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems![RECORDS_TABLE]!.Keys;
    expect(reread).toEqual([{ pk: `REC#${racer.id}`, sk: 'HEAD' }]);
    expect(createPuts()).toHaveLength(0);
  });

  it('writes again, without deciding again, a new record whose PutItem met a transaction on the same item (TransactionConflict)', async () => {
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejectsOnce(transactionConflict()).resolves({});
    const res = await push('license', { records: [companyLicence(1)] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ status: 'accepted' });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    const puts = createPuts();
    expect(puts).toHaveLength(2);
    expect(puts[1]).toEqual(puts[0]);
  });

  it.each([
    ['BatchGetCommand', async () => void ddb.on(BatchGetCommand).rejects(throughput())],
    ['PutCommand (new records)', async () => void ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejects(throughput())],
    [
      'TransactWriteCommand (updates)',
      async () => {
        const stored = await Promise.all([storedLicence(department, personLicence(1, { XK_NR: '旧' })), storedLicence(department, companyLicence(2, { XK_NR: '旧' }))]);
        ddb.on(BatchGetCommand).resolves(heads(...stored));
        ddb.on(TransactWriteCommand).rejects(throughput());
      },
    ],
  ])('answers 503 unavailable, without internals, when DynamoDB keeps failing on %s', async (name, fail) => {
    await fail();
    const res = await push('license', { records: [personLicence(1), companyLicence(2)] });
    expect(res.status).toBe(503);
    const error = errorOf(res);
    expect(error.code).toBe('unavailable');
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.raw).not.toMatch(/Provisioned|throughput|arn:aws|stack/i);
    expect(res.raw).not.toContain(IDENTITY_NUMBER);
    if (name.startsWith('PutCommand')) expect(createPuts().length).toBeGreaterThan(0);
    if (name.startsWith('TransactWriteCommand')) expect(ddb.commandCalls(TransactWriteCommand).length).toBeGreaterThan(0);
  });

  it('answers 503 when records keep conflicting with concurrent pushes', async () => {
    // Every read finds nothing and every conditional create fails: the decision is retried, then given up.
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejects(conditionFailed());
    const res = await push('license', { records: [companyLicence(1)] });
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(ddb.commandCalls(BatchGetCommand).length).toBeGreaterThan(1);
  });

  it('answers 503 when transactions of updates keep being cancelled for another reason (TransactionConflict)', async () => {
    const stored = await storedLicence(department, companyLicence(1, { XK_NR: '旧' }));
    ddb.on(BatchGetCommand).resolves(heads(stored));
    ddb.on(TransactWriteCommand).rejects(canceled('TransactionConflict', 'None'));
    const res = await push('license', { records: [companyLicence(1)] });
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(ddb.commandCalls(TransactWriteCommand).length).toBeGreaterThan(1);
    // Written again in rounds, not decided again.
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
  }, 20_000);

  it('answers 503 when a new record’s PutItem keeps meeting transactions on the same item (TransactionConflict)', async () => {
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).rejects(transactionConflict());
    const res = await push('license', { records: [companyLicence(1)] });
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(createPuts().length).toBeGreaterThan(1);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
  }, 20_000);

  it('retries unprocessed keys of a BatchGet until every head is read', async () => {
    const existing = await storedLicence(department, companyLicence(2));
    const id1 = recordId('lic', 'license', department.sourceId, '京市监许〔2026〕C1号');
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [RECORDS_TABLE]: [] }, UnprocessedKeys: { [RECORDS_TABLE]: { Keys: [{ pk: `REC#${existing.id}`, sk: 'HEAD' }] } } })
      .resolves(heads(existing));
    const res = await push('license', { records: [companyLicence(1), companyLicence(2)] });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
    const gets = ddb.commandCalls(BatchGetCommand);
    // The unprocessed key read again; then the duplicate confirmed on a strongly consistent read.
    expect(gets).toHaveLength(3);
    expect(gets[1]!.args[0].input.RequestItems![RECORDS_TABLE]!.Keys).toEqual([{ pk: `REC#${existing.id}`, sk: 'HEAD' }]);
    expect(gets[2]!.args[0].input.RequestItems![RECORDS_TABLE]).toEqual({ Keys: [{ pk: `REC#${existing.id}`, sk: 'HEAD' }], ConsistentRead: true });
    expect(writtenItems().map((i) => i.id)).toEqual([id1]);
  });

  it(`keeps within DynamoDB limits: at most 100 keys per BatchGet, and new records written one PutItem each, ${MAX_PUTS_IN_FLIGHT} in flight at most`, async () => {
    let inFlight = 0;
    let most = 0;
    ddb.on(PutCommand, { TableName: RECORDS_TABLE }).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return {};
    });
    const records = Array.from({ length: 250 }, (_, i) => companyLicence(i));
    const res = await push('license', { records });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(250);
    const gets = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![RECORDS_TABLE]!.Keys!.length);
    expect(gets.every((n) => n <= 100)).toBe(true);
    expect(gets.reduce((a, b) => a + b, 0)).toBe(250);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(createPuts()).toHaveLength(250);
    expect(most).toBe(MAX_PUTS_IN_FLIGHT);
    expect(new Set(writtenItems().map((i) => i.id)).size).toBe(250);
  });

  it('keeps an update (two actions) whole within one transaction of at most 100 actions', async () => {
    const records = Array.from({ length: 60 }, (_, i) => companyLicence(i));
    const stored = await Promise.all(records.map((r) => storedLicence(department, { ...r, XK_NR: '旧' })));
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => {
      const wanted = new Set(input.RequestItems[RECORDS_TABLE]!.Keys.map((k) => k.pk));
      return { Responses: { [RECORDS_TABLE]: stored.filter((h) => wanted.has(`REC#${h.id}`)).map((h) => ({ pk: `REC#${h.id}`, sk: 'HEAD', ...h })) } };
    });
    const res = await push('license', { records });
    expect(res.body.updated).toBe(60);
    const transactions = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    expect(transactions.length).toBeGreaterThan(1);
    for (const actions of transactions) {
      expect(actions.length).toBeLessThanOrEqual(100);
      expect(actions.length % 2).toBe(0);
      for (let i = 0; i < actions.length; i += 2) {
        expect(actions[i]!.Put!.Item!.sk).toBe('HEAD');
        expect(actions[i + 1]!.Put!.Item!.sk).toBe('V#0000000001');
        expect(actions[i + 1]!.Put!.Item!.id).toBe(actions[i]!.Put!.Item!.id);
      }
    }
  });

  it('answers a DynamoDB failure during the key lookup without internals (currently 500 internal, not 503)', async () => {
    ddb.on(GetCommand).rejects(throughput());
    const res = await push('license', { records: [personLicence(1)] });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(['internal', 'unavailable']).toContain(errorOf(res).code);
    expect(res.raw).not.toMatch(/Provisioned|throughput|arn:aws/i);
    noRecordWrites();
  });

  it('does not query anything but heads (no QueryCommand on push)', async () => {
    await push('license', { records: [personLicence(1)] });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('POST /v1/submissions/dishonest-debtor: a court pushes its 失信被执行人 listings', () => {
  const COURT_KEY = 'hub_court-key-for-unit-tests-000000000000000000';
  const court = principal({ sourceId: 'bj-1zy', name: '北京市第一中级人民法院', uscc: OTHER_USCC, role: 'court', kinds: ['dishonest-debtor'] });
  const GOVERNMENT_BODY = '121200004013590816';
  const listing = (n: number, over: Record<string, unknown> = {}) => ({
    iname: '某某县人民政府',
    cardNum: GOVERNMENT_BODY,
    businessEntity: '王五',
    courtName: '北京市第一中级人民法院',
    areaName: '北京',
    caseCode: `（2026）京01执${n}号`,
    regDate: DECISION_DATE,
    gistId: '（2025）京01民初45号',
    gistUnit: '北京市第一中级人民法院',
    duty: '给付工程款人民币伍拾万元',
    performance: '全部未履行',
    unperformPart: 50,
    disruptTypeName: '有履行能力而拒不履行生效法律文书确定义务',
    publishDate: DECISION_DATE,
    ...over,
  });
  const personListing = (n: number, over: Record<string, unknown> = {}) => {
    const { businessEntity: _b, ...rest } = listing(n, { iname: '张三', cardNum: IDENTITY_NUMBER, ...over });
    return rest;
  };
  const debtorId = (n: number) => recordId('dd', 'dishonest-debtor', court.sourceId, `（2026）京01执${n}号`);
  const storedListing = async (raw: Record<string, unknown>, at = new Date()) => {
    const p = await prepareRecord(PUSH_KINDS['dishonest-debtor'], court, raw, at, { cipher: await fieldCipher(), hasher: await lookupHasher() });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    return p.head;
  };

  beforeEach(() => {
    mockKey(COURT_KEY, court);
  });

  it('accepts listings of a government body, a person and an old organisation code; rejects a wrong one on its field', async () => {
    const res = await push('dishonest-debtor', { records: [listing(1), personListing(2), listing(3, { cardNum: '60003734-1', iname: '某某厂' }), personListing(4, { partyTypeName: '法人或其他组织' })] }, COURT_KEY);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 3, updated: 0, duplicates: 0, rejected: 1 });
    expect(res.body.results.slice(0, 3)).toEqual([1, 2, 3].map((n, index) => ({ index, status: 'accepted', id: debtorId(n) })));
    expect(res.body.results[3]).toEqual({ index: 3, status: 'rejected', errors: [{ field: 'partyTypeName', message: expect.stringMatching(/contradicts cardNum/) }] });

    const [body, person, oldCode] = writtenItems();
    expect(body).toMatchObject({ id: debtorId(1), kind: 'dishonest-debtor', status: 'active', governmentBody: true, late: false, subjectKey: `USCC#${GOVERNMENT_BODY}` });
    expect(body!.fields).toMatchObject({ cardNum: GOVERNMENT_BODY, partyTypeName: '法人或其他组织', status: 'listed', unperformPart: '50' });
    expect(body!.publication).toEqual({ state: 'pending-review', from: DECISION_DATE, until: addMonths(DECISION_DATE, 24) });
    expect(person!.fields).not.toHaveProperty('cardNum');
    expect(person!.fields.partyTypeName).toBe('自然人');
    expect(person!.certificate).toMatchObject({ type: '01', cipher: expect.stringMatching(/^v1\./) });
    expect(person!.subjectKey).toMatch(/^PID#/);
    expect(person).not.toHaveProperty('governmentBody');
    expect(oldCode).toMatchObject({ subjectKey: 'ORG#600037341', fields: { cardNum: '600037341' } });
    expect(allSentInputs()).not.toContain(IDENTITY_NUMBER);
  });

  it('refuses a department (not granted the kind) with 403, and the court pushing a licence', async () => {
    const department = await push('dishonest-debtor', { records: [listing(1)] }, DEPARTMENT_KEY);
    expect(department.status).toBe(403);
    expect(errorOf(department)).toMatchObject({ code: 'forbidden', message: expect.stringContaining('license, penalty') });
    const licence = await push('license', { records: [personLicence(1)] }, COURT_KEY);
    expect(licence.status).toBe(403);
    noRecordWrites();
  });

  it('names every kind it takes in the unknown-kind answer', async () => {
    const res = await push('commitment', { records: [{}] }, COURT_KEY);
    expect(res.status).toBe(404);
    expect(errorOf(res).message).toContain('this endpoint takes: license, penalty, dishonest-debtor');
  });

  it('recognises the same caseCode again: duplicate when unchanged, updated when changed', async () => {
    const existing = await storedListing(listing(1), new Date(Date.now() - 86_400_000));
    ddb.on(BatchGetCommand).resolves(heads(existing));
    const again = await push('dishonest-debtor', { records: [listing(1, { partyTypeName: '法人' })] }, COURT_KEY);
    expect(again.body.results[0]).toEqual({ index: 0, status: 'duplicate', id: debtorId(1) });
    const changed = await push('dishonest-debtor', { records: [listing(1, { performance: '部分履行', performedPart: 10, unperformPart: 40 })] }, COURT_KEY);
    expect(changed.body.results[0]).toEqual({ index: 0, status: 'updated', id: debtorId(1) });
    expect(writtenItems()[0]).toMatchObject({ sk: 'HEAD', version: 2, fields: { performedPart: '10', unperformPart: '40' } });
  });

  it('ends a listed record with a removed row: updated, status removed, publication ended today, never late', async () => {
    const published = lateDecisionDate();
    const existing = await storedListing(personListing(1, { regDate: published, publishDate: published }), new Date(Date.now() - 86_400_000));
    ddb.on(BatchGetCommand).resolves(heads(existing));
    const res = await push('dishonest-debtor', { records: [personListing(1, { regDate: published, publishDate: published, status: 'removed' })] }, COURT_KEY);
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toEqual({ index: 0, status: 'updated', id: debtorId(1) });
    expect(createPuts()).toHaveLength(0);
    const [head, version] = writtenItems();
    expect(head).toMatchObject({ sk: 'HEAD', version: 2, status: 'removed', late: false, fields: { status: 'removed' } });
    expect(head!.publication).toEqual({ state: 'ended', endReason: 'removed', endedOn: recentDecisionDate(), from: published, until: addMonths(published, 24) });
    expect(version).toMatchObject({ sk: 'V#0000000001', fields: { status: 'listed' } });
    expect(sentWrites()).not.toContain(IDENTITY_NUMBER);
  });
});
