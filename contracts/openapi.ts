/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the contracts:
 * bodies from the zod schemas, limits and routes from the catalogue, and every
 * error response from ERROR_CODES, listing the codes it can carry (in its
 * description, as the enum of `error.code`, and as `x-error-codes`).
 * test/unit/openapi-document.test.ts lints it and checks it against the codes
 * the handlers and the gateway really raise.
 */
import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { api, routes, type Throttle } from '../infra/catalogue.js';
import {
  createSourceSchema,
  ERROR_CODE_LIST,
  ERROR_CODES,
  type ErrorCode,
  errorSchemaOf,
  gatewayMessageSchema,
  healthSchema,
  keyCreatedSchema,
  dishonestDebtorSubmissionSchema,
  licenseSubmissionSchema,
  MAX_RECORDS_PER_SUBMISSION,
  penaltySubmissionSchema,
  recordViewSchema,
  sourceCreatedSchema,
  sourceIdSchema,
  sourceListSchema,
  submissionResponseSchema,
} from './api.js';
import { AUDIT_DAYS_MAX, AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, auditReadsPageSchema, auditReadsQuerySchema } from './audit.js';
import { BATCH_KINDS, batchCreatedSchema, batchIdSchema, batchStatusSchema, createBatchSchema } from './batches.js';
import { jobRunSchema, jobStartedSchema, PUBLICATION_JOBS, publishRunSchema, runIdSchema, SITE_JOBS, startJobSchema, SYNC_JOBS } from './jobs.js';
import {
  approveSchema,
  decisionResultSchema,
  expireRunSchema,
  objectionFiledSchema,
  objectionResolvedSchema,
  objectionSchema,
  objectionsPageSchema,
  objectionsQuerySchema,
  OBJECTIONS_PER_MINUTE,
  OBJECTION_ACCEPT_WORKING_DAYS,
  OBJECTION_ANSWER_WORKING_DAYS,
  publicationPolicySchema,
  publicationPolicyViewSchema,
  repairSchema,
  resolveObjectionSchema,
  reviewsPageSchema,
  reviewsQuerySchema,
  withholdSchema,
} from './publication.js';
import { PUSH_KINDS } from './kinds.js';
import {
  DLQ_PAGE_DEFAULT,
  DLQ_PAGE_MAX,
  dlqPageSchema,
  dlqQuerySchema,
  FEEDBACK_TEXT_MAX,
  feedbackRequestSchema,
  feedbackResponseSchema,
  MAX_FEEDBACK_ITEMS,
  PLATFORM_NAMES,
  redriveResponseSchema,
} from './upward.js';

// ---- Error responses ---------------------------------------------------------------------------

type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]['status'];

const STATUS_REASON: Record<ErrorStatus, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal error',
  503: 'Service unavailable',
};

/** The codes an operation can answer with, each with when it does (the code's ERROR_CODES description when empty). */
type ErrorCases = Partial<Record<ErrorCode, string>>;

/** Joins the cases of several sources (gateway, body, handler); a code named twice gets both reasons. */
function cases(...parts: ErrorCases[]): ErrorCases {
  const out: ErrorCases = {};
  for (const part of parts) {
    for (const [code, when] of Object.entries(part) as [ErrorCode, string][]) {
      out[code] = out[code] && when && out[code] !== when ? `${out[code]}; ${when}` : out[code] || when;
    }
  }
  return out;
}

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const kb = (bytes: number) => `${bytes / 1024} KB`;
const mb = (bytes: number) => `${bytes / (1024 * 1024)} MB`;

const retryAfter = (description: string) => z.string().regex(/^[1-9][0-9]*$/).optional().meta({ description, example: String(api.retryAfterSeconds) });

/** Response headers that go with an error status. */
const ERROR_HEADERS: Partial<Record<ErrorStatus, z.ZodObject>> = {
  401: z.object({ 'WWW-Authenticate': z.literal('Bearer').meta({ description: 'the scheme to authenticate with' }) }),
  405: z.object({ Allow: z.string().meta({ description: 'the methods this path takes, comma-separated', example: 'GET, HEAD' }) }),
  429: z.object({
    'Retry-After': retryAfter("seconds until the rate limit admits a request again (absent from API Gateway's own throttling on AWS: back off and retry)"),
  }),
  503: z.object({ 'Retry-After': retryAfter('seconds to wait before sending the same request again (absent from an answer of API Gateway itself on AWS)') }),
};

/** Statuses that API Gateway on AWS can answer by itself, with its own body (gatewayMessageSchema). */
const AWS_GATEWAY_STATUSES = new Set<ErrorStatus>([413, 429, 500, 503]);

/**
 * One response per status, from the codes an operation can answer with. A
 * HEAD operation gets the same statuses without a body.
 */
function errorResponses(errors: ErrorCases, { withBody = true } = {}): ZodOpenApiResponsesObject {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of ERROR_CODE_LIST) {
    if (!(code in errors)) continue;
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const list = codes.map((code) => `- \`${code}\`: ${errors[code] || ERROR_CODES[code].description}`).join('\n');
    const schema = errorSchemaOf(codes as [ErrorCode, ...ErrorCode[]]);
    const response: ZodOpenApiResponseObject = {
      description: `${STATUS_REASON[status]}. \`error.code\` is one of:\n\n${list}`,
      'x-error-codes': codes,
      ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
      ...(withBody ? json(AWS_GATEWAY_STATUSES.has(status) ? z.union([schema, gatewayMessageSchema]) : schema) : {}),
    };
    responses[`${status}`] = response;
  }
  return responses;
}

