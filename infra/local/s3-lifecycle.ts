/**
 * S3 lifecycle expiration on this machine (the emulator has none): the objects of a bucket with
 * `expireAfterDays` are deleted once that many days have passed since they were written, counted as
 * S3 counts them — from the object's creation, rounded up to the next midnight UTC. Run at start and
 * then periodically by the local stack (event-services.ts); S3 itself also expires lazily, within
 * about a day, so nothing may rely on the exact moment.
 */
import { DeleteObjectsCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { buckets as catalogueBuckets, type BucketSpec } from '../catalogue.js';

const DAY_MS = 86_400_000;

/** When S3 expires an object written at `written` under a rule of `days` days. */
export function expiryTime(written: Date, days: number): Date {
  return new Date(Math.ceil((written.getTime() + days * DAY_MS) / DAY_MS) * DAY_MS);
}

/** Deletes the expired objects of the buckets with an expiry; returns how many per bucket (local names). */
export async function expireObjects(client: S3Client, now: Date, specs: Readonly<Record<string, BucketSpec>> = catalogueBuckets): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const spec of Object.values(specs)) {
    if (spec.expireAfterDays === undefined) continue;
    let count = 0;
    for await (const page of paginateListObjectsV2({ client }, { Bucket: spec.localName })) {
      const expired = (page.Contents ?? []).filter((o) => o.Key !== undefined && o.LastModified && expiryTime(o.LastModified, spec.expireAfterDays!) <= now);
      if (expired.length === 0) continue;
      await client.send(new DeleteObjectsCommand({ Bucket: spec.localName, Delete: { Objects: expired.map((o) => ({ Key: o.Key! })), Quiet: true } }));
      count += expired.length;
    }
    deleted[spec.localName] = count;
  }
  return deleted;
}
