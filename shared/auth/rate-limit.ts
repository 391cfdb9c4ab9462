/**
 * The per-key limit: one department's key must not exhaust the API. Checked
 * in authenticate() once a key is recognised (an unknown key costs nothing
 * here; the stage-wide limit still guards every request), with the same code
 * on AWS and locally: a fixed one-second window per key hash, counted in the
 * `throttle` table (throttle-store.ts). Over the limit: 429
 * `too_many_requests` with Retry-After: 1, the next window being less than a
 * second away.
 */
import { api } from '../../infra/catalogue.js';
import { HttpError } from '../http/errors.js';
import type { Principal } from '../store/sources-store.js';
import type { ThrottleStore } from '../store/throttle-store.js';

/** Requests per second the principal's key may make (infra/catalogue.ts `api.perKey`). */
export function perKeyLimit(principal: Principal): number {
  return principal.role === 'operator' ? api.perKey.operator.ratePerSecond : api.perKey.source.ratePerSecond;
}

/** Counts the request against its key's window; 429 when the key has used up this second. */
export async function admitKeyRequest(throttle: ThrottleStore, keyHash: string, principal: Principal, nowMs: number): Promise<void> {
  const limit = perKeyLimit(principal);
  if (await throttle.admit(keyHash, Math.floor(nowMs / 1000), limit)) return;
  throw new HttpError(429, 'too_many_requests', `此密钥请求过于频繁 (too many requests with this key: at most ${limit} per second; retry after 1 s)`, [], {
    'retry-after': '1',
  });
}
