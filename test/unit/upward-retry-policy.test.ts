/** When a POST to a platform is tried again and after how long (shared/upward/retry-policy.ts). */
import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffMs, classifyStatus, MAX_VISIBILITY_SECONDS, REDELIVERY_BASE_SECONDS, redeliveryDelaySeconds, retryAfterMs } from '../../shared/upward/retry-policy.js';

describe('classifyStatus', () => {
  it('2xx delivered; 5xx, 408, 429 and 3xx (a redirect is not followed) retried; any other status refused', () => {
    expect([200, 201, 202, 204].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect([500, 502, 503, 504, 408, 429].map(classifyStatus)).toEqual(Array(6).fill('retry'));
    expect([300, 301, 302, 303, 307, 308].map(classifyStatus)).toEqual(Array(6).fill('retry'));
    expect([400, 401, 403, 404, 409, 413, 422].map(classifyStatus)).toEqual(Array(7).fill('refused'));
  });
});

describe('redeliveryDelaySeconds', () => {
  it('base × 2^receiveCount, at least Retry-After, at most 12 hours, never 0', () => {
    expect([1, 2, 3, 4].map((n) => redeliveryDelaySeconds(n, undefined))).toEqual([2, 4, 8, 16].map((f) => f * REDELIVERY_BASE_SECONDS));
    expect(redeliveryDelaySeconds(1, 600_500)).toBe(601);
    expect(redeliveryDelaySeconds(1, 100 * 3600 * 1000)).toBe(MAX_VISIBILITY_SECONDS);
    expect(redeliveryDelaySeconds(40, undefined)).toBe(MAX_VISIBILITY_SECONDS);
    expect(redeliveryDelaySeconds(0, 0, 0)).toBe(1);
    expect(redeliveryDelaySeconds(2, undefined, 5)).toBe(20);
  });
});

describe('backoffMs (full jitter)', () => {
  it('waits between 0 and base × 2^(retry−1), capped', () => {
    expect(backoffMs(1, () => 0)).toBe(0);
    expect(backoffMs(1, () => 0.999999)).toBe(BACKOFF_BASE_MS - 1);
    expect(backoffMs(3, () => 0.5)).toBe(Math.floor(0.5 * BACKOFF_BASE_MS * 4));
    expect(backoffMs(30, () => 0.999999)).toBeLessThan(BACKOFF_CAP_MS);
    expect(backoffMs(30, () => 0.999999)).toBeGreaterThan(BACKOFF_CAP_MS - 10);
  });
});

describe('retryAfterMs', () => {
  const now = new Date('2026-10-21T07:28:00.000Z');
  it('reads delay-seconds and HTTP dates; a past date is 0', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:07 GMT', now)).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
  });

  it('ignores what is absent or unreadable', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs('1.5', now)).toBeUndefined();
  });
});
