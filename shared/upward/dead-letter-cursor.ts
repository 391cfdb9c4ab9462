/**
 * The opaque `cursor` of GET /v1/dlq/{platform}: where the previous page of the `failed` index ended, and the
 * platform it belongs to. base64url of JSON; read back only through its schema (shared/http/opaque-cursor.ts).
 */
import * as z from 'zod';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../http/opaque-cursor.js';
import type { PlatformName } from './package-model.js';
import type { IndexKey as FailedKey } from './packages-store.js';

const VERSION = 1;

const cursorSchema = z.strictObject({
  v: z.literal(VERSION),
  p: z.string(),
  k: z.strictObject({ failedBy: z.string().max(64), failedAt: z.string().max(64), pk: z.string().max(256), sk: z.string().max(256) }),
});

export function encodeFailedCursor(platform: PlatformName, key: FailedKey): string {
  const { failedBy, failedAt, pk, sk } = key;
  return encodeOpaqueCursor(VERSION, { p: platform, k: { failedBy, failedAt, pk, sk } });
}

/** The index key the cursor names, or undefined when it is not a cursor the hub wrote for this platform. */
export function decodeFailedCursor(text: string, platform: PlatformName): FailedKey | undefined {
  const cursor = decodeOpaqueCursor(text, cursorSchema);
  if (!cursor || cursor.p !== platform || cursor.k.failedBy !== platform) return undefined;
  return cursor.k;
}
