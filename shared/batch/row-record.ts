/**
 * One raw row of a batch into what the push path takes: a record of fields,
 * or the errors that reject it before its contract is checked (too long, not
 * text in the declared encoding, not a JSON object or a CSV record). Keeps
 * what a rejected row is shown as, masked, and what the format probe needs.
 */
import type { PushKindSpec } from '../../contracts/kinds.js';
import type { FieldError } from '../http/errors.js';
import type { BatchEncoding, BatchFormat } from './batch-model.js';
import { parseCsvRow } from './csv-row.js';
import { ROW_TOO_LONG } from './failure-reasons.js';
import type { ProbedRow } from './format-probe.js';
import { maskRecord, maskText } from './masked-row.js';
import { parseNdjsonRow } from './ndjson-row.js';
import type { RejectedRow } from './ports.js';
import type { RawRow } from './row-reader.js';
import { decodeRow, decodeRowLeniently } from './row-text.js';

export interface RowRecord {
  line: number;
  /** The record to push; null when `errors` already reject the row. */
  record: Record<string, unknown> | null;
  errors?: FieldError[];
  /** For the format probe; absent for a row too long to hold. */
  probe?: ProbedRow;
  /** How the row is shown when rejected (masked), without its reasons. */
  shown(): Omit<RejectedRow, 'line' | 'reasons'>;
}

export interface RowContext {
  spec: PushKindSpec;
  format: BatchFormat;
  encoding: BatchEncoding;
  /** CSV: the header's columns. */
  header?: readonly string[];
}

export function rowRecord(row: RawRow, context: RowContext): RowRecord {
  const { line } = row;
  if (row.error === 'too-long') return { line, record: null, errors: [{ field: '', message: ROW_TOO_LONG }], shown: () => ({}) };
  const bytes = row.bytes;
  const asText = () => ({ text: maskText(decodeRowLeniently(bytes, context.encoding)) });
  const text = decodeRow(bytes, context.encoding);
  if (!text.ok) return { line, record: null, errors: [{ field: '', message: text.message }], probe: { bytes, decoded: false, parsed: false }, shown: asText };
  const parsed = context.format === 'csv' ? parseCsvRow(text.text, context.header ?? []) : parseNdjsonRow(text.text);
  const probe = { bytes, decoded: true, parsed: parsed.ok || parsed.record !== undefined };
  if (parsed.ok) return { line, record: parsed.record, probe, shown: () => ({ row: maskRecord(context.spec, parsed.record) }) };
  const kept = parsed.record;
  return { line, record: null, errors: parsed.errors, probe, shown: kept ? () => ({ row: maskRecord(context.spec, kept) }) : asText };
}
