/**
 * Issue 8, operations, end to end over HTTP against the local stack with its built-in platform receiver:
 *
 * 1. The national platform answers 400 to a poison record (HUB_RECEIVER_FAULTS, a rule with bodyContains): its
 *    national delivery is `failed` with the platform's reason on GET /v1/records/{id}, delivered to the provincial
 *    platform, and the other records are delivered to both; GET /v1/dlq/national lists it (depth ≥ 1).
 * 2. The national platform's source posts feedback: `rejected` for a delivered record, which its source (and the
 *    operator) then see on GET /v1/records/{id}; a department may not post feedback.
 * 3. The fault is fixed — the receiver's faults are set at start, so the stack is stopped (SIGINT) and started
 *    again on the same data folder without it — and `hub dlq list national` then `hub dlq redrive national` (the
 *    real CLI, a child process) deliver it: the receiver's folder (HUB_DATA_DIR/platforms/national/) then holds
 *    exactly one package of that record version, and the dead-letter list is empty.
 *
 * Everything is polled with deadlines; no sleep is an assertion.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECEIVER_FAULTS_ENV } from '../../infra/local/platform-receiver.js';
import { license, SOURCE_USCC } from '../support/fixtures.js';
import { pause, registerSource, callStack as call } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OPERATOR_KEY = `hub_${randomUUID().replaceAll('-', '')}e2eupward`;
const POISON = 'POISON-RECORD-E2E';
const FAULTS = JSON.stringify([{ platform: 'national', status: 400, bodyContains: POISON }]);
/** How long a delivery may take to reach a settled state on this machine (the stream, the queues, the connectors). */
const SETTLE_MS = 120_000;

type Json = any;

/** Polls `read` until `done` holds of its value; fails with the last value seen after `timeoutMs`. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = SETTLE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 2000)} after ${timeoutMs} ms`);
    await pause(500);
  }
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI as a person runs it: `node --import tsx bin/hub.ts …` with HUB_URL and HUB_KEY. */
function hubCli(stack: StackProcess, args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/hub.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, HUB_URL: stack.url, HUB_KEY: OPERATOR_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((r) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      r({ code, stdout, stderr });
    }),
  );
}

/** The packages the built-in receiver kept for the national platform that carry this record version. */
function nationalPackagesOf(dataDir: string, recordId: string, version: number): string[] {
  const folder = join(dataDir, 'platforms', 'national');
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => {
      const kept = JSON.parse(readFileSync(join(folder, f), 'utf8')) as { format: string; body?: { body?: { records?: { recordId: string; version: number }[] } } };
      return kept.format === 'json' && (kept.body?.body?.records ?? []).some((r) => r.recordId === recordId && r.version === version);
    });
}

