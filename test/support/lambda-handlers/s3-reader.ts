/**
 * A Lambda handler for tests of the local S3 path, as the batch ingest will be: started by an S3 event,
 * it reads the object through the hub's own S3 client (shared/aws/clients.ts, configured by the handler
 * environment of the local stack alone) and writes a copy with a streamed body.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { buckets } from '../../../infra/catalogue.js';
import { s3 } from '../../../shared/aws/s3-client.js';

export async function handler(event: S3Event) {
  const record = event.Records[0]!;
  const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
  const bucket = process.env[buckets.batches.envVar]!;
  const got = await s3().send(new GetObjectCommand({ Bucket: record.s3.bucket.name, Key: key }));
  const body = Buffer.from(await got.Body!.transformToByteArray());
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: `copies/${key}`, Body: Readable.from([body]), ContentLength: body.length }));
  return { key, bucket, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}
