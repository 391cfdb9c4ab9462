/**
 * Lambda's execution model on this machine, for the catalogue's functions.
 *
 * Each function gets execution environments on demand — worker threads (or,
 * for the functions named in HUB_LAMBDA_PROCESS_FUNCTIONS, child processes
 * that report each invocation's peak memory as Lambda's REPORT line does) that
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
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
import { functions, type FunctionName } from '../catalogue.js';
import { bundledModule } from './lambda-bundle.js';
import { lambdaContext } from './lambda-context.js';
import { ENVIRONMENT_DATA_VAR, type EnvironmentData, type InvokeMessage, type ReadyMessage, type ResultMessage } from './lambda-environment.js';

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
const PROCESS_RUNNER = resolve(import.meta.dirname, 'lambda-environment-process.ts');

/**
 * Where an execution environment runs: a worker thread (`thread`: cheap, the default), or a child process of its
 * own (`process`: as on Lambda its memory is its own, so each invocation's REPORT line gives its peak memory).
 */
export type Isolation = 'thread' | 'process';

/** The runtime's side of one environment, whatever it runs in. */
interface EnvironmentHost {
  post(message: InvokeMessage): void;
  onMessage(listener: (message: ResultMessage | ReadyMessage) => void): void;
  offMessage(listener: (message: ResultMessage | ReadyMessage) => void): void;
  onExit(listener: (code: number | null) => void): void;
  onError(listener: (error: Error) => void): void;
  terminate(): Promise<void>;
  /** The environment's peak resident memory so far, in MB (a process's VmHWM); undefined for a thread. */
  peakMemoryMb(): number | undefined;
}

function threadHost(data: EnvironmentData, env: NodeJS.ProcessEnv, heapMb: number): EnvironmentHost {
  const worker = new Worker(BOOTSTRAP, { workerData: data, env, resourceLimits: { maxOldGenerationSizeMb: heapMb }, stdout: false, stderr: false });
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (l) => worker.on('message', l),
    offMessage: (l) => worker.off('message', l),
    onExit: (l) => worker.once('exit', l),
    onError: (l) => worker.on('error', l),
    terminate: async () => {
      await worker.terminate();
    },
    peakMemoryMb: () => undefined,
  };
}

/** Peak resident set size of a process (Linux /proc), in MB. */
function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Bundles built by this runtime process, by entry: each entry is bundled once, not at every environment start. */
const bundles = new Map<string, string>();
function bundleOf(entry: string): string {
  let path = bundles.get(entry);
  if (path === undefined) bundles.set(entry, (path = bundledModule(entry)));
  return path;
}

