/**
 * A row's bytes as text, decoded strictly in the batch's declared encoding:
 * ill-formed bytes reject that row (with the byte, counted from the row's
 * start, where they begin), never the file, and are never replaced by U+FFFD.
 * Text already holding U+FFFD was damaged before it reached the hub and is
 * refused as a push body would be (shared/http/charset.ts).
 */
import { TextDecoder } from 'node:util';
import { malformedOffset } from '../http/charset.js';
import type { BatchEncoding } from './batch-model.js';

export type RowText = { ok: true; text: string } | { ok: false; message: string };

const decoders: Record<BatchEncoding, TextDecoder> = {
  // ignoreBOM: a BOM is skipped by the row reader at offset 0 only; anywhere else U+FEFF is a character.
  'utf-8': new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }),
  gb18030: new TextDecoder('gb18030', { fatal: true, ignoreBOM: true }),
};

export function decodeRow(bytes: Uint8Array, encoding: BatchEncoding): RowText {
  let text: string;
  try {
    text = decoders[encoding].decode(bytes);
  } catch {
    const at = malformedOffset(bytes, encoding);
    return { ok: false, message: `不是有效的${encoding}文本，本行第${at + 1}字节起有误 (not valid ${encoding}: ill-formed bytes at byte ${at + 1} of the row)` };
  }
  const damaged = text.indexOf('\ufffd');
  if (damaged >= 0) {
    return { ok: false, message: `含替换字符U+FFFD，文本在生成文件前已损坏 (the row holds U+FFFD, the replacement character, at character ${damaged + 1}: the text was damaged before the file was made)` };
  }
  return { ok: true, text };
}

/** Whether the bytes are well-formed in `encoding` (for telling which encoding a file is really in). */
export function isWellFormed(bytes: Uint8Array, encoding: BatchEncoding): boolean {
  try {
    decoders[encoding].decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const lenient: Record<BatchEncoding, TextDecoder> = {
  'utf-8': new TextDecoder('utf-8', { ignoreBOM: true }),
  gb18030: new TextDecoder('gb18030', { ignoreBOM: true }),
};

/** The row's text with ill-formed bytes replaced, to show the court a row that could not be decoded. */
export function decodeRowLeniently(bytes: Uint8Array, encoding: BatchEncoding): string {
  return lenient[encoding].decode(bytes);
}
