/** Reading the bodies and cursors of the publication endpoints (shared by their handlers). */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { bodyText, jsonObjectBody } from '../http/body.js';
import { badRequest, conflict, notFound } from '../http/errors.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../http/opaque-cursor.js';
import { fieldErrors } from '../http/validation.js';
import type { DecideResult } from './decisions-store.js';

/** Bodies of the publication endpoints are small. */
export const MAX_DECISION_BODY = 16 * 1024;

/** The body validated by `schema` (no body at all is `{}`); 400 `invalid_body` naming the fields otherwise. */
export function decisionBody<T>(event: APIGatewayProxyEventV2, schema: z.ZodType<T>, maxBytes = MAX_DECISION_BODY): T {
  const raw = bodyText(event, maxBytes).trim() === '' ? {} : jsonObjectBody(event, maxBytes);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest('请求内容有误 (invalid request body)', fieldErrors(parsed.error), 'invalid_body');
  return parsed.data;
}

/** The query validated by `schema`; 400 `invalid_query` naming the parameters otherwise. */
export function queryOf<T>(event: APIGatewayProxyEventV2, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw badRequest('查询参数有误 (invalid query parameter)', fieldErrors(parsed.error), 'invalid_query');
  return parsed.data;
}

const CURSOR_VERSION = 1;
const positionSchema = z.strictObject({ v: z.literal(CURSOR_VERSION), l: z.string().max(20), id: z.string().max(100), key: z.string().max(100) });

/** An opaque cursor of list `list` at `position`. */
export function encodePosition(list: string, position: { id: string; key: string }): string {
  return encodeOpaqueCursor(CURSOR_VERSION, { l: list, id: position.id, key: position.key });
}

/** The position a cursor of list `list` holds; 400 `invalid_query` when it is not one. */
export function decodePosition(list: string, cursor: string | undefined): { id: string; key: string } | undefined {
  if (cursor === undefined) return undefined;
  const parsed = decodeOpaqueCursor(cursor, positionSchema);
  if (!parsed || parsed.l !== list) throw badRequest('查询参数有误 (invalid query parameter)', [{ field: 'cursor', message: '不是本列表的游标 (not a cursor of this list)' }], 'invalid_query');
  return { id: parsed.id, key: parsed.key };
}

/** The answer to a decision that was not written: 404 or 409. */
export function refusedDecision(result: Exclude<DecideResult, { status: 'written' }>): never {
  if (result.status === 'refused') throw conflict(result.refusal.message, result.refusal.refused === 'repair_too_early' ? 'repair_too_early' : 'publication_state');
  throw notFound('没有这条记录 (unknown record id)');
}
