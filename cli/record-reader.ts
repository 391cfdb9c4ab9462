/**
 * The records of a local NDJSON or CSV file (UTF-8 or GB18030), read as a
 * stream — memory bounded whatever the file's size — with the same row
 * reading as the hub's court batches (shared/batch/): rows cut on the raw
 * bytes, each decoded strictly in the declared encoding, CSV under a header
 * row of the kind's field names (RFC 4180 quoting, line feeds inside quoted
 * fields), so that `hub push FILE` and `hub batch upload FILE` judge a row the
 * same way and name the same line.
 *
 * A row that cannot be read (ill-formed bytes, not a JSON object, a CSV record
 * with the wrong number of fields, a key given twice, over 64 KB) comes with
 * its errors and no record: it is rejected without being sent. A file that is
 * not what was declared fails as a whole before any record is yielded: empty,
 * a CSV header that is not the kind's field names, or first rows that mostly
 * do not decode in the declared encoding or (NDJSON) are not JSON objects.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { pushKind, type PushKind } from '../contracts/kinds.js';
import type { BatchEncoding, BatchFormat } from '../shared/batch/batch-model.js';
import { readCsvHeader } from '../shared/batch/csv-header.js';
import { REASONS } from '../shared/batch/failure-reasons.js';
import { byteOrderMarkProblem, formatProblem, PROBE_ROWS } from '../shared/batch/format-probe.js';
import { readRows, type RawRow } from '../shared/batch/row-reader.js';
import { rowRecord, type RowContext, type RowRecord } from '../shared/batch/row-record.js';
import type { FieldError } from '../shared/http/errors.js';
import { CliError, fileError } from './errors.js';

export type FileFormat = BatchFormat;
export type FileEncoding = BatchEncoding;
export const FILE_FORMATS: readonly FileFormat[] = ['ndjson', 'csv'];
export const FILE_ENCODINGS: readonly FileEncoding[] = ['utf-8', 'gb18030'];

export interface FileRow {
  /** Line number (1-based) of the row's first line in the file. */
  line: number;
  /** Byte offset of the row's first byte. */
  start: number;
  /** Byte offset just after the row (and its line feed). */
  end: number;
  /** The record to send; null when `errors` reject the row before it is sent. */
  record: Record<string, unknown> | null;
  errors?: FieldError[];
}

export interface ReadOptions {
  format: FileFormat;
  encoding: FileEncoding;
  kind: PushKind;
}

/** The format a file's extension names (.ndjson, .jsonl, .csv), or undefined. */
export function formatFromPath(path: string): FileFormat | undefined {
  const ext = extname(path).toLowerCase();
  return ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : ext === '.csv' ? 'csv' : undefined;
}

/** The hub's reasons speak of the batch API's JSON fields; on the command line they are flags. */
export function asFlags(reason: string): string {
  return reason.replace(/declare "(format|encoding)":"([\w-]+)"/g, 'use --$1 $2');
}

export const invalidFile = (path: string, reason: string) => new CliError(`文件无效 (invalid file) ${path}: ${asFlags(reason)}`);

/** The header row's columns; a CliError when they cannot be used (the same checks as a court batch's). */
function csvHeader(path: string, kind: PushKind, row: RawRow, encoding: FileEncoding): string[] {
  const header = readCsvHeader(pushKind(kind)!, row, encoding);
  if ('reason' in header) throw invalidFile(path, header.reason);
  return header.columns;
}

const fileRow = (raw: RawRow, read: RowRecord): FileRow => ({
  line: read.line,
  start: raw.offset,
  end: raw.nextOffset,
  record: read.record,
  ...(read.errors ? { errors: read.errors } : {}),
});

const isFileSystemError = (e: unknown) => e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';

/** The file's rows in order; see the module comment for what fails the file and what rejects a row. */
export async function* readFileRows(path: string, options: ReadOptions): AsyncGenerator<FileRow> {
  const spec = pushKind(options.kind);
  if (!spec) throw new CliError(`不能推送的种类 (kind ${options.kind} cannot be pushed)`);
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  const rows = readRows(stream, { format: options.format, encoding: options.encoding, offset: 0, line: 1 });
  try {
    let header: string[] | undefined;
    if (options.format === 'csv') {
      const first = await rows.next();
      if (first.done) throw invalidFile(path, REASONS.noRows);
      header = csvHeader(path, options.kind, first.value, options.encoding);
    }
    const context: RowContext = { spec, format: options.format, encoding: options.encoding, ...(header ? { header } : {}) };
    // The first rows are judged together before any is yielded: a file that is not what was declared sends nothing.
    const first: [RawRow, RowRecord][] = [];
    while (first.length < PROBE_ROWS) {
      const next = await rows.next();
      if (next.done) break;
      first.push([next.value, rowRecord(next.value, context)]);
    }
    if (first.length === 0) throw invalidFile(path, header ? REASONS.noRowsAfterHeader : REASONS.noRows);
    const problem =
      (header ? undefined : byteOrderMarkProblem(first[0]![0], options.encoding)) ??
      formatProblem(
        first.flatMap(([, r]) => (r.probe ? [r.probe] : [])),
        options.format,
        options.encoding,
      );
    if (problem) throw invalidFile(path, problem);
    for (const [raw, read] of first) yield fileRow(raw, read);
    for await (const raw of rows) yield fileRow(raw, rowRecord(raw, context));
  } catch (e) {
    if (isFileSystemError(e)) throw fileError(e, path, { zh: '读取', en: 'read' });
    throw e;
  } finally {
    await rows.return(undefined);
    stream.destroy();
  }
}
