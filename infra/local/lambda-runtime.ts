/**
 * Lambda's execution model on this machine, for the catalogue's functions.
 *
 * Each function gets execution environments on demand — worker threads that
 * load the function's module once (the cold start) and then serve one
 * invocation at a time while warm — with the function's memory as their heap
 * limit. An invocation ends at the function's timeout as on Lambda: the
 * environment is terminated with whatever it still had in flight (open SDK
 * requests included) and never serves again, so a handler that runs past its
 * deadline cannot go on writing after its caller was answered, and that class
 * of bug shows up locally.
 *
 * The HTTP router (gateway.ts) and, later, the event-source pollers invoke
 * functions through a `FunctionInvoker`; `inProcessInvoker` is the same port
 * over plain handler functions, for unit tests.
 */
import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
import { functions, type FunctionName } from '../catalogue.js';
import { lambdaContext } from './lambda-context.js';
import type { EnvironmentData, InvokeMessage, ResultMessage } from './lambda-environment.js';

export type InvokeOutcome =
  | { status: 'ok'; result: unknown }
  /** The handler threw (Lambda's "Unhandled" function error). */
  | { status: 'error'; errorType: string; errorMessage: string }
  /** The invocation ran past the function's timeout and was ended. */
  | { status: 'timeout'; timeoutSeconds: number }
  /** The environment died under the invocation (out of memory, a crash in init). */
  | { status: 'crashed'; errorMessage: string };

export interface FunctionInvoker {
  invoke(fn: string, event: unknown, requestId: string): Promise<InvokeOutcome>;
  close(): Promise<void>;
}

export type LambdaHandlerFn = (event: any, context: any) => Promise<unknown>;

const repoRoot = resolve(import.meta.dirname, '../..');
const BOOTSTRAP = new URL('./lambda-environment-bootstrap.mjs', import.meta.url);

interface Environment {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  pending?: { id: number; settle: (outcome: InvokeOutcome) => void; timer: NodeJS.Timeout };
}

/** What the runtime needs of a function: the catalogue's entry, memory and timeout. */
export interface RuntimeFunctionSpec {
  entry: string;
  memoryMb: number;
  timeoutSeconds: number;
}

/** The execution environments of one function. */
class FunctionEnvironments {
  readonly #idle: Environment[] = [];
  readonly #all = new Set<Environment>();
  readonly #waiting: ((env: Environment) => void)[] = [];
  #nextId = 1;
  #closed = false;

  constructor(
    readonly name: string,
    readonly spec: RuntimeFunctionSpec,
    private readonly maxEnvironments: number,
    private readonly log: (line: string) => void,
  ) {}

