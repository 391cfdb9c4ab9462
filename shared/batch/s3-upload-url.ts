/**
 * Where a court uploads a batch: a presigned S3 PUT of `uploads/<batch id>`
 * (API.md: `PUT {uploadUrl}` with the file as the body and no other header).
 *
 * The URL signs the host and nothing else: no content type, no checksum. Since
 * 2025 the SDK adds a CRC32 of the (empty) body to every PutObject, and a
 * presigner hoists it into the URL as `x-amz-checksum-crc32` with
 * `x-amz-sdk-checksum-algorithm`: real S3 then refuses every real file (the
 * emulators do not check it). The client must be made with
 * `requestChecksumCalculation: 'WHEN_REQUIRED'` (shared/aws/clients.ts
 * s3ClientConfig), and the URL is checked here anyway: one that carries a
 * checksum or signs another header is never handed out.
 *
 * S3 authorises the PUT as the signer (the batches function's role, allowed
 * PutObject under uploads/ only), and encrypts the object with the bucket's
 * default key.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** The key of a batch's upload: its ObjectCreated event starts the ingest (the bucket notifies on this prefix). */
export const UPLOADS_PREFIX = 'uploads/';
export const uploadKey = (batchId: string) => `${UPLOADS_PREFIX}${batchId}`;

/** The batch id of an upload key, or undefined for a key that is not a batch's upload. */
export function batchIdOfUploadKey(key: string): string | undefined {
  if (!key.startsWith(UPLOADS_PREFIX)) return undefined;
  const id = key.slice(UPLOADS_PREFIX.length);
  return id.length > 0 && !id.includes('/') ? id : undefined;
}

/** What a plain `curl -T file URL` cannot send: the URL must not require it. */
export function uploadUrlProblem(url: string): string | undefined {
  const params = new URL(url).searchParams;
  const checksum = [...params.keys()].find((k) => /^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(k));
  if (checksum) return `the presigned URL carries ${checksum}: its client must compute checksums only when required`;
  const signed = params.get('X-Amz-SignedHeaders');
  if (signed !== 'host') return `the presigned URL signs ${signed ?? 'nothing'} instead of the host alone`;
  return undefined;
}

/** A presigned PUT of the batch's upload, working `expiresInSeconds` from now. */
export async function presignedUploadUrl(client: S3Client, bucket: string, batchId: string, expiresInSeconds: number): Promise<string> {
  const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: uploadKey(batchId) }), { expiresIn: expiresInSeconds });
  const problem = uploadUrlProblem(url);
  if (problem) throw new Error(problem);
  return url;
}
