/**
 * The rejected rows of batches in S3, as the ingest's RejectSink:
 * - each chunk's rejected rows are one small NDJSON object,
 *   `rejects/<batch>/parts/<chunk offset, 16 digits>.ndjson` (written again by
 *   a replayed chunk: replaced, never doubled);
 * - at the end they are joined, in file order, into `rejects/<batch>.ndjson`
 *   by a multipart upload fed from the parts one after the other: memory holds
 *   a few 5 MB upload parts, whatever the number of rejected rows; then the
 *   parts are deleted. A finish that runs again (its worker died before the
 *   batch was marked completed) finds the joined object there and only deletes
 *   what is left of the parts: S3 shows a multipart upload only once it is
 *   complete, and the parts a batch ends with never change once its last
 *   checkpoint is saved.
 * The batch bucket's notification only watches `uploads/`, so none of this
 * starts an ingest; its lifecycle rule removes the objects after 30 days.
 */
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { RejectedRow, RejectSink } from './ports.js';
import { statObject } from './s3-object-source.js';

export const rejectsKey = (batchId: string) => `rejects/${batchId}.ndjson`;
export const rejectPartKey = (batchId: string, chunkOffset: number) => `rejects/${batchId}/parts/${String(chunkOffset).padStart(16, '0')}.ndjson`;

export const NDJSON = 'application/x-ndjson; charset=utf-8';
/** Keys per DeleteObjects request (S3's limit). */
const DELETE_BATCH = 1000;

export class S3RejectSink implements RejectSink {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async putPart(batchId: string, chunkOffset: number, rows: readonly RejectedRow[]): Promise<void> {
    const body = rows.map((row) => `${JSON.stringify(row)}\n`).join('');
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: rejectPartKey(batchId, chunkOffset), Body: body, ContentType: NDJSON }));
  }

  async concatenate(batchId: string, chunkOffsets: readonly number[]): Promise<string> {
    const { client, bucket } = this;
    async function* parts(): AsyncGenerator<Uint8Array> {
      for (const offset of chunkOffsets) {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: rejectPartKey(batchId, offset) }));
        yield* out.Body as Readable;
      }
    }
    const key = rejectsKey(batchId);
    if (!(await statObject(client, bucket, key))) {
      await new Upload({ client, params: { Bucket: bucket, Key: key, Body: Readable.from(parts()), ContentType: NDJSON }, queueSize: 2, partSize: 5 * 1024 * 1024 }).done();
    }
    await this.#deleteParts(batchId, chunkOffsets);
    return key;
  }

  /** Deletes the parts (a key already gone is no error to S3). */
  async #deleteParts(batchId: string, chunkOffsets: readonly number[]): Promise<void> {
    for (let i = 0; i < chunkOffsets.length; i += DELETE_BATCH) {
      const objects = chunkOffsets.slice(i, i + DELETE_BATCH).map((offset) => ({ Key: rejectPartKey(batchId, offset) }));
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
      if (out.Errors?.length) throw new Error(`could not delete ${out.Errors.length} reject parts of ${batchId}: ${out.Errors[0]!.Code} ${out.Errors[0]!.Message}`);
    }
  }
}

/** A presigned GET of a batch's rejected rows (`rejectsUrl` of GET /v1/batches/{id}). */
export function rejectsUrl(client: S3Client, bucket: string, key: string, expiresInSeconds: number): Promise<string> {
  return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: `attachment; filename="${key.split('/').pop()}"` }), { expiresIn: expiresInSeconds });
}
