/**
 * The `Idempotency-Key` header (API.md, after the IETF draft of that name):
 * the same key with the same body within 24 hours gets the first answer again
 * and writes nothing; while the first request is still being processed, 409;
 * the same key with another body, 422.
 *
 * Powertools Idempotency does the bookkeeping in the `idempotency` table: an
 * in-progress item (expiring with the invocation's remaining time, so a
 * request that died does not block its key for a day), then the answer,
 * kept `api.idempotencyTtlSeconds`. A request that fails (4xx, or a 503 when
 * the store or the deadline stopped it) leaves no record, so sending it again
 * does the work again — which is safe, pushes being idempotent by content.
 *
 * Keys are scoped to the caller and the route: two departments using the same
 * key never see each other's answers.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { api } from '../../infra/catalogue.js';
import { dynamoClientConfig } from '../aws/client-config.js';
import { tableName } from '../config.js';
import { badRequest, conflict, HttpError } from './errors.js';

const MAX_KEY_LENGTH = 255;

/** The request's Idempotency-Key, if any; 400 when it is empty, too long or not printable ASCII. */
export function idempotencyKeyOf(event: APIGatewayProxyEventV2): string | undefined {
  const raw = event.headers?.['idempotency-key'];
  if (raw === undefined) return undefined;
  // RFC 8941 sf-string: the draft sends the key quoted; unquoted keys are taken as they are.
  const key = /^".*"$/.test(raw.trim()) ? raw.trim().slice(1, -1) : raw.trim();
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7E]+$/.test(key)) {
    throw badRequest(
      `Idempotency-Key无效 (the Idempotency-Key header must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters)`,
      [{ field: 'Idempotency-Key', message: 'invalid idempotency key' }],
      'invalid_idempotency_key',
    );
  }
  return key;
}

/** What identifies a request's body for the 422 check: its bytes as received, and how they are encoded. */
export function bodyFingerprint(event: APIGatewayProxyEventV2): string {
  const h = createHash('sha256');
  h.update(event.isBase64Encoded ? 'b64\u0000' : 'txt\u0000');
  h.update(event.headers?.['content-type'] ?? '');
  h.update('\u0000');
  h.update(event.headers?.['content-encoding'] ?? '');
  h.update('\u0000');
  h.update(event.body ?? '');
  return h.digest('base64url');
}

/**
 * What identifies a keyed request to the records it changes (StoredHead.appliedRequests):
 * the caller's scope and its Idempotency-Key, hashed. Undefined without a key.
 */
export function requestKeyOf(event: APIGatewayProxyEventV2, scope: string): string | undefined {
  const key = idempotencyKeyOf(event);
  return key === undefined ? undefined : createHash('sha256').update(`${scope}\u0000${key}`).digest('base64url').slice(0, 22);
}

interface StoredAnswer {
  statusCode: number;
  /** gzip + base64 of the JSON body: a 1,000-record answer stays far below DynamoDB's 400 KB item limit. */
  body: string;
  contentType: string;
}

type Work = () => Promise<APIGatewayProxyStructuredResultV2>;

let runOnce: ((request: { scope: string; fingerprint: string }, work: Work) => Promise<StoredAnswer>) | undefined;
let config: IdempotencyConfig | undefined;

function idempotent() {
  if (!runOnce) {
    config = new IdempotencyConfig({
      eventKeyJmesPath: 'scope',
      payloadValidationJmesPath: 'fingerprint',
      expiresAfterSeconds: api.idempotencyTtlSeconds,
      throwOnNoIdempotencyKey: true,
    });
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName: tableName('idempotency'), clientConfig: dynamoClientConfig() });
    runOnce = makeIdempotent(
      async (_request: { scope: string; fingerprint: string }, work: Work): Promise<StoredAnswer> => {
        const response = await work();
        return {
          statusCode: response.statusCode ?? 200,
          body: gzipSync(response.body ?? '').toString('base64'),
          contentType: String(response.headers?.['content-type'] ?? 'application/json; charset=utf-8'),
        };
      },
      { persistenceStore, config },
    );
  }
  return { run: runOnce, config: config! };
}

/**
 * Runs `work` once per (scope, key): the first answer is kept and given again
 * to a retry with the same body. Without a key, `work` simply runs.
 */
export async function onceForKey(
  event: APIGatewayProxyEventV2,
  context: Context,
  scope: string,
  work: Work,
): Promise<APIGatewayProxyStructuredResultV2> {
  const key = idempotencyKeyOf(event);
  if (key === undefined) return work();
  const { run, config: cfg } = idempotent();
  cfg.registerLambdaContext(context);
  let answer: StoredAnswer;
  try {
    answer = await run({ scope: `${scope}\u0000${key}`, fingerprint: bodyFingerprint(event) }, work);
  } catch (e) {
    throw idempotencyError(e);
  }
  return {
    statusCode: answer.statusCode,
    headers: { 'content-type': answer.contentType, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' },
    body: gunzipSync(Buffer.from(answer.body, 'base64')).toString('utf8'),
  };
}

/** Powertools' errors as the API's: 409 in progress, 422 reused with another body; the work's own errors unchanged. */
export function idempotencyError(e: unknown): unknown {
  if (e instanceof HttpError || !(e instanceof Error)) return e;
  switch (e.name) {
    case 'IdempotencyAlreadyInProgressError':
      return conflict(
        '使用同一Idempotency-Key的请求仍在处理中，请稍后再试 (a request with this Idempotency-Key is still being processed; retry later)',
        'idempotency_in_progress',
      );
    case 'IdempotencyValidationError':
      return new HttpError(422, 'idempotency_key_reused', '此Idempotency-Key已用于另一个请求体 (this Idempotency-Key was used with a different body)');
    case 'IdempotencyPersistenceLayerError':
    case 'IdempotencyUnknownError':
      // The idempotency table could not be read or written: its cause decides (a transient AWS error → 503).
      return (e as Error & { cause?: unknown }).cause ?? e;
    default:
      return e;
  }
}
