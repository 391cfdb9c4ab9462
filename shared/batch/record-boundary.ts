/**
 * Where a row ends, found on the raw bytes before any decoding, so that every
 * row has an exact byte offset (a checkpoint is one).
 *
 * - NDJSON: a row ends at 0x0A.
 * - CSV (RFC 4180): a record ends at a 0x0A outside a quoted field. A quote
 *   (0x22) opens a quoted field only at the start of a field (after 0x2C or at
 *   the start of the record); inside one, "" is an escaped quote and a lone "
 *   closes it. A stray quote inside an unquoted field is left to the CSV parser
 *   to reject, so it cannot swallow the rows that follow.
 *
 * This is sound for UTF-8 and GB18030 alike: 0x0A, 0x22 and 0x2C are ASCII
 * and never occur inside a multi-byte sequence of either (UTF-8 continuation
 * and lead bytes are ≥ 0x80; GB18030's second bytes are 0x30–0x39 or
 * 0x40–0xFE, its first and third bytes ≥ 0x81). test/unit/batch-record-boundary
 * checks it over every multi-byte sequence of both.
 */
import type { BatchFormat } from './batch-model.js';

export const LF = 0x0a;
const QUOTE = 0x22;
const COMMA = 0x2c;

export interface BoundaryScanner {
  /**
   * The index in `bytes` (from `from`) of the 0x0A that ends the current row,
   * or -1 when the row goes on past `bytes`. State carries over between calls
   * until `reset()` (at the start of each row).
   */
  find(bytes: Uint8Array, from: number): number;
  /** Line feeds inside the current row so far (CSV quoted fields), not counting the one that ends it. */
  readonly innerLineFeeds: number;
  reset(): void;
}

class NdjsonScanner implements BoundaryScanner {
  readonly innerLineFeeds = 0;
  find(bytes: Uint8Array, from: number): number {
    return bytes.indexOf(LF, from);
  }
  reset(): void {}
}

// The CSV scanner's states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote seen inside a quoted field: an escaped quote if another follows, else the field's end. */
const QUOTE_IN_QUOTED = 3;

class CsvScanner implements BoundaryScanner {
  #state: number = FIELD_START;
  #innerLineFeeds = 0;

  get innerLineFeeds(): number {
    return this.#innerLineFeeds;
  }

  find(bytes: Uint8Array, from: number): number {
    let state = this.#state;
    for (let i = from; i < bytes.length; i++) {
      const b = bytes[i]!;
      switch (state) {
        case QUOTED:
          if (b === QUOTE) state = QUOTE_IN_QUOTED;
          else if (b === LF) this.#innerLineFeeds++;
          break;
        case QUOTE_IN_QUOTED:
          if (b === QUOTE) state = QUOTED;
          else if (b === COMMA) state = FIELD_START;
          else if (b === LF) return this.#end(i);
          else state = UNQUOTED;
          break;
        case FIELD_START:
          if (b === QUOTE) state = QUOTED;
          else if (b === LF) return this.#end(i);
          else if (b !== COMMA) state = UNQUOTED;
          break;
        default:
          if (b === COMMA) state = FIELD_START;
          else if (b === LF) return this.#end(i);
      }
    }
    this.#state = state;
    return -1;
  }

  #end(i: number): number {
    this.#state = FIELD_START;
    return i;
  }

  reset(): void {
    this.#state = FIELD_START;
    this.#innerLineFeeds = 0;
  }
}

export function boundaryScanner(format: BatchFormat): BoundaryScanner {
  return format === 'csv' ? new CsvScanner() : new NdjsonScanner();
}
