/**
 * The operator's (the credit office's) key. Only its SHA-256 is stored, as a
 * principal item of the sources table like a source key's (sources-store.ts),
 * so authenticate() treats it as any other key and no function can read the
 * key itself. Setting a new one removes the previous one in the same
 * transaction, and nothing caches principals: a replaced key stops working
 * with the next request.
 *
 * Who sets it: on AWS, the credit office with `hub operator rotate-key`
 * (bin/hub.ts) and its own AWS credentials — the key is printed once and
 * exists nowhere else; locally, the stack at each start, from
 * HUB_OPERATOR_KEY or the key kept in the data folder (infra/local/stack.ts).
 */
import type { OperatorKeyChange, SourcesStore } from '../store/sources-store.js';
import { generateApiKey, hashApiKey } from './api-keys.js';

/** Makes `key` the operator key (replacing the previous one at once); only its hash is written. */
export function installOperatorKey(store: Pick<SourcesStore, 'setOperatorKey'>, key: string, at: Date = new Date()): Promise<OperatorKeyChange> {
  return store.setOperatorKey(hashApiKey(key), at.toISOString());
}

/** Generates a new operator key and installs it; the caller shows the key once. */
export async function rotateOperatorKey(store: Pick<SourcesStore, 'setOperatorKey'>, at: Date = new Date()): Promise<{ key: string; change: OperatorKeyChange }> {
  const key = generateApiKey();
  const change = await installOperatorKey(store, key, at);
  return { key, change };
}
