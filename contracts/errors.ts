/** The error shape of API.md: {"error":{"code","message","details":[{"field","message"}]}}, and every code the API answers with. */
import * as z from 'zod';

/**
 * Every `error.code` the hub can answer with, its HTTP status and what it
 * means. Handlers and the local gateway can only raise these (HttpError takes
 * an ErrorCode), and the OpenAPI document lists them per response.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, description: 'the request cannot be read (a malformed request target or HTTP request)' },
  malformed_json: { status: 400, description: 'the body is empty or not JSON' },
  invalid_body: { status: 400, description: 'the body is JSON but not an object' },
  duplicate_key: { status: 400, description: 'a JSON object in the body has the same key twice (its meaning would depend on the parser)' },
  unsupported_charset: { status: 400, description: 'the Content-Type charset is not utf-8, gbk or gb18030' },
  malformed_text: { status: 400, description: 'the body has bytes that are not valid in its declared charset, text already damaged (U+FFFD), or a corrupt gzip stream' },
  invalid_submission: { status: 400, description: 'the push envelope is wrong (no records, more than 1,000, keys other than records)' },
  invalid_source: { status: 400, description: 'the source to register is invalid (see details)' },
  invalid_batch: { status: 400, description: 'the batch to open is invalid: kind, format or encoding (see details)' },
  invalid_feedback: { status: 400, description: "a platform's feedback is invalid: no items, more than 1,000, or an item that is wrong (see details)" },
  invalid_idempotency_key: { status: 400, description: 'the Idempotency-Key header is empty, longer than 255 characters or not printable ASCII' },
  invalid_query: { status: 400, description: 'a query parameter is invalid or unknown (details name it)' },
  unauthorized: { status: 401, description: 'no key, or an unknown key' },
  forbidden: { status: 403, description: 'the key may not do this' },
  not_found: { status: 404, description: 'no such id (or not one this key may read)' },
  no_route: { status: 404, description: 'the API has no such path' },
  unknown_kind: { status: 404, description: 'no such record kind on this endpoint' },
  method_not_allowed: { status: 405, description: 'the path exists but not with this method (see Allow)' },
  source_exists: { status: 409, description: 'the source id is already taken' },
  idempotency_in_progress: { status: 409, description: 'a request with this Idempotency-Key is still being processed' },
  publication_state: { status: 409, description: 'the record’s publication state does not allow this decision (approving an ended record, withholding a withheld one, …)' },
  repair_too_early: { status: 409, description: 'credit repair before the end of the grade’s minimum publication period (publication.minUntil)' },
  objection_state: { status: 409, description: 'the objection is already resolved' },
  payload_too_large: { status: 413, description: 'the body is over the limit (before or after decompression)' },
  uri_too_long: { status: 414, description: 'the request target is over 8 KB' },
  unsupported_encoding: { status: 415, description: 'Content-Encoding other than gzip or identity' },
  idempotency_key_reused: { status: 422, description: 'the Idempotency-Key was used with another body' },
  too_many_requests: { status: 429, description: 'over the rate limit; wait Retry-After seconds' },
  headers_too_large: { status: 431, description: 'the request line and headers are too large' },
  internal: { status: 500, description: 'a fault of the hub (logged); never a client mistake' },
  unavailable: { status: 503, description: 'the hub or its store is temporarily unavailable or out of time: send the same request again after Retry-After' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const fieldErrorSchema = z
  .object({
    field: z.string().meta({ description: "the field at fault (`CF_JDRQ`), a dotted path inside arrays (`kinds.0`); empty for the body as a whole" }),
    message: z.string().meta({ description: 'Chinese, with English in parentheses' }),
  })
  .meta({ id: 'FieldError' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODE_LIST).meta({ description: 'stable machine-readable word (each response lists the codes it can carry)' }),
      message: z.string().meta({ description: 'Chinese, with English in parentheses' }),
      details: z.array(fieldErrorSchema).meta({ description: 'one entry per field at fault; empty when the problem is not about a field' }),
    }),
  })
  .meta({ id: 'Error' });

/**
 * API.md's error shape with `code` limited to `codes`: the OpenAPI document
 * narrows the code per response (allOf Error and this enum).
 */
export function errorSchemaOf(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.intersection(errorSchema, z.looseObject({ error: z.looseObject({ code: z.enum(codes) }) }));
}

/**
 * What API Gateway answers by itself on AWS, before or instead of a handler
 * (its throttling, its 10 MB body limit, a function that failed or timed
 * out): its own body, not the hub's error shape. The local stack answers
 * those cases in the hub's shape.
 */
export const gatewayMessageSchema = z
  .object({ message: z.string().meta({ example: 'Too Many Requests' }) })
  .meta({ id: 'ApiGatewayMessage', description: "API Gateway's own answer on AWS (throttling, its body limit, a function that failed or timed out); the local stack answers these in the Error shape" });
