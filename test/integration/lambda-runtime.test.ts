/**
 * The local Lambda runtime (infra/local/lambda-runtime.ts): execution
 * environments in worker threads, cold starts, one invocation at a time per
 * environment, and invocations ended at the function's timeout with
 * everything they still had running.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_CACHE } from '../../infra/local/lambda-bundle.js';
import { workerInvoker, type InvokeOutcome } from '../../infra/local/lambda-runtime.js';

const entry = resolve(import.meta.dirname, '../support/lambda-handlers/probe.ts');
const dir = mkdtempSync(join(tmpdir(), 'hub-runtime-'));
const logged: string[] = [];
const runtime = workerInvoker({
  maxEnvironmentsPerFunction: 2,
  log: (line) => logged.push(line),
  functions: {
    probe: { entry, memoryMb: 128, timeoutSeconds: 1, environment: { PROBE_SETTING: 'own' } },
    slow: { entry, memoryMb: 128, timeoutSeconds: 1 },
    small: { entry, memoryMb: 32, timeoutSeconds: 10 },
  },
});

afterAll(async () => {
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

const result = (o: InvokeOutcome) => {
  if (o.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(o)}`);
  return o.result as { threadId: number; invocations: number; remainingAtStart: number; functionName: string; contextName: string };
};

describe('local Lambda runtime', () => {
  it('runs the module once per environment (cold start) and reuses a warm environment', async () => {
    const first = result(await runtime.invoke('probe', {}, 'r1'));
    const second = result(await runtime.invoke('probe', {}, 'r2'));
    expect(first.invocations).toBe(1);
    expect(second.threadId).toBe(first.threadId);
    expect(second.invocations).toBe(2);
  });

  it('gives the handler Lambda’s environment variables and a context counting down to the timeout', async () => {
    const r = result(await runtime.invoke('probe', {}, 'r3'));
    expect(r.functionName).toBe('credit-hub-probe');
    expect(r.contextName).toBe('credit-hub-probe');
    // The function's own constant environment (the catalogue's `environment`), and only its own.
    expect((r as unknown as { probeSetting: string }).probeSetting).toBe('own');
    expect((result(await runtime.invoke('small', {}, 'r3b')) as unknown as { probeSetting?: string }).probeSetting).toBeUndefined();
    expect(r.remainingAtStart).toBeGreaterThan(0);
    expect(r.remainingAtStart).toBeLessThanOrEqual(1000);
  });

  it('serves one invocation at a time per environment, with at most the configured number of environments', async () => {
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => runtime.invoke('probe', { sleepMs: 200 }, `c${i}`)));
    const threads = new Set(outcomes.map((o) => result(o).threadId));
    expect(threads.size).toBeLessThanOrEqual(2);
  });

  it('reports a thrown error as a function error', async () => {
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await runtime.invoke('probe', { fail: 'boom' }, 'e1')).toEqual({ status: 'error', errorType: 'Error', errorMessage: 'boom' });
    } finally {
      process.stderr.write = stderr;
    }
  });

  it('ends an invocation at the timeout: the environment is discarded and its pending work never runs', async () => {
    const file = join(dir, 'late-write.txt');
    const outcome = await runtime.invoke('slow', { sleepMs: 2500, writeFile: file }, 't1');
    expect(outcome).toEqual({ status: 'timeout', timeoutSeconds: 1 });
    expect(logged.some((l) => /credit-hub-slow t1 Task timed out after 1\.00 seconds/.test(l))).toBe(true);
    // Long after the handler would have written, nothing was written.
    await new Promise((r) => setTimeout(r, 2500));
    expect(existsSync(file)).toBe(false);
    // The next invocation gets a fresh environment (a cold start) and works.
    const next = result(await runtime.invoke('slow', { writeFile: file }, 't2'));
    expect(next.invocations).toBe(1);
    expect(readFileSync(file, 'utf8')).toMatch(/^written by \d+\n$/);
  });

  it('ends an environment that runs out of its memory, as Lambda does, and starts a new one after', async () => {
    const outcome = await runtime.invoke('small', { allocateMb: 400 }, 'm1');
    expect(outcome.status).toBe('crashed');
    expect(result(await runtime.invoke('small', {}, 'm2')).invocations).toBe(1);
  });
});

describe('local Lambda runtime, functions isolated in processes of their own', () => {
  const reports: string[] = [];
  const isolated = workerInvoker({
    maxEnvironmentsPerFunction: 1,
    log: (line) => reports.push(line),
    functions: {
      probe: { entry, memoryMb: 128, timeoutSeconds: 5 },
      slow: { entry, memoryMb: 128, timeoutSeconds: 1 },
      threaded: { entry, memoryMb: 128, timeoutSeconds: 5 },
    },
    isolation: (fn) => (fn === 'threaded' ? 'thread' : 'process'),
  });
  afterAll(() => isolated.close());

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const peakOf = (requestId: string) => Number(new RegExp(`RequestId: ${requestId}\\t.*Max Memory Used: (\\d+) MB`).exec(reports.join('\n'))?.[1]);

  it('runs the environment in another process, warm across invocations, with Lambda’s context', async () => {
    const first = result(await isolated.invoke('probe', {}, 'p1')) as ReturnType<typeof result> & { pid: number };
    const second = result(await isolated.invoke('probe', {}, 'p2')) as ReturnType<typeof result> & { pid: number };
    expect(first.pid).not.toBe(process.pid);
    expect(second.pid).toBe(first.pid);
    expect(second.invocations).toBe(2);
    expect(first.functionName).toBe('credit-hub-probe');
    expect(first.remainingAtStart).toBeLessThanOrEqual(5000);
  });

  it('runs the function’s bundle, built with the CDK stack’s options, in a process of its own', async () => {
    const got = result(await isolated.invoke('probe', {}, 'b1')) as ReturnType<typeof result> & { moduleUrl: string };
    const path = fileURLToPath(got.moduleUrl);
    expect(dirname(path)).toBe(BUNDLE_CACHE);
    expect(basename(path)).toMatch(/^lambda-handlers-probe-[0-9a-f]{16}\.mjs$/);
    // The bundle is minified as on Lambda: the probe's source is not in it as written.
    expect(readFileSync(path, 'utf8')).not.toContain('let invocations = 0;');
  });

  it('writes a REPORT line per invocation with the process’s peak memory, which grows with what the handler held', async () => {
    await isolated.invoke('probe', {}, 'q1');
    const before = peakOf('q1');
    expect(before).toBeGreaterThan(0);
    const touched = await isolated.invoke('probe', { touchMb: 200 }, 'q2');
    expect(touched.status).toBe('ok');
    expect(peakOf('q2')).toBeGreaterThanOrEqual(before + 150);
    const line = reports.find((l) => l.includes('RequestId: q2'))!;
    expect(line).toMatch(/^REPORT credit-hub-probe RequestId: q2\tDuration: [\d.]+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tCPU Time: [\d.]+ ms$/);
    // Touching 200 MB takes CPU time.
    expect(Number(/CPU Time: ([\d.]+)/.exec(line)![1])).toBeGreaterThan(0);
  });

  it('writes no REPORT line for a function in a worker thread (its memory is the stack’s)', async () => {
    expect((await isolated.invoke('threaded', {}, 'w1')).status).toBe('ok');
    expect(reports.some((l) => l.includes('RequestId: w1'))).toBe(false);
  });

  it('kills the process at the timeout: its pending work never runs', async () => {
    const warm = result(await isolated.invoke('slow', {}, 's0')) as ReturnType<typeof result> & { pid: number };
    const file = join(dir, 'late-write-process.txt');
    expect(await isolated.invoke('slow', { sleepMs: 2500, writeFile: file }, 's1')).toEqual({ status: 'timeout', timeoutSeconds: 1 });
    await new Promise((r) => setTimeout(r, 2500));
    expect(existsSync(file)).toBe(false);
    expect(alive(warm.pid)).toBe(false);
  });

  it('caps the heap at the function’s heapMb, below its memory: past it the environment dies as out of memory', async () => {
    const capped = workerInvoker({ log: () => undefined, functions: { probe: { entry, memoryMb: 512, heapMb: 48, timeoutSeconds: 10 } }, isolation: () => 'process' });
    try {
      expect((await capped.invoke('probe', {}, 'h0')).status).toBe('ok');
      // ~128 MB of live arrays: well within 512 MB, not within a 48 MB heap.
      expect((await capped.invoke('probe', { allocateMb: 128 }, 'h1')).status).toBe('crashed');
    } finally {
      await capped.close();
    }
  });

  it('close() ends every environment process', async () => {
    const own = workerInvoker({ log: () => undefined, functions: { probe: { entry, memoryMb: 128, timeoutSeconds: 5 } }, isolation: () => 'process' });
    const r = result(await own.invoke('probe', {}, 'c1')) as ReturnType<typeof result> & { pid: number };
    expect(alive(r.pid)).toBe(true);
    await own.close();
    expect(alive(r.pid)).toBe(false);
  });
});
