/**
 * A department's system and the credit office talking to a running hub over
 * HTTP, for end-to-end load tests: pushes always carry an Idempotency-Key,
 * and a push answered 409 (its first copy still in progress), 429 or 503 is
 * sent again, unchanged and with the same key, until it gets its answer.
 */
import type { PushStatus } from './push-model.js';

export interface PushResult {
  accepted: number;
  updated: number;
  duplicates: number;
  rejected: number;
  results: { index: number; status: PushStatus; id?: string; late?: true; errors?: { field: string; message: string }[] }[];
}

export interface Answer<T = any> {
  status: number;
  retryAfter: string | null;
  body: T;
}

/** Answers a client sends again later, with the same key (API.md). */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([409, 429, 503]);

/**
 * How long the tests wait before sending a retried request again: shorter than the 5 s the hub's
 * Retry-After asks for, to keep the suite's time down; the hub must cope with eager clients.
 */
export const RETRY_PAUSE_MS = 1000;

export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function call<T>(url: string, init: RequestInit): Promise<Answer<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text for the assertion that will show it
  }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

/** A JSON call to a running stack's API as `key` (none: unauthenticated): its status, parsed body and headers. */
export async function callStack(stack: { url: string }, method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Registers a source as the credit office; its API key. */
export async function registerSource(
  baseUrl: string,
  operatorKey: string,
  source: { id: string; name: string; uscc: string; role: string; kinds: string[] },
): Promise<string> {
  const answer = await call<{ apiKey: string }>(`${baseUrl}/v1/sources`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(source),
  });
  if (answer.status !== 201) throw new Error(`registering ${source.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.apiKey;
}

/** One push, sent once; rejects when no answer comes (connection refused or cut). */
export function pushOnce(baseUrl: string, apiKey: string, kind: string, body: string, idempotencyKey: string): Promise<Answer<PushResult>> {
  return call<PushResult>(`${baseUrl}/v1/submissions/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body,
  });
}

/**
 * A push sent until it is answered with something other than 409, 429 or 503 (at most `attempts`
 * times); every status seen on the way goes to `seen`.
 */
export async function pushUntilAnswered(
  baseUrl: string,
  apiKey: string,
  kind: string,
  body: string,
  idempotencyKey: string,
  seen: number[],
  attempts = 60,
): Promise<Answer<PushResult>> {
  for (let attempt = 1; ; attempt++) {
    const answer = await pushOnce(baseUrl, apiKey, kind, body, idempotencyKey);
    seen.push(answer.status);
    if (!RETRIED_STATUSES.has(answer.status)) return answer;
    if (attempt >= attempts) throw new Error(`push ${idempotencyKey}: still ${answer.status} after ${attempts} attempts`);
    await pause(RETRY_PAUSE_MS + Math.random() * 250);
  }
}

/** GET /v1/records/{id} with `key`; a 429 is waited out and sent again. */
export async function getRecord(baseUrl: string, key: string, id: string): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await call(`${baseUrl}/v1/records/${id}`, { headers: { authorization: `Bearer ${key}` } });
    if (answer.status !== 429 || attempt >= 10) return answer;
    await pause(RETRY_PAUSE_MS);
  }
}

/**
 * Runs `work` on every item, `concurrency` at a time and starting at most `perSecond` a second
 * (under the hub's rate limit, so that checking a load test's outcome does not become one).
 */
export async function forEachPaced<T>(items: readonly T[], concurrency: number, perSecond: number, work: (item: T) => Promise<void>): Promise<void> {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await pause(wait);
      await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