  #start(): Environment {
    const spec = this.spec;
    const functionName = `credit-hub-${this.name}`;
    const data: EnvironmentData = { entry: resolve(repoRoot, spec.entry), functionName, memoryMb: spec.memoryMb };
    const worker = new Worker(BOOTSTRAP, {
      workerData: data,
      env: {
        ...process.env,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      },
      resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb },
      stdout: false,
      stderr: false,
    });
    const env: Environment = { worker, busy: false, ready: Promise.resolve() };
    env.ready = new Promise<void>((resolveReady, rejectReady) => {
      const onMessage = (m: unknown) => {
        if (m && typeof m === 'object' && 'ready' in m) {
          worker.off('message', onMessage);
          resolveReady();
        }
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => rejectReady(new Error(`environment exited with code ${code} during init`)));
    });
    env.ready.catch(() => undefined);
    worker.on('message', (m: ResultMessage | { ready: true }) => {
      if (!('id' in m) || env.pending?.id !== m.id) return;
      const { settle, timer } = env.pending;
      clearTimeout(timer);
      env.pending = undefined;
      settle(m.ok ? { status: 'ok', result: m.result } : { status: 'error', errorType: m.errorType, errorMessage: m.errorMessage });
      this.#release(env);
    });
    worker.on('error', (e) => {
      this.log(`${functionName}: environment failed: ${e.stack ?? e.message}`);
    });
    worker.once('exit', (code) => {
      this.#all.delete(env);
      const i = this.#idle.indexOf(env);
      if (i >= 0) this.#idle.splice(i, 1);
      if (env.pending) {
        const { settle, timer } = env.pending;
        clearTimeout(timer);
        env.pending = undefined;
        settle({ status: 'crashed', errorMessage: `the execution environment exited (code ${code})` });
      }
      // Someone may be waiting for a free slot: the slot this environment held is free now.
      const next = this.#waiting.shift();
      if (next && !this.#closed) next(this.#start());
    });
    this.#all.add(env);
    return env;
  }

  #acquire(): Promise<Environment> {
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#all.size < this.maxEnvironments) return Promise.resolve(this.#start());
    return new Promise((resolveEnv) => this.#waiting.push(resolveEnv));
  }

  #release(env: Environment): void {
    env.busy = false;
    const next = this.#waiting.shift();
    if (next) next(env);
    else this.#idle.push(env);
  }

  async invoke(event: unknown, requestId: string): Promise<InvokeOutcome> {
    if (this.#closed) return { status: 'crashed', errorMessage: 'the runtime is shut down' };
    const env = await this.#acquire();
    env.busy = true;
    try {
      await env.ready;
    } catch (e) {
      return { status: 'crashed', errorMessage: (e as Error).message };
    }
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const id = this.#nextId++;
    const deadline = Date.now() + timeoutMs;
    return new Promise<InvokeOutcome>((settle) => {
      const timer = setTimeout(() => {
        if (env.pending?.id !== id) return;
        env.pending = undefined;
        // As Lambda does: the environment is discarded with everything it still had running.
        this.log(`credit-hub-${this.name} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`);
        void env.worker.terminate();
        settle({ status: 'timeout', timeoutSeconds: this.spec.timeoutSeconds });
      }, timeoutMs);
      env.pending = { id, settle, timer };
      const message: InvokeMessage = { id, event, requestId, deadline };
      env.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#all].map((env) => env.worker.terminate()));
  }
}

export interface WorkerInvokerOptions {
  /** Execution environments per function at most (Lambda's concurrency); further invocations wait. */
  maxEnvironmentsPerFunction?: number;
  log?: (line: string) => void;
  /** The functions by name; the catalogue's unless given (tests). */
  functions?: Readonly<Record<string, RuntimeFunctionSpec>>;
}

/** The catalogue's functions in execution environments of their own (worker threads). */
export function workerInvoker(options: WorkerInvokerOptions = {}): FunctionInvoker {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const max = options.maxEnvironmentsPerFunction ?? 8;
  const specs: Readonly<Record<string, RuntimeFunctionSpec>> = options.functions ?? functions;
  const pools = new Map<string, FunctionEnvironments>();
  const pool = (fn: string) => {
    let p = pools.get(fn);
    if (!p) {
      const spec = specs[fn];
      if (!spec) return undefined;
      pools.set(fn, (p = new FunctionEnvironments(fn, spec, max, log)));
    }
    return p;
  };
  return {
    invoke: async (fn, event, requestId) => (await pool(fn)?.invoke(event, requestId)) ?? { status: 'crashed', errorMessage: `no function ${fn}` },
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}

/**
 * The same port over handler functions in this thread (unit tests). A timeout
 * is answered as on Lambda, but the handler cannot be stopped here.
 */
export function inProcessInvoker(handlers: Partial<Record<FunctionName, LambdaHandlerFn>>): FunctionInvoker {
  return {
    invoke: async (fn, event, requestId) => {
      const handler = handlers[fn as FunctionName];
      const spec = functions[fn as FunctionName];
      if (!handler || !spec) return { status: 'crashed', errorMessage: `no handler for ${fn}` };
      const deadline = Date.now() + spec.timeoutSeconds * 1000;
      const context = lambdaContext(`credit-hub-${fn}`, spec.memoryMb, requestId, deadline);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<InvokeOutcome>((r) => {
        timer = setTimeout(() => r({ status: 'timeout', timeoutSeconds: spec.timeoutSeconds }), spec.timeoutSeconds * 1000);
      });
      try {
        return await Promise.race([
          handler(event, context).then(
            (result): InvokeOutcome => ({ status: 'ok', result }),
            (e: Error): InvokeOutcome => ({ status: 'error', errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(e) }),
          ),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => undefined,
  };
}
