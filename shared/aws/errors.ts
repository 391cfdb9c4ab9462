/**
 * Which failures of an AWS dependency (DynamoDB, KMS, Secrets Manager) mean
 * "unavailable for now: send the same request again later" (503 with
 * Retry-After), as opposed to a fault of the hub (500). Classified here, once,
 * with the AWS SDK's own rules (the service-error classification of
 * @smithy/core, which its retry strategy uses), applied to the error the SDK
 * throws after its own retries:
 *
 * - `connection`: the service cannot be reached — ECONNREFUSED, ECONNRESET
 *   (Node's "socket hang up" too), EPIPE, EHOSTUNREACH, ENETUNREACH, and DNS
 *   failures (ENOTFOUND, EAI_AGAIN). The SDK throws Node's error as it is,
 *   with `$metadata.attempts` added.
 * - `timeout`: the SDK's `TimeoutError` (the HTTP handler's connection,
 *   request and socket timeouts, ETIMEDOUT), `RequestTimeout(Exception)`.
 * - `throttling`: ThrottlingException, ProvisionedThroughputExceededException,
 *   RequestLimitExceeded, LimitExceededException, HTTP 429, or an error the
 *   service marks `$retryable: { throttling: true }`.
 * - `server`: the service failed (any 5xx: InternalServerError,
 *   ServiceUnavailable, KMSInternalException, DependencyTimeoutException …).
 * - `transient`: anything else the SDK itself would retry (`$retryable`).
 *
 * Errors wrapped by a library (Powertools Idempotency wraps its store's in
 * `cause`) are looked through. A request the service refused on its merits
 * (validation, access denied, a missing table or key, a disabled KMS key) is
 * none of these: it is a fault to fix, answered 500 and logged.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

export type UnavailableReason = 'connection' | 'timeout' | 'throttling' | 'server' | 'transient';

const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const MAX_CAUSE_DEPTH = 10;

type ErrorLike = { name?: unknown; code?: unknown; cause?: unknown; $metadata?: { httpStatusCode?: number } };

function reasonOf(e: ErrorLike): UnavailableReason | undefined {
  // The SDK's predicates read properties of their argument: only objects reach them.
  const sdkError = e as Parameters<typeof isTransientError>[0];
  if (isThrottlingError(sdkError)) return 'throttling';
  // Before the name: the SDK's HTTP handler renames ECONNRESET, ECONNREFUSED and EPIPE errors "TimeoutError".
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return 'connection';
  if (TIMEOUT_NAMES.has(String(e.name)) || e.code === 'ETIMEDOUT') return 'timeout';
  // isServerError: a 5xx the SDK does not retry; the 5xx it retries (500, 502, 503, 504) are the service failing too.
  if (isServerError(sdkError) || (e.$metadata?.httpStatusCode ?? 0) >= 500) return 'server';
  // Depth past the SDK's own limit: this function walks the cause chain itself.
  if (isTransientError(sdkError, MAX_CAUSE_DEPTH + 1)) return 'transient';
  return undefined;
}

/** Why an AWS dependency is unavailable for now, or undefined when `error` is not such a failure. */
export function unavailableReason(error: unknown): UnavailableReason | undefined {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
    const e = current as ErrorLike;
    // An abort is the caller's own decision (a deadline, say), not the dependency failing.
    if (e.name === 'AbortError') return undefined;
    const reason = reasonOf(e);
    if (reason) return reason;
    current = e.cause;
  }
  return undefined;
}

/** Whether `error` means an AWS dependency is unavailable for now (503 with Retry-After, the request can be sent again). */
export function isDependencyUnavailable(error: unknown): boolean {
  return unavailableReason(error) !== undefined;
}
