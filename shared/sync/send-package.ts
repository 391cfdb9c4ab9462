/**
 * Sends a sealed package (its header and segments) to the platform: `POST <base URL>/sync`, Content-Type
 * application/x-ndjson, Content-Encoding gzip, Idempotency-Key = the run id, the body streamed from S3 — the same
 * bytes on every attempt and after any resume, so that the platform stores it once.
 *
 * - 2xx → delivered;
 * - 5xx, 408, 429, a timeout or a network error → tried again after a back-off with full jitter (at least what
 *   Retry-After asks, up to the cap), while the package's attempts (`postAttempts`, over every invocation) last;
 *   then unavailable. An invocation without time for another POST stops (`later`): the run continues in a new one;
 * - any other 4xx → refused, with the platform's reason.
 */
import { refusalReason } from '../upward/connector.js';
import type { PlatformResponse } from '../upward/platform-client.js';
import { backoffMs, classifyStatus, retryAfterMs } from '../upward/retry-policy.js';
import { packageStream } from './package-body.js';
import type { PackageSegments } from './package-segments.js';
import type { SyncLimits } from './sync-limits.js';
import type { SyncHeader } from './sync-model.js';
import { syncUrl, type SyncPost } from './sync-post.js';

export interface SendPorts {
  post: SyncPost;
  segments: Pick<PackageSegments, 'open'>;
  limits: Pick<SyncLimits, 'postAttempts' | 'backoffBaseMs' | 'backoffCapMs' | 'requestTimeoutMs' | 'minRequestMs' | 'reserveMs'>;
  remainingMs: () => number;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  signal?: AbortSignal;
  /** Called before each POST with the attempts made so far (the caller keeps them in the checkpoint). */
  attempting: (attempt: number) => Promise<void>;
}

export type SendResult =
  | { kind: 'delivered'; bytes: number; attempts: number }
  | { kind: 'refused'; reason: string; attempts: number }
  | { kind: 'unavailable'; reason: string; attempts: number }
  | { kind: 'later'; attempts: number };

function failureOf(result: PlatformResponse | Error): string {
  if (!(result instanceof Error)) return `HTTP ${result.status}`;
  return result.name === 'TimeoutError' ? 'timeout' : `network error (${result.name})`;
}

/** Sends the package (its header, then the segments `keys`); `attemptsBefore` POSTs of it were made by earlier invocations. */
export async function sendPackage(baseUrl: string, header: SyncHeader, keys: readonly string[], attemptsBefore: number, ports: SendPorts): Promise<SendResult> {
  const { limits } = ports;
  const headers = { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip', 'Idempotency-Key': header.packageId };
  let attempts = attemptsBefore;
  let last = 'no answer';
  while (attempts < limits.postAttempts) {
    const timeoutMs = Math.min(limits.requestTimeoutMs, ports.remainingMs() - limits.reserveMs);
    if (timeoutMs < limits.minRequestMs) return { kind: 'later', attempts };
    ports.signal?.throwIfAborted();
    attempts++;
    await ports.attempting(attempts);
    const body = packageStream(header, keys, ports.segments);
    let result: PlatformResponse | Error;
    try {
      result = await ports.post(syncUrl(baseUrl), { body: body.stream, headers, timeoutMs, ...(ports.signal ? { signal: ports.signal } : {}) });
    } catch (e) {
      ports.signal?.throwIfAborted();
      result = e instanceof Error ? e : new Error(String(e));
    }
    if (!(result instanceof Error)) {
      const cls = classifyStatus(result.status);
      if (cls === 'delivered') return { kind: 'delivered', bytes: body.sent(), attempts };
      if (cls === 'refused') return { kind: 'refused', reason: refusalReason(result), attempts };
    }
    last = failureOf(result);
    if (attempts >= limits.postAttempts) break;
    const asked = result instanceof Error ? undefined : retryAfterMs(result.retryAfter, ports.now());
    const wait = Math.min(limits.backoffCapMs, Math.max(backoffMs(attempts, ports.random, limits.backoffBaseMs, limits.backoffCapMs), asked ?? 0));
    if (ports.remainingMs() - wait - limits.reserveMs < limits.minRequestMs) return { kind: 'later', attempts };
    await ports.sleep(wait);
  }
  return { kind: 'unavailable', reason: `the platform did not take the package in ${attempts} attempts (last: ${last})`, attempts };
}
