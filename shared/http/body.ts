import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { badRequest, payloadTooLarge } from './errors.js';

/** Reads the request body as a JSON object; 413 past `maxBytes`, 400 for anything that is not a JSON object. */
export function jsonObjectBody(event: APIGatewayProxyEventV2, maxBytes: number): Record<string, unknown> {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw payloadTooLarge(`请求体超过${maxBytes}字节 (request body is ${bytes.length} bytes, the limit is ${maxBytes})`);
  }
  if (bytes.length === 0) throw badRequest('请求体为空 (request body is empty; a JSON object is expected)', [], 'malformed_json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw badRequest(`请求体不是有效的JSON (malformed JSON: ${(e as Error).message})`, [], 'malformed_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('请求体必须是JSON对象 (the body must be a JSON object)', [{ field: '', message: 'expected an object' }], 'invalid_body');
  }
  return parsed as Record<string, unknown>;
}
