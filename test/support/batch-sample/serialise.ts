/**
 * How a row is written: one JSON object per line (NDJSON), or a CSV record
 * under a header row of the field names, quoted as RFC 4180 says (a field
 * with a comma, a double quote, CR or LF is put in double quotes, a double
 * quote inside it doubled; records end with CRLF).
 */
import { DISHONEST_DEBTOR_FIELDS, type SampleFields, type SampleValue } from './fields.js';

const KNOWN = new Set<string>(DISHONEST_DEBTOR_FIELDS);

export function ndjsonLine(fields: SampleFields): string {
  return `${JSON.stringify(fields)}\n`;
}

export function csvCell(value: SampleValue | undefined): string {
  const text = value === undefined ? '' : Array.isArray(value) ? value.join(';') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return `${DISHONEST_DEBTOR_FIELDS.join(',')}\r\n`;
}

/** The header's columns in order (an absent field is an empty cell), then any unknown field as an extra cell. */
export function csvCells(fields: SampleFields): string[] {
  const cells = DISHONEST_DEBTOR_FIELDS.map((f) => csvCell(fields[f]));
  for (const [key, value] of Object.entries(fields)) if (!KNOWN.has(key)) cells.push(csvCell(value));
  return cells;
}

export function csvRecord(fields: SampleFields): string {
  return `${csvCells(fields).join(',')}\r\n`;
}
