/** What the upward functions read from their environment (shared/upward/environment.ts), by the catalogue's names. */
import { describe, expect, it } from 'vitest';
import { exchange, platforms, queues } from '../../infra/catalogue.js';
import {
  connectorPlatform,
  deliveryQueueUrls,
  PLATFORM_ENV,
  PLATFORM_TIMEOUT_ENV,
  platformRequestTimeoutMs,
  REDELIVERY_BASE_ENV,
  redeliveryBaseSeconds,
  REQUEUE_AFTER_ENV,
  requeueAfterMs,
  secondsSetting,
} from '../../shared/upward/environment.js';
import { REDELIVERY_BASE_SECONDS } from '../../shared/upward/retry-policy.js';

describe('upward environment', () => {
  it('takes each platform’s queue URL from its queue’s envVar, and names the one missing', () => {
    const env = { [queues[platforms.provincial.queue].envVar]: 'https://q/p', [queues[platforms.national.queue].envVar]: 'https://q/n' };
    expect(deliveryQueueUrls(env)).toEqual({ provincial: 'https://q/p', national: 'https://q/n' });
    expect(() => deliveryQueueUrls({ [queues.provincial.envVar]: 'https://q/p' })).toThrow(`environment variable ${queues.national.envVar} is not set`);
  });

  it('takes a connector’s platform from HUB_PLATFORM, which must name one of the catalogue’s', () => {
    expect(connectorPlatform({ [PLATFORM_ENV]: 'national' })).toBe('national');
    expect(() => connectorPlatform({})).toThrow(PLATFORM_ENV);
    expect(() => connectorPlatform({ [PLATFORM_ENV]: 'city' })).toThrow(/not one of provincial, national/);
  });
});

describe('test and demo settings of the upward path', () => {
  it('keep the catalogue’s request timeout and requeue age when unset or empty', () => {
    expect(platformRequestTimeoutMs({})).toBe(exchange.requestTimeoutSeconds * 1000);
    expect(requeueAfterMs({ [REQUEUE_AFTER_ENV]: '' })).toBe(exchange.requeueAfterSeconds * 1000);
  });

  it('take HUB_PLATFORM_TIMEOUT_SECONDS and HUB_REQUEUE_AFTER_SECONDS in whole seconds', () => {
    expect(platformRequestTimeoutMs({ [PLATFORM_TIMEOUT_ENV]: '2' })).toBe(2000);
    expect(requeueAfterMs({ [REQUEUE_AFTER_ENV]: ' 30 ' })).toBe(30_000);
  });

  it('take HUB_REDELIVERY_BASE_SECONDS (a connector’s first put-off), else retry-policy’s 30 s', () => {
    expect(redeliveryBaseSeconds({})).toBe(REDELIVERY_BASE_SECONDS);
    expect(redeliveryBaseSeconds({ [REDELIVERY_BASE_ENV]: '5' })).toBe(5);
    expect(() => redeliveryBaseSeconds({ [REDELIVERY_BASE_ENV]: '0' })).toThrow(REDELIVERY_BASE_ENV);
  });

  it('refuse anything but a whole number of seconds of at least 1, naming the variable', () => {
    for (const bad of ['0', '-1', '1.5', '10s', 'abc']) {
      expect(() => platformRequestTimeoutMs({ [PLATFORM_TIMEOUT_ENV]: bad })).toThrow(PLATFORM_TIMEOUT_ENV);
      expect(() => secondsSetting('X_SECONDS', 7, { X_SECONDS: bad })).toThrow(/X_SECONDS must be a whole number of seconds/);
    }
    expect(secondsSetting('X_SECONDS', 7, {})).toBe(7);
  });
});
