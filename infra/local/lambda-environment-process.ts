/**
 * An execution environment in a child process of its own (lambda-runtime.ts, isolation `process`), run from its
 * bundle (lambda-bundle.ts: this module and the function are bundled as the CDK stack bundles, no tsx), as a Lambda
 * execution environment is: its memory is its own, so the runtime can report the invocation's peak memory as
 * Lambda's REPORT line does. It ends with the runtime: when the IPC channel closes (the stack stopped or was
 * killed), it exits.
 */
import { ENVIRONMENT_DATA_VAR, serveEnvironment, type EnvironmentData, type InvokeMessage } from './lambda-environment.js';

const send = process.send?.bind(process);
if (!send) throw new Error('an execution environment process needs an IPC channel to its runtime');
process.on('disconnect', () => process.exit(0));
await serveEnvironment(JSON.parse(process.env[ENVIRONMENT_DATA_VAR] ?? '{}') as EnvironmentData, {
  send: (message) => send(message),
  onInvoke: (listener) => process.on('message', (m: InvokeMessage) => listener(m)),
});
