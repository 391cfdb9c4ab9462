/**
 * What the local stack tells its handlers about S3 and Lambda (infra/local/event-services.ts), and when
 * the local S3 lifecycle expires an object (infra/local/s3-lifecycle.ts).
 */
import { describe, expect, it } from 'vitest';
import { buckets, functions, schedules, storageEnvironment } from '../../infra/catalogue.js';
import { LOCAL_QUEUE_VISIBILITY_ENV, localQueueVisibilityOverride, localServicesEnvironment } from '../../infra/local/event-services.js';
import { expiryTime } from '../../infra/local/s3-lifecycle.js';

describe('the handlers’ environment for S3 and Lambda', () => {
  const env = localServicesEnvironment('http://127.0.0.1:1001', 'http://127.0.0.1:1002');

  it('points the SDK at the emulator and the Invoke API, path-style, with checksums only where required', () => {
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1001',
      AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:1002',
      [storageEnvironment.s3ForcePathStyle]: 'true',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    });
  });

  it('names every bucket of the catalogue in its variable', () => {
    for (const spec of Object.values(buckets)) expect(env[spec.envVar]).toBe(spec.localName);
    expect(env.HUB_BATCH_BUCKET).toBe('hub-batches');
  });

  it('names each function another one invokes, by its local name, and no function that does not exist', () => {
    const catalogue = {
      functions: { ...functions, submissions: { ...functions.submissions, invokes: ['records', 'notThere'] } },
      buckets,
      schedules,
    };
    const withInvokes = localServicesEnvironment('http://s3', 'http://lambda', catalogue);
    expect(Object.entries(withInvokes).filter(([k]) => k.startsWith('HUB_FUNCTION_'))).toEqual([
      ['HUB_FUNCTION_RECORDS', 'credit-hub-records'],
      // The catalogue's own: the batch ingest continues itself; the jobs API starts the nightly sync, which continues itself.
      ['HUB_FUNCTION_BATCH_INGEST', 'credit-hub-batchIngest'],
      ['HUB_FUNCTION_SYNC_RUNNER', 'credit-hub-syncRunner'],
      // The jobs API also starts the expire runner, which continues itself.
      ['HUB_FUNCTION_EXPIRE_RUNNER', 'credit-hub-expireRunner'],
      // And the site publisher (the publish job), which continues itself too.
      ['HUB_FUNCTION_SITE_PUBLISHER', 'credit-hub-sitePublisher'],
    ]);
  });
});

describe('lifecycle expiry time', () => {
  it('is the written time plus the days, rounded up to the next midnight UTC, as S3 counts it', () => {
    expect(expiryTime(new Date('2030-01-01T10:00:00Z'), 30).toISOString()).toBe('2030-02-01T00:00:00.000Z');
    expect(expiryTime(new Date('2030-01-01T00:00:00Z'), 1).toISOString()).toBe('2030-01-02T00:00:00.000Z');
    expect(expiryTime(new Date('2030-01-31T23:59:59Z'), 1).toISOString()).toBe('2030-02-02T00:00:00.000Z');
  });
});

describe('the local queues’ visibility timeout (a test setting)', () => {
  it('is the catalogue’s unless HUB_SQS_VISIBILITY_SECONDS is set, and then that many seconds for every queue', () => {
    expect(localQueueVisibilityOverride({})).toBeUndefined();
    expect(localQueueVisibilityOverride({ [LOCAL_QUEUE_VISIBILITY_ENV]: '' })).toBeUndefined();
    expect(localQueueVisibilityOverride({ [LOCAL_QUEUE_VISIBILITY_ENV]: '20' })).toBe(20);
    expect(() => localQueueVisibilityOverride({ [LOCAL_QUEUE_VISIBILITY_ENV]: '0' })).toThrow(LOCAL_QUEUE_VISIBILITY_ENV);
  });
});

