/** What real S3 answers that the local emulator does not: If-Match refused (412), a range past the end (416). */
import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
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
    s3.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: 42 });
    expect(await drain(source.read('uploads/x', 42, '"e1"'))).toEqual([]);
    s3.on(HeadObjectCommand).resolves({ ETag: '"e2"', ContentLength: 10 });
    await expect(drain(source.read('uploads/x', 42, '"e1"'))).rejects.toBeInstanceOf(ObjectChangedError);
  });

  it('stat: a missing object is undefined; other errors are thrown', async () => {
    s3.on(HeadObjectCommand).rejects(error('NotFound', 404));
    expect(await source.stat('uploads/none')).toBeUndefined();
    s3.on(HeadObjectCommand).rejects(error('AccessDenied', 403));
    await expect(source.stat('uploads/x')).rejects.toThrow();
  });
});
