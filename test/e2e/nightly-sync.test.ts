/**
 * The nightly sync on demand against the local stack, over HTTP (API.md "Jobs"): records pushed by a department
 * travel to the platforms in real time (the connectors); then POST /v1/jobs/sync-provincial starts a run, GET
 * /v1/jobs/runs/{runId} follows it to completed, and the built-in receiver's folder (HUB_DATA_DIR/platforms/
 * provincial/) holds one gzip NDJSON package, kept decompressed, whose header counts and SHA-256 match its lines
 * and the run's counts. A second run right after sends only what changed since (nothing) and what is still owed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_ID_PATTERN } from '../../contracts/jobs.js';
import { license, personLicense, PERSON_ID, SOURCE_USCC } from '../support/fixtures.js';
import { pause, pushUntilAnswered, registerSource } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const OPERATOR_KEY = `hub_${randomUUID().replaceAll('-', '')}e2esync`;
type Json = any;

async function call(url: string, key: string, init: RequestInit = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** What the built-in receiver kept for a platform: its metadata files (one per idempotency key). */
function kept(dir: string): Json[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

describe('the nightly sync, asked for over HTTP', () => {
  let stack: StackProcess;
  let api: string;
  let dataDir: string;
  let provincial: string;

  beforeAll(async () => {
    dataDir = tempDataDir('hub-e2e-sync-');
    stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY });
    api = stack.url;
    provincial = join(dataDir, 'platforms', 'provincial');
  }, 120_000);

  afterAll(async () => {
    await stack?.stop('SIGINT');
  }, 60_000);

  async function runToEnd(job: string): Promise<Json> {
    const started = await call(`${api}/v1/jobs/${job}`, OPERATOR_KEY, { method: 'POST', body: '{}' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.runId).toMatch(RUN_ID_PATTERN);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { status, body } = await call(`${api}/v1/jobs/runs/${started.body.runId}`, OPERATOR_KEY);
      expect(status).toBe(200);
      if (body.status === 'completed' || body.status === 'failed') return body;
      if (Date.now() > deadline) throw new Error(`run still ${JSON.stringify(body)}\n${stack.output().slice(-3000)}`);
      await pause(300);
    }
  }

  it('sends what was pushed as one NDJSON package with a matching manifest; a second run right after sends no change', async () => {
    const key = await registerSource(api, OPERATOR_KEY, { id: 'shi-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] });
    const records = [license('s1'), license('s2'), license('s3'), personLicense('s4')];
    const pushed = await pushUntilAnswered(api, key, 'license', JSON.stringify({ records }), randomUUID(), []);
    expect(pushed.status).toBe(200);
    expect(pushed.body.accepted).toBe(4);
    // The real-time path first: the versions reach the platform in exchange packages (one of four, as a rule).
    const deadline = Date.now() + 60_000;
    const delivered = () => kept(provincial).filter((p) => p.format === 'json').reduce((n, p) => n + p.records, 0);
    while (delivered() < 4) {
      if (Date.now() > deadline) throw new Error(`the connector delivered ${delivered()} of 4\n${stack.output().slice(-3000)}`);
      await pause(300);
    }

    const first = await runToEnd('sync-provincial');
    expect(first).toMatchObject({ job: 'sync-provincial', status: 'completed', requestedBy: 'operator', counts: { changes: 4, owed: 0, skipped: 0, records: 4 } });
    expect(first.counts.bytes).toBeGreaterThan(0);

    const syncs = kept(provincial).filter((p) => p.format === 'ndjson');
    expect(syncs).toHaveLength(1);
    const [meta] = syncs;
    expect(meta).toMatchObject({ idempotencyKey: first.runId, packageId: first.runId, records: 4, path: '/provincial/sync', headers: { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' } });
    const text = readFileSync(join(provincial, meta.bodyFile), 'utf8');
    const [headerLine, ...lines] = text.split('\n').filter(Boolean);
    const { header } = JSON.parse(headerLine!);
    expect(header).toMatchObject({ packageId: first.runId, platform: 'provincial', to: first.to, from: first.from, recordCount: 4 });
    expect(header.bodySha256).toBe(createHash('sha256').update(text.slice(text.indexOf('\n') + 1)).digest('hex'));
    const body = lines.map((l) => JSON.parse(l));
    expect(body.map((l) => l.fields.XK_WSH).sort()).toEqual(['沪市监许〔2026〕s1号', '沪市监许〔2026〕s2号', '沪市监许〔2026〕s3号', '沪市监许〔2026〕s4号']);
    expect(body.every((l) => l.operation === 'upsert' && l.kind === 'license' && l.version === 1 && l.sourceId === 'shi-scjgj')).toBe(true);
    // Each line names the real-time package that carried its version (the key the platform already has it under).
    const realTimeKeys = new Set(kept(provincial).filter((p) => p.format === 'json').map((p) => p.idempotencyKey));
    expect(body.every((l) => realTimeKeys.has(l.packageId))).toBe(true);
    // The platform is entitled to the certificate number in full (逐级推送).
    expect(body.find((l) => l.fields.XK_WSH === '沪市监许〔2026〕s4号').fields.XK_XDR_ZJHM).toBe(PERSON_ID);

    const second = await runToEnd('sync-provincial');
    expect(second).toMatchObject({ status: 'completed', from: first.to, counts: { changes: 0, owed: 0, records: 0 } });
    const after = kept(provincial).filter((p) => p.format === 'ndjson');
    expect(after).toHaveLength(2);
    expect(after.find((p) => p.idempotencyKey === second.runId)).toMatchObject({ records: 0 });
  }, 240_000);

  it('an unknown job is 404; an unknown run is 404; a source key is refused (403)', async () => {
    // publish and expire have runs of their own (test/e2e/site-publishing.test.ts, publication-decisions.test.ts).
    const unknown = await call(`${api}/v1/jobs/sync-everything`, OPERATOR_KEY, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('no such job');
    expect((await call(`${api}/v1/jobs/runs/run_abcdefghijklmnopqrstuvwxyz`, OPERATOR_KEY)).status).toBe(404);
    const key = await registerSource(api, OPERATOR_KEY, { id: 'shi-swj', name: '市税务局', uscc: SOURCE_USCC, role: 'department', kinds: ['penalty'] });
    expect((await call(`${api}/v1/jobs/sync-national`, key, { method: 'POST', body: '{}' })).status).toBe(403);
  });
});
