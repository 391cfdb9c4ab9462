/**
 * One Lambda execution environment: loads the function's module once (its
 * init is the cold start), then serves one invocation at a time with a Lambda
 * context whose remaining time counts down to the function's timeout.
 *
 * It runs inside a worker thread (lambda-environment-bootstrap.mjs) or, when
 * the local stack isolates a function in a process of its own
 * (lambda-environment-process.mjs), inside a child process: the same code,
 * over whichever channel to the runtime (lambda-runtime.ts) it was given.
 */
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

/** A process environment learns what to load from this variable (a thread, from its workerData). */
export const ENVIRONMENT_DATA_VAR = 'HUB_LAMBDA_ENVIRONMENT_DATA';

export interface EnvironmentData {
  entry: string;
  functionName: string;
  memoryMb: number;
}

export type InvokeMessage = { id: number; event: unknown; requestId: string; deadline: number };
/** `cpuMs`: the CPU time (user + system) the environment's process used during the invocation. */
export type ResultMessage = ({ id: number; ok: true; result: unknown } | { id: number; ok: false; errorType: string; errorMessage: string }) & { cpuMs?: number };
export type ReadyMessage = { ready: true };

/** How an environment talks to its runtime: a worker's parentPort, or a child process's IPC channel. */
export interface RuntimeChannel {
  send(message: ResultMessage | ReadyMessage): void;
  onInvoke(listener: (message: InvokeMessage) => void): void;
}

/** Loads the function (init), says it is ready, then answers each invocation. */
export async function serveEnvironment(data: EnvironmentData, channel: RuntimeChannel): Promise<void> {
  const mod = (await import(data.entry)) as { handler: (event: unknown, context: Context) => Promise<unknown> };
  channel.onInvoke((message) => {
    void (async () => {
      let reply: ResultMessage;
      // The process's CPU time: an invocation's own in a process environment (one invocation at a time); in a
      // thread it counts the whole stack's, and the runtime does not report it.
      const cpu = process.cpuUsage();
      try {
        reply = { id: message.id, ok: true, result: await mod.handler(message.event, lambdaContext(data.functionName, data.memoryMb, message.requestId, message.deadline)) };
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        process.stderr.write(`${data.functionName} ${message.requestId} unhandled error: ${error.stack ?? error.message}\n`);
        reply = { id: message.id, ok: false, errorType: error.name, errorMessage: error.message };
      }
      const used = process.cpuUsage(cpu);
      channel.send({ ...reply, cpuMs: (used.user + used.system) / 1000 });
    })();
  });
  channel.send({ ready: true });
}
