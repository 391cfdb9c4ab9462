/**
 * The credit office's publication commands end to end: the real command line functions (`runHub`, in this
 * process) against the local stack in a child process. Two penalties wait for review; `hub reviews approve` takes
 * one out of the queue (`hub reviews list --all` no longer lists it); `hub records repair` on the other is refused
 * before the grade's minimum period with the day it becomes possible; `hub policy set|show` round-trips; an
 * objection filed on the approved record is listed by `hub objections list` with its deadlines and resolved by
 * `hub objections resolve`, after which it is listed no more.
 *
 * Decision dates are today in China (the fixtures' rules); no sleep is an assertion.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHub, type CliIo } from '../../cli/program.js';
import { silentProgress } from '../../cli/progress.js';
import { generateApiKey } from '../../shared/auth/api-keys.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { penalty } from '../support/fixtures.js';
import { registerSource } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const OPERATOR_KEY = generateApiKey();
type Json = any;

let stack: StackProcess;
let sourceKey: string;
const ids: { approved: string; waiting: string } = { approved: '', waiting: '' };

/** Runs `hub …` with the operator key; its exit code and what it printed. */
async function hub(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    sourcesStore: () => {
      throw new Error('not used');
    },
    env: { HUB_URL: stack.url, HUB_KEY: OPERATOR_KEY },
    progress: silentProgress,
  };
  const code = await runHub(args, io);
  return { code, out: io.out, err: io.err };
}

async function post(path: string, key: string | undefined, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: tempDataDir('hub-e2e-cli-publication-'), HUB_OPERATOR_KEY: OPERATOR_KEY });
  sourceKey = await registerSource(stack.url, OPERATOR_KEY, { id: 'cli-pub', name: '市市场监督管理局', uscc: '91310115MA1K3BTP2B', role: 'department', kinds: ['penalty'] });
  const run = randomUUID().slice(0, 8);
  const today = todayInChina();
  const pushed = await post('/v1/submissions/penalty', sourceKey, { records: [penalty(`cli-${run}-1`, { CF_JDRQ: today }), penalty(`cli-${run}-2`, { CF_JDRQ: today })] });
  expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
  [ids.approved, ids.waiting] = pushed.body.results.map((r: Json) => r.id);
}, 180_000);

afterAll(async () => {
  await stack?.stop('SIGINT');
}, 60_000);

describe('hub reviews, records, policy and objections against the local stack', () => {
  it('approve: the record leaves the review queue that hub reviews list reads page by page', async () => {
    const before = await hub(['reviews', 'list', '--json']);
    expect(before.code, before.err).toBe(0);
    // Pushed in one request: the same arrival time, so their order between them is the store's.
    expect(JSON.parse(before.out).items.map((i: Json) => i.id).sort()).toEqual([ids.approved, ids.waiting].sort());

    const approved = await hub(['reviews', 'approve', ids.approved, '--note', '核实无误']);
    expect(approved.code, approved.err).toBe(0);
    expect(approved.out).toContain(`记录 record ${ids.approved}: 已批准公示 approved`);

    const after = await hub(['reviews', 'list', '--all', '--limit', '1', '--json']);
    expect(after.code, after.err).toBe(0);
    expect(JSON.parse(after.out).items.map((i: Json) => i.id)).toEqual([ids.waiting]);
    const table = await hub(['reviews', 'list']);
    expect(table.out).toContain(ids.waiting);
    expect(table.out).not.toContain(ids.approved);
  });

  it('repair before the grade’s minimum period: refused with the day it becomes possible, exit 1', async () => {
    const refused = await hub(['records', 'repair', ids.approved, '--reason', '已履行处罚决定']);
    expect(refused.code).toBe(1);
    const from = /possible from (\d{4}-\d{2}-\d{2})/.exec(refused.err)?.[1];
    expect(from, refused.err).toBeDefined();
    expect(from! > todayInChina()).toBe(true);
    expect(refused.err).toContain('[HTTP 409 repair_too_early]');
  });

  it('policy set and show round-trip through the hub', async () => {
    const set = await hub(['policy', 'set', '--add-kind', 'license', '--add-source', 'cli-pub']);
    expect(set.code, set.err).toBe(0);
    const shown = await hub(['policy', 'show', '--json']);
    expect(JSON.parse(shown.out).approvedOnArrival).toEqual({ kinds: ['license'], sources: ['cli-pub'] });
    const back = await hub(['policy', 'set', '--kinds', '', '--remove-source', 'cli-pub']);
    expect(back.code, back.err).toBe(0);
    expect(back.out.split('\n')[0]).toBe('所有记录均须审核后公示 (every record waits for review: nothing is approved on arrival)');
  });

  it('an objection on the approved record is listed with its deadlines and contact, and resolved: listed no more', async () => {
    const filed = await post('/v1/objections', undefined, { recordId: ids.approved, reason: '处罚决定已被撤销', contact: '13912345678' });
    expect(filed.status, JSON.stringify(filed.body)).toBe(202);
    const list = await hub(['objections', 'list', '--json']);
    expect(list.code, list.err).toBe(0);
    const [item] = JSON.parse(list.out).items;
    expect(item).toMatchObject({ id: filed.body.objectionId, recordId: ids.approved, contact: '13912345678', overdue: false });
    expect(item.acceptBy > todayInChina() && item.answerBy > item.acceptBy).toBe(true);
    const table = await hub(['objections', 'list']);
    expect(table.out).toContain(item.answerBy);

    const resolved = await hub(['objections', 'resolve', filed.body.objectionId, '--outcome', 'upheld', '--note', '记录无误']);
    expect(resolved.code, resolved.err).toBe(0);
    expect(resolved.out).toContain('维持 upheld');
    const after = await hub(['objections', 'list', '--json']);
    expect(JSON.parse(after.out).items).toEqual([]);
  });
});
