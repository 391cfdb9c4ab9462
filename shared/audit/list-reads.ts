/**
 * GET /v1/audit/reads: a page of the audit of reads, newest first.
 *
 * - With `record`: that record's reads (its partition), within from–to when
 *   given, all of them otherwise.
 * - Without: the reads of every record, day by day through the `byDay`
 *   index, from `to` (default today in China) back to `from` (default `to`),
 *   at most AUDIT_DAYS_MAX days.
 *
 * A page holds at most `limit` reads and may hold fewer (even none) with a
 * `next` cursor; no `next` means the end. Invalid parameters are 400
 * `invalid_query`, naming the parameter.
 */
import { AUDIT_DAYS_MAX, AUDIT_PAGE_DEFAULT, type AuditRead, type AuditReadsQuery } from '../../contracts/audit.js';
import { badRequest } from '../http/errors.js';
import type { AuditKey, AuditStore, TimeRange } from '../store/audit-store.js';
import { decodeCursor, encodeCursor, type GivenQuery, type ReadsCursor } from './reads-cursor.js';

const DAY_MS = 86_400_000;

export interface ReadsPage {
  items: AuditRead[];
  next?: string;
}

export function invalidQuery(field: string, message: string) {
  return badRequest('查询参数有误 (invalid query parameter)', [{ field, message }], 'invalid_query');
}

/** The instant a day in China (UTC+8) begins, as ISO 8601 UTC. */
const chinaDayStartMs = (day: string) => Date.parse(`${day}T00:00:00+08:00`);
const iso = (ms: number) => new Date(ms).toISOString();
const previousDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
const daysSpanned = (from: string, to: string) => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;

export async function listAuditReads(store: AuditStore, query: AuditReadsQuery, today: string): Promise<ReadsPage> {
  const given: GivenQuery = { record: query.record, from: query.from, to: query.to };
  const cursor = query.cursor === undefined ? undefined : cursorFor(query.cursor, given);
  const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
  if (query.record) return recordPage(store, query.record, given, limit, cursor);
  const range = cursor?.range ?? daysOf(given, today);
  return dayPages(store, given, range, limit, cursor);
}

/** The cursor, if it is the hub's and belongs to this query. */
function cursorFor(text: string, given: GivenQuery): ReadsCursor {
  const cursor = decodeCursor(text);
  if (!cursor) throw invalidQuery('cursor', '游标无效 (not a cursor from this API)');
  const { q } = cursor;
  if (q.record !== given.record || q.from !== given.from || q.to !== given.to) {
    throw invalidQuery('cursor', '游标属于另一查询 (this cursor belongs to another query: send the same record, from and to as the first request)');
  }
  const keyFits = given.record
    ? !cursor.key || cursor.key.pk === `READ#${given.record}`
    : cursor.range && cursor.day && cursor.range.from <= cursor.day && cursor.day <= cursor.range.to && (!cursor.key || cursor.key.day === cursor.day);
  if (!keyFits) throw invalidQuery('cursor', '游标无效 (not a cursor from this API)');
  return cursor;
}

/** from–to without a record: `to` defaults to today in China, `from` to `to`. */
function daysOf(given: GivenQuery, today: string): { from: string; to: string } {
  const to = given.to ?? today;
  const from = given.from ?? to;
  if (from > to) throw invalidQuery('from', `from不能晚于to (from is after to, which is ${to})`);
  if (daysSpanned(from, to) > AUDIT_DAYS_MAX) {
    throw invalidQuery('from', `查询最多${AUDIT_DAYS_MAX}天 (at most ${AUDIT_DAYS_MAX} days without record; to is ${to})`);
  }
  return { from, to };
}

async function recordPage(store: AuditStore, record: string, given: GivenQuery, limit: number, cursor: ReadsCursor | undefined): Promise<ReadsPage> {
  const range: TimeRange = {
    ...(given.from ? { from: iso(chinaDayStartMs(given.from)) } : {}),
    ...(given.to ? { until: iso(chinaDayStartMs(given.to) + DAY_MS) } : {}),
  };
  const page = await store.readsOfRecord(record, range, limit, cursor?.key);
  return { items: page.items, ...(page.lastKey ? { next: encodeCursor({ q: given, key: page.lastKey }) } : {}) };
}

/** Day by day from the newest, until the page is full or the range is done. */
async function dayPages(store: AuditStore, given: GivenQuery, range: { from: string; to: string }, limit: number, cursor: ReadsCursor | undefined): Promise<ReadsPage> {
  const items: AuditRead[] = [];
  let day = cursor?.day ?? range.to;
  let key: AuditKey | undefined = cursor?.key;
  for (;;) {
    const page = await store.readsOnDay(day, limit - items.length, key);
    items.push(...page.items);
    key = page.lastKey;
    if (!key) {
      if (day === range.from) return { items };
      day = previousDay(day);
    }
    if (items.length >= limit) return { items, next: encodeCursor({ q: given, range, day, ...(key ? { key } : {}) }) };
  }
}
