// Entry of an execution environment (a worker thread, see lambda-runtime.ts): TypeScript is loaded
// through tsx's ESM hooks, registered here so it works however the parent was started (npm start,
// tsx, vitest).
import { register } from 'tsx/esm/api';

register();
await import('./lambda-environment.ts');
