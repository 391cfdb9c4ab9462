/** When a POST to a platform is tried again and after how long (shared/upward/retry-policy.ts). */
import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffMs, classifyStatus, retryAfterMs } from '../../shared/upward/retry-policy.js';

describe('classifyStatus', () => {
  it('2xx delivered; 5xx, 408 and 429 retried; any other status refused', () => {
    expect([200, 201, 202, 204].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect([500, 502, 503, 504, 408, 429].map(classifyStatus)).toEqual(Array(6).fill('retry'));
    expect([400, 401, 403, 404, 409, 413, 422, 301].map(classifyStatus)).toEqual(Array(8).fill('refused'));
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
