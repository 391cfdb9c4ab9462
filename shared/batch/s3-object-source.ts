/**
 * The batch uploads in S3, as the ingest's ObjectSource: a ranged GET from
 * the checkpoint's offset, streamed (never the whole object in memory), made
 * on condition of the ETag first seen (If-Match: S3 answers 412 when the
 * object was replaced). The ETag of the answer is checked too, for emulators
 * that ignore If-Match.
 *
 * An object is looked for by listing its key as a prefix (ListObjectsV2), not
 * with a HEAD: S3 answers a HEAD of a missing key 404 only to a caller allowed
 * to list the whole bucket (403 otherwise), whereas a listing can be allowed
 * under the one prefix (`s3:ListBucket` on condition of `s3:prefix`).
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { BatchObject } from './batch-model.js';
import { ObjectChangedError, type ObjectSource } from './ports.js';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const named = (e: unknown, ...names: string[]) => names.includes((e as Error).name);

export class S3ObjectSource implements ObjectSource {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async stat(key: string): Promise<BatchObject | undefined> {
    return statObject(this.client, this.bucket, key);
  }

  async *read(key: string, offset: number, etag: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    let body: Readable;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${offset}-`, IfMatch: etag }), { abortSignal: signal });
      body = out.Body as Readable;
      if (out.ETag !== etag) {
        body.destroy();
        throw new ObjectChangedError(`${key}: ETag ${out.ETag}, expected ${etag}`);
      }
    } catch (e) {
      if (named(e, 'PreconditionFailed') || status(e) === 412) throw new ObjectChangedError(`${key}: replaced (ETag is no longer ${etag})`);
      if (named(e, 'NoSuchKey') || status(e) === 404) throw new ObjectChangedError(`${key}: deleted (it had ETag ${etag})`);
      // Nothing from `offset` on: the end of the object, if it still is the same object.
      if (named(e, 'InvalidRange') || status(e) === 416) {
        const now = await this.stat(key);
        if (now?.etag !== etag) throw new ObjectChangedError(`${key}: replaced (ETag is no longer ${etag})`);
        return;
      }
      throw e;
    }
    try {
      yield* body;
    } finally {
      body.destroy();
    }
  }
}

/**
 * An object's ETag and size, or undefined when there is none: the first key listed under the key itself as a
 * prefix (keys are listed in order, so it is the key when it exists).
 */
export async function statObject(client: S3Client, bucket: string, key: string): Promise<BatchObject | undefined> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
  const found = listed.Contents?.[0];
  if (!found || found.Key !== key) return undefined;
  return { etag: found.ETag!, size: found.Size ?? 0 };
}