function throttleOf(routeKey: string): Throttle {
  const route = routes.find((r) => r.routeKey === routeKey);
  if (!route) throw new Error(`no catalogue route ${routeKey}`);
  return route.throttle ?? api.throttle;
}

/** What any request can get from the gateway and the middleware, whatever its route. */
function everyRequest(routeKey: string): ErrorCases {
  const throttle = throttleOf(routeKey);
  const scope = throttle === api.throttle ? 'the whole API' : 'this route, apart from the rest of the API';
  return {
    bad_request: 'the request target or the HTTP request cannot be read',
    method_not_allowed: 'this path with a method it does not take (Allow lists those it does)',
    payload_too_large: `a body over ${mb(api.gatewayMaxBodyBytes)}, refused before any handler runs (any route)`,
    uri_too_long: `a request target (path and query) over ${kb(api.maxUrlBytes)}`,
    headers_too_large: 'the request line and headers over the server limit',
    too_many_requests: `over ${throttle.ratePerSecond} requests/s (burst ${throttle.burst}) for ${scope}; wait Retry-After seconds`,
    internal: 'a fault of the hub (logged), or a function that failed or ran out of time; never a client mistake',
  };
}

/** A handler that reads the store (and AWS KMS / Secrets Manager): unreachable, throttled or timing out is 503. */
const STORE: ErrorCases = {
  unavailable: 'the store (or another AWS dependency) is unreachable, throttled or timing out: send the same request again after Retry-After',
};

const BEARER: ErrorCases = {
  unauthorized: 'no Authorization: Bearer key, or an unknown one',
  too_many_requests:
    `more than ${api.perKey.source.ratePerSecond} requests in one second with this key (${api.perKey.operator.ratePerSecond} with the operator key), ` +
    'counted for the key across the whole API; Retry-After: 1',
};
const OPERATOR_ONLY: ErrorCases = { ...BEARER, forbidden: 'the key is not the operator key' };

/** A JSON object body, read by shared/http/body.ts. */
function jsonBody(maxBytes: number): ErrorCases {
  return {
    malformed_json: 'the body is empty or not JSON',
    invalid_body: 'the body is JSON but not an object',
    duplicate_key: 'an object in the body has the same key twice (named in details)',
    unsupported_charset: 'the Content-Type charset is not utf-8, gbk or gb18030',
    malformed_text: 'bytes not valid in the charset, text a front end already damaged (U+FFFD), or a corrupt gzip stream',
    unsupported_encoding: 'a Content-Encoding other than gzip or identity',
    payload_too_large: `a body over ${maxBytes >= 1024 * 1024 ? mb(maxBytes) : kb(maxBytes)} (this endpoint's limit, before and after decompression)`,
  };
}

/** Path routes whose parameter is empty or spans several segments match no route: the $default answer. */
const NO_ROUTE: ErrorCases = { no_route: 'the path matches no route (an empty parameter, or one with a /)' };

// ---- Request parts ---------------------------------------------------------------------------

const CHARSETS =
  'JSON, in UTF-8 unless the charset parameter of Content-Type says gbk or gb18030 (`application/json; charset=gb18030`; GBK is read as GB18030, its superset); ' +
  'a byte-order mark is skipped. Bytes that are not valid in the charset are refused (400 `malformed_text`, with the byte offset), never replaced; ' +
  'another charset is 400 `unsupported_charset`. The body may be sent gzip-compressed with `Content-Encoding: gzip` ' +
  '(the size limit applies before and after decompression; another coding is 415 `unsupported_encoding`). ' +
  'A JSON object with the same key twice is refused (400 `duplicate_key`), never resolved by parser order; in a push, a key repeated inside one record rejects only that record.';

const contentEncodingHeader = z.object({
  'Content-Encoding': z
    .enum(['gzip', 'identity'])
    .optional()
    .meta({ description: 'gzip to send the body compressed; anything else is 415 `unsupported_encoding`' }),
});

const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .optional()
  .meta({
    description:
      `Makes a retry safe (API.md; the IETF draft of the same name). The same key with the same body within ${api.idempotencyTtlSeconds / 3600} hours ` +
      'gets the first answer again and writes nothing; while the first request with the key is still being processed, 409 `idempotency_in_progress`; ' +
      'the same key with another body, 422 `idempotency_key_reused`. Keys belong to the pushing source and the kind. A request that failed (4xx, 503) leaves nothing behind: ' +
      'sent again with the same key, it is done again. 1 to 255 printable ASCII characters, as they are or as a quoted string (otherwise 400 `invalid_idempotency_key`).',
    example: '5d0d3f4e-7f0a-4c53-9b1e-0f6a3c2d9a10',
  });

