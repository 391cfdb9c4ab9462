/**
 * The upload URL a court gets (shared/batch/s3-upload-url.ts): a presigned PUT that signs the host and nothing
 * else, with no checksum in it, so a plain `curl -T file URL` is accepted by real S3 (whose signature check the
 * local emulator does not do). A client with the SDK's default checksums would make a URL real S3 refuses for
 * any real file: such a URL is never handed out.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { batchIdOfUploadKey, presignedUploadUrl, uploadKey, uploadUrlProblem } from '../../shared/batch/s3-upload-url.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token-of-the-role' };
const hub = new S3Client(s3ClientConfig({ region: 'cn-north-1', credentials }));
/** The SDK's defaults since 2025: a CRC32 checksum of every request body. */
const defaults = new S3Client({ region: 'cn-north-1', credentials });

describe('the presigned upload URL', () => {
  it('is a PUT of uploads/<batch id> in the bucket, working the seconds asked', async () => {
    const url = new URL(await presignedUploadUrl(hub, 'hub-batches', 'bat_abc', 3600));
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('hub-batches.s3.cn-north-1.amazonaws.com.cn');
    expect(url.pathname).toBe('/uploads/bat_abc');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    // The role's session token travels in the URL (S3 needs it to authorise the PUT as the role).
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session-token-of-the-role');
  });

  it('signs the host only, and carries no checksum parameter', async () => {
    const url = new URL(await presignedUploadUrl(hub, 'hub-batches', 'bat_abc', 3600));
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
    expect(names.filter((k) => k.startsWith('x-amz-checksum-') || k === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    expect(uploadUrlProblem(url.href)).toBeUndefined();
  });

  it('is refused when its client would put a checksum in it (the SDK default), instead of being handed out', async () => {
    await expect(presignedUploadUrl(defaults, 'hub-batches', 'bat_abc', 3600)).rejects.toThrow(/checksum/);
  });

  it('names what a plain PUT could not send', () => {
    expect(uploadUrlProblem('https://b.s3.amazonaws.com/k?X-Amz-SignedHeaders=host&x-amz-checksum-crc32=AAAAAA%3D%3D')).toMatch(/x-amz-checksum-crc32/);
    expect(uploadUrlProblem('https://b.s3.amazonaws.com/k?X-Amz-SignedHeaders=host&x-amz-sdk-checksum-algorithm=CRC32')).toMatch(/x-amz-sdk-checksum-algorithm/);
    expect(uploadUrlProblem('https://b.s3.amazonaws.com/k?X-Amz-SignedHeaders=content-type%3Bhost')).toMatch(/content-type;host/);
  });
});

describe('upload keys', () => {
  it('map a batch id to its key and back; other keys are no batch’s upload', () => {
    expect(uploadKey('bat_x')).toBe('uploads/bat_x');
    expect(batchIdOfUploadKey('uploads/bat_x')).toBe('bat_x');
    for (const key of ['rejects/bat_x.ndjson', 'uploads/', 'uploads/a/b', 'bat_x']) expect(batchIdOfUploadKey(key)).toBeUndefined();
  });
});
