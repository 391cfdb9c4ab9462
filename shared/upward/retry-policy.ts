/**
 * When a POST to an upward platform is tried again, and after how long (pure).
 *
 * - 5xx, 408 and 429 are the platform's passing trouble (API.md "Upward platforms"), as are timeouts, network
 *   errors and 3xx (a redirect is not followed: a platform that moved or a proxy in the way is a fault of the
 *   path, not of the package); any other 4xx is a refusal of that package, which sending it again cannot change.
 * - Back-off: exponential with full jitter (a random wait between 0 and base × 2^retry, capped), so that the
 *   connectors' retries do not arrive together; never shorter than what the platform asked for in Retry-After.
 */

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 8_000;

export type ResponseClass = 'delivered' | 'retry' | 'refused';

export function classifyStatus(status: number): ResponseClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 500 || status === 408 || status === 429 || (status >= 300 && status < 400)) return 'retry';
  return 'refused';
}

/** The wait before retry number `retry` (1 for the first retry): between 0 and min(cap, base × 2^(retry−1)). */
export function backoffMs(retry: number, random: () => number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1)));
}

/** The first redelivery delay of a message the platform could not take (doubled at each receive). */
export const REDELIVERY_BASE_SECONDS = 30;
/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * How long a message the platform could not take stays hidden before its next receive (ChangeMessageVisibility):
 * base × 2^receiveCount, at least what Retry-After asked for, at most SQS's 12 hours, never 0 (a 0 would make it
 * visible at once, and loses it in the local emulator).
 */
export function redeliveryDelaySeconds(receiveCount: number, retryAfterMs: number | undefined, baseSeconds = REDELIVERY_BASE_SECONDS): number {
  const grown = baseSeconds * 2 ** Math.max(0, Math.min(receiveCount, 20));
  const asked = retryAfterMs === undefined ? 0 : Math.ceil(retryAfterMs / 1000);
  return Math.max(1, Math.min(MAX_VISIBILITY_SECONDS, Math.max(asked, grown)));
}

/**
 * What a Retry-After header asks for, in milliseconds from `now`: delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`); a date in the past is 0; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined | null, now: Date): number | undefined {
  if (header === undefined || header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
