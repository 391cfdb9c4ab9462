/**
 * One Lambda execution environment (runs inside a worker thread started by
 * lambda-runtime.ts): loads the function's module once (its init is the cold
 * start), then serves one invocation at a time with a Lambda context whose
 * remaining time counts down to the function's timeout.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

export interface EnvironmentData {
  entry: string;
  functionName: string;
  memoryMb: number;
}

export type InvokeMessage = { id: number; event: unknown; requestId: string; deadline: number };
export type ResultMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; errorType: string; errorMessage: string };

const data = workerData as EnvironmentData;
const port = parentPort!;
const mod = (await import(data.entry)) as { handler: (event: unknown, context: Context) => Promise<unknown> };

port.on('message', (message: InvokeMessage) => {
  void (async () => {
    let reply: ResultMessage;
    try {
      reply = { id: message.id, ok: true, result: await mod.handler(message.event, lambdaContext(data.functionName, data.memoryMb, message.requestId, message.deadline)) };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      process.stderr.write(`${data.functionName} ${message.requestId} unhandled error: ${error.stack ?? error.message}\n`);
      reply = { id: message.id, ok: false, errorType: error.name, errorMessage: error.message };
    }
    port.postMessage(reply);
  })();
});
port.postMessage({ ready: true });
