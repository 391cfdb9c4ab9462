/**
 * Bearer-key authentication, the per-key limit and role checks. Every key —
 * the operator's included — is looked up by its SHA-256 in the sources
 * table; nothing but hashes is compared or stored, and nothing is cached, so
 * a replaced key stops working with the next request.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Role } from '../../contracts/kinds.js';
import { forbidden, unauthorized } from '../http/errors.js';
import { logger } from '../logger.js';
import type { Principal, SourcesStore } from '../store/sources-store.js';
import type { ThrottleStore } from '../store/throttle-store.js';
import { hashApiKey } from './api-keys.js';
import { admitKeyRequest } from './rate-limit.js';

export type { Principal };

export interface AuthDeps {
  sources: Pick<SourcesStore, 'principalForKey'>;
  throttle: ThrottleStore;
  /** Epoch milliseconds (the per-key window); the real clock unless a test pins it. */
  now?: () => number;
}

/** Longer than any key the hub issues: refused without a lookup. */
const MAX_KEY_LENGTH = 200;

export function bearerKey(event: APIGatewayProxyEventV2): string | undefined {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export async function authenticate(event: APIGatewayProxyEventV2, deps: AuthDeps): Promise<Principal> {
  const key = bearerKey(event);
  if (!key) throw unauthorized('缺少密钥 (missing Authorization: Bearer <key>)');
  if (key.length > MAX_KEY_LENGTH) throw unauthorized('未知密钥 (unknown API key)');
  const hash = hashApiKey(key);
  const principal = await deps.sources.principalForKey(hash);
  if (!principal) throw unauthorized('未知密钥 (unknown API key)');
  // Named first, so that a 429's log line says whose key it was.
  named(principal);
  await admitKeyRequest(deps.throttle, hash, principal, (deps.now ?? Date.now)());
  return principal;
}

/** Who a principal is in logs and the audit: the source id, or `operator`. */
export function principalName(principal: Principal): string {
  return principal.role === 'operator' ? 'operator' : principal.sourceId;
}

/** Names the caller on the request's log lines (the middleware drops the key after the request). */
function named(principal: Principal): void {
  logger.appendKeys({ source: principalName(principal) });
}

export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role)) {
    throw forbidden(`此操作需要以下角色之一: ${roles.join(', ')} (this key has role ${principal.role})`);
  }
}