const recordIdParam = z.string().meta({
  description: 'record id: lic_ or pen_ and 26 base32 characters, derived from kind, source and document number',
  example: 'pen_wobgmpalg34qjcdh5xekqtxjq2',
});

// ---- Responses of /health ----------------------------------------------------------------------

const healthUnavailableSchema = z.object({ status: z.literal('unavailable') }).meta({ id: 'HealthUnavailable', description: 'the store cannot be reached' });

// ---- Operations ---------------------------------------------------------------------------------

interface Operation extends Omit<ZodOpenApiOperationObject, 'responses' | 'operationId' | 'summary' | 'tags'> {
  operationId: string;
  summary: string;
  tag: Tag;
  /** The codes this operation can answer with, beyond those of every request. */
  errors: ErrorCases;
  responses: ZodOpenApiResponsesObject;
  /** /health, /openapi.json: no key. */
  public?: boolean;
}

const TAGS = {
  service: 'Health and this description (no key needed)',
  sources: 'Registering sources and issuing their keys (operator)',
  submissions: '信息报送: pushing records (department, court, discipline)',
  records: 'Reading records back (the owning source or the operator)',
  audit: 'Who read personal data in full: the audit of reads (operator)',
  batches: 'Court batches: large files of records uploaded to a presigned URL and ingested by the hub (court; status also for the operator)',
  upward: 'The upward platforms: their feedback on what they were sent (platform), and what they refused, for the operator to send again (operator)',
  jobs: 'Jobs: the nightly syncs to the upward platforms, run on demand, and their runs (operator)',
  publication: 'Review, objections, repair: what is published on the public site and what ends it (operator; filing an objection needs no key)',
} as const;
type Tag = keyof typeof TAGS;

function operation(routeKey: string, { tag, errors, responses, public: isPublic, ...rest }: Operation): ZodOpenApiOperationObject {
  const withBody = !routeKey.startsWith('HEAD ');
  return {
    ...rest,
    tags: [tag],
    ...(isPublic ? { security: [] } : {}),
    responses: { ...errorResponses(cases(everyRequest(routeKey), errors), { withBody }), ...responses },
  };
}

const health = (method: 'GET' | 'HEAD') =>
  operation(`${method} /health`, {
    operationId: method === 'GET' ? 'getHealth' : 'headHealth',
    summary: method === 'GET' ? 'Whether the hub can take requests (it can reach its store)' : 'The same check as GET /health, without a body',
    description: 'Cheap: one read of the store, no scan. Throttled apart from the rest of the API, so a busy hub still answers it.',
    tag: 'service',
    public: true,
    errors: {},
    responses: {
      '200': { description: 'ready', ...(method === 'GET' ? json(healthSchema) : {}) },
      '503': {
        description: 'the store cannot be reached',
        headers: ERROR_HEADERS[503],
        ...(method === 'GET' ? json(z.union([healthUnavailableSchema, gatewayMessageSchema])) : {}),
      },
    },
  });