describe('upward operations: delivery state, feedback, dead letters and their redrive', () => {
  const dataDir = tempDataDir('hub-e2e-upward-ops-');
  let stack: StackProcess;
  let departmentKey: string;
  let nationalKey: string;
  const ids: { good: string[]; poison: string } = { good: [], poison: '' };

  beforeAll(async () => {
    stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY, [RECEIVER_FAULTS_ENV]: FAULTS });
    departmentKey = await registerSource(stack.url, OPERATOR_KEY, { id: 'ops-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] });
    nationalKey = await registerSource(stack.url, OPERATOR_KEY, { id: 'national', name: '全国信用信息共享平台', uscc: SOURCE_USCC, role: 'platform', kinds: [] });
    const run = randomUUID().slice(0, 8);
    const pushed = await call(stack, 'POST', '/v1/submissions/license', departmentKey, {
      records: [license(`ops-${run}-1`), license(`ops-${run}-2`, { XK_NR: `预包装食品销售 ${POISON}` }), license(`ops-${run}-3`)],
    });
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
    expect(pushed.body.accepted).toBe(3);
    const [first, poison, third] = pushed.body.results.map((r: Json) => r.id as string);
    ids.good = [first!, third!];
    ids.poison = poison!;
  }, 120_000);

  afterAll(async () => {
    await stack?.stop('SIGINT');
  }, 60_000);

  it('registers a platform source only under its platform’s name', async () => {
    const other = await call(stack, 'POST', '/v1/sources', OPERATOR_KEY, { id: 'sheng-pingtai', name: '省平台', uscc: SOURCE_USCC, role: 'platform', kinds: [] });
    expect(other.status).toBe(400);
    expect(other.body.error.details.map((d: Json) => d.field)).toEqual(['id']);
  });

  it('shows the poison record failed at the national platform with its reason, and everything else delivered at both', async () => {
    const settled = (r: Json) => r.delivery.provincial.state === 'delivered' && r.delivery.national.state !== 'pending';
    const poison = await until('the poison record', async () => (await call(stack, 'GET', `/v1/records/${ids.poison}`, departmentKey)).body, settled);
    expect(poison.delivery.provincial).toMatchObject({ state: 'delivered', version: 1, deliveredAt: expect.any(String) });
    expect(poison.delivery.national).toMatchObject({ state: 'failed', version: 1, failedAt: expect.any(String), reason: expect.stringMatching(/^HTTP 400/) });
    for (const id of ids.good) {
      const record = await until(`record ${id}`, async () => (await call(stack, 'GET', `/v1/records/${id}`, departmentKey)).body, (r) => settled(r));
      expect(record.delivery).toEqual({
        provincial: { state: 'delivered', version: 1, deliveredAt: expect.any(String) },
        national: { state: 'delivered', version: 1, deliveredAt: expect.any(String) },
      });
    }
    // The operator sees the same.
    expect((await call(stack, 'GET', `/v1/records/${ids.poison}`, OPERATOR_KEY)).body.delivery.national.state).toBe('failed');
  }, SETTLE_MS + 30_000);

  it('lists it on GET /v1/dlq/national with the dead-letter queue’s depth; the provincial list does not have it', async () => {
    const page = await until('the national dead letters', async () => (await call(stack, 'GET', '/v1/dlq/national', OPERATOR_KEY)).body, (b) => b.depth >= 1);
    expect(page.items).toEqual([{ recordId: ids.poison, version: 1, operation: 'upsert', reason: expect.stringMatching(/^HTTP 400/), failedAt: expect.any(String), attempts: 1 }]);
    const provincial = await call(stack, 'GET', '/v1/dlq/provincial', OPERATOR_KEY);
    expect(provincial.status).toBe(200);
    expect(provincial.body.items).toEqual([]);
    expect((await call(stack, 'GET', '/v1/dlq/national', departmentKey)).status).toBe(403);
    expect((await call(stack, 'GET', '/v1/dlq/city', OPERATOR_KEY)).status).toBe(404);
  });

  it('takes a platform’s feedback: a rejection of a delivered record is shown to its source and the operator', async () => {
    const [rejectedId, receivedId] = ids.good as [string, string];
    const posted = await call(stack, 'POST', '/v1/feedback', nationalKey, {
      items: [
        { recordId: rejectedId, version: 1, outcome: 'rejected', reason: '行政相对人代码与名称不符', at: new Date().toISOString() },
        { recordId: receivedId, version: 1, outcome: 'received' },
        { recordId: receivedId, version: 5, outcome: 'received' },
      ],
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(200);
    expect(posted.body).toEqual({ recorded: 2, unknown: [{ index: 2, recordId: receivedId, version: 5 }] });
    for (const key of [departmentKey, OPERATOR_KEY]) {
      const record = (await call(stack, 'GET', `/v1/records/${rejectedId}`, key)).body;
      expect(record.delivery.national.feedback).toMatchObject({ outcome: 'rejected', reason: '行政相对人代码与名称不符' });
      expect(record.delivery.provincial).not.toHaveProperty('feedback');
    }
    expect((await call(stack, 'GET', `/v1/records/${receivedId}`, departmentKey)).body.delivery.national.feedback).toMatchObject({ outcome: 'received' });
    const fromDepartment = await call(stack, 'POST', '/v1/feedback', departmentKey, { items: [{ recordId: rejectedId, version: 1, outcome: 'received' }] });
    expect(fromDepartment.status).toBe(403);
  });

  it('once the fault is fixed (a restart without it), `hub dlq redrive national` delivers the poison record: one package at the platform', async () => {
    expect(nationalPackagesOf(dataDir, ids.poison, 1)).toEqual([]);
    expect(await stack.stop('SIGINT')).toBe(0);
    stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY, [RECEIVER_FAULTS_ENV]: '' });

    const listed = await hubCli(stack, ['dlq', 'list', 'national']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(ids.poison);
    expect(listed.stdout).toMatch(/failed deliveries 1\n/);

    const redriven = await hubCli(stack, ['dlq', 'redrive', 'national']);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stdout).toMatch(/deliveries redriven 1, .*messages moved back to the queue [1-9]/);

    const record = await until('the redriven record', async () => (await call(stack, 'GET', `/v1/records/${ids.poison}`, departmentKey)).body, (r) => r.delivery.national.state === 'delivered');
    expect(record.delivery.national).toMatchObject({ state: 'delivered', version: 1 });
    expect(nationalPackagesOf(dataDir, ids.poison, 1)).toHaveLength(1);
    const page = await until('the national dead letters', async () => (await call(stack, 'GET', '/v1/dlq/national', OPERATOR_KEY)).body, (b) => b.items.length === 0 && b.depth === 0);
    expect(page).toEqual({ platform: 'national', depth: 0, items: [] });

    // A second redrive finds nothing to do, and the record is still delivered once.
    const again = await hubCli(stack, ['dlq', 'redrive', 'national', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ platform: 'national', redriven: 0, moved: 0 });
    expect(nationalPackagesOf(dataDir, ids.poison, 1)).toHaveLength(1);
  }, 240_000);
});
