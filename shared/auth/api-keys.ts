/** API keys: 256 random bits with a recognisable prefix; only their SHA-256 is ever stored. */
import { createHash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'hub_';

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 suffices: keys are long random strings, not passwords. A key is
 * found by looking its hash up (a DynamoDB key), never by comparing it with a
 * stored value, so there is no comparison whose timing could leak anything.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
