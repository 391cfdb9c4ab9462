/**
 * The batch uploads in S3, as the ingest's ObjectSource: a ranged GET from
 * the checkpoint's offset, streamed (never the whole object in memory), made
 * on condition of the ETag first seen (If-Match: S3 answers 412 when the
 * object was replaced). The ETag of the answer is checked too, for emulators
 * that ignore If-Match (s3rver does).
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { etag: head.ETag!, size: head.ContentLength ?? 0 };
    } catch (e) {
      if (named(e, 'NotFound', 'NoSuchKey') || status(e) === 404) return undefined;
      throw e;
    }
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