function processHost(data: EnvironmentData, env: NodeJS.ProcessEnv, heapMb: number): EnvironmentHost {
  // As Lambda runs it: the function's bundle, in a process that loads no TypeScript compiler (lambda-bundle.ts).
  const bundled: EnvironmentData = { ...data, entry: bundleOf(data.entry) };
  const child: ChildProcess = fork(bundleOf(PROCESS_RUNNER), [], {
    env: { ...env, [ENVIRONMENT_DATA_VAR]: JSON.stringify(bundled) },
    // The function's heap limit: its heapMb (NODE_OPTIONS on AWS), else its memory.
    execArgv: [`--max-old-space-size=${heapMb}`],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  return {
    post: (m) => child.send(m),
    onMessage: (l) => child.on('message', l as (m: unknown) => void),
    offMessage: (l) => child.off('message', l as (m: unknown) => void),
    onExit: (l) => child.once('exit', (code) => l(code)),
    onError: (l) => child.on('error', l),
    terminate: () =>
      new Promise<void>((done) => {
        if (exited) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      }),
    peakMemoryMb: () => peakRssMb(child.pid),
  };
}

interface Environment {
  host: EnvironmentHost;
  ready: Promise<void>;
  busy: boolean;
  pending?: { id: number; settle: (outcome: InvokeOutcome) => void; timer: NodeJS.Timeout; requestId: string; startedAt: number };
}

/** What the runtime needs of a function: the catalogue's entry, memory and timeout. */
export interface RuntimeFunctionSpec {
  entry: string;
  memoryMb: number;
  /** The heap limit when lower than memoryMb (the catalogue's heapMb). */
  heapMb?: number;
  timeoutSeconds: number;
  /** Constant environment of the function's own (the catalogue's `environment`: a connector's platform). */
  environment?: Readonly<Record<string, string>>;
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
    private readonly isolation: Isolation,
  ) {}

  #start(): Environment {
    const spec = this.spec;
    const functionName = `credit-hub-${this.name}`;
    const data: EnvironmentData = { entry: resolve(repoRoot, spec.entry), functionName, memoryMb: spec.memoryMb };
    const processEnv: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      ...spec.environment,
    };
    const host = (this.isolation === 'process' ? processHost : threadHost)(data, processEnv, spec.heapMb ?? spec.memoryMb);
    const env: Environment = { host, busy: false, ready: Promise.resolve() };
    env.ready = new Promise<void>((resolveReady, rejectReady) => {
      const onMessage = (m: unknown) => {
        if (m && typeof m === 'object' && 'ready' in m) {
          host.offMessage(onMessage);
          resolveReady();
        }
      };
      host.onMessage(onMessage);
      host.onExit((code) => rejectReady(new Error(`environment exited with code ${code} during init`)));
    });
    env.ready.catch(() => undefined);
    host.onMessage((m) => {
      if (!('id' in m) || env.pending?.id !== m.id) return;
      const { settle, timer, requestId, startedAt } = env.pending;
      clearTimeout(timer);
      env.pending = undefined;
      this.#report(env, requestId, startedAt, m.cpuMs);
      settle(m.ok ? { status: 'ok', result: m.result } : { status: 'error', errorType: m.errorType, errorMessage: m.errorMessage });
      this.#release(env);
    });
    host.onError((e) => {
      this.log(`${functionName}: environment failed: ${e.stack ?? e.message}`);
    });
    host.onExit((code) => {
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

  /**
   * Lambda's REPORT line, for an environment whose memory can be told apart (a process), with one field of the
   * local stack's own at the end: `CPU Time`, what the invocation's process spent on the CPU (the rest of its
   * Duration it waited, mostly for the emulators).
   */
  #report(env: Environment, requestId: string, startedAt: number, cpuMs: number | undefined): void {
    const peak = env.host.peakMemoryMb();
    if (peak === undefined) return;
    const cpu = cpuMs === undefined ? '' : `\tCPU Time: ${cpuMs.toFixed(2)} ms`;
    this.log(`REPORT credit-hub-${this.name} RequestId: ${requestId}\tDuration: ${(performance.now() - startedAt).toFixed(2)} ms\tMemory Size: ${this.spec.memoryMb} MB\tMax Memory Used: ${peak} MB${cpu}`);
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
        void env.host.terminate();
        settle({ status: 'timeout', timeoutSeconds: this.spec.timeoutSeconds });
      }, timeoutMs);
      env.pending = { id, settle, timer, requestId, startedAt: performance.now() };
      const message: InvokeMessage = { id, event, requestId, deadline };
      env.host.post(message);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#all].map((env) => env.host.terminate()));
  }
}

export interface WorkerInvokerOptions {
  /** Execution environments per function at most (Lambda's concurrency); further invocations wait. */
  maxEnvironmentsPerFunction?: number;
  log?: (line: string) => void;
  /** The functions by name; the catalogue's unless given (tests). */
  functions?: Readonly<Record<string, RuntimeFunctionSpec>>;
  /** Where each function's environments run: `thread` unless named here (HUB_LAMBDA_PROCESS_FUNCTIONS locally). */
  isolation?: (fn: string) => Isolation;
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
      pools.set(fn, (p = new FunctionEnvironments(fn, spec, max, log, options.isolation?.(fn) ?? 'thread')));
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
