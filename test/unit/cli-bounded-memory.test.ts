/**
 * The `hub` command line's memory does not grow with the file: the real CLI (a child process)
 * pushes a file twice the size of the JavaScript heap it is allowed, and uploads a 1 GiB court
 * batch with a resident set far below the file's size.
 */
import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ndjsonLine, sampleRows } from '../support/batch-sample/index.js';
import { penalty } from '../support/fixtures.js';
import { GOOD_KEY, startFakeHub, type FakeHub } from './cli-fake-hub.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'hub-cli-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub({ storeRecords: false });
});
afterEach(() => hub.close());

const MiB = 1024 * 1024;

/** Runs the CLI with `nodeOptions`; its exit code, output and peak resident set (VmHWM) in bytes. */
async function runCli(nodeOptions: string[], args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakRss: number }> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', 'bin/hub.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, HUB_URL: hub.url, HUB_KEY: GOOD_KEY },
  });
  let stdout = '';
  let stderr = '';
  let peakRss = 0;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const sample = () => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (kb) peakRss = Math.max(peakRss, Number(kb) * 1024);
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 25);
  const code = await new Promise<number | null>((r) => child.once('close', r));
  clearInterval(timer);
  return { code, stdout, stderr, peakRss };
}

describe('bounded memory', () => {
  it('pushes a 100 MB file with a 48 MB JavaScript heap: records are not kept once answered', async () => {
    const file = join(dir, 'many.ndjson');
    const out = createWriteStream(file);
    for (let i = 0; i < 180_000; i++) if (!out.write(`${JSON.stringify(penalty(`mem-${i}`))}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((r) => out.end(() => r()));
    expect(statSync(file).size).toBeGreaterThan(2 * 48 * MiB);
    const run = await runCli(['--max-old-space-size=48'], ['push', file, '--kind', 'penalty', '--json']);
    expect(run.stderr).not.toContain('heap');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 180_000, accepted: 180_000, requests: 180 });
  }, 240_000);

  it('uploads a 1 GiB batch file streamed from disk: the resident set stays far below the file', async () => {
    const file = join(dir, 'huge.ndjson');
    // Real rows first (the CLI checks the start of the file as the hub would), then a sparse gigabyte.
    const fd = openSync(file, 'w');
    writeSync(fd, [...sampleRows({ rows: 40, seed: 3 })].map((r) => ndjsonLine(r.fields)).join(''));
    ftruncateSync(fd, 1024 * MiB);
    closeSync(fd);
    hub.batchPlan = { ...hub.batchPlan, rejected: 0 };
    const run = await runCli([], ['batch', 'upload', file, '--json']);
    expect(run.stderr).not.toMatch(/^hub: .*(失败|failed)/m);
    expect(run.code).toBe(0);
    const [batch] = [...hub.batches.values()];
    expect(batch!.uploaded!.bytes).toBe(1024 * MiB);
    expect(run.peakRss).toBeGreaterThan(0);
    expect(run.peakRss).toBeLessThan(400 * MiB);
  }, 240_000);
});
