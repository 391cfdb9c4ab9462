/**
 * The opaque `cursor` of GET /v1/audit/reads: where the previous page ended,
 * and the query it belongs to (as the client gave it, and the days it
 * resolved to, so that paging across midnight keeps the first request's
 * range). base64url of JSON; read back only through its schema (shared/http/opaque-cursor.ts).
 */
import * as z from 'zod';
import { isIsoDate } from '../domain/dates.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../http/opaque-cursor.js';
import type { AuditKey } from '../store/audit-store.js';

/** The query parameters as the client sent them (a cursor is valid only with the same ones). */
export interface GivenQuery {
  record?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface ReadsCursor {
  q: GivenQuery;
  /** Without a record: the days the first request resolved to. */
  range?: { from: string; to: string };
  /** Without a record: the day the next page starts on. */
  day?: string;
  /** Where DynamoDB stopped within that record or day. */
  key?: AuditKey;
}

const VERSION = 1;
const day = z.string().refine(isIsoDate);
const cursorSchema = z.strictObject({
  v: z.literal(VERSION),
  q: z.strictObject({ record: z.string().optional(), from: z.string().optional(), to: z.string().optional() }),
  range: z.strictObject({ from: day, to: day }).optional(),
  day: day.optional(),
  key: z
    .record(z.string(), z.string().max(512))
    .refine((k) => Object.keys(k).length <= 4)
    .optional(),
});

export function encodeCursor(cursor: ReadsCursor): string {
  return encodeOpaqueCursor(VERSION, cursor);
}

/** The cursor, or undefined when it is not one the hub wrote. */
export function decodeCursor(text: string): ReadsCursor | undefined {
  const parsed = decodeOpaqueCursor(text, cursorSchema);
  if (!parsed) return undefined;
  const { v: _version, ...cursor } = parsed;
  return cursor;
}
