/**
 * The S3 adapters of the batch ingest against the local S3 emulator
 * (infra/local/s3-local.ts): ranged, streamed reads that resume exactly and
 * detect a replaced upload; reject parts replaced (never doubled) and joined
 * in order; a presigned GET of the rejects. Then a whole GB18030 batch read
 * from S3 through the ingest.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Local, type S3Local } from '../../infra/local/s3-local.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { ingestBatch } from '../../shared/batch/ingest-batch.js';
import { ObjectChangedError, type RejectedRow } from '../../shared/batch/ports.js';
import { S3ObjectSource } from '../../shared/batch/s3-object-source.js';
import { rejectPartKey, rejectsUrl, S3RejectSink } from '../../shared/batch/s3-reject-sink.js';
import { presignedUploadUrl, uploadKey } from '../../shared/batch/s3-upload-url.js';
import { BatchHarness, sampleFile } from '../support/batch-harness.js';

const REGION = 'cn-north-1';
const BUCKET = 'hub-batches';
const credentials = { accessKeyId: `HUBTEST${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
const temp = mkdtempSync(join(tmpdir(), 'hub-batch-s3-'));

let s3: S3Local | undefined;
let client: S3Client;
let source: S3ObjectSource;
let sink: S3RejectSink;

beforeAll(async () => {
  s3 = await startS3Local({ dir: join(temp, 's3'), credentials, onEvent: () => undefined });
  client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: REGION, credentials, forcePathStyle: true }));
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  source = new S3ObjectSource(client, BUCKET);
  sink = new S3RejectSink(client, BUCKET);
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  rmSync(temp, { recursive: true, force: true });
});

const put = (key: string, body: Buffer | string) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

async function readAll(key: string, offset: number, etag: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source.read(key, offset, etag)) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

describe('S3ObjectSource', () => {
  const bytes = randomBytes(300_000);

  it('stats an upload (size, ETag); a missing one is undefined', async () => {
    await put('uploads/a', bytes);
    expect(await source.stat('uploads/a')).toEqual({ etag: expect.stringMatching(/^".+"$/), size: bytes.length });
    expect(await source.stat('uploads/none')).toBeUndefined();
  });

  it('reads from any offset to the end, exactly; from the end, nothing', async () => {
    await put('uploads/b', bytes);
    const { etag } = (await source.stat('uploads/b'))!;
    expect((await readAll('uploads/b', 0, etag)).equals(bytes)).toBe(true);
    expect((await readAll('uploads/b', 123_457, etag)).equals(bytes.subarray(123_457))).toBe(true);
    expect((await readAll('uploads/b', bytes.length, etag)).length).toBe(0);
  });

  it('refuses to read an upload replaced since its ETag was taken, even from past its new end', async () => {
    await put('uploads/c', bytes);
    const { etag } = (await source.stat('uploads/c'))!;
    await put('uploads/c', bytes.subarray(0, 1000));
    await expect(readAll('uploads/c', 10, etag)).rejects.toBeInstanceOf(ObjectChangedError);
    await expect(readAll('uploads/c', 200_000, etag)).rejects.toBeInstanceOf(ObjectChangedError);
  });
});

describe('S3RejectSink', () => {
  const row = (line: number): RejectedRow => ({ line, reasons: [{ field: 'cardNum', message: '校验位错误' }], row: { iname: '𠮷', cardNum: '1101021991****0078' } });

  it('joins the parts in the order given into one NDJSON object; a part written again replaces itself', async () => {
    await sink.putPart('b1', 0, [row(2), row(3)]);
    await sink.putPart('b1', 5000, [row(70)]);
    await sink.putPart('b1', 5000, [row(70)]);
    await sink.putPart('b1', 900, [row(40)]);
    const key = await sink.concatenate('b1', [0, 900, 5000]);
    expect(key).toBe('rejects/b1.ndjson');
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const lines = (await got.Body!.transformToString('utf-8')).trimEnd().split('\n').map((l) => JSON.parse(l) as RejectedRow);
    expect(lines.map((l) => l.line)).toEqual([2, 3, 40, 70]);
    expect(lines[0]).toEqual(row(2));
    expect(rejectPartKey('b1', 900)).toBe('rejects/b1/parts/0000000000000900.ndjson');
  });

  const keysUnder = async (prefix: string) => ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

  it('deletes the parts once joined; a finish that runs again keeps the joined object as it is and needs no part', async () => {
    await sink.putPart('b4', 0, [row(2)]);
    await sink.putPart('b4', 700, [row(30), row(31)]);
    const key = await sink.concatenate('b4', [0, 700]);
    expect(await keysUnder('rejects/b4/')).toEqual([]);
    const first = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const text = await first.Body!.transformToString('utf-8');
    expect(await sink.concatenate('b4', [0, 700])).toBe(key);
    const again = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(again.ETag).toBe(first.ETag);
    expect(await again.Body!.transformToString('utf-8')).toBe(text);
    expect(text.trimEnd().split('\n').map((l) => (JSON.parse(l) as RejectedRow).line)).toEqual([2, 30, 31]);
  });

  it('joins parts larger than one upload part (streamed multipart upload)', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({ ...row(i + 2), text: 'x'.repeat(300) }));
    await sink.putPart('b2', 0, many.slice(0, 10_000));
    await sink.putPart('b2', 1, many.slice(10_000));
    const key = await sink.concatenate('b2', [0, 1]);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const text = await got.Body!.transformToString('utf-8');
    expect(Buffer.byteLength(text)).toBeGreaterThan(5 * 1024 * 1024);
    expect(text.trimEnd().split('\n')).toHaveLength(20_000);
  });

  it('presigns a GET of the rejects that downloads them', async () => {
    await sink.putPart('b3', 0, [row(9)]);
    const key = await sink.concatenate('b3', [0]);
    const url = await rejectsUrl(client, BUCKET, key, 300);
    expect(url).toMatch(/X-Amz-Expires=300/);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.text())).toEqual(row(9));
  });
});

describe('the upload URL', () => {
  it('takes a plain PUT of the file (no other header) and stores exactly it, where the ingest stats and reads it', async () => {
    const url = await presignedUploadUrl(client, BUCKET, 'bat_plainput', 300);
    const file = Buffer.from('{"iname":"张三"}\n'.repeat(1000));
    const response = await fetch(url, { method: 'PUT', body: file });
    expect(response.status).toBe(200);
    const stat = await source.stat(uploadKey('bat_plainput'));
    expect(stat).toEqual({ etag: response.headers.get('etag'), size: file.length });
    expect((await readAll(uploadKey('bat_plainput'), 0, stat!.etag)).equals(file)).toBe(true);
  });
});

describe('a batch read from S3', () => {
  it('a GB18030 CSV uploaded to S3 is ingested with the manifest’s exact counts, its rejects in S3', async () => {
    const { bytes, manifest } = await sampleFile({ rows: 400, format: 'csv', encoding: 'gb18030', bad: 0.05, seed: 51 });
    const h = new BatchHarness();
    try {
      const batch = h.addBatch('s3-batch', { format: 'csv', encoding: 'gb18030' });
      await put(batch.objectKey, bytes);
      // Continued after every chunk: each invocation reads from its checkpoint with a ranged GET.
      let outcome;
      do outcome = await ingestBatch('s3-batch', { ...h.deps({ remainingMs: () => 1000, limits: { chunkRows: 100 } }), objects: source, rejects: sink });
      while (outcome.outcome === 'continued');
      expect(outcome).toMatchObject({ outcome: 'completed', counts: manifest.expected, rejectsKey: 'rejects/s3-batch.ndjson' });
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'rejects/s3-batch.ndjson' }));
      expect((await got.Body!.transformToString('utf-8')).trimEnd().split('\n')).toHaveLength(manifest.expected.rejected);
    } finally {
      h.close();
    }
  });
});
