/** An execution environment in a worker thread (lambda-runtime.ts, isolation `thread`). */
import { parentPort, workerData } from 'node:worker_threads';
import { serveEnvironment, type EnvironmentData, type InvokeMessage } from './lambda-environment.js';

const port = parentPort!;
await serveEnvironment(workerData as EnvironmentData, {
  send: (message) => port.postMessage(message),
  onInvoke: (listener) => port.on('message', (m: InvokeMessage) => listener(m)),
});
