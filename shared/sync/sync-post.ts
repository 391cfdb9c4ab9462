/**
 * How a sync package is POSTed: the port (one request with a streamed body, its answer, or a thrown network error
 * or timeout) and its adapter over Node's fetch (undici: a stream body needs `duplex: 'half'`). Retries are decided
 * by the caller (send-package.ts).
 */
import { Readable } from 'node:stream';
import { MAX_ANSWER_CHARS, type PlatformResponse } from '../upward/platform-client.js';

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

/** The start of an answer (a refusal's reason keeps at most MAX_ANSWER_CHARS of it); the rest is not read. */
async function answerStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < 4 * MAX_ANSWER_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(parts)).slice(0, MAX_ANSWER_CHARS);
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
    const text = await answerStart(response);
    const retryAfter = response.headers.get('retry-after');
    return { status: response.status, ...(retryAfter !== null ? { retryAfter } : {}), text };
  } finally {
    // Whatever happened, nothing keeps reading from S3 for this request.
    request.body.destroy();
  }
};
