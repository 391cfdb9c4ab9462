/**
 * `hub jobs run JOB [--as-of] [--wait] [--json]` and `hub jobs status RUN [--json]` (cli/jobs.ts, cli/program.ts)
 * against the CLI's fake hub, its answers scripted as API.md's jobs routes give them.
 */
import { describe, expect, it } from 'vitest';
import { runHub, type CliIo } from '../../cli/program.js';
import type { ProgressFactory } from '../../cli/progress.js';
import { useFakeHub, type Received } from './cli-fake-hub.js';

const fake = useFakeHub();

const RUN = 'run_abcdefghijklmnopqrstuvwxyz';
const counts = (records: number, bytes = 0) => ({ changes: records, owed: 0, skipped: 0, records, bytes });
const status = (s: string, more: Record<string, unknown> = {}) => ({ runId: RUN, job: 'sync-provincial', status: s, counts: counts(0), asOf: '2031-03-04', requestedBy: 'operator', createdAt: 'c', to: 't', ...more });

function captureIo(): CliIo & { out: string; err: string; lines: string[] } {
  const lines: string[] = [];
  const progress: ProgressFactory = (view, _total, payload) => ({
    update: (value, p) => void lines.push(view.render({ value, total: 0, eta: NaN }, p, undefined)),
    setTotal: () => undefined,
    note: () => undefined,
    stop: () => void lines.push(view.render({ value: 0, total: 0, eta: NaN }, payload, 'stopped')),
  });
  return Object.assign(fake.captureIo(undefined, { progress, jobPollMs: 0 }), { lines });
}

const startsJob = (r: Received) => r.method === 'POST' && r.path.startsWith('/v1/jobs/');
const readsRun = (r: Received) => r.method === 'GET' && r.path === `/v1/jobs/runs/${RUN}`;

describe('hub jobs run', () => {
  it('prints the runId alone on stdout; sends {} or {"asOf"} to POST /v1/jobs/{name}', async () => {
    fake.hub.answerNext(startsJob, { status: 202, body: { runId: RUN } }, { status: 202, body: { runId: RUN } });
    const io = captureIo();
    expect(await runHub(['jobs', 'run', 'sync-provincial'], io)).toBe(0);
    expect(io.out).toBe(`${RUN}\n`);
    expect(fake.hub.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/jobs/sync-provincial', json: {} });
    const asOf = captureIo();
    expect(await runHub(['jobs', 'run', 'sync-national', '--as-of', '2031-03-01'], asOf)).toBe(0);
    expect(fake.hub.requests.at(-1)).toMatchObject({ path: '/v1/jobs/sync-national', json: { asOf: '2031-03-01' } });
  });

  it('--wait follows the run with its counts on a progress line until completed, then prints the counts; exit 0', async () => {
    fake.hub.answerNext(startsJob, { status: 202, body: { runId: RUN } });
    fake.hub.answerNext(
      readsRun,
      { status: 200, body: status('waiting') },
      { status: 200, body: status('running', { counts: counts(1200) }) },
      { status: 200, body: status('completed', { counts: counts(2500, 40960), from: 'f' }) },
    );
    const io = captureIo();
    expect(await runHub(['jobs', 'run', 'sync-provincial', '--wait'], io)).toBe(0);
    expect(io.err).toContain(`started) sync-provincial: ${RUN}`);
    expect(io.lines.some((l) => l.includes('运行中 running') && l.includes('1,200 条 records'))).toBe(true);
    expect(io.out).toMatch(/^运行 run run_\w+ \(sync-provincial\): 已完成 completed\n/);
    expect(io.out).toMatch(/记录 records\s+2,500\n/);
    expect(io.out).toContain('40 KB');
  });

  it('--wait on a run that fails: the reason on stdout and stderr, exit 1; --json prints the final status as JSON', async () => {
    fake.hub.answerNext(startsJob, { status: 202, body: { runId: RUN } });
    fake.hub.answerNext(readsRun, { status: 200, body: status('failed', { reason: 'another run of sync-provincial is in progress (run_x)' }) });
    const io = captureIo();
    expect(await runHub(['jobs', 'run', 'sync-provincial', '--wait', '--json'], io)).toBe(1);
    expect(JSON.parse(io.out)).toMatchObject({ runId: RUN, status: 'failed', reason: 'another run of sync-provincial is in progress (run_x)' });
    expect(io.err).toContain(`hub: 运行失败 (run ${RUN} failed): another run of sync-provincial is in progress (run_x)`);
  });

  it('a job the hub does not have: its 404 in one line, exit 1; a bad --as-of is refused before anything is sent', async () => {
    fake.hub.answerNext(startsJob, { status: 404, body: { error: { code: 'not_found', message: '任务publish尚未提供 (job publish is not available yet)', details: [] } } });
    const io = captureIo();
    expect(await runHub(['jobs', 'run', 'publish'], io)).toBe(1);
    expect(io.err).toMatch(/^hub: .*job publish is not available yet.*\[HTTP 404 not_found\]\n$/);
    fake.forgetSent();
    const bad = captureIo();
    expect(await runHub(['jobs', 'run', 'sync-provincial', '--as-of', 'yesterday'], bad)).toBe(1);
    expect(bad.err).toContain('--as-of must be a date YYYY-MM-DD');
    expect(fake.sent()).toEqual([]);
  });
});

describe('hub jobs status', () => {
  it('prints the status readably, or as JSON; a running run exits 0, a failed one 1', async () => {
    fake.hub.answerNext(readsRun, { status: 200, body: status('running', { counts: counts(3), from: '2031-03-03T00:00:00.000Z' }) }, { status: 200, body: status('completed', { counts: counts(7) }) });
    const io = captureIo();
    expect(await runHub(['jobs', 'status', RUN], io)).toBe(0);
    expect(io.out).toContain('运行中 running');
    expect(io.out).toContain('2031-03-03T00:00:00.000Z → t');
    const json = captureIo();
    expect(await runHub(['jobs', 'status', RUN, '--json'], json)).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ status: 'completed', counts: { records: 7 } });
  });

  it('an unknown run: 404 in one line, exit 1; an answer that is not a run status is said so', async () => {
    fake.hub.answerNext(readsRun, { status: 404, body: { error: { code: 'not_found', message: '没有运行记录 (unknown run id)', details: [] } } }, { status: 200, body: { hello: 1 } });
    const io = captureIo();
    expect(await runHub(['jobs', 'status', RUN], io)).toBe(1);
    expect(io.err).toContain('unknown run id');
    const odd = captureIo();
    expect(await runHub(['jobs', 'status', RUN], odd)).toBe(1);
    expect(odd.err).toContain('unexpected run status');
  });
});
