/**
 * The opaque `cursor` of GET /v1/dlq/{platform}: where the previous page of the `failed` index ended, and the
 * platform it belongs to. base64url of JSON; read back only through its schema (as shared/audit/reads-cursor.ts).
 */
import * as z from 'zod';
import type { PlatformName } from './delivery-model.js';
import type { FailedKey } from './deliveries-store.js';

const VERSION = 1;

const cursorSchema = z.strictObject({
  v: z.literal(VERSION),
  p: z.string(),
  k: z.strictObject({ failedBy: z.string().max(64), failedAt: z.string().max(64), pk: z.string().max(256), sk: z.string().max(256) }),
});

export function encodeFailedCursor(platform: PlatformName, key: FailedKey): string {
  const { failedBy, failedAt, pk, sk } = key;
  return Buffer.from(JSON.stringify({ v: VERSION, p: platform, k: { failedBy, failedAt, pk, sk } }), 'utf8').toString('base64url');
}

/** The index key the cursor names, or undefined when it is not a cursor the hub wrote for this platform. */
export function decodeFailedCursor(text: string, platform: PlatformName): FailedKey | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success || parsed.data.p !== platform || parsed.data.k.failedBy !== platform) return undefined;
  return parsed.data.k;
}
