/**
 * The rows of a batch file, read from a byte stream that starts at a row
 * boundary (offset 0 or a checkpoint), each with its exact byte offsets and
 * its physical line number: reading again from a row's `offset` gives that
 * row and the rest of the file, so a checkpoint is just an offset.
 *
 * - Boundaries are found on the raw bytes (record-boundary.ts); a trailing
 *   \r is stripped (CRLF files).
 * - Empty rows (nothing but spaces and tabs) are skipped; their lines count.
 * - The declared encoding's byte order mark at offset 0 is skipped.
 * - A row longer than `maxRowBytes` comes with `error: 'too-long'` and no
 *   bytes: at most `maxRowBytes` of it is ever held.
 * - A last row without a final line feed is still a row (`terminated: false`).
 */
import type { BatchEncoding, BatchFormat } from './batch-model.js';
import { boundaryScanner } from './record-boundary.js';

export const MAX_ROW_BYTES = 64 * 1024;

const CR = 0x0d;
const BOMS: Record<BatchEncoding, Buffer> = {
  'utf-8': Buffer.from([0xef, 0xbb, 0xbf]),
  gb18030: Buffer.from([0x84, 0x31, 0x95, 0x33]),
};

interface RowPosition {
  /** Byte offset of the row's first byte. */
  offset: number;
  /** Byte offset just after the row and its line feed: where the next row starts. */
  nextOffset: number;
  /** Physical line number (1-based) of the row's first line. */
  line: number;
  /** Physical lines the row spans (more than 1 for a CSV record with line feeds in quoted fields). */
  lines: number;
  /** False for a last row with no line feed after it. */
  terminated: boolean;
}

export type RawRow = (RowPosition & { bytes: Buffer; error?: undefined }) | (RowPosition & { bytes?: undefined; error: 'too-long' });

export interface ReadRowsOptions {
  format: BatchFormat;
  encoding: BatchEncoding;
  /** Where `stream` starts in the file: a row boundary. */
  offset: number;
  /** The physical line number at `offset`. */
  line: number;
  maxRowBytes?: number;
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09) return false;
  return true;
}

export async function* readRows(stream: AsyncIterable<Uint8Array>, options: ReadRowsOptions): AsyncGenerator<RawRow> {
  const max = options.maxRowBytes ?? MAX_ROW_BYTES;
  const scanner = boundaryScanner(options.format);
  const bom = BOMS[options.encoding];
  let rowStart = options.offset;
  let line = options.line;
  // The current row's pieces (views of the stream's buffers); dropped once it is known to be too long.
  let pieces: Buffer[] = [];
  let held = 0;
  let tooLong = false;
  let position = options.offset;

  const finish = (nextOffset: number, terminated: boolean): RawRow | undefined => {
    const lines = 1 + scanner.innerLineFeeds;
    const at: RowPosition = { offset: rowStart, nextOffset, line, lines, terminated };
    let bytes: Buffer | undefined;
    if (!tooLong) {
      bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, held);
      if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
      if (rowStart === 0 && bytes.subarray(0, bom.length).equals(bom)) bytes = bytes.subarray(bom.length);
    }
    line += lines;
    rowStart = nextOffset;
    pieces = [];
    held = 0;
    scanner.reset();
    if (tooLong || bytes!.length > max) {
      tooLong = false;
      return { ...at, error: 'too-long' };
    }
    return isBlank(bytes!) ? undefined : { ...at, bytes: bytes! };
  };

  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    while (from < buffer.length) {
      const end = scanner.find(buffer, from);
      const stop = end < 0 ? buffer.length : end;
      if (!tooLong && stop > from) {
        // One byte over the limit is allowed in the buffer: it may be the \r of a CRLF.
        if (held + (stop - from) > max + bom.length + 1) {
          tooLong = true;
          pieces = [];
          held = 0;
        } else {
          pieces.push(buffer.subarray(from, stop));
          held += stop - from;
        }
      }
      if (end < 0) break;
      const row = finish(position + end + 1, true);
      if (row) yield row;
      from = end + 1;
    }
    position += buffer.length;
  }
  if (held > 0 || tooLong) {
    const row = finish(position, false);
    if (row) yield row;
  }
}