export function openApiDocument() {
  const codeTable = ERROR_CODE_LIST.map((code) => `| \`${code}\` | ${ERROR_CODES[code].status} | ${ERROR_CODES[code].description} |`).join('\n');
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Credit exchange hub (公共信用信息交换枢纽)',
      version: '1.0.0',
      description: [
        'Departments, courts and discipline bodies push public credit records; the credit office registers sources.',
        '',
        '**Servers.** The relative server `/` is the host that served this document: the local stack (`http://127.0.0.1:{PORT}`, PORT 3000 by default) ' +
          'or, on AWS, the API Gateway URL (the `ApiUrl` output of the stack, `$default` stage, no stage in the path).',
        '',
        '**Errors** are JSON `{"error":{"code","message","details":[{"field","message"}]}}`; each response below lists the codes it can carry ' +
          '(`x-error-codes`, and the enum of `error.code`). A client mistake never gets a 5xx; 429 and 503 come with Retry-After. ' +
          "On AWS, what API Gateway answers by itself (its throttling 429, a body over 10 MB, a function that failed or timed out, " +
          'a request line or headers over its limits) carries its own body `{"message":"…"}` instead, and no Retry-After; the local stack answers those in the shape above. ' +
          'Every code:\n\n| code | status | meaning |\n|---|---|---|\n' +
          codeTable,
        '',
        '**Request bodies.** ' + CHARSETS,
        '',
        '**Records.** Empty strings and nulls mean "absent". Code fields (USCC, certificate numbers, dates, amounts, coded values) are NFKC-normalised before ' +
          'they are checked: full-width characters and lower case are accepted and stored half-width upper case, so their schemas carry no `pattern` ' +
          'and say what is checked. Free text is stored as given (trimmed; HTML is text, never interpreted). Unknown fields are rejected by name.',
        '',
        `**CORS** is off by default: the API answers browser preflights (OPTIONS) only when origins are configured (HUB_CORS_ORIGINS, comma-separated, ` +
          `for the local stack; the \`corsOrigins\` context value of the CDK app on AWS). Then it allows the headers ${api.cors.allowHeaders.join(', ')}, ` +
          `exposes ${api.cors.exposeHeaders.join(', ')}, and lets a preflight be cached ${api.cors.maxAgeSeconds} s.`,
      ].join('\n'),
    },
    servers: [{ url: '/', description: 'the host that served this document: http://127.0.0.1:{PORT} locally, the ApiUrl output of the stack on AWS' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key>: a source key from POST /v1/sources or POST /v1/sources/{id}/keys, or the operator key' },
      },
    },
    paths: {
      '/health': { get: health('GET'), head: health('HEAD') },
      '/openapi.json': {
        get: operation('GET /openapi.json', {
          operationId: 'getOpenApiDocument',
          summary: 'This document (OpenAPI 3.1, generated from the contracts)',
          tag: 'service',
          public: true,
          errors: {},
          responses: { '200': { description: 'OpenAPI 3.1', ...json(z.record(z.string(), z.unknown()).meta({ description: 'this document' })) } },
        }),
      },
      '/v1/sources': {
        post: operation('POST /v1/sources', {
          operationId: 'createSource',
          summary: 'Register a source and issue its first key (operator)',
          tag: 'sources',
          requestBody: { description: CHARSETS, required: true, ...json(createSourceSchema) },
          requestParams: { header: contentEncodingHeader },
          errors: cases(jsonBody(64 * 1024), OPERATOR_ONLY, STORE, { invalid_source: 'the source is invalid (each problem in details)', source_exists: 'the id is already taken' }),
          responses: { '201': { description: 'registered; the key is shown once', ...json(sourceCreatedSchema) } },
        }),
        get: operation('GET /v1/sources', {
          operationId: 'listSources',
          summary: 'List the sources, without keys (operator)',
          tag: 'sources',
          errors: cases(OPERATOR_ONLY, STORE),
          responses: { '200': { description: 'the sources, sorted by id', ...json(sourceListSchema) } },
        }),
      },
      '/v1/sources/{id}/keys': {
        post: operation('POST /v1/sources/{id}/keys', {
          operationId: 'rotateSourceKey',
          summary: 'Issue a new key for a source; the old key stops working (operator)',
          tag: 'sources',
          requestParams: { path: z.object({ id: sourceIdSchema }) },
          errors: cases(OPERATOR_ONLY, STORE, NO_ROUTE, { not_found: 'no source with this id' }),
          responses: { '201': { description: 'the new key, shown once', ...json(keyCreatedSchema) } },
        }),
      },
      '/v1/submissions/{kind}': {
        post: operation('POST /v1/submissions/{kind}', {
          operationId: 'submitRecords',
          summary: '信息报送: push records (department, court, discipline)',
          description:
            `At most ${MAX_RECORDS_PER_SUBMISSION.toLocaleString('en')} records and ${mb(api.maxBodyBytes)}. Each record stands alone: a rejected record leaves nothing behind, and its errors are in the 200 answer. ` +
            'Same content again is a duplicate; changed content is a new version (updated). Records of 双公示 kinds pushed more than 7 working days after their decision are accepted and flagged late. ' +
            'If the hub cannot finish (503), the whole request may be sent again: records already written come back as duplicates, and with the same Idempotency-Key the first answer comes back.',
          tag: 'submissions',
          requestParams: {
            path: z.object({ kind: z.enum(Object.keys(PUSH_KINDS) as [string, ...string[]]).meta({ description: 'the record kind; others are 404 `unknown_kind` until they land' }) }),
            header: contentEncodingHeader.extend({ 'Idempotency-Key': idempotencyKeyHeader }),
          },
          requestBody: { description: CHARSETS, required: true, content: { 'application/json': { schema: z.union([licenseSubmissionSchema, penaltySubmissionSchema, dishonestDebtorSubmissionSchema]) } } },
          errors: cases(jsonBody(api.maxBodyBytes), BEARER, STORE, NO_ROUTE, {
            invalid_submission: `the envelope is wrong: no records, more than ${MAX_RECORDS_PER_SUBMISSION.toLocaleString('en')}, or keys other than records (details name them)`,
            invalid_idempotency_key: '',
            forbidden: 'the key may not push this kind (its role does not push, or its source was not granted the kind)',
            unknown_kind: `a kind this endpoint does not take (it takes ${Object.keys(PUSH_KINDS).join(', ')})`,
            idempotency_in_progress: 'the first request with this Idempotency-Key is still being processed',
            idempotency_key_reused: 'this Idempotency-Key came with another body',
            unavailable: 'the push could not finish in time: send the whole request again (with the same Idempotency-Key)',
          }),
          responses: { '200': { description: 'per-record results, in the order sent', ...json(submissionResponseSchema) } },
        }),
      },
      '/v1/records/{id}': {
        get: operation('GET /v1/records/{id}', {
          operationId: 'getRecord',
          summary: 'A record with its versions, publication and delivery state (the owning source or the operator)',
          description: "Another source's record answers exactly as an unknown id does (404), so an id tells a caller nothing about other sources' documents.",
          tag: 'records',
          requestParams: { path: z.object({ id: recordIdParam }) },
          errors: cases(BEARER, STORE, NO_ROUTE, { not_found: "no such record, or another source's (the same answer)" }),
          responses: { '200': { description: 'the record', ...json(recordViewSchema) } },
        }),
      },
      '/v1/batches': {
        post: operation('POST /v1/batches', {
          operationId: 'createBatch',
          summary: 'Open a batch: get a URL to upload the file to (court)',
          description:
            `Declare the kind (${BATCH_KINDS.join(', ')}), the format and the encoding, then PUT the file to \`uploadUrl\` before \`expiresAt\` ` +
            '(`curl -T debtors.ndjson "$uploadUrl"`: the file as the body, no other header, up to 5 GB). The upload starts the ingest; follow it with GET /v1/batches/{batchId}. ' +
            'NDJSON: one JSON object per line, the field names as in a push. CSV: RFC 4180 (quoted fields may hold commas, quotes and line breaks), a header row of the field names; ' +
            'a missing required column or an unknown one fails the batch. Each row stands alone, as in a push: accepted, updated, duplicate (repeated in the file or sent before: same court and caseCode) or rejected with reasons. ' +
            'A file that is not the declared format or encoding, or has no rows, fails the batch with a reason; so does a file replaced while it is being ingested. ' +
            'With an Idempotency-Key, sending the same request again returns the same batch and URL.',
          tag: 'batches',
          requestParams: { header: contentEncodingHeader.extend({ 'Idempotency-Key': idempotencyKeyHeader }) },
          requestBody: { description: CHARSETS, required: true, ...json(createBatchSchema) },
          errors: cases(jsonBody(16 * 1024), BEARER, STORE, {
            invalid_batch: 'kind, format or encoding is missing or not one of the values listed, or the body has other fields (details name them)',
            invalid_idempotency_key: '',
            forbidden: 'the key is not a court’s, or its source may not deliver this kind',
            idempotency_in_progress: 'the first request with this Idempotency-Key is still being processed',
            idempotency_key_reused: 'this Idempotency-Key came with another body',
          }),
          responses: { '201': { description: 'the batch is open, waiting for its upload', ...json(batchCreatedSchema) } },
        }),
      },
      '/v1/batches/{batchId}': {
        get: operation('GET /v1/batches/{batchId}', {
          operationId: 'getBatch',
          summary: 'A batch’s status and counts, and its rejected rows (the court that opened it, or the operator)',
          description:
            'The counts are exact at every moment (total = accepted + updated + duplicates + rejected) and grow while the batch is processing. ' +
            'A batch still waiting once expiresAt has passed with nothing uploaded is failed. Another court’s batch answers exactly as an unknown id does (404).',
          tag: 'batches',
          requestParams: { path: z.object({ batchId: batchIdSchema }) },
          errors: cases(BEARER, STORE, NO_ROUTE, { not_found: "no such batch, or another court's (the same answer)" }),
          responses: { '200': { description: 'the batch', ...json(batchStatusSchema) } },
        }),
      },
      '/v1/feedback': {
        post: operation('POST /v1/feedback', {
          operationId: 'postFeedback',
          summary: 'A platform reports per-record outcomes on what it was sent (platform)',
          description:
            `At most ${MAX_FEEDBACK_ITEMS.toLocaleString('en')} items. The platform is the key's: a platform source is registered under the platform's name (${PLATFORM_NAMES.join(', ')}). ` +
            'Each item names the record version it was sent (`recordId`, `version`, as in the package) and an outcome: received; rejected, with a reason; applied, with the 联合奖惩 measure. ' +
            `Reasons and measures are kept up to ${FEEDBACK_TEXT_MAX} characters, identity numbers in them redacted, and shown on GET /v1/records/{id} (\`delivery.<platform>.feedback\`) to the source that pushed the record and to the operator. ` +
            'A later feedback on the same delivery replaces the earlier one (within a request too, in the order of items). An item about a version this platform was never sent keeps nothing and is listed in `unknown`; ' +
            'sending the same request again is safe.',
          tag: 'upward',
          requestParams: { header: contentEncodingHeader },
          requestBody: { description: CHARSETS, required: true, ...json(feedbackRequestSchema) },
          errors: cases(jsonBody(api.maxBodyBytes), BEARER, STORE, {
            forbidden: "the key is not a platform's, or its source id is not a platform name",
            invalid_feedback: `no items, more than ${MAX_FEEDBACK_ITEMS.toLocaleString('en')}, other keys, or an item that is wrong: an unknown outcome, a rejection without reason, a measure without outcome applied (details name them)`,
          }),
          responses: { '200': { description: 'what was kept, and the items about no delivery to this platform', ...json(feedbackResponseSchema) } },
        }),
      },
      '/v1/dlq/{platform}': {
        get: operation('GET /v1/dlq/{platform}', {
          operationId: 'listDeadLetters',
          summary: 'What a platform refused or never took: its failed deliveries and the depth of its dead-letter queue (operator)',
          description:
            'A delivery fails when the platform answers a 4xx other than 408 and 429 (its status and answer are the reason), or stays unavailable for every receive of its message. ' +
            `Oldest failure first, at most \`limit\` (default ${DLQ_PAGE_DEFAULT}, at most ${DLQ_PAGE_MAX}) per page; send \`next\` as \`cursor\` for the next page; no \`next\` means the end. ` +
            '`depth` is the number of messages waiting in the dead-letter queue (approximate, as SQS counts them).',
          tag: 'upward',
          requestParams: { path: z.object({ platform: z.string().meta({ description: `the platform: ${PLATFORM_NAMES.join(' or ')}; another is 404`, example: 'national' }) }), query: dlqQuerySchema },
          errors: cases(OPERATOR_ONLY, STORE, NO_ROUTE, {
            not_found: 'no such platform',
            invalid_query: 'limit is not an integer from 1 to 1000, an unknown parameter, or a cursor that is not one of this platform’s pages (details name the parameter)',
          }),
          responses: { '200': { description: 'a page of failed deliveries, oldest first', ...json(dlqPageSchema) } },
        }),
      },
      '/v1/dlq/{platform}/redrive': {
        post: operation('POST /v1/dlq/{platform}/redrive', {
          operationId: 'redriveDeadLetters',
          summary: 'Send again what a platform refused or never took (operator)',
          description:
            'Every delivery of the platform that failed before the request is made pending again, and the dead-letter queue’s messages go back to the platform’s queue: ' +
            'on AWS by an SQS message move task (`task`), on the local stack by the hub itself (`moved`). A delivery whose message is gone is queued again by the delivery sweep. ' +
            'When the request runs short of time, `more` is true: send it again until it is not (repeating it is safe). No body.',
          tag: 'upward',
          requestParams: { path: z.object({ platform: z.string().meta({ description: `the platform: ${PLATFORM_NAMES.join(' or ')}; another is 404`, example: 'national' }) }) },
          errors: cases(OPERATOR_ONLY, STORE, NO_ROUTE, { not_found: 'no such platform' }),
          responses: { '202': { description: 'redriven: the connector sends the deliveries again', ...json(redriveResponseSchema) } },
        }),
      },
      '/v1/jobs/{name}': {
        post: operation('POST /v1/jobs/{name}', {
          operationId: 'startJob',
          summary: 'Start a run of a job now: the nightly sync of a platform (operator)',
          description:
            `Jobs: ${SYNC_JOBS.join(', ')} (also run every night on their schedule, at 02:00 and 02:30 China time). ${PUBLICATION_JOBS.join(', ')}: ends the approved publications whose end (until) is before asOf (default today in China), also daily at 00:10 China time; its counts are {expired, skipped}. ` +
            `${SITE_JOBS.join(', ')}: brings the whole public site up to date as of asOf (default today in China), also daily at 00:40 China time: every record read, every page rendered, only pages whose SHA-256 changed written, pages of records no longer published deleted; its counts are {records, published, pagesWritten, pagesUnchanged, pagesDeleted}. ` +
            'A sync sends the platform every record version changed since its watermark (the end of the last window it acknowledged) up to the moment the run was asked for ' +
            '(with asOf: the end of that day in China), and every version it still owes from before (sent again: reconciliation), as one gzip NDJSON package: ' +
            'a header line {"header":{packageId (the run id, also its Idempotency-Key), sender, platform, createdAt, from, to, recordCount, bodySha256}} and one line per version ' +
            '{operation, kind, recordId, version, sourceId, fields}, POSTed to `<platform base URL>/sync`. On a 2xx the versions are delivered and the watermark moves to `to`. ' +
            'Two runs of a job never overlap: asked while another run of the job is in progress, the new run fails at once with reason "another run of <job> is in progress (<run id>)" (ask again later). ' +
            'A run that stops (out of time, crashed) goes on from its checkpoint and sends the same package under the same key. Follow it with GET /v1/jobs/runs/{runId}.',
          tag: 'jobs',
          requestParams: {
            path: z.object({ name: z.enum([...SYNC_JOBS, ...PUBLICATION_JOBS, ...SITE_JOBS] as [string, ...string[]]).meta({ description: 'the job' }) }),
            header: contentEncodingHeader,
          },
          requestBody: { description: `${CHARSETS} May be empty (the same as {}).`, required: false, ...json(startJobSchema) },
          errors: cases(jsonBody(4 * 1024), OPERATOR_ONLY, STORE, NO_ROUTE, {
            invalid_body: 'the body is not an object, has keys other than asOf, or asOf is not a real date YYYY-MM-DD on or before today in China (details name the field)',
            not_found: 'no such job',
            unavailable: 'the run could not be started (it is failed): ask again',
          }),
          responses: { '202': { description: 'the run is made (waiting) and started', ...json(jobStartedSchema) } },
        }),
      },
      '/v1/jobs/runs/{runId}': {
        get: operation('GET /v1/jobs/runs/{runId}', {
          operationId: 'getJobRun',
          summary: 'A run’s status and counts (operator)',
          description: 'The counts grow while the run is running and are final once it is completed. A failed run says why (reason); its watermark did not move.',
          tag: 'jobs',
          requestParams: { path: z.object({ runId: runIdSchema }) },
          errors: cases(OPERATOR_ONLY, STORE, NO_ROUTE, { not_found: 'no such run' }),
          responses: { '200': { description: 'the run: a sync’s (JobRun), the expire job’s (ExpireRun) or the publish job’s (PublishRun)', ...json(z.union([jobRunSchema, expireRunSchema, publishRunSchema])) } },
        }),
      },
      '/v1/publication-policy': {
        get: operation('GET /v1/publication-policy', {
          operationId: 'getPublicationPolicy',
          summary: 'What is approved on arrival; everything else waits for review (operator)',
          tag: 'publication',
          errors: cases(OPERATOR_ONLY, STORE),
          responses: { '200': { description: 'the policy (the default until set: nothing approved on arrival)', ...json(publicationPolicyViewSchema) } },
        }),
        put: operation('PUT /v1/publication-policy', {
          operationId: 'setPublicationPolicy',
          summary: 'Make kinds or sources approved on arrival (operator)',
          description:
            'Replaces the policy. A record pushed afterwards whose kind or source is listed is approved on arrival (a decision by `policy`); any other waits for review. ' +
            'A new version of a record (changed content) is reviewed again unless the policy approves it: it leaves the site until approved; its decisions are kept. ' +
            'Records already waiting are not changed.',
          tag: 'publication',
          requestParams: { header: contentEncodingHeader },
          requestBody: { description: CHARSETS, required: true, ...json(publicationPolicySchema) },
          errors: cases(jsonBody(16 * 1024), OPERATOR_ONLY, STORE, { invalid_body: 'an unknown kind, a source id that is not one, a duplicate, or an unknown field (details name it)' }),
          responses: { '200': { description: 'the policy now in force', ...json(publicationPolicyViewSchema) } },
        }),
      },
      '/v1/reviews': {
        get: operation('GET /v1/reviews', {
          operationId: 'listReviews',
          summary: 'The records waiting for review, oldest first (operator)',
          description: 'Read from a sparse index holding only the records waiting. Send `next` as `cursor` for the next page; no `next` means the end.',
          tag: 'publication',
          requestParams: { query: reviewsQuerySchema },
          errors: cases(OPERATOR_ONLY, STORE, { invalid_query: 'limit is not an integer from 1 to 200, an unknown parameter, or a cursor that is not one of this list (details name it)' }),
          responses: { '200': { description: 'a page of records waiting for review', ...json(reviewsPageSchema) } },
        }),
      },
      '/v1/records/{id}/approve': {
        post: operation('POST /v1/records/{id}/approve', {
          operationId: 'approveRecord',
          summary: 'Approve a record for publication (operator)',
          description:
            'From pending-review, withheld or not-published (a 轻微 record, at most 3 months). The record is on the public site while its period runs. ' +
            'Every decision is a new version of the record (kept with who, when and why) and reaches the upward platforms as an update.',
          tag: 'publication',
          requestParams: { path: z.object({ id: recordIdParam }), header: contentEncodingHeader },
          requestBody: { description: `${CHARSETS} May be empty.`, required: false, ...json(approveSchema) },
          errors: cases(jsonBody(16 * 1024), OPERATOR_ONLY, STORE, NO_ROUTE, {
            not_found: 'no such record',
            invalid_body: 'note is not a text of 1 to 2,000 characters, or an unknown field',
            publication_state: 'the record is approved already, or its publication has ended or its period is over',
          }),
          responses: { '200': { description: 'approved', ...json(decisionResultSchema) } },
        }),
      },
      '/v1/records/{id}/withhold': {
        post: operation('POST /v1/records/{id}/withhold', {
          operationId: 'withholdRecord',
          summary: 'Withhold a record from publication; an approved one leaves the site at once (operator)',
          description:
            'From pending-review or approved. The record stays in force and is still shared with the upward platforms (an update): withholding concerns the public site only. ' +
            'It may be approved later.',
          tag: 'publication',
          requestParams: { path: z.object({ id: recordIdParam }), header: contentEncodingHeader },
          requestBody: { description: CHARSETS, required: true, ...json(withholdSchema) },
          errors: cases(jsonBody(16 * 1024), OPERATOR_ONLY, STORE, NO_ROUTE, {
            not_found: 'no such record',
            invalid_body: 'reason is missing or not a text of 1 to 2,000 characters (details name it)',
            publication_state: 'the record is withheld already, not published, or its publication has ended',
          }),
          responses: { '200': { description: 'withheld', ...json(decisionResultSchema) } },
        }),
      },
      '/v1/records/{id}/repair': {
        post: operation('POST /v1/records/{id}/repair', {
          operationId: 'repairRecord',
          summary: '信用修复: end a record’s publication after the grade’s minimum period (operator)',
          description:
            'Publication ends (state ended, endReason repaired, endedOn today in China): the record leaves the site and the upward platforms are told to delete it. ' +
            'Only from publication.minUntil on (一般: 3 months, 严重: 1 year from the decision date); a record without a minimum period (licences, court listings) cannot be repaired.',
          tag: 'publication',
          requestParams: { path: z.object({ id: recordIdParam }), header: contentEncodingHeader },
          requestBody: { description: CHARSETS, required: true, ...json(repairSchema) },
          errors: cases(jsonBody(16 * 1024), OPERATOR_ONLY, STORE, NO_ROUTE, {
            not_found: 'no such record',
            invalid_body: 'reason is missing or not a text of 1 to 2,000 characters (details name it)',
            repair_too_early: 'before publication.minUntil',
            publication_state: 'the publication has ended already, the record is not published (轻微), or it has no minimum period',
          }),
          responses: { '200': { description: 'publication ended', ...json(decisionResultSchema) } },
        }),
      },
      '/v1/objections': {
        post: operation('POST /v1/objections', {
          operationId: 'fileObjection',
          summary: '异议: object to a published record (anyone: no key)',
          description:
            `No key. At most ${OBJECTIONS_PER_MINUTE} objections a minute from one client address (then 429 with Retry-After). ` +
            'Only a record published on the public site today can be objected to; any other id is 404, exactly as an unknown one. ' +
            'The record is marked 异议处理中 on the site until its objections are resolved. The contact is stored encrypted, shown to the credit office only, never on a page. ' +
            `The platform says whether it accepts the objection within ${OBJECTION_ACCEPT_WORKING_DAYS} Chinese working days, the providing department answers within ${OBJECTION_ANSWER_WORKING_DAYS}.`,
          tag: 'publication',
          public: true,
          requestParams: { header: contentEncodingHeader },
          requestBody: { description: CHARSETS, required: true, ...json(objectionSchema) },
          errors: cases(jsonBody(16 * 1024), STORE, {
            invalid_body: 'recordId is not a record id, reason is not a text of 1 to 2,000 characters, or contact is not a telephone number or e-mail address of 5 to 200 characters (details name it)',
            not_found: 'no record with this id is published',
            too_many_requests: `more than ${OBJECTIONS_PER_MINUTE} objections in a minute from this address; Retry-After says when to try again`,
          }),
          responses: { '202': { description: 'filed', ...json(objectionFiledSchema) } },
        }),
        get: operation('GET /v1/objections', {
          operationId: 'listObjections',
          summary: 'The open objections with their deadlines, the overdue first (operator)',
          description:
            'Oldest first: deadlines count from the filing day, so the earliest deadlines, and the overdue, come first. ' +
            `acceptBy: ${OBJECTION_ACCEPT_WORKING_DAYS} and answerBy: ${OBJECTION_ANSWER_WORKING_DAYS} Chinese working days after the filing day (weekends and public holidays off, adjusted working weekends on). ` +
            'Send `next` as `cursor` for the next page.',
          tag: 'publication',
          requestParams: { query: objectionsQuerySchema },
          errors: cases(OPERATOR_ONLY, STORE, { invalid_query: 'status is not open, limit is not an integer from 1 to 200, an unknown parameter, or a cursor of another list' }),
          responses: { '200': { description: 'a page of open objections', ...json(objectionsPageSchema) } },
        }),
      },
      '/v1/objections/{id}/resolve': {
        post: operation('POST /v1/objections/{id}/resolve', {
          operationId: 'resolveObjection',
          summary: 'Resolve an objection: upheld, corrected or revoked (operator)',
          description:
            'upheld: the record stands; corrected: the record stays published and its source pushes the corrected version (reviewed like any new version); ' +
            'revoked: publication ends (endReason revoked) and the upward platforms are told to delete the record. The 异议处理中 mark goes with the last open objection.',
          tag: 'publication',
          requestParams: { path: z.object({ id: z.string().meta({ description: 'objection id: obj_ and 26 base32 characters', example: 'obj_3k7vq2m5xw4hyb6tzr2a8nc4de' }) }), header: contentEncodingHeader },
          requestBody: { description: CHARSETS, required: true, ...json(resolveObjectionSchema) },
          errors: cases(jsonBody(16 * 1024), OPERATOR_ONLY, STORE, NO_ROUTE, {
            not_found: 'no such objection',
            invalid_body: 'outcome is not upheld, corrected or revoked, or note is missing (details name it)',
            objection_state: 'the objection is resolved already',
          }),
          responses: { '200': { description: 'resolved', ...json(objectionResolvedSchema) } },
        }),
      },
      '/v1/audit/reads': {
        get: operation('GET /v1/audit/reads', {
          operationId: 'listAuditReads',
          summary: 'Reads that showed identity numbers in full: who, which record, when, from where (operator)',
          description:
            'Every answer that shows an identity number in full (today: GET /v1/records/{id} by the operator, when the record or a listed version has one) ' +
            'is recorded before it is sent, in an append-only store; if it cannot be recorded, the read fails. ' +
            `With \`record\`: that record's reads (all days unless from/to are given). Without: every record's reads from \`to\` (default today in China) back to \`from\` (default \`to\`), at most ${AUDIT_DAYS_MAX} days. ` +
            `Newest first, at most \`limit\` (default ${AUDIT_PAGE_DEFAULT}, at most ${AUDIT_PAGE_MAX}) per page; a page may hold fewer, even none, and still have \`next\`: ` +
            'send it as `cursor` with the same record, from and to. No `next` means the end.',
          tag: 'audit',
          requestParams: { query: auditReadsQuerySchema },
          errors: cases(OPERATOR_ONLY, STORE, {
            invalid_query: 'a query parameter is invalid or unknown, from is after to, the days span more than the limit, or the cursor belongs to another query (details name the parameter)',
          }),
          responses: { '200': { description: 'a page of reads, newest first', ...json(auditReadsPageSchema) } },
        }),
      },
    },
  });
}
