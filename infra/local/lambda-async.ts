/**
 * Lambda's asynchronous invocation on this machine (InvocationType `Event`: what S3 notifications,
 * EventBridge schedules and a function invoking another one use). The event is queued and the caller
 * answered at once; the function then runs in its execution environments (lambda-runtime.ts). On a
 * function error, a timeout or a crashed environment, Lambda tries twice more — after about a minute,
 * then two — with the same request id, and then drops the event (no on-failure destination here):
 * that is logged. The queue lives in this process only, as on Lambda nothing durable should depend on
 * it: a batch's checkpoint in DynamoDB and the sweep schedule recover what a lost event leaves undone.
 */
import { randomUUID } from 'node:crypto';
import { localFunctionName } from '../catalogue.js';
import type { FunctionInvoker, InvokeOutcome } from './lambda-runtime.js';

/** Lambda's waits before the second and the third attempt. */
export const LAMBDA_ASYNC_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

export interface AsyncInvocationsOptions {
  invoker: FunctionInvoker;
  /** Waits before each retry; Lambda's by default (two retries). */
  retryDelaysMs?: readonly number[];
  log?: (line: string) => void;
  /** Told of each attempt's outcome (tests, diagnostics). */
  onOutcome?: (fn: string, requestId: string, attempt: number, outcome: InvokeOutcome) => void;
}

export interface AsyncInvocations {
  /** Queues an invocation and returns its request id at once. `source` says who asked, for the log. */
  invoke(fn: string, event: unknown, source: string): string;
  /** Resolves once nothing is running or waiting for a retry. */
  idle(): Promise<void>;
  /** Drops the retries still waiting; invocations already running end with the runtime (a stop is a crash to them). */
  close(): void;
}

function describe(outcome: Exclude<InvokeOutcome, { status: 'ok' }>): string {
  switch (outcome.status) {
    case 'error':
      return `${outcome.errorType}: ${outcome.errorMessage}`;
    case 'timeout':
      return `Task timed out after ${outcome.timeoutSeconds.toFixed(2)} seconds`;
    case 'crashed':
      return `the execution environment crashed: ${outcome.errorMessage}`;
  }
}

export function asyncInvocations(options: AsyncInvocationsOptions): AsyncInvocations {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const delays = options.retryDelaysMs ?? LAMBDA_ASYNC_RETRY_DELAYS_MS;
  const retries = new Set<NodeJS.Timeout>();
  let pending = 0;
  let closed = false;
  const waiters: (() => void)[] = [];

  const settleOne = () => {
    pending--;
    if (pending === 0) for (const w of waiters.splice(0)) w();
  };

  const attempt = (fn: string, event: unknown, source: string, requestId: string, n: number): void => {
    void options.invoker.invoke(fn, event, requestId).then(
      (outcome) => {
        if (closed) return settleOne();
        options.onOutcome?.(fn, requestId, n, outcome);
        if (outcome.status !== 'ok') {
          const name = localFunctionName(fn);
          const delay = delays[n - 1];
          if (delay === undefined) {
            log(`${name} ${requestId} async invocation (${source}) dropped after ${n} attempts: ${describe(outcome)}`);
          } else {
            log(`${name} ${requestId} async invocation (${source}) failed, attempt ${n}: ${describe(outcome)}; retrying in ${Math.round(delay / 1000)} s`);
            const timer = setTimeout(() => {
              retries.delete(timer);
              attempt(fn, event, source, requestId, n + 1);
            }, delay);
            timer.unref();
            retries.add(timer);
            return;
          }
        }
        settleOne();
      },
      (e: Error) => {
        log(`${localFunctionName(fn)} ${requestId} async invocation (${source}) could not run: ${e.message}`);
        settleOne();
      },
    );
  };

  return {
    invoke(fn, event, source) {
      const requestId = randomUUID();
      if (closed) {
        log(`${localFunctionName(fn)} ${requestId} async invocation (${source}) dropped: the stack is stopping`);
        return requestId;
      }
      pending++;
      attempt(fn, event, source, requestId, 1);
      return requestId;
    },
    idle: () => (pending === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    close() {
      closed = true;
      if (retries.size > 0) log(`async invocations: ${retries.size} waiting for a retry dropped (the stack is stopping)`);
      for (const t of retries) clearTimeout(t);
      pending -= retries.size;
      retries.clear();
      if (pending === 0) for (const w of waiters.splice(0)) w();
    },
  };
}
