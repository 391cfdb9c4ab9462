/**
 * End to end: `npm start`'s entry point in a child process (DynamoDB Local on
 * disk in a temporary HUB_DATA_DIR), driven over HTTP as departments and the
 * credit office would, then stopped with Ctrl-C and started again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../../shared/domain/record-model.js';
import { fullWidthDigits, seriousPenaltyPublication } from '../support/dates.js';
import { DECISION_DATE, LATE_DECISION_DATE, license, ORGAN_USCC, penalty, PERSON_ID, personLicense, SOURCE_USCC, SUBJECT_USCC } from '../support/fixtures.js';
import { addMonths } from '../../shared/domain/dates.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const dataDir = tempDataDir('hub-e2e-');
let stack: StackProcess;
let operatorKey: string;

async function call(method: string, path: string, key?: string, body?: unknown, raw?: string) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function expectError(res: { status: number; json: any }, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) } });
  if (code) expect(res.json.error.code).toBe(code);
}

const keys: Record<string, string> = {};
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: '' });
  operatorKey = readFileSync(join(dataDir, 'operator.key'), 'utf8').trim();
});

afterAll(async () => {
  // Ctrl-C, as a person would; the emulator goes down with the stack.
  await stack?.stop('SIGINT');
});

describe('running it', () => {
  it('answers /health and serves the OpenAPI 3.1 document', async () => {
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const doc = await call('GET', '/openapi.json');
    expect(doc.json.openapi).toBe('3.1.0');
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/v1/sources', '/v1/sources/{id}/keys', '/v1/submissions/{kind}', '/v1/records/{id}']));
  });

  it('generated an operator key, kept it in HUB_DATA_DIR and printed it', () => {
    expect(operatorKey).toMatch(/^hub_/);
    expect(stack.output()).toContain(operatorKey);
    expect(stack.output()).toContain(`http://127.0.0.1:`);
  });
});

describe('authentication and errors', () => {
  it('401 without a key or with an unknown key', async () => {
    expectError(await call('GET', '/v1/sources'), 401, 'unauthorized');
    expectError(await call('GET', '/v1/sources', 'hub_not-a-key'), 401, 'unauthorized');
  });

  it('404 JSON for an unknown route', async () => {
    expectError(await call('GET', '/v1/nothing-here', operatorKey), 404);
  });
});

describe('sources', () => {
  it('registers sources and shows each key once', async () => {
    for (const [id, role, kinds] of [
      ['scjgj', 'department', ['license', 'penalty']],
      ['sfj', 'department', ['license']],
      ['court', 'court', ['dishonest-debtor']],
      ['checker', 'checker', []],
    ] as const) {
      const res = await call('POST', '/v1/sources', operatorKey, { id, name: `单位${id}`, uscc: SOURCE_USCC, role, kinds });
      expect(res.status).toBe(201);
      expect(res.json).toEqual({ id, apiKey: expect.stringMatching(/^hub_/) });
      keys[id] = res.json.apiKey;
    }
  });

  it('refuses a bad USCC, a taken id, and a non-operator', async () => {
    const bad = await call('POST', '/v1/sources', operatorKey, { id: 'x1', name: 'x', uscc: '91110000600037341N', role: 'department', kinds: ['license'] });
    expectError(bad, 400);
    expect(bad.json.error.details).toEqual([expect.objectContaining({ field: 'uscc' })]);
    expectError(await call('POST', '/v1/sources', operatorKey, { id: 'scjgj', name: 'again', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] }), 409);
    expectError(await call('POST', '/v1/sources', keys.scjgj, { id: 'y1', name: 'y', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] }), 403, 'forbidden');
    expectError(await call('GET', '/v1/sources', keys.checker), 403);
  });

  it('lists sources without keys', async () => {
    const res = await call('GET', '/v1/sources', operatorKey);
    expect(res.status).toBe(200);
    expect(res.json.items.map((s: any) => s.id)).toEqual(['checker', 'court', 'scjgj', 'sfj']);
    expect(res.json.items[2]).toMatchObject({ id: 'scjgj', name: '单位scjgj', uscc: SOURCE_USCC, role: 'department', kinds: ['license', 'penalty'] });
    for (const key of Object.values(keys)) expect(res.text).not.toContain(key);
    expect(res.text).not.toMatch(/keyHash|apiKey/);
  });

  it('issues a new key; the old one stops working', async () => {
    const res = await call('POST', '/v1/sources/sfj/keys', operatorKey);
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ apiKey: expect.stringMatching(/^hub_/) });
    expectError(await call('POST', '/v1/submissions/license', keys.sfj, { records: [license('rot')] }), 401);
    keys.sfj = res.json.apiKey;
    expect((await call('POST', '/v1/submissions/license', keys.sfj, { records: [license('rot')] })).status).toBe(200);
    expectError(await call('POST', '/v1/sources/nobody/keys', operatorKey), 404);
    expectError(await call('POST', `/v1/sources/${'a'.repeat(1100)}/keys`, operatorKey), 404);
  });

  it('survives concurrent key rotations: never a 5xx other than a 503 to retry, and exactly the last key works', async () => {
    expect((await call('POST', '/v1/sources', operatorKey, { id: 'race', name: '并发', uscc: SOURCE_USCC, role: 'checker', kinds: [] })).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 12 }, () => call('POST', '/v1/sources/race/keys', operatorKey)));
    for (const a of answers) expect([201, 503]).toContain(a.status);
    const issued = answers.filter((a) => a.status === 201).map((a) => a.json.apiKey as string);
    expect(issued.length).toBeGreaterThan(0);
    const working = [];
    for (const key of issued) if ((await call('POST', '/v1/submissions/license', key, { records: [license('x')] })).status === 403) working.push(key);
    expect(working).toHaveLength(1);
  });
});

describe('pushing records', () => {
  it('accepts licences and penalties with per-record results', async () => {
    const lic = await call('POST', '/v1/submissions/license', keys.scjgj, { records: [license(1), personLicense(2), license(3, { XK_JDRQ: '2026-02-30' })] });
    expect(lic.status).toBe(200);
    expect(lic.json).toMatchObject({ accepted: 2, updated: 0, duplicates: 0, rejected: 1 });
    expect(lic.json.results[0]).toEqual({ index: 0, status: 'accepted', id: expect.stringMatching(/^lic_/) });
    expect(lic.json.results[2]).toEqual({ index: 2, status: 'rejected', errors: [{ field: 'XK_JDRQ', message: expect.any(String) }] });
    ids.company = lic.json.results[0].id;
    ids.person = lic.json.results[1].id;

    const pen = await call('POST', '/v1/submissions/penalty', keys.scjgj, { records: [penalty(1), penalty(2, { CF_NR_FK: -1 })] });
    expect(pen.json).toMatchObject({ accepted: 1, rejected: 1 });
    expect(pen.json.results[1].errors).toEqual([{ field: 'CF_NR_FK', message: expect.any(String) }]);
    ids.penalty = pen.json.results[0].id;
  });

  it('reports the same content as duplicate and changed content as updated, keeping history', async () => {
    const dup = await call('POST', '/v1/submissions/penalty', keys.scjgj, { records: [penalty(1)] });
    expect(dup.json).toMatchObject({ duplicates: 1, results: [{ index: 0, status: 'duplicate', id: ids.penalty }] });
    const upd = await call('POST', '/v1/submissions/penalty', keys.scjgj, { records: [penalty(1, { CF_NR_FK: '8.50', SXDJ: '严重' })] });
    expect(upd.json).toMatchObject({ updated: 1, results: [{ index: 0, status: 'updated', id: ids.penalty }] });
    const record = await call('GET', `/v1/records/${ids.penalty}`, keys.scjgj);
    expect(record.json).toMatchObject({ id: ids.penalty, kind: 'penalty', source: 'scjgj', version: 2 });
    expect(record.json.fields).toMatchObject({ CF_NR_FK: '8.5', SXDJ: '3', CF_CFLB: '01;02', CF_XDR_LB: '01', CF_SJLYDM: SOURCE_USCC });
    expect(record.json.versions.map((v: any) => [v.version, v.fields.CF_NR_FK])).toEqual([
      [1, '5'],
      [2, '8.5'],
    ]);
    expect(record.json.publication).toEqual({ state: 'pending-review', ...seriousPenaltyPublication(DECISION_DATE) });
    // The delivery of the current version to each platform, from the deliveries table (the fan-out may or may not have run yet).
    for (const platform of ['provincial', 'national']) {
      expect(record.json.delivery[platform]).toMatchObject({ version: 2, state: expect.stringMatching(/^(pending|delivered)$/) });
    }
  });

  it('flags a record pushed more than 7 working days after its decision as late, and accepts it', async () => {
    const res = await call('POST', '/v1/submissions/license', keys.scjgj, { records: [license('late', { XK_JDRQ: LATE_DECISION_DATE, XK_YXQZ: LATE_DECISION_DATE })] });
    expect(res.json.results[0]).toMatchObject({ status: 'accepted', late: true });
    expect((await call('GET', `/v1/records/${res.json.results[0].id}`, keys.scjgj)).json.late).toBe(true);
    expect((await call('GET', `/v1/records/${ids.company}`, keys.scjgj)).json.late).toBe(false);
  });

  it('refuses a data-source code that is not the pushing source', async () => {
    const res = await call('POST', '/v1/submissions/license', keys.scjgj, { records: [license('other-src', { XK_LYDWDM: SUBJECT_USCC })] });
    expect(res.json.results[0]).toMatchObject({ status: 'rejected', errors: [{ field: 'XK_LYDWDM' }] });
  });

  it('stores HTML as text and full-width codes half-width', async () => {
    const res = await call('POST', '/v1/submissions/license', keys.scjgj, {
      records: [license('html', { XK_NR: '<script>alert(1)</script>', XK_XDR_SHXYM: '９１３１０１１５ｍａ１ｋ３ｂｔｐ２ｂ', XK_JDRQ: fullWidthDigits(DECISION_DATE) })],
    });
    expect(res.json.results[0].status).toBe('accepted');
    const record = await call('GET', `/v1/records/${res.json.results[0].id}`, keys.scjgj);
    expect(record.headers.get('content-type')).toMatch(/^application\/json/);
    expect(record.json.fields.XK_NR).toBe('<script>alert(1)</script>');
    expect(record.json.fields.XK_XDR_SHXYM).toBe(SUBJECT_USCC);
    expect(record.json.fields.XK_JDRQ).toBe(DECISION_DATE);
  });

  it('rejects wrong types, unknown fields and bad checksums field by field', async () => {
    const res = await call('POST', '/v1/submissions/license', keys.scjgj, {
      records: [license('t1', { XK_NR: 42 }), license('t2', { EXTRA: 'x' }), license('t3', { XK_XKJGDM: '91110000600037341N' }), 'not an object'],
    });
    expect(res.json.rejected).toBe(4);
    expect(res.json.results.map((r: any) => r.errors[0].field)).toEqual(['XK_NR', 'EXTRA', 'XK_XKJGDM', '']);
  });

  it('masks identity numbers for the owner, shows them to the operator, never logs them', async () => {
    const owner = await call('GET', `/v1/records/${ids.person}`, keys.scjgj);
    expect(owner.json.fields.XK_XDR_ZJHM).toBe('1101021991****0078');
    expect(owner.text).not.toContain(PERSON_ID);
    const operator = await call('GET', `/v1/records/${ids.person}`, operatorKey);
    expect(operator.json.fields.XK_XDR_ZJHM).toBe(PERSON_ID);
    expect(stack.output()).not.toContain(PERSON_ID);
  });

  it("lets only the owner and the operator read a record; anyone else gets an unknown id's 404", async () => {
    expect((await call('GET', `/v1/records/${ids.company}`, keys.scjgj)).status).toBe(200);
    expect((await call('GET', `/v1/records/${ids.company}`, operatorKey)).status).toBe(200);
    // Ids can be computed from public facts: another source must not learn that this document exists.
    const someoneElses = await call('GET', `/v1/records/${ids.company}`, keys.sfj);
    const neverPushed = recordId('lic', 'license', 'scjgj', String(license('never-pushed').XK_WSH));
    const unknown = await call('GET', `/v1/records/${neverPushed}`, keys.sfj);
    expectError(someoneElses, 404, 'not_found');
    expectError(unknown, 404, 'not_found');
    expect(someoneElses.json.error.message.replace(ids.company, '{id}')).toBe(unknown.json.error.message.replace(neverPushed, '{id}'));
    expect(someoneElses.text).not.toContain('上海某某科技有限公司');
    expectError(await call('GET', `/v1/records/lic_aaaaaaaaaaaaaaaaaaaaaaaaaa`, operatorKey), 404, 'not_found');
  });

  it('quotes at most 64 characters of an unknown id back', async () => {
    const res = await call('GET', `/v1/records/${'x'.repeat(300)}`, keys.scjgj);
    expectError(res, 404, 'not_found');
    expect(res.json.error.message).toContain(`${'x'.repeat(64)}…`);
    expect(res.json.error.message).not.toContain('x'.repeat(65));
  });

  it('refuses a kind the key may not push (403), an unknown kind (404), and bad bodies (400, 413)', async () => {
    expectError(await call('POST', '/v1/submissions/penalty', keys.sfj, { records: [penalty('x')] }), 403);
    expectError(await call('POST', '/v1/submissions/license', keys.court, { records: [license('x')] }), 403);
    expectError(await call('POST', '/v1/submissions/license', keys.checker, { records: [license('x')] }), 403);
    expectError(await call('POST', '/v1/submissions/license', operatorKey, { records: [license('x')] }), 403);
    expectError(await call('POST', '/v1/submissions/nonsense', keys.scjgj, { records: [] }), 404, 'unknown_kind');
    expectError(await call('POST', '/v1/submissions/license', keys.scjgj, undefined, '{"records": ['), 400);
    expectError(await call('POST', '/v1/submissions/license', keys.scjgj, [license('arr')]), 400);
    expectError(await call('POST', '/v1/submissions/license', keys.scjgj, { records: Array.from({ length: 1001 }, (_, i) => license(`many-${i}`)) }), 400);
    const big = await call('POST', '/v1/submissions/license', keys.scjgj, undefined, JSON.stringify({ records: [license('big', { XK_NR: 'x'.repeat(7 * 1024 * 1024) })] }));
    expectError(big, 413, 'payload_too_large');
    // None of the refused requests wrote anything.
    for (const n of ['x', 'arr', 'many-0', 'many-999', 'big']) {
      const id = recordId('lic', 'license', 'scjgj', String(license(n).XK_WSH));
      expectError(await call('GET', `/v1/records/${id}`, operatorKey), 404);
    }
  });

  it('takes a court’s 失信被执行人 listings: a person masked, a government body marked, a removal ends the listing', async () => {
    const listing = (n: number, over: Record<string, unknown> = {}) => ({
      iname: '某某县人民政府',
      cardNum: ORGAN_USCC,
      businessEntity: '王五',
      courtName: '北京市第一中级人民法院',
      areaName: '北京',
      caseCode: `（2026）京01执${n}号`,
      regDate: DECISION_DATE,
      gistId: '（2025）京01民初45号',
      gistUnit: '北京市第一中级人民法院',
      duty: '给付工程款人民币伍拾万元',
      performance: '全部未履行',
      unperformPart: '50.00',
      disruptTypeName: '有履行能力而拒不履行生效法律文书确定义务',
      publishDate: DECISION_DATE,
      ...over,
    });
    const person = { ...listing(2, { iname: '张三', cardNum: PERSON_ID }), businessEntity: undefined };
    const pushed = await call('POST', '/v1/submissions/dishonest-debtor', keys.court, { records: [listing(1), person] });
    expect(pushed.json).toMatchObject({ accepted: 2, rejected: 0 });
    const [body, natural] = pushed.json.results.map((r: any) => r.id);
    expect(body).toMatch(/^dd_/);
    expectError(await call('POST', '/v1/submissions/dishonest-debtor', keys.scjgj, { records: [listing(3)] }), 403, 'forbidden');

    const owner = await call('GET', `/v1/records/${natural}`, keys.court);
    expect(owner.json).toMatchObject({ kind: 'dishonest-debtor', status: 'active', governmentBody: false, fields: { cardNum: '1101021991****0078', partyTypeName: '自然人', status: 'listed' } });
    expect(owner.text).not.toContain(PERSON_ID);
    expect((await call('GET', `/v1/records/${natural}`, operatorKey)).json.fields.cardNum).toBe(PERSON_ID);
    const listed = await call('GET', `/v1/records/${body}`, keys.court);
    expect(listed.json).toMatchObject({ governmentBody: true, fields: { cardNum: ORGAN_USCC, unperformPart: '50' }, publication: { state: 'pending-review', from: DECISION_DATE, until: addMonths(DECISION_DATE, 24) } });

    const removal = await call('POST', '/v1/submissions/dishonest-debtor', keys.court, { records: [listing(1, { status: 'removed' })] });
    expect(removal.json.results[0]).toEqual({ index: 0, status: 'updated', id: body });
    const removed = await call('GET', `/v1/records/${body}`, keys.court);
    expect(removed.json).toMatchObject({ status: 'removed', version: 2, publication: { state: 'ended', endReason: 'removed', from: DECISION_DATE } });
    expect(removed.json.versions.map((v: any) => v.fields.status)).toEqual(['listed', 'removed']);
    expect(stack.output()).not.toContain(PERSON_ID);
  });

  it('never answers a client mistake with a 5xx', async () => {
    const bodies = ['', 'null', '42', '"x"', '{"records":null}', '{"records":{}}', '{"records":[null,1,"a",[]]}', '{"records":[{"XK_XDR_MC":{"$ne":1}}]}'];
    for (const raw of bodies) {
      const res = await call('POST', '/v1/submissions/license', keys.scjgj, undefined, raw);
      expect(res.status, raw).toBeGreaterThanOrEqual(200);
      expect(res.status, raw).toBeLessThan(500);
    }
  });
});
