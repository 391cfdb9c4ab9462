/**
 * The command line's HTTP client (cli/http-client.ts, cli/retry-policy.ts) against a small local
 * server: what is retried (503, 429, 409 in progress; no answer, when safe), how long it waits
 * (Retry-After, back-off), and the one-line messages of every refusal.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.js';
import { HubClient, networkReason, type ClientOptions } from '../../cli/http-client.js';
import { DEFAULT_RETRY, parseRetryAfter, retryDelay } from '../../cli/retry-policy.js';
import { GOOD_KEY, startFakeHub, type FakeHub } from './cli-fake-hub.js';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());
afterEach(() => void hub.requests.splice(0));

const action = { zh: '推送', en: 'push' };
const body = Buffer.from(JSON.stringify({ records: [{ CF_WSH: 'doc-1' }] }));

function client(options: ClientOptions = {}, key = GOOD_KEY) {
  const waits: number[] = [];
  const c = new HubClient({ url: hub.url, key }, { sleep: async (ms) => void waits.push(ms), random: () => 0, ...options });
  return { c, waits };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(CliError);
      return e as CliError;
    },
  );

describe('retries', () => {
  it('sends a 503 again after its Retry-After, with the same key and body, and returns the answer', async () => {
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 503, headers: { 'retry-after': '5' } }, { status: 503, headers: { 'retry-after': '2' } });
    const { c, waits } = client();
    const answer = await c.request<{ accepted: number }>('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-503' });
    expect(answer.body.accepted + (answer.body as any).duplicates).toBe(1);
    expect(waits).toEqual([5000, 2000]);
    expect(hub.requests.map((r) => r.headers['idempotency-key'])).toEqual(['k-503', 'k-503', 'k-503']);
    expect(new Set(hub.requests.map((r) => r.bytes))).toEqual(new Set([body.length]));
  });

  it('sends a 429 again; without Retry-After it backs off exponentially', async () => {
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 429, headers: { 'retry-after': '1' } }, { status: 429 }, { status: 429 });
    const { c, waits } = client({ random: () => 0.999 });
    await c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-429' });
    expect(waits[0]).toBeGreaterThanOrEqual(1000);
    expect(waits[0]).toBeLessThan(1250);
    // No Retry-After: base 1 s × 2^(attempt-1), between half and all of it.
    expect(waits[1]).toBeGreaterThan(1900);
    expect(waits[1]).toBeLessThanOrEqual(2000);
    expect(waits[2]).toBeGreaterThan(3900);
    expect(waits[2]).toBeLessThanOrEqual(4000);
  });

  it('sends a 409 "still in progress" again, but not another 409 (a source id taken)', async () => {
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 409, body: { error: { code: 'idempotency_in_progress', message: '仍在处理中 (still being processed)', details: [] } } });
    const { c, waits } = client();
    await c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-409' });
    expect(waits).toHaveLength(1);
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 409, body: { error: { code: 'source_exists', message: '已被使用 (taken)', details: [] } } });
    const e = await failure(c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-409b' }));
    expect(e.message).toBe('推送失败 (push failed): 已被使用 (taken) [HTTP 409 source_exists]');
  });

  it('gives up after the attempts allowed, saying so and what to do', async () => {
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), ...Array.from({ length: 3 }, () => ({ status: 503, headers: { 'retry-after': '0' } })));
    const { c, waits } = client({ retry: { attempts: 3 } });
    const e = await failure(c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-gone' }));
    expect(waits).toHaveLength(2);
    expect(e.message).toMatch(/^推送失败 \(push failed\): HTTP 503 \[HTTP 503 unavailable\] — 已尝试3次.*run the same command again later\)$/);
  });

  it('reports each retry (status, attempt, wait) to onRetry', async () => {
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 503, headers: { 'retry-after': '3' } });
    const seen: unknown[] = [];
    const { c } = client({ onRetry: (e) => seen.push(e) });
    await c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-seen' });
    expect(seen).toEqual([{ action, status: 503, reason: 'unavailable', attempt: 1, attempts: DEFAULT_RETRY.attempts, delayMs: 3000 }]);
  });

  it('sends a keyed request again when the connection is cut before the answer (once the hub has answered before)', async () => {
    const { c, waits } = client();
    await c.request('GET', '/v1/sources', { action }).catch(() => undefined); // reached: 403 with this key
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 0, hangUp: true });
    await c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k-cut' });
    expect(waits).toHaveLength(1);
    expect(hub.requests.filter((r) => r.headers['idempotency-key'] === 'k-cut')).toHaveLength(2);
  });

  it('does not send a request without a key again when the connection is cut (it may have been applied)', async () => {
    const { c, waits } = client();
    await c.request('GET', '/v1/sources', { action }).catch(() => undefined);
    hub.answerNext((r) => r.path.startsWith('/v1/submissions'), { status: 0, hangUp: true });
    const e = await failure(c.request('POST', '/v1/submissions/penalty', { action, body }));
    expect(waits).toHaveLength(0);
    expect(e.message).toMatch(/^hub没有应答 \(no answer from the hub at http:\/\/127\.0\.0\.1:\d+: other side closed\) — 推送未完成 \(push not done\)$/);
  });
});

describe('one-line messages', () => {
  it('an unreachable URL fails at once, without retrying, naming the URL and the flag to check', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const waits: number[] = [];
    const c = new HubClient({ url: `http://127.0.0.1:${port}`, key: GOOD_KEY }, { sleep: async (ms) => void waits.push(ms) });
    const e = await failure(c.request('POST', '/v1/submissions/penalty', { action, body, idempotencyKey: 'k' }));
    expect(e.message).toBe(`无法连接hub (cannot reach the hub at http://127.0.0.1:${port}: ECONNREFUSED) — 推送未完成 (push not done)；请检查 --url 或 HUB_URL (check --url or HUB_URL)`);
    expect(waits).toEqual([]);
  });

  it('401 names the key to check', async () => {
    const e = await failure(client({}, 'hub_wrong').c.request('GET', '/v1/sources', { action: { zh: '列出数据源', en: 'listing the sources' } }));
    expect(e.message).toBe('列出数据源失败 (listing the sources failed): 缺少或无效的密钥 (missing or unknown API key) [HTTP 401 unauthorized] 请检查 --key 或 HUB_KEY (check --key or HUB_KEY)');
  });

  it('403 gives the hub’s reason; a command may give its own hint', async () => {
    const e = await failure(client().c.request('GET', '/v1/sources', { action, hints: { 403: '需要运营方密钥 (needs the operator key)' } }));
    expect(e.message).toBe('推送失败 (push failed): 仅限运营方 (operator only) [HTTP 403 forbidden] 需要运营方密钥 (needs the operator key)');
  });

  it('404 no_route says the URL may not be the hub API; 400 lists the fields at fault', async () => {
    expect((await failure(client().c.request('GET', '/v2/nothing', { action }))).message).toMatch(/\[HTTP 404 no_route\] 请检查 --url 或 HUB_URL 是否为hub的API地址/);
    const { c } = client({}, 'hub_operator-key');
    const e = await failure(c.request('POST', '/v1/sources', { action, json: { id: 'x1', uscc: 'bad' } }));
    expect(e.message).toBe('推送失败 (push failed): 数据源信息有误 (invalid source) — uscc: 统一社会信用代码校验位错误 (USCC check digit) [HTTP 400 invalid_source]');
  });

  it('413 says the body is too large (and the hint the push gives)', async () => {
    const big = Buffer.from(JSON.stringify({ records: [{ CF_WSH: 'x'.repeat(7 * 1024 * 1024) }] }));
    const e = await failure(client().c.request('POST', '/v1/submissions/penalty', { action, body: big, hints: { 413: '请减小 --records-per-request (lower --records-per-request)' } }));
    expect(e.message).toMatch(/\[HTTP 413 payload_too_large\] 请减小 --records-per-request/);
  });

  it('an answer that is not JSON (a web page at that URL) is not taken for the hub’s', async () => {
    const page = createServer((_req, res) => (res.writeHead(200, { 'content-type': 'text/html' }), res.end('<html>hello</html>')));
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', () => r()));
    try {
      const c = new HubClient({ url: `http://127.0.0.1:${(page.address() as AddressInfo).port}`, key: GOOD_KEY });
      const e = await failure(c.request('GET', '/v1/sources', { action }));
      expect(e.message).toContain('HTTP 200 text/html, not JSON');
    } finally {
      await new Promise<void>((r) => (page.closeAllConnections(), page.close(() => r())));
    }
  });
});

describe('retry policy', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('caps a long Retry-After and the back-off', () => {
    expect(retryDelay(1, '3600', DEFAULT_RETRY, () => 0)).toBe(DEFAULT_RETRY.maxRetryAfterMs);
    expect(retryDelay(20, null, DEFAULT_RETRY, () => 0.999)).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
  });

  it('networkReason digs the system error out of undici’s "fetch failed"', () => {
    const e = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    expect(networkReason(e)).toBe('ECONNREFUSED');
    expect(networkReason(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('timeout');
  });
});
