/**
 * `hub push` (cli/push-file.ts, through bin/hub.ts's runHub) against a small local HTTP server
 * standing in for the hub: chunked requests with Idempotency-Keys, the summary and the rejects
 * file, exit codes, retries, and resuming an interrupted push without applying anything twice.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runHub, type CliIo } from '../../cli/program.js';
import { CliError } from '../../cli/errors.js';
import { HubClient } from '../../cli/http-client.js';
import { silentProgress } from '../../cli/progress.js';
import { PUSH_LIMITS } from '../../cli/push-chunks.js';
import { formatPushSummary, pushFile, type PushFileOptions } from '../../cli/push-file.js';
import { loadPushState, progressPathFor } from '../../cli/push-state.js';
import { fieldOrder, PUSH_KINDS } from '../../contracts/kinds.js';
import { penalty } from '../support/fixtures.js';
import { captureIo as captureIoWith, GOOD_KEY, startFakeHub, type FakeHub } from './cli-fake-hub.js';

const dir = mkdtempSync(join(tmpdir(), 'hub-cli-push-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub();
});
afterEach(() => hub.close());

let n = 0;
/** An NDJSON file of `count` penalties; the records at `bad` carry an unknown field (rejected by the hub). */
function ndjson(count: number, bad: number[] = [], extra: string[] = []): string {
  const path = join(dir, `p${++n}.ndjson`);
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify(penalty(`${n}-${i}`, bad.includes(i) ? { bad: 1 } : {})));
  writeFileSync(path, [...lines, ...extra].join('\n') + '\n');
  return path;
}

const captureIo = (overrides: Partial<CliIo> = {}) => captureIoWith({ HUB_URL: hub.url, HUB_KEY: GOOD_KEY }, overrides);

function options(file: string, more: Partial<PushFileOptions> = {}): PushFileOptions {
  return {
    file,
    kind: 'penalty',
    format: 'ndjson',
    encoding: 'utf-8',
    rejectsPath: `${file}.rejects.ndjson`,
    progressPath: progressPathFor(file),
    limits: PUSH_LIMITS,
    concurrency: 2,
    ...more,
  };
}

const deps = (notices: string[] = [], signal?: AbortSignal) => ({
  client: new HubClient({ url: hub.url, key: GOOD_KEY }, { sleep: async () => undefined }),
  progress: silentProgress,
  notice: (l: string) => void notices.push(l),
  ...(signal ? { signal } : {}),
});

const pushes = () => hub.requests.filter((r) => r.path.startsWith('/v1/submissions/'));

