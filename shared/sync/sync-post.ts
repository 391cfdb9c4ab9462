/**
 * How a sync package is POSTed: the port (one request with a streamed body, its answer, or a thrown network error
 * or timeout) and its adapter over Node's fetch (undici: a stream body needs `duplex: 'half'`). Retries are decided
 * by the caller (send-package.ts); the answer is read as a connector's is (platform-client.ts: status, Retry-After,
 * the start of its text).
 */
import { Readable } from 'node:stream';
import { platformResponse, type PlatformResponse } from '../upward/platform-client.js';

export interface SyncRequest {
  body: Readable;
  headers: Readonly<Record<string, string>>;
  /** The request is abandoned (a thrown timeout) after this long, answer included. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export type SyncPost = (url: string, request: SyncRequest) => Promise<PlatformResponse>;

/** The URL sync packages are POSTed to: `<base URL>/sync`. */
export function syncUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/sync`;
}

export const fetchSyncPost: SyncPost = async (url, request) => {
  const signal = request.signal ? AbortSignal.any([AbortSignal.timeout(request.timeoutMs), request.signal]) : AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: Readable.toWeb(request.body) as ReadableStream<Uint8Array>,
      duplex: 'half',
      signal,
      redirect: 'manual',
    } as RequestInit & { duplex: 'half' });
    return await platformResponse(response);
  } finally {
    // Whatever happened, nothing keeps reading from S3 for this request.
    request.body.destroy();
  }
};
