/**
 * S3 bucket notifications on this machine: the S3 emulator reports each object created or removed
 * (s3-local.ts); this relay turns the report into the event Lambda receives from S3 — `Records[]` with
 * the event name, the bucket, the object key URL-encoded as S3 encodes it, size, eTag, sequencer —
 * matches it against the catalogue's notifications (event type, prefix, suffix) and invokes each
 * matching function asynchronously, with Lambda's retries (lambda-async.ts).
 */
import { randomBytes } from 'node:crypto';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { buckets as catalogueBuckets, type BucketNotificationSpec, type BucketSpec } from '../catalogue.js';

/** What the emulator reports for one object (the fields of s3rver's notification record this relay reads). */
export interface EmulatorS3Record {
  eventName: string;
  eventTime: string;
  requestParameters?: { sourceIPAddress?: string };
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
}

/**
 * An object key as S3 writes it into event notifications: URL-encoded as a form value (a space is `+`,
 * a `+` is `%2B`, non-ASCII as UTF-8 percent escapes), with the `/` separators kept. A handler gets the
 * key back with `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => new URLSearchParams({ k: segment }).toString().slice(2))
    .join('/');
}

/** The ARN partition of a region: `aws-cn` for the China regions. */
const partition = (region: string) => (region.startsWith('cn-') ? 'aws-cn' : 'aws');

let lastSequencer = 0n;
/** A sequencer that grows with every event (S3's orders the events of one key). */
function nextSequencer(): string {
  const now = BigInt(Date.now()) << 16n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(16, '0');
}

/** The S3 event Lambda receives for one object, as S3 sends it for the notification `configurationId`. */
export function lambdaS3Event(record: EmulatorS3Record, region: string, configurationId: string): S3Event {
  const bucket = record.s3.bucket.name;
  const created = record.eventName.startsWith('ObjectCreated:');
  const object = {
    key: encodeS3EventKey(record.s3.object.key),
    ...(created ? { size: Number(record.s3.object.size ?? 0), eTag: record.s3.object.eTag ?? '' } : {}),
    sequencer: nextSequencer(),
  } as S3EventRecord['s3']['object'];
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: record.eventTime,
        eventName: record.eventName,
        userIdentity: { principalId: 'AWS:LOCAL' },
        requestParameters: { sourceIPAddress: record.requestParameters?.sourceIPAddress ?? '127.0.0.1' },
        responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(32).toString('base64') },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId,
          bucket: { name: bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:${partition(region)}:s3:::${bucket}` },
          object,
        },
      },
    ],
  };
}

/** Whether a notification is for this object event (`ObjectCreated:Put` is an `ObjectCreated`), by key prefix and suffix. */
export function notificationMatches(notification: BucketNotificationSpec, eventName: string, key: string): boolean {
  return (
    eventName.startsWith(`${notification.event}:`) &&
    key.startsWith(notification.prefix ?? '') &&
    key.endsWith(notification.suffix ?? '')
  );
}

export interface S3EventRelayOptions {
  /** Invokes a function asynchronously (lambda-async.ts); `source` names the notification for the log. */
  invokeAsync: (fn: string, event: S3Event, source: string) => void;
  region: string;
  /** The buckets and their notifications; the catalogue's unless given (tests). */
  buckets?: Readonly<Record<string, BucketSpec>>;
  /** Whether a function exists (notifications to others are not wired: the stack says so at start). */
  hasFunction: (fn: string) => boolean;
  log?: (line: string) => void;
}

export interface S3EventRelay {
  /** Delivers one report of the emulator (`{Records:[…]}`); returns the number of invocations queued. */
  deliver(report: unknown): number;
}

export function s3EventRelay(options: S3EventRelayOptions): S3EventRelay {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const byLocalName = new Map(Object.entries(options.buckets ?? catalogueBuckets).map(([id, spec]) => [spec.localName, { id, spec: spec as BucketSpec }]));
  return {
    deliver(report) {
      const records = (report as { Records?: EmulatorS3Record[] } | undefined)?.Records;
      if (!Array.isArray(records)) {
        log(`S3 event relay: ignored a report that is not an S3 event: ${JSON.stringify(report)?.slice(0, 200)}`);
        return 0;
      }
      let queued = 0;
      for (const record of records) {
        const bucket = byLocalName.get(record.s3?.bucket?.name);
        if (!bucket) continue;
        bucket.spec.notifications.forEach((notification, i) => {
          if (!options.hasFunction(notification.function) || !notificationMatches(notification, record.eventName, record.s3.object.key)) return;
          const configurationId = `${bucket.id}-${notification.event}-${i}`;
          options.invokeAsync(notification.function, lambdaS3Event(record, options.region, configurationId), `s3 ${bucket.spec.localName} ${record.eventName} notification ${i}`);
          queued++;
        });
      }
      return queued;
    },
  };
}