describe('hub push', () => {
  it('pushes 2,500 records in requests of 1,000, 1,000 and 500, each with its Idempotency-Key; summary, rejects file, exit code 2', async () => {
    const file = ndjson(2500, [7, 1500], ['{"CF_WSH": broken']);
    const io = captureIo();
    const code = await runHub(['push', file, '--kind', 'penalty', '--json'], io);
    expect(io.err).toBe('');
    expect(code).toBe(2);
    expect(JSON.parse(io.out)).toEqual({
      file,
      kind: 'penalty',
      total: 2501,
      accepted: 2498,
      updated: 0,
      duplicates: 0,
      rejected: 3,
      late: 0,
      requests: 3,
      resumed: false,
      rejectsPath: `${file}.rejects.ndjson`,
      firstRejects: expect.any(Array),
    });
    // Two requests in flight: they may arrive in either order.
    expect(pushes().map((r) => r.json.records.length).sort((a, b) => b - a)).toEqual([1000, 1000, 500]);
    const keys = pushes().map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) expect(key).toMatch(/^hub-push:[0-9a-f-]{36}:\d+:[A-Za-z0-9_-]{22}$/);
    expect(pushes().every((r) => r.headers['content-type'] === 'application/json' && r.headers.authorization === `Bearer ${GOOD_KEY}`)).toBe(true);
    // The unreadable line was not sent; the rejects name lines and reasons, in file order.
    expect(readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { line: 8, reasons: [{ field: 'bad', message: '未知字段 (unknown field)' }] },
      { line: 1501, reasons: [{ field: 'bad', message: '未知字段 (unknown field)' }] },
      { line: 2501, reasons: [{ field: '', message: expect.stringContaining('不是有效的JSON') }] },
    ]);
    expect(existsSync(progressPathFor(file))).toBe(false);
    expect([...hub.writes.values()].every((w) => w === 1)).toBe(true);
  });

  it('prints a summary for a person, with the first rejected lines; exit 0 and no rejects file when nothing is rejected', async () => {
    const file = ndjson(30, [3]);
    const io = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty'], io)).toBe(2);
    expect(io.out).toContain('推送完成 (push done)');
    expect(io.out).toMatch(/新增 accepted\s+29\n/);
    expect(io.out).toMatch(/拒收 rejected\s+1\n/);
    expect(io.out).toContain('第4行 (line 4): bad: 未知字段 (unknown field)');
    const clean = ndjson(10);
    const again = captureIo();
    expect(await runHub(['push', clean, '--kind', 'penalty'], again)).toBe(0);
    expect(again.out).toMatch(/新增 accepted\s+10\n/);
    expect(existsSync(`${clean}.rejects.ndjson`)).toBe(false);
  });

  it('the same push again: new keys, everything a duplicate, nothing applied twice', async () => {
    const file = ndjson(2500);
    const first = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty', '--json'], first)).toBe(0);
    const firstKeys = pushes().map((r) => r.headers['idempotency-key']);
    const second = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty', '--json'], second)).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({ total: 2500, accepted: 0, updated: 0, duplicates: 2500, rejected: 0, resumed: false });
    expect(pushes().slice(3).map((r) => r.headers['idempotency-key'])).not.toContain(firstKeys[0]);
    expect(hub.replayed).toEqual([]);
    expect(hub.writes.size).toBe(2500);
    expect([...hub.writes.values()].every((w) => w === 1)).toBe(true);
  });

  it('resumes an interrupted push: answered chunks are not sent again, those in flight get their first answers back under the same keys', async () => {
    const file = ndjson(2500);
    // The second chunk (records 1000 …) is held; the first is answered.
    const secondChunk = penalty(`${n}-1000`).CF_WSH;
    const held = hub.hold((r) => r.json?.records?.[0]?.CF_WSH === secondChunk);
    const interrupt = new AbortController();
    const first = pushFile(options(file), deps([], interrupt.signal));
    const second = await held.reached; // the hub has done the second chunk's work; its answer is held
    // The first chunk's answer counted (the progress file moved past it), then the push is interrupted.
    await vi.waitFor(() => expect(loadPushState(progressPathFor(file))?.counts.total).toBe(1000), { timeout: 10_000 });
    interrupt.abort(new Error('interrupted'));
    await expect(first).rejects.toThrow('interrupted');
    held.release();

    const state = loadPushState(progressPathFor(file))!;
    expect(state.counts.total).toBe(1000);
    const sentBefore = pushes().map((r) => r.headers['idempotency-key']);
    expect(sentBefore).toContain(second.headers['idempotency-key']);

    const notices: string[] = [];
    const summary = await pushFile(options(file), deps(notices));
    expect(notices[0]).toContain('resuming the interrupted push: 1,000 records already answered');
    expect(summary).toMatchObject({ resumed: true, counts: { total: 2500, accepted: 2500, updated: 0, duplicates: 0, rejected: 0 } });
    const resent = pushes().slice(sentBefore.length);
    // Chunk 1 was not sent again; chunk 2 (and 3, if it had gone out) went again under the same key.
    expect(resent.map((r) => r.json.records[0].CF_WSH)).not.toContain(penalty(`${n}-0`).CF_WSH);
    expect(resent[0]!.headers['idempotency-key']).toBe(second.headers['idempotency-key']);
    expect(hub.replayed).toContain(second.headers['idempotency-key']);
    expect(hub.writes.size).toBe(2500);
    expect([...hub.writes.values()].every((w) => w === 1)).toBe(true);
    expect(existsSync(progressPathFor(file))).toBe(false);
  });

  it('keeps the rejects of the chunks answered before the interruption, without doubling those of a chunk cut off mid-write', async () => {
    const file = ndjson(300, [5, 150, 250]);
    const limits = { maxRecords: 100, maxBytes: PUSH_LIMITS.maxBytes };
    const held = hub.hold((r) => r.path.startsWith('/v1/submissions/') && pushes().length === 3);
    const interrupt = new AbortController();
    const first = pushFile(options(file, { limits, concurrency: 1 }), deps([], interrupt.signal));
    await held.reached;
    interrupt.abort(new Error('interrupted'));
    await expect(first).rejects.toThrow('interrupted');
    held.release();
    // A partial line, as if the push had died while writing the third chunk's rejects.
    writeFileSync(`${file}.rejects.ndjson`, readFileSync(`${file}.rejects.ndjson`, 'utf8') + '{"line":251,"rea');
    const summary = await pushFile(options(file, { limits: { maxRecords: 7, maxBytes: 1000 }, concurrency: 1 }), deps());
    expect(summary.counts).toMatchObject({ total: 300, rejected: 3 });
    // The summary shows the first rejected records of the whole file, those of the first run included.
    expect(summary.firstRejects.map((r) => r.line)).toEqual([6, 151, 251]);
    expect(readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l).line)).toEqual([6, 151, 251]);
  });

  it('starts afresh when the file changed since the interrupted push', async () => {
    const file = ndjson(200);
    const held = hub.hold((r) => r.path.startsWith('/v1/submissions/') && pushes().length === 2);
    const interrupt = new AbortController();
    const limits = { maxRecords: 100, maxBytes: PUSH_LIMITS.maxBytes };
    const first = pushFile(options(file, { limits, concurrency: 1 }), deps([], interrupt.signal));
    await held.reached;
    interrupt.abort(new Error('interrupted'));
    await expect(first).rejects.toThrow();
    held.release();
    const before = loadPushState(progressPathFor(file))!;
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const notices: string[] = [];
    const summary = await pushFile(options(file, { limits, concurrency: 1 }), deps(notices));
    expect(notices[0]).toContain('starting afresh');
    expect(summary).toMatchObject({ resumed: false, counts: { total: 200, accepted: 0, duplicates: 200 } });
    expect(pushes().slice(-2).every((r) => !String(r.headers['idempotency-key']).includes(before.runId))).toBe(true);
  });

  it('waits out 503 and 429 with Retry-After and still counts every record once', async () => {
    const file = ndjson(1500);
    hub.answerNext((r) => r.path.startsWith('/v1/submissions/'), { status: 503, headers: { 'retry-after': '5' } }, { status: 429, headers: { 'retry-after': '1' } });
    const waits: number[] = [];
    const client = new HubClient({ url: hub.url, key: GOOD_KEY }, { sleep: async (ms) => void waits.push(ms), random: () => 0 });
    const summary = await pushFile(options(file), { client, progress: silentProgress, notice: () => undefined });
    expect(summary.counts).toMatchObject({ total: 1500, accepted: 1500 });
    expect(waits).toEqual([5000, 1000]);
  });

  it('shows each retry on the progress line: how long it waits and why', async () => {
    const file = ndjson(10);
    hub.answerNext((r) => r.path.startsWith('/v1/submissions/'), { status: 503, headers: { 'retry-after': '5' } });
    const notes: string[] = [];
    const io = captureIo({ progress: () => ({ update() {}, setTotal() {}, note: (t) => void notes.push(t), stop() {} }), client: { sleep: async () => undefined, random: () => 0 } });
    expect(await runHub(['push', file, '--kind', 'penalty'], io)).toBe(0);
    expect(notes).toEqual(['hub: 5秒后重试 (retry 1/9 of push in 5 s: 503 unavailable)']);
  });

  it('reads GB18030 CSV with quoted line feeds, and names the physical line of each rejected record', async () => {
    const columns = fieldOrder(PUSH_KINDS.penalty);
    const cell = (v: unknown) => (v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
    const rows = [
      penalty('csv-1', { CF_SY: '第一行\n第二行，"引号"' }),
      penalty('csv-2', { CF_XDR_MC: '𠮷' }),
      penalty('csv-3', { CF_WSH: '' }), // no CF_WSH: rejected by the hub
    ];
    const text = [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
    const file = join(dir, 'penalties.csv');
    writeFileSync(file, iconv.encode(text, 'gb18030'));
    const io = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty', '--encoding', 'gb18030', '--json'], io)).toBe(2);
    expect(JSON.parse(io.out)).toMatchObject({ total: 3, accepted: 2, rejected: 1, firstRejects: [{ line: 5, reasons: [{ field: 'CF_WSH' }] }] });
    expect(pushes()[0]!.json.records[1].CF_XDR_MC).toBe('𠮷');
    expect(pushes()[0]!.json.records[0].CF_SY).toBe('第一行\n第二行，"引号"');
  });

  it('sends nothing and leaves nothing behind for an invalid file', async () => {
    const file = join(dir, 'wrong.ndjson');
    writeFileSync(file, iconv.encode(Array.from({ length: 5 }, (_, i) => JSON.stringify(penalty(i))).join('\n'), 'gb18030'));
    const io = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty'], io)).toBe(1);
    expect(io.err).toMatch(/^hub: 文件无效 \(invalid file\) .*use --encoding gb18030\)\n$/);
    expect(pushes()).toHaveLength(0);
    expect(existsSync(progressPathFor(file))).toBe(false);
    expect(existsSync(`${file}.rejects.ndjson`)).toBe(false);
  });

  it('fails with one line and exit code 1 when the key may not push the kind (403) or is unknown (401)', async () => {
    const file = ndjson(5);
    const forbidden = captureIo({ env: { HUB_URL: hub.url, HUB_KEY: 'hub_operator-key' } });
    expect(await runHub(['push', file, '--kind', 'penalty'], forbidden)).toBe(1);
    expect(forbidden.err).toBe('hub: 推送失败 (push failed): 此数据源不能报送penalty (this source may not push penalty) [HTTP 403 forbidden] 此操作需要另一角色或种类的密钥 (this needs a key of another role or kind)\n');
    const unknown = captureIo({ env: { HUB_URL: hub.url, HUB_KEY: 'hub_nobody' } });
    expect(await runHub(['push', file, '--kind', 'penalty'], unknown)).toBe(1);
    expect(unknown.err).toContain('[HTTP 401 unauthorized] 请检查 --key 或 HUB_KEY');
    expect(forbidden.out + unknown.out).toBe('');
  });

  it('--records-per-request and --concurrency are checked', async () => {
    const file = ndjson(5);
    const io = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty', '--records-per-request', '1001'], io)).toBe(1);
    expect(io.err).toBe('hub: --records-per-request 须为1到1000的整数 (--records-per-request must be an integer from 1 to 1000)\n');
    const small = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty', '--records-per-request', '2', '--concurrency', '1'], small)).toBe(0);
    expect(pushes().map((r) => r.json.records.length)).toEqual([2, 2, 1]);
  });

  it('Ctrl-C (SIGINT) stops the real CLI with exit code 130 and a line saying how to resume; running it again finishes the push', async () => {
    const file = ndjson(300);
    const held = hub.hold((r) => r.path.startsWith('/v1/submissions/') && pushes().length === 2);
    const args = ['--import', 'tsx', 'bin/hub.ts', 'push', file, '--kind', 'penalty', '--records-per-request', '100', '--concurrency', '1'];
    const child = spawn(process.execPath, args, { cwd: resolve(import.meta.dirname, '../..'), env: { ...process.env, HUB_URL: hub.url, HUB_KEY: GOOD_KEY } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((r) => child.once('close', r));
    await held.reached;
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    held.release();
    expect(stderr).toMatch(/hub: 已中断 \(interrupted\); 重新运行同一命令即可从中断处继续推送 \(run the same push again to resume; [^\n]*\)\n$/);
    expect(loadPushState(progressPathFor(file))!.counts.total).toBe(100);
    const again = captureIo();
    expect(await runHub(['push', file, '--kind', 'penalty', '--records-per-request', '100', '--json'], again)).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ total: 300, accepted: 300, resumed: true });
    expect(hub.replayed).toHaveLength(1);
  }, 60_000);

  it('the summary counts late records on a line of their own', () => {
    const text = formatPushSummary({ file: 'a.ndjson', kind: 'penalty', counts: { total: 3, accepted: 2, updated: 1, duplicates: 0, rejected: 0, late: 2 }, requests: 1, resumed: false, firstRejects: [] });
    expect(text).toContain('其中2条逾期报送 (2 of the accepted or updated records are flagged late');
  });

  it('an answer that does not match the records sent is an error, not a count', async () => {
    const file = ndjson(3);
    hub.answerNext((r) => r.path.startsWith('/v1/submissions/'), { status: 200, body: { accepted: 1, updated: 0, duplicates: 0, rejected: 0, results: [{ index: 0, status: 'accepted' }] } });
    await expect(pushFile(options(file), deps())).rejects.toThrow(CliError);
    await expect(pushFile(options(join(dir, 'none.ndjson')), deps())).rejects.toThrow('文件不存在 (no such file)');
  });
});
