/**
 * The `hub` command line end to end: the real CLI (`node --import tsx bin/hub.ts …`, a child
 * process, as a person runs it) against the local stack in another child process. Sources
 * add / list / rotate-key; a push of 2,500 penalties with the summary's counts, then the same
 * push again (all duplicates, nothing stored twice); a push killed with SIGKILL part-way and run
 * again (resumed: every record stored exactly once, the summary as if it had run once); a court
 * batch uploaded, followed to the end and its rejected rows saved next to the file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressPathFor } from '../../cli/push-state.js';
import { generateApiKey } from '../../shared/auth/api-keys.js';
import { writeBatch } from '../support/batch-sample/index.js';
import { license, penalty, SOURCE_USCC } from '../support/fixtures.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';
import { scanRecordsTable } from '../support/stack-records-table.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OPERATOR_KEY = generateApiKey();
const dataDir = tempDataDir('hub-cli-e2e-');
const files = mkdtempSync(join(tmpdir(), 'hub-cli-e2e-files-'));
let stack: StackProcess;
const keys: { court?: string; department?: string } = {};
const running = new Set<ChildProcess>();

beforeAll(async () => {
  stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY });
}, 120_000);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await stack?.stop('SIGINT');
  rmSync(files, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `done` resolves when it has exited. */
