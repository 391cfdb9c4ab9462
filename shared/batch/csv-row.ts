/**
 * One CSV record (RFC 4180, already cut out of the file by record-boundary.ts
 * and decoded) into its fields, with csv-parse, and into a record keyed by the
 * header's column names.
 */
import { parse } from 'csv-parse/sync';
import type { FieldError } from '../http/errors.js';
import type { ParsedRow } from './ndjson-row.js';

/** The fields of one CSV record, or csv-parse's reason it is not one. */
export function splitCsvRecord(text: string): { ok: true; values: string[] } | { ok: false; error: FieldError } {
  let records: string[][];
  try {
    // The record's line feeds are inside quoted fields (the boundary scanner cut at the others): no other delimiter.
    records = parse(text, { record_delimiter: '\n', relax_column_count: true, skip_empty_lines: false }) as string[][];
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/ at line \d+/, '') : String(e);
    return { ok: false, error: { field: '', message: `不是有效的CSV记录 (not a valid CSV record: ${reason})` } };
  }
  if (records.length !== 1) return { ok: false, error: { field: '', message: `不是一条CSV记录 (not one CSV record: ${records.length} found)` } };
  return { ok: true, values: records[0]! };
}

/** The header row's column names (trimmed). */
export function parseCsvHeader(text: string): { ok: true; columns: string[] } | { ok: false; message: string } {
  const split = splitCsvRecord(text);
  if (!split.ok) return { ok: false, message: split.error.message };
  return { ok: true, columns: split.values.map((c) => c.trim()) };
}

export function parseCsvRow(text: string, header: readonly string[]): ParsedRow {
  const split = splitCsvRecord(text);
  if (!split.ok) return { ok: false, errors: [split.error] };
  const { values } = split;
  if (values.length !== header.length) {
    return { ok: false, errors: [{ field: '', message: `本行有${values.length}列，表头有${header.length}列 (the row has ${values.length} fields; the header has ${header.length})` }] };
  }
  // fromEntries defines own properties: a "__proto__" column stays a (rejected) field.
  return { ok: true, record: Object.fromEntries(header.map((column, i) => [column, values[i]!])) };
}
