/**
 * End to end: the store goes away under a running stack (DynamoDB Local
 * killed with SIGKILL, as a crash or a lost network would take it). Calls that
 * need the store answer 503 with Retry-After in the error shape — "send the
 * same request again later" — instead of 500, and /health says the stack
 * cannot reach its store.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../infra/catalogue.js';
import { license, SOURCE_USCC } from '../support/fixtures.js';
import { startStackProcess, type StackProcess } from '../support/local-stack-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'hub-e2e-store-gone-'));
const OPERATOR_KEY = 'hub_e2e-store-unavailable-operator-key-0123456789';
let stack: StackProcess;
let departmentKey: string;

async function call(method: string, path: string, key?: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
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

/** DynamoDB Local's pid from the pid file in the data folder: a bare number, or JSON with `pid` (or `emulator.pid`). */
function emulatorPid(): number {
  const text = readFileSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'), 'utf8').trim();
  if (/^\d+$/.test(text)) return Number(text);
  const record = JSON.parse(text) as { pid?: unknown; emulator?: { pid?: unknown } };
  const pid = record.pid ?? record.emulator?.pid;
  if (!Number.isInteger(pid)) throw new Error(`no pid in ${text}`);
  return pid as number;
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function expectUnavailable(res: Awaited<ReturnType<typeof call>>) {
  expect(res.status, res.text).toBe(503);
  expect(res.headers.get('retry-after')).toBe(String(api.retryAfterSeconds));
  expect(res.json).toEqual({ error: { code: 'unavailable', message: expect.any(String), details: [] } });
}

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY });
  const created = await call('POST', '/v1/sources', OPERATOR_KEY, {
    id: 'shi-scjgj',
    name: '市市场监督管理局',
    uscc: SOURCE_USCC,
    role: 'department',
    kinds: ['license', 'penalty'],
  });
  expect(created.status, created.text).toBe(201);
  departmentKey = created.json.apiKey;
});

afterAll(async () => {
  await stack?.stop('SIGINT');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the store killed under a running stack', () => {
  it('is healthy while the store runs', async () => {
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    expect((await call('POST', '/v1/submissions/license', departmentKey, { records: [license(1)] })).status).toBe(200);
  });

  it('answers a push and GET /v1/sources with 503, Retry-After and the error shape once DynamoDB Local is gone', async () => {
    const pid = emulatorPid();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(running(pid)).toBe(false);

    expectUnavailable(await call('POST', '/v1/submissions/license', departmentKey, { records: [license(2)] }));
    expectUnavailable(await call('GET', '/v1/sources', OPERATOR_KEY));
    expectUnavailable(await call('GET', '/v1/records/lic_abcdefghijklmnopqrstuvwxyz', departmentKey));
  });

  it('says so on /health: 503 {"status":"unavailable"} with Retry-After, and HEAD the same without a body', async () => {
    // A success is remembered for two seconds at most.
    let health = await call('GET', '/health');
    for (let i = 0; i < 40 && health.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await call('GET', '/health');
    }
    expect(health.status).toBe(503);
    expect(health.json).toEqual({ status: 'unavailable' });
    expect(health.headers.get('retry-after')).toBe(String(api.retryAfterSeconds));

    const head = await call('HEAD', '/health');
    expect(head.status).toBe(503);
    expect(head.text).toBe('');
  });

  it('still answers what needs no store', async () => {
    expect((await call('GET', '/openapi.json')).status).toBe(200);
    const wrongMethod = await call('DELETE', '/v1/sources', OPERATOR_KEY);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    expect(wrongMethod.json.error.code).toBe('method_not_allowed');
  });
});
