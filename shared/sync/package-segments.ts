/**
 * The segments of a sync package's body in S3 (the `exchange` bucket, under `sync/`): each written as one gzip
 * stream from the lines as they are made (@aws-sdk/lib-storage Upload from a stream: a few 5 MB parts in memory,
 * whatever the number of lines), its SHA-256 and sizes counted on the way; read back decompressed, as a stream.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Segment } from './sync-model.js';

export interface PackageSegments {
  /** Writes the lines (each ending in a newline) as the object `key`, gzip; what it holds. */
  write(key: string, lines: AsyncIterable<string>): Promise<Segment>;
  /** The object `key`, decompressed. */
  open(key: string): Promise<Readable>;
}

const PART_SIZE = 5 * 1024 * 1024;

export class S3PackageSegments implements PackageSegments {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async write(key: string, lines: AsyncIterable<string>): Promise<Segment> {
    const hash = createHash('sha256');
    let records = 0;
    let bytes = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const line of lines) {
        const buffer = Buffer.from(line, 'utf8');
        hash.update(buffer);
        bytes += buffer.length;
        records++;
        yield buffer;
      }
    }
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/gzip' },
      queueSize: 2,
      partSize: PART_SIZE,
    });
    const piping = pipeline(Readable.from(counted()), createGzip(), body);
    try {
      await Promise.all([piping, upload.done()]);
    } catch (e) {
      // Whichever side failed, the other stops: no stream left waiting, no multipart upload left open.
      body.destroy(e as Error);
      await piping.catch(() => undefined);
      await upload.abort().catch(() => undefined);
      throw e;
    }
    return { key, records, bytes, sha256: hash.digest('hex') };
  }

  async open(key: string): Promise<Readable> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const gunzip = createGunzip();
    pipeline(out.Body as Readable, gunzip).catch(() => undefined); // an error reaches the reader through gunzip
    return gunzip;
  }
}
