/**
 * The character set of a request body: read from Content-Type, decoded
 * strictly. UTF-8 when none is declared (RFC 8259); GBK and GB18030 because
 * Chinese government systems send them. Ill-formed bytes are refused, never
 * replaced by U+FFFD, and the answer says at which byte the text goes wrong.
 */
import { MIMEType } from 'node:util';
import { shorten } from '../domain/text.js';
import { badRequest } from './errors.js';

export const SUPPORTED_CHARSETS = ['utf-8', 'gbk', 'gb18030'] as const;
export type Charset = (typeof SUPPORTED_CHARSETS)[number];

const LABELS: Record<string, Charset> = { 'utf-8': 'utf-8', utf8: 'utf-8', gbk: 'gbk', gb18030: 'gb18030' };

/**
 * The charset a Content-Type declares (case-insensitive, quoted or not);
 * utf-8 when there is none. 400 unsupported_charset for any other charset.
 * A Content-Type that cannot be read at all declares nothing (utf-8, strictly).
 */
export function declaredCharset(contentType: string | undefined): Charset {
  if (!contentType) return 'utf-8';
  let label: string | null;
  try {
    label = new MIMEType(contentType).params.get('charset');
  } catch {
    return 'utf-8';
  }
  if (label === null) return 'utf-8';
  const charset = LABELS[label.trim().toLowerCase()];
  if (!charset) {
    const named = quoted(label);
    throw badRequest(
      `不支持的字符集${named} (unsupported charset ${named}; send utf-8, gbk or gb18030)`,
      [{ field: 'Content-Type', message: `charset ${named}: supported are ${SUPPORTED_CHARSETS.join(', ')}` }],
      'unsupported_charset',
    );
  }
  return charset;
}

/** A client's value quoted in an error message: JSON-quoted, anything outside printable ASCII escaped, cut to `max` characters. */
export function quoted(value: string, max = 40): string {
  const escaped = JSON.stringify(value)
    .slice(1, -1)
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${shorten(escaped, max)}"`;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const startsWithUtf8Bom = (bytes: Uint8Array) => UTF8_BOM.every((b, i) => bytes[i] === b);

/**
 * Decodes `bytes` as `charset`, refusing ill-formed bytes (400 malformed_text
 * with the byte offset). A leading byte order mark is skipped (EF BB BF in
 * UTF-8, 84 31 95 33 in GB18030); a UTF-8 one under another charset is a
 * contradiction and refused. GBK is decoded as GB18030, its superset, as
 * browsers do (WHATWG Encoding).
 */
export function decodeText(bytes: Uint8Array, charset: Charset): string {
  if (charset !== 'utf-8' && startsWithUtf8Bom(bytes)) {
    throw malformedText(`正文以UTF-8字节顺序标记开头，却声明了charset=${charset} (the body starts with a UTF-8 byte order mark but declares charset=${charset})`, 0);
  }
  let text: string;
  try {
    text = new TextDecoder(charset, { fatal: true }).decode(bytes);
  } catch {
    const at = malformedOffset(bytes, charset);
    throw malformedText(`请求体不是有效的${charset}文本，第${at}字节起有误 (the body is not valid ${charset}: ill-formed bytes at byte offset ${at}${charset === 'utf-8' ? '; declare the charset in Content-Type, e.g. charset=gb18030' : ''})`, at);
  }
  // TextDecoder drops a UTF-8 BOM itself; GB18030 encodes U+FEFF as 84 31 95 33.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Refuses text holding U+FFFD, the replacement character: it is what a
 * decoder leaves where bytes were not valid, so the text was damaged before
 * it reached the hub (a front end that decoded GB18030 bytes as UTF-8, say).
 */
export function refuseReplacementCharacter(text: string, hint = 'send the original bytes'): void {
  const at = text.indexOf('\ufffd');
  if (at >= 0) {
    throw malformedText(
      `请求体含替换字符U+FFFD，文本在送达前已损坏 (the body holds U+FFFD, the replacement character, at character ${at}: the text was damaged by a decoder before it reached the hub; ${hint})`,
      undefined,
    );
  }
}

function malformedText(message: string, byteOffset: number | undefined) {
  return badRequest(message, [{ field: '', message: byteOffset === undefined ? 'malformed text' : `malformed text at byte ${byteOffset}` }], 'malformed_text');
}

const CHUNK = 8192;

/**
 * The offset of the first byte of the first ill-formed sequence, once a
 * decoder has said there is one. A streaming pass finds the chunk where
 * decoding fails; then, from one chunk earlier (by which point every
 * sequence boundary is known), bytes are fed one at a time and the sequence
 * under way when the decoder objects is the culprit. An incomplete sequence
 * at the end is found the same way.
 */
export function malformedOffset(bytes: Uint8Array, charset: Charset): number {
  const probe = new TextDecoder(charset, { fatal: true, ignoreBOM: true });
  let failing = Math.max(0, Math.floor((bytes.length - 1) / CHUNK) * CHUNK);
  for (let at = 0; at < bytes.length; at += CHUNK) {
    try {
      probe.decode(bytes.subarray(at, at + CHUNK), { stream: true });
    } catch {
      failing = at;
      break;
    }
  }
  const from = Math.max(0, failing - CHUNK);
  const replay = new TextDecoder(charset, { fatal: true, ignoreBOM: true });
  if (from > 0) replay.decode(bytes.subarray(0, from), { stream: true });
  let sequenceStart = from;
  for (let i = from; i < bytes.length; i++) {
    try {
      if (replay.decode(bytes.subarray(i, i + 1), { stream: true }).length > 0) sequenceStart = i + 1;
    } catch {
      return sequenceStart;
    }
  }
  return sequenceStart;
}
