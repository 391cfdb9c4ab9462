/**
 * The opaque `cursor` of the hub's paged lists (GET /v1/audit/reads, GET /v1/dlq/{platform}): base64url of
 * the JSON `{"v":<version>,…}`, read back only through the list's own schema, so that a cursor the hub did
 * not write (edited, truncated, another list's, an older version) reads as none rather than as a key.
 */
import type * as z from 'zod';

/** The cursor for `payload`, written as version `version`. */
export function encodeOpaqueCursor(version: number, payload: object): string {
  return Buffer.from(JSON.stringify({ v: version, ...payload }), 'utf8').toString('base64url');
}

/** What the cursor holds, as `schema` reads it (`v` included); undefined when it is not base64url of JSON that the schema accepts. */
export function decodeOpaqueCursor<T>(text: string, schema: z.ZodType<T>): T | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
