// Entry of an execution environment in a worker thread (see lambda-runtime.ts): TypeScript is loaded through
// tsx's ESM hooks, registered here so it works however the parent was started (npm start, tsx, vitest).
// An environment in a process of its own runs the function's bundle instead, with no tsx (lambda-bundle.ts).
import { register } from 'tsx/esm/api';

register();
await import('./lambda-environment-thread.ts');
