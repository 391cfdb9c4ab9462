/**
 * What real S3 answers that the local emulator does not: If-Match refused (412), a range past the end (416), an
 * object deleted (404); and how an object is looked for: listed under its key (a HEAD of a missing key is 403 to a
 * caller that may list only under a prefix).
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectChangedError } from '../../shared/batch/ports.js';
import { S3ObjectSource } from '../../shared/batch/s3-object-source.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const source = new S3ObjectSource(new S3Client({ region: 'cn-north-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }), 'bucket');
const error = (name: string, httpStatusCode: number) => new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode } });

async function drain(iterable: AsyncIterable<Uint8Array>) {
  const parts: Uint8Array[] = [];
  for await (const part of iterable) parts.push(part);
  return parts;
}

describe('S3ObjectSource against S3’s answers', () => {
  it('reads with Range from the offset and If-Match on the ETag', async () => {
    s3.on(GetObjectCommand).rejects(error('PreconditionFailed', 412));
    await expect(drain(source.read('uploads/x', 42, '"e1"'))).rejects.toBeInstanceOf(ObjectChangedError);
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'bucket', Key: 'uploads/x', Range: 'bytes=42-', IfMatch: '"e1"' });
  });

  it('a range past the end is the end of the same object, or a replaced one', async () => {
    s3.on(GetObjectCommand).rejects(error('InvalidRange', 416));
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'uploads/x', ETag: '"e1"', Size: 42 }] });
    expect(await drain(source.read('uploads/x', 42, '"e1"'))).toEqual([]);
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'uploads/x', ETag: '"e2"', Size: 10 }] });
    await expect(drain(source.read('uploads/x', 42, '"e1"'))).rejects.toBeInstanceOf(ObjectChangedError);
  });

  it('an upload deleted while it is read is a changed object', async () => {
    s3.on(GetObjectCommand).rejects(error('NoSuchKey', 404));
    await expect(drain(source.read('uploads/x', 0, '"e1"'))).rejects.toBeInstanceOf(ObjectChangedError);
  });

  it('stat lists the key as a prefix, one key at most, and never HEADs: found only when the key listed is the key', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'uploads/x', ETag: '"e1"', Size: 42 }] });
    expect(await source.stat('uploads/x')).toEqual({ etag: '"e1"', size: 42 });
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toEqual({ Bucket: 'bucket', Prefix: 'uploads/x', MaxKeys: 1 });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'uploads/x2', ETag: '"e9"', Size: 1 }] });
    expect(await source.stat('uploads/x')).toBeUndefined();
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    expect(await source.stat('uploads/none')).toBeUndefined();
    expect(s3.commandCalls(HeadObjectCommand)).toEqual([]);
  });

  it('stat: a refusal is thrown, never taken for a missing object', async () => {
    s3.on(ListObjectsV2Command).rejects(error('AccessDenied', 403));
    await expect(source.stat('uploads/x')).rejects.toThrow();
  });
});
