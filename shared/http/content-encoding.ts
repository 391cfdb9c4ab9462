/**
 * Content-Encoding of a request body: identity or gzip. Decompression is
 * bounded (a gzip bomb costs at most the body limit in memory and is a 413);
 * anything else is a 415 that says what is supported, with Accept-Encoding
 * as RFC 9110 asks.
 */
import { gunzipSync } from 'node:zlib';
import { quoted } from './charset.js';
import { badRequest, HttpError, payloadTooLarge } from './errors.js';

export type ContentEncoding = 'identity' | 'gzip';

/** The body's coding from its Content-Encoding header; 415 unsupported_encoding for anything but identity and gzip (x-gzip). */
export function declaredEncoding(header: string | undefined): ContentEncoding {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  const named = quoted(codings.join(', '));
  throw new HttpError(
    415,
    'unsupported_encoding',
    `不支持的内容编码${named} (unsupported Content-Encoding ${named}; send the body uncompressed or with Content-Encoding: gzip)`,
    [{ field: 'Content-Encoding', message: 'supported: gzip, identity' }],
    { 'accept-encoding': 'gzip' },
  );
}

/** Decompresses a gzip body: 413 payload_too_large past `maxBytes` decompressed (never more is allocated), 400 malformed_text for a corrupt stream. */
export function gunzipBody(bytes: Uint8Array, maxBytes: number): Buffer {
  let out: Buffer;
  try {
    out = gunzipSync(bytes, { maxOutputLength: maxBytes + 1 });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw badRequest(
      '请求体不是有效的gzip数据 (the body is not a valid gzip stream although Content-Encoding says gzip)',
      [{ field: 'Content-Encoding', message: 'corrupt gzip stream' }],
      'malformed_text',
    );
  }
  if (out.length > maxBytes) throw tooLarge(maxBytes);
  return out;
}

const tooLarge = (maxBytes: number) =>
  payloadTooLarge(`解压后的请求体超过${maxBytes}字节 (the body is over ${maxBytes} bytes once decompressed; the limit applies to the decompressed body)`);
