/**
 * Many clients pushing the same records at once through the local stack, as
 * departments' systems do when a batch job is started twice and retries on
 * its own: no 500, nothing written after an answer, and with Idempotency-Key
 * no retry applied twice.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { license, SOURCE_USCC } from '../support/fixtures.js';
import { getRecord } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const dataDir = tempDataDir('hub-contention-');
let stack: StackProcess;
let operatorKey: string;
let key: string;

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: '' });
  operatorKey = readFileSync(join(dataDir, 'operator.key'), 'utf8').trim();
  const res = await fetch(`${stack.url}/v1/sources`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'dept', name: '市场监管局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] }),
  });
  key = ((await res.json()) as { apiKey: string }).apiKey;
});

afterAll(async () => {
  await stack?.stop('SIGINT');
});

interface Answer {
  status: number;
  body: any;
}

async function push(records: unknown[], idempotencyKey: string): Promise<Answer> {
  const res = await fetch(`${stack.url}/v1/submissions/license`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify({ records }),
  });
  return { status: res.status, body: await res.json() };
}

/** A client that retries 503 and 429 with the same key, as API.md asks; every status it saw, and the final answer. */
async function client(records: unknown[], idempotencyKey: string): Promise<{ seen: number[]; final: Answer }> {
  const seen: number[] = [];
  for (let attempt = 0; attempt < 30; attempt++) {
    const answer = await push(records, idempotencyKey);
    seen.push(answer.status);
    if (answer.status !== 503 && answer.status !== 429 && answer.status !== 409) return { seen, final: answer };
    await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
  }
  throw new Error(`no final answer for ${idempotencyKey}: ${seen.join(',')}`);
}

async function versionCount(id: string): Promise<number> {
  // getRecord waits out a 429 (the operator key has a per-key limit too).
  const res = await getRecord(stack.url, operatorKey, id);
  return (res.body as { versionCount: number }).versionCount;
}

async function versionCounts(ids: string[]): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < ids.length; i += 20) counts.push(...(await Promise.all(ids.slice(i, i + 20).map(versionCount))));
  return counts;
}

describe('many clients, the same records', () => {
  it('50 clients pushing the same 200 records at once: no 500, each record stored once, nothing written after the answers', async () => {
    const records = Array.from({ length: 200 }, (_, i) => license(`contention-${i}`));
    const clients = await Promise.all(Array.from({ length: 50 }, (_, c) => client(records, `same-${c}`)));
    const statuses = clients.flatMap((c) => c.seen);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    for (const c of clients) expect(c.final.status).toBe(200);
    // Each record was accepted by exactly one client; every other client saw it as a duplicate.
    expect(clients.reduce((n, c) => n + c.final.body.accepted, 0)).toBe(200);
    expect(clients.reduce((n, c) => n + c.final.body.duplicates, 0)).toBe(200 * 49);
    const ids: string[] = clients[0]!.final.body.results.map((r: { id: string }) => r.id);
    const afterAnswers = await versionCounts(ids);
    expect(afterAnswers.every((n) => n === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await versionCounts(ids)).toEqual(afterAnswers);
    expect(stack.output()).not.toMatch(/Task timed out/);
  }, 240_000);

  it('clients pushing different contents of the same records, each replaying its request: no retry applied twice', async () => {
    const variants = 12;
    const bodies = Array.from({ length: variants }, (_, v) => Array.from({ length: 50 }, (_, i) => license(`variants-${i}`, { XK_NR: `第${v}版许可内容` })));
    const first = await Promise.all(bodies.map((records, v) => client(records, `variant-${v}`)));
    for (const c of first) expect(c.final.status).toBe(200);
    // Each client sends its request again with the same key, as after a lost answer: the first answer comes back.
    const replays = await Promise.all(bodies.map((records, v) => client(records, `variant-${v}`)));
    replays.forEach((r, v) => expect(r.final.body).toEqual(first[v]!.final.body));
    // Every version of every record comes from one applied request: versions = requests that said accepted or updated.
    const ids: string[] = first[0]!.final.body.results.map((r: { id: string }) => r.id);
    const applied = ids.map((_, i) => first.filter((c) => c.final.body.results[i].status !== 'duplicate').length);
    expect(await versionCounts(ids)).toEqual(applied);
    const statuses = [...first, ...replays].flatMap((c) => c.seen);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
  }, 240_000);
});
