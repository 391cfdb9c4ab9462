/**
 * One NDJSON row into a record: a JSON object, its keys unrepeated (a key
 * given twice would mean whatever the parser keeps, so the row is rejected,
 * as a pushed record is).
 */
import type { FieldError } from '../http/errors.js';
import { jsonSyntaxReason } from '../http/body.js';
import { dottedPath, findDuplicateKeys } from '../json/duplicate-keys.js';

/** A row read into fields, or why it could not be; `record` is kept, when there is one, to show the court. */
export type ParsedRow = { ok: true; record: Record<string, unknown> } | { ok: false; errors: FieldError[]; record?: Record<string, unknown> };

export const NOT_AN_OBJECT = '每行必须是一个JSON对象 (each line must be one JSON object)';

export function parseNdjsonRow(text: string): ParsedRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [{ field: '', message: `不是有效的JSON (${jsonSyntaxReason(e)})` }] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, errors: [{ field: '', message: NOT_AN_OBJECT }] };
  const record = value as Record<string, unknown>;
  const duplicates = findDuplicateKeys(text, 20);
  if (duplicates.paths.length > 0) {
    const errors = duplicates.paths.map((path) => {
      const field = dottedPath(path);
      return { field, message: `字段重复 (duplicate key ${field}: the record's meaning would depend on the JSON parser)` };
    });
    return { ok: false, errors, record };
  }
  return { ok: true, record };
}