function start(args: string[], key: string): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/hub.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, HUB_URL: stack.url, HUB_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((r) =>
    child.once('close', (code, signal) => {
      running.delete(child);
      r({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

const hub = (args: string[], key: string | undefined = OPERATOR_KEY) => start(args, need(key)).done;
/** A key an earlier test made (a test run on its own would otherwise use another one silently). */
function need(key: string | undefined): string {
  if (key === undefined) throw new Error('this test needs the sources the first test registers');
  return key;
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ndjsonFile(name: string, records: Record<string, unknown>[]): string {
  const path = join(files, name);
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

/** Stored records of a kind (by id prefix): how many, and whether each was written exactly once. */
async function stored(prefix: string): Promise<{ count: number; writtenOnce: boolean }> {
  const items = [...(await scanRecordsTable(stack.output(), dataDir)).entries()].filter(([id]) => id.startsWith(prefix));
  return { count: items.length, writtenOnce: items.every(([, r]) => r.head?.version === 1 && r.versions.size === 0 && r.other.length === 0) };
}

describe('hub sources', () => {
  it('add prints the key alone on stdout; list shows the sources; rotate-key gives a new key and the old one stops working', async () => {
    const added = await hub(['sources', 'add', '--id', 'shi-scjgj', '--name', '市市场监督管理局', '--uscc', SOURCE_USCC, '--role', 'department', '--kinds', 'penalty,license']);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^hub_[A-Za-z0-9_-]{43}\n$/);
    expect(added.stderr).not.toContain(added.stdout.trim());
    const court = await hub(['sources', 'add', '--id', 'bj-1zy', '--name', '北京市第一中级人民法院', '--uscc', SOURCE_USCC, '--role', 'court', '--kinds', 'dishonest-debtor']);
    expect(court.code).toBe(0);
    keys.court = court.stdout.trim();

    const list = await hub(['sources', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^bj-1zy\s+北京市第一中级人民法院\s+court\s+dishonest-debtor\s+91110000600037341L\s/);
    expect(lines[2]).toMatch(/^shi-scjgj\s+市市场监督管理局\s+department\s+penalty,license\s/);

    const rotated = await hub(['sources', 'rotate-key', 'shi-scjgj']);
    expect(rotated.code).toBe(0);
    keys.department = rotated.stdout.trim();
    expect(keys.department).toMatch(/^hub_[A-Za-z0-9_-]{43}$/);
    const old = await hub(['push', ndjsonFile('one.ndjson', [penalty('cli-old-key')]), '--kind', 'penalty'], added.stdout.trim());
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/^hub: 推送失败 \(push failed\): .*\[HTTP 401 unauthorized\] 请检查 --key 或 HUB_KEY \(check --key or HUB_KEY\)\n$/);

    const taken = await hub(['sources', 'add', '--id', 'shi-scjgj', '--name', 'x', '--uscc', SOURCE_USCC, '--role', 'department', '--kinds', 'penalty']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^hub: 登记数据源shi-scjgj失败 .*\[HTTP 409 source_exists\]\n$/);
    expect(taken.stdout).toBe('');
  }, 60_000);
});

describe('hub push', () => {
  const bad = new Set([10, 999, 2400]);
  const records = Array.from({ length: 2500 }, (_, i) => penalty(`cli-${i}`, bad.has(i) ? { CF_JDRQ: '2025-02-30' } : {}));

  it('pushes 2,500 penalties: the counts, the rejected lines with their reasons, exit 2; the same push again is all duplicates and stores nothing twice', async () => {
    const file = ndjsonFile('penalties.ndjson', records);
    const first = await hub(['push', file, '--kind', 'penalty', '--json'], keys.department);
    // Nothing went wrong. On a busy machine a request of 1,000 new records (1,000 conditional puts into DynamoDB
    // Local) may meet its deadline and be answered 503: the CLI then sends it again with its Idempotency-Key, and says
    // so. That notice is allowed; no other line is.
    const notices = first.stderr.split('\n').filter((l) => l.startsWith('hub: '));
    expect(notices.filter((l) => !/\(retry \d+\/\d+ of push in \d+ s: (503|429) /.test(l))).toEqual([]);
    expect(first.code).toBe(2);
    expect(JSON.parse(first.stdout)).toMatchObject({ total: 2500, accepted: 2497, updated: 0, duplicates: 0, rejected: 3, requests: 3, resumed: false, rejectsPath: `${file}.rejects.ndjson` });
    const rejects = readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects.map((r) => r.line)).toEqual([11, 1000, 2401]);
    expect(rejects[0].reasons).toEqual([{ field: 'CF_JDRQ', message: expect.stringContaining('日期不存在') }]);
    expect(existsSync(progressPathFor(file))).toBe(false);

    const again = await hub(['push', file, '--kind', 'penalty'], keys.department);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/记录 records\s+2,500\n {2}新增 accepted\s+0\n {2}更新 updated\s+0\n {2}重复 duplicates\s+2,497\n {2}拒收 rejected\s+3\n/);
    expect(again.stdout).toContain('第11行 (line 11): CF_JDRQ: 日期不存在');
    expect(await stored('pen_')).toEqual({ count: 2497, writtenOnce: true });
  }, 120_000);

  it('a push killed with SIGKILL part-way resumes when run again: every record stored exactly once, the counts as if it had run once', async () => {
    const file = ndjsonFile('licences.ndjson', Array.from({ length: 2500 }, (_, i) => license(`cli-resume-${i}`)));
    const args = ['push', file, '--kind', 'license', '--records-per-request', '250', '--json'];
    const { child, done } = start(args, need(keys.department));
    // Killed once some chunks are answered (the progress file says so), others still to send.
    let answered = 0;
    for (let i = 0; i < 1200 && answered < 500; i++) {
      await pause(50);
      try {
        answered = JSON.parse(readFileSync(progressPathFor(file), 'utf8')).counts.total;
      } catch {
        // not written yet
      }
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const left = JSON.parse(readFileSync(progressPathFor(file), 'utf8'));
    expect(left.counts.total).toBeGreaterThanOrEqual(500);
    expect(left.counts.total).toBeLessThan(2500);

    const resumed = await hub(args, keys.department);
    expect(resumed.stderr).toContain('resuming the interrupted push');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ total: 2500, accepted: 2500, updated: 0, duplicates: 0, rejected: 0, resumed: true });
    expect(existsSync(progressPathFor(file))).toBe(false);
    expect(existsSync(`${file}.rejects.ndjson`)).toBe(false);
    expect(await stored('lic_')).toEqual({ count: 2500, writtenOnce: true });
  }, 180_000);

  it('an unreachable hub, a missing key, an invalid file: one line, exit 1, no stack trace', async () => {
    const file = ndjsonFile('small.ndjson', [penalty('cli-small')]);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = await new Promise<Run>((r) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bin/hub.ts', 'push', file, '--kind', 'penalty'], { cwd: ROOT, env: { ...process.env, HUB_URL: `http://127.0.0.1:${port}`, HUB_KEY: 'k' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (code, signal) => r({ code, signal, stdout: '', stderr }));
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`hub: 无法连接hub (cannot reach the hub at http://127.0.0.1:${port}: ECONNREFUSED) — 推送未完成 (push not done)；请检查 --url 或 HUB_URL (check --url or HUB_URL)\n`);
    const noKey = await hub(['push', file, '--kind', 'penalty'], '');
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toBe('hub: 缺少密钥 (no API key: give --key or set HUB_KEY)\n');
    const csv = join(files, 'wrong.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    const invalid = await hub(['push', csv, '--kind', 'penalty'], keys.department);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^hub: 文件无效 \(invalid file\) .*unknown columns "a", "b"[^\n]*\n$/);
  }, 60_000);
});

describe('hub batch upload', () => {
  it('uploads a GB18030 CSV court batch, follows it to the end: the counts of the sample manifest, the rejected rows saved next to the file, exit 2', async () => {
    const file = join(files, 'court.csv');
    const manifest = await writeBatch(file, { rows: 2000, format: 'csv', encoding: 'gb18030', bad: 0.02, seed: 17 });
    const up = await hub(['batch', 'upload', file, '--encoding', 'gb18030', '--json'], keys.court);
    expect(up.code).toBe(2);
    const outcome = JSON.parse(up.stdout);
    expect(outcome).toMatchObject({ status: 'completed', ...manifest.expected, rejectsPath: `${file}.rejects.ndjson` });
    expect(up.stderr).toContain(`batch created): ${outcome.batchId}`);
    const rejected = readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rejected).toHaveLength(manifest.expected.rejected);
    const badLines = Object.values(manifest.badByKind).flatMap((l) => l!.first.map((b) => b.line));
    expect(rejected.map((r) => r.line).sort((a, b) => a - b)).toEqual(badLines.sort((a, b) => a - b));

    const status = await hub(['batch', 'status', outcome.batchId, '--json'], keys.court);
    expect(status.code).toBe(2);
    expect(JSON.parse(status.stdout)).toMatchObject({ batchId: outcome.batchId, status: 'completed', ...manifest.expected });
    const other = await hub(['batch', 'status', outcome.batchId], keys.department);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^hub: 查询批次\S+失败 .*\[HTTP (403 forbidden|404 not_found)\]/);
  }, 180_000);
});
