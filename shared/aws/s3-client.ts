/** The S3 client of the court-batch functions, created once per container (see clients.ts). */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { storageEnvironment } from '../../infra/catalogue.js';
import { awsClientConfig } from './client-config.js';
import { meterRequests } from './request-meter.js';

let s3Client: S3Client | undefined;

/**
 * How the hub's S3 clients are configured (exported for tests and for one-off clients of the local stack):
 * - checksums only where an operation requires one (WHEN_REQUIRED). The SDK's default since 2025 adds a CRC32
 *   to every request: presigned PUT URLs then carry the checksum of an empty body, which S3 rejects for any
 *   real file, and a streamed PutObject goes out with aws-chunked framing that the local emulator would store
 *   as the object's content;
 * - path-style URLs (`http://host/bucket/key`) when HUB_S3_FORCE_PATH_STYLE is `true`: the local emulator
 *   answers on 127.0.0.1, which has no bucket subdomains.
 */
export function s3ClientConfig(overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  return awsClientConfig({
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    forcePathStyle: process.env[storageEnvironment.s3ForcePathStyle] === 'true',
    ...overrides,
  });
}

/** The S3 client (reads, writes and presigned URLs), created once; its endpoint comes from AWS_ENDPOINT_URL_S3 where set. */
export function s3(): S3Client {
  s3Client ??= meterRequests(new S3Client(s3ClientConfig()));
  return s3Client;
}
