/**
 * End to end over HTTP (the local stack in a child process): what a
 * department's system really sends — GB18030 bodies declared as such, the
 * same bytes undeclared, gzip, other codings, duplicate JSON keys — goes
 * through the gateway's event building and the handlers' decoding, and
 * reads back exactly as sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../../shared/domain/record-model.js';
import { penalty, SOURCE_USCC } from '../support/fixtures.js';
import { encodeGb18030 } from '../support/gb18030.js';
import { startStackProcess, type StackProcess } from '../support/local-stack-process.js';

const OPERATOR_KEY = 'hub_charsets-e2e-operator-key-0123456789abcdef';
const RARE = '𠮷'; // U+20BB7: four bytes in GB18030 (95 34 B2 35), in no GBK table
const dataDir = mkdtempSync(join(tmpdir(), 'hub-e2e-charsets-'));
let stack: StackProcess;
let key: string;

async function send(method: string, path: string, auth: string, body?: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${auth}`, ...headers },
    ...(body !== undefined ? { body } : {}),
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

const gbPenalty = (n: number) =>
  penalty(n, {
    CF_WSH: `吉市监罚〔2026〕${RARE}${n}号`,
    CF_XDR_MC: `长春市${RARE}祥商贸有限公司`,
    CF_FRDB: `${RARE}大明`,
    CF_SY: '经查，当事人“无证经营”，违法所得￥5,000.00元。',
  });

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY });
  const source = { id: 'jl-scjgj', name: '吉林省市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['penalty'] };
  const res = await send('POST', '/v1/sources', OPERATOR_KEY, JSON.stringify(source), { 'content-type': 'application/json' });
  expect(res.status).toBe(201);
  key = res.json.apiKey;
});

afterAll(async () => {
  await stack?.stop('SIGINT');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('charsets over HTTP', () => {
  it('stores a GB18030 penalty sent with charset=gb18030 exactly: document number (part of the id) and names read back identical', async () => {
    const record = gbPenalty(1);
    const res = await send('POST', '/v1/submissions/penalty', key, encodeGb18030(JSON.stringify({ records: [record] })), {
      'content-type': 'application/json; charset=gb18030',
    });
    expect(res.status).toBe(200);
    const id = recordId('pen', 'penalty', 'jl-scjgj', record.CF_WSH as string);
    expect(res.json.results).toEqual([{ index: 0, status: 'accepted', id }]);

    const read = await send('GET', `/v1/records/${id}`, key);
    expect(read.status).toBe(200);
    expect(read.json.fields).toMatchObject({ CF_WSH: record.CF_WSH, CF_XDR_MC: record.CF_XDR_MC, CF_FRDB: record.CF_FRDB, CF_SY: record.CF_SY });

    // The same record in UTF-8 is the same content: a duplicate, not a second record.
    const again = await send('POST', '/v1/submissions/penalty', key, JSON.stringify({ records: [record] }), { 'content-type': 'application/json; charset=utf-8' });
    expect(again.json.results).toEqual([{ index: 0, status: 'duplicate', id }]);
  });

  it('answers the same GB18030 bytes without a charset with 400 malformed_text, storing nothing', async () => {
    const record = gbPenalty(2);
    const text = JSON.stringify({ records: [record] });
    const res = await send('POST', '/v1/submissions/penalty', key, encodeGb18030(text), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('malformed_text');
    expect(res.json.error.message).toContain(`byte offset ${text.search(/[^\x00-\x7f]/)}`);
    expect((await send('GET', `/v1/records/${recordId('pen', 'penalty', 'jl-scjgj', record.CF_WSH as string)}`, key)).status).toBe(404);
  });

  it('decodes charset=gbk too, and refuses a charset it does not read', async () => {
    const record = penalty(3, { CF_WSH: '吉市监罚〔2026〕3号', CF_XDR_MC: '长春市某某商贸有限公司' });
    const gbk = await send('POST', '/v1/submissions/penalty', key, encodeGb18030(JSON.stringify({ records: [record] })), { 'content-type': 'application/json; charset="GBK"' });
    expect(gbk.status).toBe(200);
    expect(gbk.json.accepted).toBe(1);
    const big5 = await send('POST', '/v1/submissions/penalty', key, JSON.stringify({ records: [record] }), { 'content-type': 'application/json; charset=big5' });
    expect(big5.status).toBe(400);
    expect(big5.json.error).toMatchObject({ code: 'unsupported_charset', message: expect.stringContaining('"big5"') });
  });

  it('accepts a gzip body (GB18030 inside) and refuses another coding with 415 and Accept-Encoding', async () => {
    const record = gbPenalty(4);
    const gz = await send('POST', '/v1/submissions/penalty', key, gzipSync(encodeGb18030(JSON.stringify({ records: [record] }))), {
      'content-type': 'application/json; charset=gb18030',
      'content-encoding': 'gzip',
    });
    expect(gz.status).toBe(200);
    expect(gz.json.accepted).toBe(1);
    const read = await send('GET', `/v1/records/${gz.json.results[0].id}`, key);
    expect(read.json.fields.CF_WSH).toBe(record.CF_WSH);

    const br = await send('POST', '/v1/submissions/penalty', key, Buffer.from([0x1b, 0xff, 0x00, 0x80, 0x07]), { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.json.error.code).toBe('unsupported_encoding');
    expect(br.headers.get('accept-encoding')).toBe('gzip');
    expect(br.text).toMatch(/^[\x20-\x7e\u4e00-\u9fff]*$/);
  });

  it('skips a UTF-8 byte order mark', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ records: [penalty(5)] }))]);
    const res = await send('POST', '/v1/submissions/penalty', key, body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.json.accepted).toBe(1);
  });
});

describe('duplicate JSON keys over HTTP', () => {
  it('rejects the record that repeats a key, naming it, and stores the others', async () => {
    const body = JSON.stringify({ records: [penalty(10), penalty(11)] }).replace('"CF_NR_FK":5', '"CF_NR_FK":"2","CF_NR_FK":"999"');
    const res = await send('POST', '/v1/submissions/penalty', key, body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.json.results.map((r: any) => r.status)).toEqual(['rejected', 'accepted']);
    expect(res.json.results[0].errors).toEqual([{ field: 'CF_NR_FK', message: expect.stringContaining('字段重复') }]);
  });

  it('answers 400 duplicate_key for two "records" keys, and for a repeated key in POST /v1/sources', async () => {
    const envelope = await send('POST', '/v1/submissions/penalty', key, `{"records":[${JSON.stringify(penalty(12))}],"records":[]}`, { 'content-type': 'application/json' });
    expect(envelope.status).toBe(400);
    expect(envelope.json.error).toMatchObject({ code: 'duplicate_key', details: [{ field: 'records' }] });

    const source = await send('POST', '/v1/sources', OPERATOR_KEY, `{"id":"dup","name":"x","uscc":"${SOURCE_USCC}","role":"checker","kinds":[],"role":"department"}`, {
      'content-type': 'application/json',
    });
    expect(source.status).toBe(400);
    expect(source.json.error).toMatchObject({ code: 'duplicate_key', message: expect.stringContaining('role'), details: [{ field: 'role' }] });
  });
});
