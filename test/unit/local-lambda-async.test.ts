/**
 * Lambda's asynchronous invocation on this machine (infra/local/lambda-async.ts): the caller is answered
 * at once; a function error, timeout or crash is tried twice more after Lambda's delays (about one and
 * two minutes), with the same request id, then dropped and logged; a stop drops the retries still due.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { asyncInvocations, LAMBDA_ASYNC_RETRY_DELAYS_MS } from '../../infra/local/lambda-async.js';
import type { FunctionInvoker, InvokeOutcome } from '../../infra/local/lambda-runtime.js';

/** A runtime whose invocations answer the given outcomes in turn, recording when each began. */
function scriptedInvoker(outcomes: InvokeOutcome[]): FunctionInvoker & { calls: { fn: string; event: unknown; requestId: string; at: number }[] } {
  const calls: { fn: string; event: unknown; requestId: string; at: number }[] = [];
  return {
    calls,
    invoke: async (fn, event, requestId) => {
      calls.push({ fn, event, requestId, at: Date.now() });
      return outcomes.shift() ?? { status: 'ok', result: null };
    },
    close: async () => undefined,
  };
}

const T0 = Date.parse('2030-01-01T00:00:00Z');
let logged: string[];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  logged = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('asynchronous invocations', () => {
  it('returns a request id at once and runs the function with the event', async () => {
    const invoker = scriptedInvoker([]);
    const invocations = asyncInvocations({ invoker, log: (l) => logged.push(l) });
    const id = invocations.invoke('ingest', { sweep: true }, 'test');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await invocations.idle();
    expect(invoker.calls).toEqual([{ fn: 'ingest', event: { sweep: true }, requestId: id, at: T0 }]);
    expect(logged).toEqual([]);
  });

  it('tries a failing function twice more, after about one and then two minutes, with the same request id, then drops the event and says so', async () => {
    expect(LAMBDA_ASYNC_RETRY_DELAYS_MS).toEqual([60_000, 120_000]);
    const invoker = scriptedInvoker([
      { status: 'error', errorType: 'Error', errorMessage: 'boom' },
      { status: 'timeout', timeoutSeconds: 900 },
      { status: 'crashed', errorMessage: 'out of memory' },
    ]);
    const invocations = asyncInvocations({ invoker, log: (l) => logged.push(l) });
    const id = invocations.invoke('ingest', { n: 1 }, 's3 hub-batches');
    let idle = false;
    void invocations.idle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(invoker.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(invoker.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(invoker.calls.map((c) => [c.requestId, c.at - T0])).toEqual([
      [id, 0],
      [id, 60_000],
      [id, 180_000],
    ]);
    expect(idle).toBe(true);
    expect(logged).toEqual([
      `credit-hub-ingest ${id} async invocation (s3 hub-batches) failed, attempt 1: Error: boom; retrying in 60 s`,
      `credit-hub-ingest ${id} async invocation (s3 hub-batches) failed, attempt 2: Task timed out after 900.00 seconds; retrying in 120 s`,
      `credit-hub-ingest ${id} async invocation (s3 hub-batches) dropped after 3 attempts: the execution environment crashed: out of memory`,
    ]);
  });

  it('stops retrying once an attempt succeeds', async () => {
    const invoker = scriptedInvoker([{ status: 'error', errorType: 'Error', errorMessage: 'once' }, { status: 'ok', result: 1 }]);
    const invocations = asyncInvocations({ invoker, retryDelaysMs: [10, 10], log: (l) => logged.push(l) });
    invocations.invoke('ingest', {}, 'test');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(invoker.calls).toHaveLength(2);
    expect(logged).toHaveLength(1);
  });

  it('drops the retries still due when closed, runs nothing after, and says so', async () => {
    const invoker = scriptedInvoker([{ status: 'error', errorType: 'Error', errorMessage: 'boom' }]);
    const invocations = asyncInvocations({ invoker, log: (l) => logged.push(l) });
    invocations.invoke('ingest', {}, 'test');
    await vi.advanceTimersByTimeAsync(1);
    expect(vi.getTimerCount()).toBe(1);
    invocations.close();
    expect(vi.getTimerCount()).toBe(0);
    await invocations.idle();
    invocations.invoke('ingest', {}, 'late');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(invoker.calls).toHaveLength(1);
    expect(logged.slice(1)).toEqual([
      'async invocations: 1 waiting for a retry dropped (the stack is stopping)',
      expect.stringMatching(/^credit-hub-ingest \S+ async invocation \(late\) dropped: the stack is stopping$/),
    ]);
  });

  it('tells its observer the outcome of every attempt', async () => {
    const seen: [string, number, string][] = [];
    const invoker = scriptedInvoker([{ status: 'error', errorType: 'Error', errorMessage: 'x' }]);
    const invocations = asyncInvocations({ invoker, retryDelaysMs: [5], log: () => undefined, onOutcome: (fn, _id, n, o) => seen.push([fn, n, o.status]) });
    invocations.invoke('ingest', {}, 'test');
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).toEqual([
      ['ingest', 1, 'error'],
      ['ingest', 2, 'ok'],
    ]);
  });
});
