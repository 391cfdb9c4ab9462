/**
 * A file's rows in push requests: each chunk is at most `maxRecords` rows and
 * its body `{"records":[…]}` at most `maxBytes` bytes (API.md: 1,000 records;
 * 6 MB, ~5 MB on AWS). Rows that were rejected while reading travel with the
 * chunk they fall in but are not sent.
 *
 * Chunks depend only on the file and the limits: reading the same file again
 * with the same limits gives the same chunks, byte for byte, which is what
 * lets a resumed push send a chunk again under the same Idempotency-Key.
 */
import { createHash } from 'node:crypto';
import type { FileRow } from './record-reader.js';

export interface ChunkLimits {
  maxRecords: number;
  maxBytes: number;
}

/** API.md: at most 1,000 records per push; bodies kept under 5 MB (Lambda's invocation payload limit on AWS). */
export const PUSH_LIMITS: ChunkLimits = { maxRecords: 1000, maxBytes: 5_000_000 };

export interface PushChunk {
  /** Byte offset of the chunk's first row: names the chunk in its Idempotency-Key. */
  start: number;
  /** Byte offset just after its last row. */
  end: number;
  /** Every row of the chunk, in file order. */
  rows: FileRow[];
  /** Positions in `rows` of the records sent, in the order of the body's `records` (the answer's `index`). */
  sent: number[];
  /** The request body; undefined when no row of the chunk can be sent. */
  body: Buffer | undefined;
}

const OPEN = Buffer.from('{"records":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');

function tooLarge(maxBytes: number) {
  return [{ field: '', message: `记录超过单次请求上限${maxBytes}字节 (the record alone is over the ${maxBytes}-byte request limit)` }];
}

export async function* chunkRows(rows: AsyncIterable<FileRow>, limits: ChunkLimits): AsyncGenerator<PushChunk> {
  let chunk: FileRow[] = [];
  let parts: Buffer[] = [];
  let sent: number[] = [];
  let size = OPEN.length + CLOSE.length;

  const close = (): PushChunk => {
    const pieces: Buffer[] = [OPEN];
    parts.forEach((p, i) => (i > 0 && pieces.push(COMMA), pieces.push(p)));
    pieces.push(CLOSE);
    const done: PushChunk = { start: chunk[0]!.start, end: chunk[chunk.length - 1]!.end, rows: chunk, sent, body: parts.length > 0 ? Buffer.concat(pieces) : undefined };
    chunk = [];
    parts = [];
    sent = [];
    size = OPEN.length + CLOSE.length;
    return done;
  };

  for await (const row of rows) {
    let json: Buffer | undefined;
    if (row.record) {
      json = Buffer.from(JSON.stringify(row.record));
      if (json.length + OPEN.length + CLOSE.length > limits.maxBytes) {
        row.record = null;
        row.errors = tooLarge(limits.maxBytes);
        json = undefined;
      } else if (parts.length > 0 && size + COMMA.length + json.length > limits.maxBytes) {
        yield close();
      }
    }
    chunk.push(row);
    if (json) {
      size += (parts.length > 0 ? COMMA.length : 0) + json.length;
      parts.push(json);
      sent.push(chunk.length - 1);
    }
    if (chunk.length >= limits.maxRecords) yield close();
  }
  if (chunk.length > 0) yield close();
}

/**
 * The Idempotency-Key of a chunk: the run (kept in the push's progress file while it is
 * unfinished), where the chunk starts, and a digest of its body — so the same chunk of the same
 * run always has the same key, and a chunk whose bytes differ never reuses one (no 422).
 */
export function chunkKey(runId: string, chunk: Pick<PushChunk, 'start' | 'body'>): string {
  const digest = createHash('sha256').update(chunk.body ?? '').digest('base64url').slice(0, 22);
  return `hub-push:${runId}:${chunk.start}:${digest}`;
}
