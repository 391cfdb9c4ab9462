/** What the upward functions read from their environment (shared/upward/environment.ts), by the catalogue's names. */
import { describe, expect, it } from 'vitest';
import { platforms, queues } from '../../infra/catalogue.js';
import { connectorPlatform, deliveryQueueUrls, PLATFORM_ENV } from '../../shared/upward/environment.js';

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
