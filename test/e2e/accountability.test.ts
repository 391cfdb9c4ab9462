/**
 * Issue 6 end to end, on the local stack in a child process (the same
 * handlers and tables as on AWS): an operator read of a person's record is in
 * GET /v1/audit/reads; a key over its per-key limit gets 429 while another
 * key is still served; `hub operator rotate-key` replaces the operator key at
 * once; a restart with another HUB_OPERATOR_KEY makes the previous one fail.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, tables } from '../../infra/catalogue.js';
import { LOCAL_REGION } from '../../infra/local/dynamodb-local.js';
import { generateApiKey, hashApiKey } from '../../shared/auth/api-keys.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { license, PERSON_ID, personLicense, SOURCE_USCC } from '../support/fixtures.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';
import { dynamoEndpointOf, stackCredentials } from '../support/stack-records-table.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dataDir = tempDataDir('hub-accountability-');
let stack: StackProcess;
let operatorKey = generateApiKey();
const keys: Record<string, string> = {};
const ids: Record<string, string> = {};

interface Answer {
  status: number;
  json: any;
  headers: Headers;
}

async function call(method: string, path: string, key?: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: operatorKey });
  for (const [id, kinds] of [
    ['scjgj', ['license', 'penalty']],
    ['sfj', ['license']],
  ] as const) {
    const res = await call('POST', '/v1/sources', operatorKey, { id, name: `单位${id}`, uscc: SOURCE_USCC, role: 'department', kinds });
    expect(res.status).toBe(201);
    keys[id] = res.json.apiKey;
  }
  const person = await call('POST', '/v1/submissions/license', keys.scjgj, { records: [personLicense('audit-1')] });
  const company = await call('POST', '/v1/submissions/license', keys.sfj, { records: [license('audit-2')] });
  ids.person = person.json.results[0].id;
  ids.company = company.json.results[0].id;
}, 120_000);

afterAll(async () => {
  await stack?.stop('SIGINT');
});

describe('audited reads of identity numbers in full', () => {
  it("records the operator's read of a person's record: GET /v1/audit/reads names the reader, the record and the source IP", async () => {
    const before = Date.now();
    const read = await call('GET', `/v1/records/${ids.person}`, operatorKey, undefined, { 'user-agent': 'accountability-e2e/1.0' });
    const after = Date.now();
    expect(read.status).toBe(200);
    expect(read.json.fields.XK_XDR_ZJHM).toBe(PERSON_ID);

    const ofRecord = await call('GET', `/v1/audit/reads?record=${ids.person}`, operatorKey);
    expect(ofRecord.status).toBe(200);
    expect(ofRecord.json).toEqual({
      items: [
        {
          recordId: ids.person,
          reader: 'operator',
          readerRole: 'operator',
          at: expect.any(String),
          route: 'GET /v1/records/{id}',
          sourceIp: '127.0.0.1',
          userAgent: 'accountability-e2e/1.0',
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      ],
    });
    const at = Date.parse(ofRecord.json.items[0].at);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);

    // The same read in the list of the day(s) it happened on, in China.
    const days = await call('GET', `/v1/audit/reads?from=${todayInChina(new Date(before))}&to=${todayInChina(new Date(after))}`, operatorKey);
    expect(days.status).toBe(200);
    expect(days.json.items.map((r: { recordId: string }) => r.recordId)).toContain(ids.person);
    // The audit holds who read what, never what was read.
    expect(JSON.stringify(days.json)).not.toContain(PERSON_ID);
  });

  it("records nothing for the owner's masked read or the operator's read of a company record", async () => {
    expect((await call('GET', `/v1/records/${ids.person}`, keys.scjgj)).json.fields.XK_XDR_ZJHM).toBe('1101021991****0078');
    expect((await call('GET', `/v1/records/${ids.company}`, operatorKey)).status).toBe(200);
    expect((await call('GET', `/v1/audit/reads?record=${ids.person}`, operatorKey)).json.items).toHaveLength(1);
    expect((await call('GET', `/v1/audit/reads?record=${ids.company}`, operatorKey)).json.items).toEqual([]);
  });

  it('is for the operator only, and names a bad parameter', async () => {
    const department = await call('GET', '/v1/audit/reads', keys.scjgj);
    expect(department.status).toBe(403);
    expect(department.json.error.code).toBe('forbidden');
    const bad = await call('GET', '/v1/audit/reads?from=yesterday', operatorKey);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'invalid_query', details: [{ field: 'from', message: expect.any(String) }] });
  });
});

describe('the per-key limit', () => {
  it('answers 429 with Retry-After: 1 to a key over its limit while another key is still served, and serves it again in a later second', async () => {
    // This machine's stack serves far fewer than the limit per second, so the busy key's windows are filled
    // past the API, as that many requests would have: the next few seconds' counters at the limit. (That the
    // counter admits exactly the limit under concurrent requests: test/integration/accountability.test.ts.)
    const credentials = stackCredentials(dataDir);
    const client = new DynamoDBClient({ endpoint: dynamoEndpointOf(stack.output()), region: LOCAL_REGION, credentials });
    const doc = DynamoDBDocumentClient.from(client);
    const hash = hashApiKey(keys.scjgj!);
    const busyUntil = Math.floor(Date.now() / 1000) + 4;
    try {
      for (let s = busyUntil - 4; s <= busyUntil; s++) {
        await doc.send(new PutCommand({ TableName: tables.throttle.localName, Item: { pk: `RATE#${hash}#${s}`, n: api.perKey.source.ratePerSecond, expiresAt: s + 60 } }));
      }
    } finally {
      client.destroy();
    }
    const refused = await call('GET', `/v1/records/${ids.person}`, keys.scjgj);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error.code).toBe('too_many_requests');
    expect(refused.json.error.message).toContain('this key');
    // Another department's key is not affected by the busy one.
    expect((await call('GET', `/v1/records/${ids.company}`, keys.sfj)).status).toBe(200);
    // Once its windows have passed, the busy key is served again.
    await pause(Math.max(0, (busyUntil + 1) * 1000 - Date.now()) + 100);
    expect((await call('GET', `/v1/records/${ids.person}`, keys.scjgj)).status).toBe(200);
  }, 60_000);
});

describe('the operator key', () => {
  it('is replaced at once by `hub operator rotate-key`: the previous key fails with its next request', async () => {
    const run = promisify(execFile);
    const credentials = stackCredentials(dataDir);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/hub.ts', 'operator', 'rotate-key', '--table', tables.sources.localName, '--region', LOCAL_REGION], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpointOf(stack.output()), AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    });
    const rotated = stdout.trim();
    expect(rotated).toMatch(/^hub_[A-Za-z0-9_-]{43}$/);
    const old = await call('GET', '/v1/sources', operatorKey);
    expect(old.status).toBe(401);
    expect(old.json.error.code).toBe('unauthorized');
    expect((await call('GET', '/v1/sources', rotated)).status).toBe(200);
    operatorKey = rotated;
  }, 60_000);

  it('is replaced by a restart with another HUB_OPERATOR_KEY: the previous key fails, the data stays', async () => {
    await stack.stop('SIGINT');
    const next = generateApiKey();
    stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: next });
    expect(stack.output()).toContain('operator key: replaced');
    expect((await call('GET', '/v1/sources', operatorKey)).status).toBe(401);
    const listed = await call('GET', '/v1/sources', next);
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((s: { id: string }) => s.id)).toEqual(['scjgj', 'sfj']);
    expect((await call('GET', `/v1/audit/reads?record=${ids.person}`, next)).json.items).toHaveLength(1);
    expect(stack.output()).not.toContain(next);
  }, 120_000);
});
