/**
 * Duplicate keys in JSON text. JSON.parse keeps the last of two equal keys
 * silently, so a document like {"CF_NR_FK":"2", …, "CF_NR_FK":"999"} means
 * whatever the parser says; this finds every such key, with its path.
 *
 * One pass over text that JSON.parse has already accepted (the scanner relies
 * on it being well-formed): string values are skipped with indexOf, and keys
 * are compared after unescaping ("a" and "\u0061" are the same key). On a
 * 6 MB body it costs a fraction of JSON.parse itself (see the test).
 */
import { shorten } from '../domain/text.js';

/** Where a value sits in a document: object keys and array indexes from the root. */
export type JsonPath = (string | number)[];

export interface DuplicateKeys {
  /** The path of each repeated key (the key itself last), in document order; at most `limit`. */
  paths: JsonPath[];
  /** More duplicates were found than `limit`. */
  truncated: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

interface Frame {
  /** The keys seen so far in an object; null for an array. */
  keys: Set<string> | null;
  /** In an object: the next string is a key. */
  expectKey: boolean;
  /** The key (object) or index (array) of the value being read. */
  at: string | number;
}

/** The index of the quote that closes the string opening at `open`. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) throw new Error('unterminated string: the text must be valid JSON');
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Finds the keys that occur more than once in the same object, at any depth. `text` must be valid JSON. */
export function findDuplicateKeys(text: string, limit = 1000): DuplicateKeys {
  const paths: JsonPath[] = [];
  let truncated = false;
  const stack: Frame[] = [];
  let top: Frame | undefined;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const close = closingQuote(text, i);
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, close);
        const key: string = raw.includes('\\') ? JSON.parse(text.slice(i, close + 1)) : raw;
        if (top.keys.has(key)) {
          if (paths.length < limit) paths.push([...stack.slice(0, -1).map((f) => f.at), key]);
          else truncated = true;
        } else {
          top.keys.add(key);
        }
        top.at = key;
        top.expectKey = false;
      }
      i = close;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      top = c === OPEN_OBJECT ? { keys: new Set(), expectKey: true, at: '' } : { keys: null, expectKey: false, at: 0 };
      stack.push(top);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
    } else if (c === COMMA && top) {
      if (top.keys) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return { paths, truncated };
}

/** A path as the API names a field: segments joined with dots ("records.3.CF_NR_FK"), each cut to `max` characters. */
export function dottedPath(path: JsonPath, max = 64): string {
  return path.map((segment) => shorten(String(segment), max)).join('.');
}
