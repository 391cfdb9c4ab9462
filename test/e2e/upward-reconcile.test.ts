/**
 * The reconciliation against the local stack over HTTP (shared/upward/reconcile.ts): records pushed while the
 * records stream never reaches the fan-out (its mapping disabled, as if every batch had been given up) are owed
 * to no one; GET /v1/records/{id} shows them pending. At the next start the reconciliation packages them (its
 * settling time shortened to a second by HUB_RECONCILE_SETTLED_AFTER_SECONDS), the connectors deliver them, and
 * each reaches each platform's built-in receiver in exactly one package.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECONCILE_SETTLED_AFTER_ENV } from '../../shared/upward/environment.js';
import { PLATFORM_NAMES } from '../../shared/upward/package-model.js';
import { license, SOURCE_USCC } from '../support/fixtures.js';
import { pause, registerSource, callStack as call } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const OPERATOR_KEY = `hub_${randomUUID().replaceAll('-', '')}e2ereconcile`;
const SETTLE_MS = 120_000;

type Json = any;

/** The packages each platform's built-in receiver kept that carry `recordId` (version 1). */
function packagesAt(dataDir: string, platform: string, recordId: string): string[] {
  const folder = join(dataDir, 'platforms', platform);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => {
      const kept = JSON.parse(readFileSync(join(folder, f), 'utf8')) as { format: string; body?: { body?: { records?: { recordId: string; version: number }[] } } };
      return kept.format === 'json' && (kept.body?.body?.records ?? []).some((r) => r.recordId === recordId && r.version === 1);
    });
}

describe('the reconciliation on the local stack', () => {
  const dataDir = tempDataDir('hub-e2e-reconcile-');
  // The fan-out's stream mapping off: pushed versions never reach it.
  const env = { HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY, HUB_EVENT_SOURCES_DISABLED: 'recordChanges', [RECONCILE_SETTLED_AFTER_ENV]: '1' };
  let stack: StackProcess | undefined;

  afterAll(async () => {
    await stack?.stop('SIGINT');
  }, 60_000);

  it('delivers at the next start, once to each platform, the versions whose stream records never reached the fan-out', async () => {
    stack = await startStackProcess(env);
    const key = await registerSource(stack.url, OPERATOR_KEY, { id: 'rec-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] });
    const run = randomUUID().slice(0, 8);
    const pushed = await call(stack, 'POST', '/v1/submissions/license', key, { records: [license(`rec-${run}-1`), license(`rec-${run}-2`), license(`rec-${run}-3`)] });
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
    const ids = pushed.body.results.map((r: Json) => r.id as string);
    expect(ids).toHaveLength(3);
    await pause(2_000);
    for (const id of ids) expect((await call(stack, 'GET', `/v1/records/${id}`, key)).body.delivery).toMatchObject({ provincial: { state: 'pending' }, national: { state: 'pending' } });
    expect(await stack.stop('SIGINT')).toBe(0);

    stack = await startStackProcess(env);
    const deadline = Date.now() + SETTLE_MS;
    for (const id of ids) {
      for (;;) {
        const record = (await call(stack, 'GET', `/v1/records/${id}`, key)).body;
        if (PLATFORM_NAMES.every((p) => record.delivery[p].state === 'delivered')) break;
        if (Date.now() > deadline) throw new Error(`record ${id} still ${JSON.stringify(record.delivery)} after ${SETTLE_MS} ms`);
        await pause(500);
      }
    }
    for (const platform of PLATFORM_NAMES) for (const id of ids) expect(packagesAt(dataDir, platform, id), `${platform} ${id}`).toHaveLength(1);
    // The log says what it found: three versions no package carried.
    const line = stack.output().split('\n').find((l) => l.includes('delivery reconcile: versions no package carried'));
    expect(line, 'the reconciliation’s warning').toBeDefined();
    expect(JSON.parse(line!.slice(line!.indexOf('{')))).toMatchObject({ unclaimed: 3, outcome: 'ended' });
  }, 300_000);
});
