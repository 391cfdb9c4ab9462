/**
 * Is the file what the batch declared? Judged on its first rows, before any
 * of them is written: a file whose first rows mostly do not decode in the
 * declared encoding, or (NDJSON) are mostly not JSON objects, fails as a
 * whole with a reason that says what it looks like, rather than giving a
 * rejected row for each of its lines. A GB18030 batch whose rows are all valid
 * UTF-8 with Chinese text in them is UTF-8 (GB18030 text is almost never valid
 * UTF-8, while UTF-8 text often decodes as GB18030 without error, as mojibake).
 */
import type { BatchEncoding, BatchFormat } from './batch-model.js';
import { isWellFormed } from './row-text.js';

/** How many rows (the first, after a CSV header) the judgement is made on. */
export const PROBE_ROWS = 20;
/** Bytes outside ASCII the probed rows must hold for a GB18030 batch to be judged UTF-8. */
const NON_ASCII_EVIDENCE = 32;

export interface ProbedRow {
  bytes: Buffer;
  /** Decoded without error in the declared encoding. */
  decoded: boolean;
  /** Decoded and read into fields (NDJSON: a JSON object). */
  parsed: boolean;
}

function nonAscii(bytes: Buffer): number {
  let n = 0;
  for (const b of bytes) if (b >= 0x80) n++;
  return n;
}

const OTHER: Record<BatchEncoding, BatchEncoding> = { 'utf-8': 'gb18030', gb18030: 'utf-8' };

/** Why the file is not the declared format or encoding, judged on its first rows; undefined when it looks right. */
export function formatProblem(rows: readonly ProbedRow[], format: BatchFormat, encoding: BatchEncoding): string | undefined {
  const probed = rows.slice(0, PROBE_ROWS);
  if (probed.length === 0) return undefined;
  const other = OTHER[encoding];
  const undecodable = probed.filter((r) => !r.decoded);
  if (undecodable.length * 2 > probed.length) {
    const fitsOther = undecodable.every((r) => isWellFormed(r.bytes, other));
    return (
      `文件不是声明的${encoding}编码 (the file is not in the declared encoding ${encoding}: ${undecodable.length} of its first ${probed.length} rows are not valid ${encoding}` +
      `${fitsOther ? `; they are valid ${other}: declare "encoding":"${other}"` : ''})`
    );
  }
  if (encoding === 'gb18030') {
    const evidence = probed.reduce((n, r) => n + nonAscii(r.bytes), 0);
    if (evidence >= NON_ASCII_EVIDENCE && probed.every((r) => isWellFormed(r.bytes, 'utf-8'))) {
      return `文件是UTF-8编码，不是声明的gb18030 (the file is UTF-8, not the declared gb18030: its first ${probed.length} rows are all valid UTF-8 text; declare "encoding":"utf-8")`;
    }
  }
  if (format === 'ndjson') {
    const decoded = probed.filter((r) => r.decoded);
    const notObjects = decoded.filter((r) => !r.parsed);
    if (notObjects.length * 2 > decoded.length) {
      return `文件不是NDJSON格式 (the file is not NDJSON: ${notObjects.length} of its first ${decoded.length} rows are not JSON objects, one per line${looksLikeCsv(probed[0]!.bytes) ? '; it looks like CSV: declare "format":"csv"' : ''})`;
    }
  }
  return undefined;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A file that starts with a UTF-8 byte order mark but is declared gb18030 contradicts itself (the row at offset 0 keeps that BOM). */
export function byteOrderMarkProblem(firstRow: { offset: number; bytes?: Buffer }, encoding: BatchEncoding): string | undefined {
  if (encoding !== 'gb18030' || firstRow.offset !== 0 || !firstRow.bytes?.subarray(0, 3).equals(UTF8_BOM)) return undefined;
  return '文件以UTF-8字节顺序标记开头，却声明为gb18030 (the file starts with a UTF-8 byte order mark but is declared gb18030; declare "encoding":"utf-8")';
}

/** A first line of comma-separated names, no JSON. */
function looksLikeCsv(first: Buffer): boolean {
  const text = first.toString('latin1').trim();
  return !text.startsWith('{') && !text.startsWith('[') && text.includes(',');
}
