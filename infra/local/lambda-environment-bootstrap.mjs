// Entry of an execution environment (a worker thread or a child process, see lambda-runtime.ts): TypeScript is
// loaded through tsx's ESM hooks, registered here so it works however the parent was started (npm start, tsx,
// vitest).
import { isMainThread } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(isMainThread ? './lambda-environment-process.ts' : './lambda-environment-thread.ts');
