/**
 * The S3 event relay (infra/local/s3-events.ts) on its own: keys encoded as S3 encodes them in
 * notifications, which notification an event matches (type, prefix, suffix), and the event built for
 * a removed object. The path from a real upload to a function is in test/integration/local-s3.test.ts.
 */
import type { S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buckets, type BucketSpec } from '../../infra/catalogue.js';
import { encodeS3EventKey, lambdaS3Event, notificationMatches, s3EventRelay, type EmulatorS3Record } from '../../infra/local/s3-events.js';

const decode = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));

const report = (eventName: string, key: string, bucket = 'hub-test'): { Records: EmulatorS3Record[] } => ({
  Records: [{ eventName, eventTime: '2030-01-01T00:00:00.000Z', requestParameters: { sourceIPAddress: '127.0.0.1' }, s3: { bucket: { name: bucket }, object: { key, size: 3, eTag: 'abc' } } }],
});

const testBuckets: Record<string, BucketSpec> = {
  files: {
    envVar: 'X',
    localName: 'hub-test',
    description: 'test',
    notifications: [
      { event: 'ObjectCreated', prefix: 'uploads/', suffix: '.csv', function: 'ingest' },
      { event: 'ObjectRemoved', function: 'cleanup' },
      { event: 'ObjectCreated', prefix: 'uploads/', function: 'notYetThere' },
    ],
  },
};

function relayWith(known: string[]) {
  const queued: { fn: string; event: S3Event; source: string }[] = [];
  const logged: string[] = [];
  const relay = s3EventRelay({ region: 'cn-north-1', buckets: testBuckets, hasFunction: (fn) => known.includes(fn), invokeAsync: (fn, event, source) => queued.push({ fn, event, source }), log: (l) => logged.push(l) });
  return { relay, queued, logged };
}

describe('encodeS3EventKey', () => {
  it.each([
    ['uploads/plain.csv', 'uploads/plain.csv'],
    ['uploads/a b.csv', 'uploads/a+b.csv'],
    ['uploads/a+b.csv', 'uploads/a%2Bb.csv'],
    ['uploads/法院 批次.csv', 'uploads/%E6%B3%95%E9%99%A2+%E6%89%B9%E6%AC%A1.csv'],
    ['uploads/50%(x)&y=z?#.csv', 'uploads/50%25%28x%29%26y%3Dz%3F%23.csv'],
  ])('%s → %s, which decodes back', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
    expect(decode(encoded)).toBe(key);
  });
});

describe('notificationMatches', () => {
  const n = { event: 'ObjectCreated', prefix: 'uploads/', suffix: '.csv', function: 'f' } as const;
  it('matches every ObjectCreated kind, within prefix and suffix, and nothing else', () => {
    expect(notificationMatches(n, 'ObjectCreated:Put', 'uploads/a.csv')).toBe(true);
    expect(notificationMatches(n, 'ObjectCreated:CompleteMultipartUpload', 'uploads/a.csv')).toBe(true);
    expect(notificationMatches(n, 'ObjectCreated:Post', 'uploads/a.csv')).toBe(true);
    expect(notificationMatches(n, 'ObjectRemoved:Delete', 'uploads/a.csv')).toBe(false);
    expect(notificationMatches(n, 'ObjectCreated:Put', 'rejects/a.csv')).toBe(false);
    expect(notificationMatches(n, 'ObjectCreated:Put', 'uploads/a.ndjson')).toBe(false);
    expect(notificationMatches(n, 'ObjectCreatedX:Put', 'uploads/a.csv')).toBe(false);
  });
});

describe('the S3 event relay', () => {
  it('invokes each matching notification’s function with the event S3 sends it', () => {
    const { relay, queued } = relayWith(['ingest', 'cleanup']);
    expect(relay.deliver(report('ObjectCreated:Put', 'uploads/x y.csv'))).toBe(1);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.fn).toBe('ingest');
    expect(queued[0]!.source).toBe('s3 hub-test ObjectCreated:Put notification 0');
    expect(queued[0]!.event).toMatchObject({
      Records: [
        {
          eventSource: 'aws:s3',
          awsRegion: 'cn-north-1',
          eventTime: '2030-01-01T00:00:00.000Z',
          eventName: 'ObjectCreated:Put',
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          s3: { configurationId: 'files-ObjectCreated-0', bucket: { name: 'hub-test', arn: 'arn:aws-cn:s3:::hub-test' }, object: { key: 'uploads/x+y.csv', size: 3, eTag: 'abc' } },
        },
      ],
    });
  });

  it('gives a removed object no size or eTag, as S3 does', () => {
    const { relay, queued } = relayWith(['ingest', 'cleanup']);
    expect(relay.deliver(report('ObjectRemoved:Delete', 'anything/at/all'))).toBe(1);
    expect(queued[0]!.fn).toBe('cleanup');
    expect(Object.keys(queued[0]!.event.Records[0]!.s3.object).sort()).toEqual(['key', 'sequencer']);
  });

  it('wires no notification of a function that does not exist, nor of a bucket it does not know', () => {
    const { relay, queued } = relayWith(['ingest']);
    expect(relay.deliver(report('ObjectCreated:Put', 'uploads/a.ndjson'))).toBe(0);
    expect(relay.deliver(report('ObjectCreated:Put', 'uploads/a.csv', 'another-bucket'))).toBe(0);
    expect(queued).toEqual([]);
  });

  it('says so when the emulator reports something that is not an S3 event', () => {
    const { relay, logged } = relayWith(['ingest']);
    expect(relay.deliver({ nothing: 1 })).toBe(0);
    expect(logged).toEqual(['S3 event relay: ignored a report that is not an S3 event: {"nothing":1}']);
  });

  it('gives the events of one object growing sequencers', () => {
    const events = [1, 2, 3].map(() => lambdaS3Event(report('ObjectCreated:Put', 'uploads/a.csv').Records[0]!, 'cn-north-1', 'c'));
    const sequencers = events.map((e) => e.Records[0]!.s3.object.sequencer);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
  });

  it('reads the catalogue’s buckets by default', () => {
    const queued: string[] = [];
    const relay = s3EventRelay({ region: 'cn-north-1', hasFunction: () => true, invokeAsync: (fn) => queued.push(fn), log: () => undefined });
    const [notification] = buckets.batches.notifications;
    relay.deliver(report('ObjectCreated:Put', `${notification.prefix}b1`, buckets.batches.localName));
    expect(queued).toEqual([notification.function]);
  });
});
