/**
 * Request bodies as the handlers read them. The handler works from the bytes
 * the client sent: API Gateway hands a Lambda text content types as a string
 * (already UTF-8) and anything else base64-encoded (isBase64Encoded); base64
 * bodies are gunzipped when Content-Encoding says gzip and decoded in the
 * Content-Type's charset (utf-8, gbk, gb18030), strictly. Then JSON, with
 * duplicate keys found rather than silently resolved to the last value.
 * Errors never quote the body back beyond a character or a key name.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { shorten } from '../domain/text.js';
import { dottedPath, findDuplicateKeys, type DuplicateKeys, type JsonPath } from '../json/duplicate-keys.js';
import { declaredCharset, decodeText, refuseReplacementCharacter, type Charset } from './charset.js';
import { declaredEncoding, gunzipBody, type ContentEncoding } from './content-encoding.js';
import { badRequest, payloadTooLarge, type FieldError } from './errors.js';

const tooLarge = (size: number, maxBytes: number) =>
  payloadTooLarge(`请求体超过${maxBytes}字节 (request body is ${size} bytes, the limit is ${maxBytes})`);

/** The body as text: 413 past `maxBytes` (as sent, and once decompressed), 400/415 for a charset, bytes or coding it cannot read. */
export function bodyText(event: APIGatewayProxyEventV2, maxBytes: number): string {
  const charset = declaredCharset(event.headers?.['content-type']);
  const encoding = declaredEncoding(event.headers?.['content-encoding']);
  const body = event.body ?? '';
  return event.isBase64Encoded ? textOfBytes(Buffer.from(body, 'base64'), charset, encoding, maxBytes) : textAsReceived(body, charset, encoding, maxBytes);
}

/** Bytes as sent: gunzipped if need be, then decoded in their charset, strictly. */
function textOfBytes(sent: Buffer, charset: Charset, encoding: ContentEncoding, maxBytes: number): string {
  if (sent.length > maxBytes) throw tooLarge(sent.length, maxBytes);
  const bytes = encoding === 'gzip' && sent.length > 0 ? gunzipBody(sent, maxBytes) : sent;
  const text = decodeText(bytes, charset);
  refuseReplacementCharacter(text);
  return text;
}

/** A body some front end already made a string (API Gateway: text content types, decoded as UTF-8): its bytes are gone. */
function textAsReceived(text: string, charset: Charset, encoding: ContentEncoding, maxBytes: number): string {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) throw tooLarge(size, maxBytes);
  if (encoding === 'gzip' && text.length > 0) {
    throw badRequest(
      '压缩的请求体以文本形式送达，无法解压 (the body says Content-Encoding: gzip but reached the hub as text, not bytes, so it cannot be decompressed; send it with a binary Content-Type such as application/octet-stream)',
      [{ field: 'Content-Encoding', message: 'gzip body received as text' }],
      'malformed_text',
    );
  }
  refuseReplacementCharacter(
    text,
    charset === 'utf-8'
      ? 'send the original bytes'
      : `the body declares charset=${charset} but arrived already decoded as text: send UTF-8, or send ${charset} with a binary Content-Type such as application/octet-stream; charset=${charset}`,
  );
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * V8's JSON.parse message without the excerpt of the input it quotes
 * ("Unexpected token 'x', "…{"a": x…" is not valid JSON"), in printable ASCII.
 */
export function jsonSyntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const token = /^Unexpected token '([\s\S]{1,2})'/.exec(message);
  const reason = token ? `Unexpected token '${token[1]}'` : /is not valid JSON/.test(message) ? 'not valid JSON' : message;
  return shorten(reason.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), 120);
}

export interface JsonObjectBody {
  value: Record<string, unknown>;
  duplicateKeys: DuplicateKeys;
}

/** The body as a JSON object, with the keys it repeats: 400 malformed_json / invalid_body when it is not one. */
export function readJsonObject(event: APIGatewayProxyEventV2, maxBytes: number): JsonObjectBody {
  const text = bodyText(event, maxBytes);
  if (text.length === 0) throw badRequest('请求体为空 (request body is empty; a JSON object is expected)', [], 'malformed_json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badRequest(`请求体不是有效的JSON (malformed JSON: ${jsonSyntaxReason(e)})`, [], 'malformed_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('请求体必须是JSON对象 (the body must be a JSON object)', [{ field: '', message: 'expected an object' }], 'invalid_body');
  }
  return { value: parsed as Record<string, unknown>, duplicateKeys: findDuplicateKeys(text) };
}

const SHOWN_DUPLICATES = 20;

function duplicateKeyError(paths: JsonPath[], truncated: boolean) {
  const first = dottedPath(paths[0]!);
  const more = paths.length - 1 + (truncated ? 1 : 0);
  return badRequest(
    `请求体中有重复的键${first} (duplicate key ${first}${more > 0 ? ` and ${truncated ? 'many' : more} more` : ''}: its value would depend on the JSON parser)`,
    paths.slice(0, SHOWN_DUPLICATES).map((p) => ({ field: dottedPath(p), message: '字段重复 (duplicate key)' })),
    'duplicate_key',
  );
}

/** The body as a JSON object; 400 duplicate_key, naming the key and its path, when an object in it repeats a key. */
export function jsonObjectBody(event: APIGatewayProxyEventV2, maxBytes: number): Record<string, unknown> {
  const { value, duplicateKeys } = readJsonObject(event, maxBytes);
  if (duplicateKeys.paths.length > 0) throw duplicateKeyError(duplicateKeys.paths, duplicateKeys.truncated);
  return value;
}

export interface JsonEnvelopeBody {
  value: Record<string, unknown>;
  /** Per index of the `itemsKey` array: the duplicate keys inside that item, as field errors. */
  itemErrors: Map<number, FieldError[]>;
}

/**
 * A JSON object whose `itemsKey` array holds items judged one by one (a
 * push's records): a key repeated inside item i becomes an error of that item
 * (field: its path inside the item); repeated anywhere else, or more often
 * than the scanner reports, the whole body is a 400 duplicate_key.
 */
export function jsonEnvelopeBody(event: APIGatewayProxyEventV2, maxBytes: number, itemsKey: string): JsonEnvelopeBody {
  const { value, duplicateKeys } = readJsonObject(event, maxBytes);
  const itemErrors = new Map<number, FieldError[]>();
  const outside: JsonPath[] = [];
  for (const path of duplicateKeys.paths) {
    const [key, index] = path;
    if (key !== itemsKey || typeof index !== 'number' || path.length < 3) {
      outside.push(path);
      continue;
    }
    const field = dottedPath(path.slice(2));
    const errors = itemErrors.get(index) ?? [];
    errors.push({ field, message: `字段重复 (duplicate key ${field}: the record's meaning would depend on the JSON parser)` });
    itemErrors.set(index, errors);
  }
  if (outside.length > 0 || duplicateKeys.truncated) throw duplicateKeyError(outside.length > 0 ? outside : duplicateKeys.paths, duplicateKeys.truncated);
  return { value, itemErrors };
}
