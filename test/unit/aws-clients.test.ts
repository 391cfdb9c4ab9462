/**
 * The S3 and Lambda clients of the handlers (shared/aws/clients.ts): created once, with the timeouts of
 * client-config.ts; S3 with checksums only where required, and path-style URLs where the environment
 * says so (the local stack). Presigned PUT URLs carry no checksum parameter.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { storageEnvironment } from '../../infra/catalogue.js';
import { CONNECTION_TIMEOUT_MS, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from '../../shared/aws/client-config.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { s3, s3ClientConfig } from '../../shared/aws/s3-client.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

afterEach(() => {
  vi.unstubAllEnvs();
});

async function presignedUrl(client: S3Client): Promise<URL> {
  return new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: 'hub-batches', Key: 'uploads/b1' }), { expiresIn: 900 }));
}

describe('S3 client configuration', () => {
  it('uses path-style URLs only where HUB_S3_FORCE_PATH_STYLE is true', async () => {
    vi.stubEnv(storageEnvironment.s3ForcePathStyle, 'true');
    const local = new S3Client(s3ClientConfig({ endpoint: 'http://127.0.0.1:4568', region: 'cn-north-1', credentials }));
    expect((await presignedUrl(local)).href).toMatch(/^http:\/\/127\.0\.0\.1:4568\/hub-batches\/uploads\/b1\?/);
    vi.stubEnv(storageEnvironment.s3ForcePathStyle, '');
    const aws = new S3Client(s3ClientConfig({ region: 'cn-north-1', credentials }));
    expect((await presignedUrl(aws)).host).toBe('hub-batches.s3.cn-north-1.amazonaws.com.cn');
  });

  it('calculates and validates checksums only where required, so presigned PUT URLs carry none', async () => {
    const client = new S3Client(s3ClientConfig({ region: 'cn-north-1', credentials }));
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    const keys = [...(await presignedUrl(client)).searchParams.keys()].map((k) => k.toLowerCase());
    expect(keys.filter((k) => k.includes('checksum'))).toEqual([]);
  });

  it('has the timeouts and attempts of the other clients', () => {
    const config = s3ClientConfig();
    expect(config.maxAttempts).toBe(MAX_ATTEMPTS);
    expect(config.requestHandler).toMatchObject({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true });
  });
});

describe('client factories', () => {
  it('create each client once', async () => {
    vi.stubEnv('AWS_REGION', 'cn-north-1');
    expect(s3()).toBe(s3());
    expect(lambda()).toBe(lambda());
    expect(await lambda().config.maxAttempts()).toBe(MAX_ATTEMPTS);
  });

  it('take the endpoints of the environment (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA), as the local stack sets them', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url?.split('?')[0]}`);
      req.resume();
      req.once('end', () => {
        res.writeHead(req.url?.startsWith('/2015-03-31/') ? 202 : 200, { 'content-length': '0' });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      vi.stubEnv('AWS_REGION', 'cn-north-1');
      vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
      vi.stubEnv('AWS_ENDPOINT_URL_S3', endpoint);
      vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', endpoint);
      vi.stubEnv(storageEnvironment.s3ForcePathStyle, 'true');
      vi.resetModules();
      const fresh = { ...(await import('../../shared/aws/s3-client.js')), ...(await import('../../shared/aws/lambda-client.js')) };
      await fresh.s3().send(new PutObjectCommand({ Bucket: 'hub-batches', Key: 'rejects/b1.ndjson', Body: 'x' }));
      await fresh.lambda().send(new InvokeCommand({ FunctionName: 'credit-hub-batchIngest', InvocationType: 'Event', Payload: new TextEncoder().encode('{}') }));
      expect(seen).toEqual(['PUT /hub-batches/rejects/b1.ndjson', 'POST /2015-03-31/functions/credit-hub-batchIngest/invocations']);
      fresh.s3().destroy();
      fresh.lambda().destroy();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
