/**
 * Bearer-key authentication and role checks. A key is either the operator's
 * or a source's; nothing but hashes is compared or looked up.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Role } from '../../contracts/kinds.js';
import { forbidden, unauthorized } from '../http/errors.js';
import { logger } from '../logger.js';
import type { KeyPrincipal, SourcesStore } from '../store/sources-store.js';
import { hashApiKey, sameHash } from './api-keys.js';
import type { OperatorKeyHash } from './operator-key.js';

export type Principal = { role: 'operator' } | ({ role: Exclude<Role, 'operator'> } & KeyPrincipal);

export interface AuthDeps {
  sources: Pick<SourcesStore, 'principalForKey'>;
  operatorKeyHash: OperatorKeyHash;
}

export function bearerKey(event: APIGatewayProxyEventV2): string | undefined {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export async function authenticate(event: APIGatewayProxyEventV2, deps: AuthDeps): Promise<Principal> {
  const key = bearerKey(event);
  if (!key) throw unauthorized('缺少密钥 (missing Authorization: Bearer <key>)');
  if (key.length > 200) throw unauthorized('未知密钥 (unknown API key)');
  const hash = hashApiKey(key);
  const operator = await deps.operatorKeyHash();
  if (operator && sameHash(hash, operator)) return named({ role: 'operator' });
  const principal = await deps.sources.principalForKey(hash);
  if (!principal) throw unauthorized('未知密钥 (unknown API key)');
  return named(principal);
}

/** Names the caller on the request's log lines (the middleware drops the key after the request). */
function named<P extends Principal>(principal: P): P {
  logger.appendKeys({ source: principal.role === 'operator' ? 'operator' : principal.sourceId });
  return principal;
}

export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role)) {
    throw forbidden(`此操作需要以下角色之一: ${roles.join(', ')} (this key has role ${principal.role})`);
  }
}
