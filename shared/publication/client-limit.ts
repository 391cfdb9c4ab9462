/**
 * The per-client limit of POST /v1/objections (no key, so the client is its IP address): at most
 * OBJECTIONS_PER_MINUTE per address in a fixed one-minute window, counted by the per-key machinery
 * (throttle-store.ts: one conditional UpdateItem both counts and decides) under a hash of the address, so that the
 * throttle table never holds an address. Over the limit: 429 `too_many_requests` with Retry-After (seconds to the
 * next window).
 */
import { createHash } from 'node:crypto';
import { OBJECTIONS_PER_MINUTE } from '../../contracts/publication.js';
import { HttpError } from '../http/errors.js';
import type { ThrottleStore } from '../store/throttle-store.js';

const WINDOW_SECONDS = 60;

export function clientKey(sourceIp: string): string {
  return createHash('sha256').update(`objection-client\u0000${sourceIp}`).digest('hex');
}

export async function admitClient(throttle: ThrottleStore, sourceIp: string, nowMs: number, limit = OBJECTIONS_PER_MINUTE): Promise<void> {
  const second = Math.floor(nowMs / 1000);
  // The window is named by its first second, so that its counter expires a minute after it (WINDOW_TTL_SECONDS).
  const window = second - (second % WINDOW_SECONDS);
  if (await throttle.admit(clientKey(sourceIp), window, limit)) return;
  const retryAfter = Math.max(1, window + WINDOW_SECONDS - second);
  throw new HttpError(429, 'too_many_requests', `异议提交过于频繁 (too many objections from this address: at most ${limit} a minute; retry after ${retryAfter} s)`, [], {
    'retry-after': String(retryAfter),
  });
}
