/**
 * Text to bytes in the batch's encoding: UTF-8 (Node) or GB18030 (iconv-lite;
 * Node has a GB18030 decoder but no encoder). Where a row carries
 * ILL_FORMED_MARK the byte 0xFF is written instead, which neither encoding
 * allows anywhere.
 */
import iconv from 'iconv-lite';
import { ILL_FORMED_MARK } from './bad-rows.js';

export const BATCH_ENCODINGS = ['utf-8', 'gb18030'] as const;
export type BatchEncoding = (typeof BATCH_ENCODINGS)[number];

const ILL_FORMED_BYTE = Buffer.of(0xff);

function encodeWhole(text: string, encoding: BatchEncoding): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gb18030');
}

export function encodeText(text: string, encoding: BatchEncoding): Buffer {
  if (!text.includes(ILL_FORMED_MARK)) return encodeWhole(text, encoding);
  const parts: Buffer[] = [];
  text.split(ILL_FORMED_MARK).forEach((part, i) => {
    if (i > 0) parts.push(ILL_FORMED_BYTE);
    parts.push(encodeWhole(part, encoding));
  });
  return Buffer.concat(parts);
}
