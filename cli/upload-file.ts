/**
 * A file sent to a presigned PUT URL (API.md: "PUT {uploadUrl} with the file
 * as the body and no other header needed", up to 5 GB): streamed from disk
 * with node:http(s) — never read whole into memory — with its Content-Length
 * (S3 refuses a PUT without one) and nothing else: no key, no content type.
 * A cut connection or a 5xx is tried again from the start (S3 keeps nothing
 * of a PUT that did not complete); a 4xx (an expired or used URL) is final.
 */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, fileError } from './errors.js';
import { networkReason } from './http-client.js';
import { DEFAULT_RETRY, retryDelay } from './retry-policy.js';

export interface PutFileOptions {
  /** Bytes sent so far (from the start of the current attempt). */
  onProgress?: (sent: number, size: number) => void;
  onRetry?: (reason: string, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** What an S3-style XML error says (`<Code>`, `<Message>`), or the start of the body. */
export function storageError(body: string): string {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(body)?.[1];
  if (code || message) return [code, message].filter(Boolean).join(': ');
  return body.trim().replace(/\s+/g, ' ').slice(0, 200);
}

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`HTTP ${status}`);
  }
}

/** One attempt: resolves on a 2xx; rejects with Refused (an answer) or a network error. */
function putOnce(url: URL, path: string, size: number, options: PutFileOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, { method: 'PUT', headers: { 'content-length': String(size) }, ...(options.signal ? { signal: options.signal } : {}) });
    let answered = false;
    // A connection cut after the body was sent (the pipeline is over by then) ends here.
    request.on('error', (e) => answered || reject(e));
    request.on('response', (response) => {
      answered = true;
      const pieces: Buffer[] = [];
      let held = 0;
      response.on('data', (d: Buffer) => held < 64 * 1024 && (pieces.push(d), (held += d.length)));
      response.on('error', reject);
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Refused(status, storageError(Buffer.concat(pieces).toString('utf8'))));
      });
    });
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        options.onProgress?.(sent, size);
        done(null, chunk);
      },
    });
    pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), counter, request).catch((e: unknown) => {
      // Refused early (403 before the body was sent): the answer says why, not the broken pipe.
      if (!answered) reject(e);
    });
  });
}

export async function putFile(uploadUrl: string, path: string, options: PutFileOptions = {}): Promise<void> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw fileError(e, path, { zh: '读取', en: 'read' });
  }
  let url: URL;
  try {
    url = new URL(uploadUrl);
  } catch {
    throw new CliError(`hub给出的上传地址无效 (the hub gave an upload URL that is not absolute: ${uploadUrl.slice(0, 100)})`);
  }
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      await putOnce(url, path, size, options);
      return;
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (e instanceof Refused && e.status < 500) {
        const expired = e.status === 403 ? ' 上传地址可能已过期或已用过 (the upload URL may have expired or been used already)' : '';
        throw new CliError(`上传被拒绝 (the upload was refused: HTTP ${e.status}${e.detail ? ` ${e.detail}` : ''})${expired}`);
      }
      const reason = e instanceof Refused ? `HTTP ${e.status} ${e.detail}`.trim() : networkReason(e);
      if (e && typeof e === 'object' && 'syscall' in e && (e as NodeJS.ErrnoException).path === path) throw fileError(e, path, { zh: '读取', en: 'read' });
      if (attempt >= attempts) throw new CliError(`上传失败 (the upload failed after ${attempt} attempts: ${reason}) — 请重新运行 (run the command again)`);
      const delayMs = retryDelay(attempt, null, DEFAULT_RETRY);
      options.onRetry?.(reason, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
