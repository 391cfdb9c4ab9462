/** A CSV batch file's header row: its columns, or why the file cannot be read (court batches and `hub push` alike). */
import type { PushKindSpec } from '../../contracts/kinds.js';
import type { BatchEncoding } from './batch-model.js';
import { headerProblem } from './csv-columns.js';
import { parseCsvHeader } from './csv-row.js';
import { REASONS } from './failure-reasons.js';
import { byteOrderMarkProblem } from './format-probe.js';
import type { RawRow } from './row-reader.js';
import { decodeRow } from './row-text.js';

export function readCsvHeader(spec: PushKindSpec, row: RawRow, encoding: BatchEncoding): { reason: string } | { columns: string[] } {
  if (row.error === 'too-long') return { reason: REASONS.headerTooLong };
  const bom = byteOrderMarkProblem(row, encoding);
  if (bom) return { reason: bom };
  const text = decodeRow(row.bytes, encoding);
  if (!text.ok) return { reason: REASONS.headerNotText(text.message) };
  if (/^\s*[{[]/.test(text.text)) return { reason: REASONS.headerIsJson };
  const parsed = parseCsvHeader(text.text);
  if (!parsed.ok) return { reason: REASONS.headerNotCsv(parsed.message) };
  const problem = headerProblem(spec, parsed.columns);
  return problem ? { reason: problem } : { columns: parsed.columns };
}
