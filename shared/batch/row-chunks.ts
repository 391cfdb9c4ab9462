/**
 * Rows in chunks of at most `maxRows` rows and about `maxBytes` bytes (a chunk
 * closes once it reaches either; one row is at most 64 KB), so that a chunk's
 * memory is bounded and each chunk is one push, one reject part and one
 * checkpoint. Chunks depend only on the rows, so the chunk starting at a given
 * offset is the same whenever it is read again.
 */
import type { RawRow } from './row-reader.js';

export interface ChunkLimits {
  maxRows: number;
  maxBytes: number;
}

export async function* chunkRows(rows: AsyncIterable<RawRow>, limits: ChunkLimits): AsyncGenerator<RawRow[]> {
  let chunk: RawRow[] = [];
  let bytes = 0;
  for await (const row of rows) {
    chunk.push(row);
    bytes += row.nextOffset - row.offset;
    if (chunk.length >= limits.maxRows || bytes >= limits.maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) yield chunk;
}
