/**
 * When to send a request again: after a 503 (API.md: "send the same request
 * again later"), a 429 or a 409 "still in progress", waiting what the hub's
 * Retry-After asks for, or without one an exponential back-off with jitter.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Back-off without Retry-After: `baseDelayMs` × 2^(attempt − 1), at most `maxDelayMs`, between half and all of it (jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 };

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long to wait before attempt `attempt + 1` (attempt counts from 1). A Retry-After is obeyed
 * (plus up to 250 ms, so that clients told the same second do not come back together).
 */
export function retryDelay(attempt: number, retryAfter: string | null | undefined, policy: RetryPolicy, random: () => number = Math.random): number {
  const asked = parseRetryAfter(retryAfter);
  if (asked !== undefined) return Math.min(asked, policy.maxRetryAfterMs) + Math.floor(random() * 250);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}
