/**
 * The local gateway at the edges of HTTP, as API Gateway and client libraries
 * expect: over-long targets and headers in the error shape, 429 with
 * Retry-After, health checks throttled apart, CORS only when configured,
 * HEAD, and admission decided when a request arrives.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, functions, type FunctionName } from '../../infra/catalogue.js';
import { startGateway, type Gateway } from '../../infra/local/gateway.js';
import { inProcessInvoker, workerInvoker } from '../../infra/local/lambda-runtime.js';

const seen: APIGatewayProxyEventV2[] = [];
const ok = async (event: APIGatewayProxyEventV2) => {
  seen.push(event);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' };
};
const handlers = Object.fromEntries((Object.keys(functions) as FunctionName[]).map((fn) => [fn, ok]));

function raw(gateway: Gateway, request: string): Promise<string> {
  const { port } = gateway.server.address() as { port: number };
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('end', () => resolvePromise(out));
    socket.on('error', reject);
  });
}

/** Sends `count` GETs, one every `everyMs`, from a separate Node process; the statuses and how long sending took. */
async function fireFromAnotherProcess(url: string, count: number, everyMs: number): Promise<{ sendingSeconds: number; statuses: number[] }> {
  const script = `
    const started = performance.now();
    const answers = [];
    for (let i = 0; i < ${count}; i++) {
      answers.push(fetch(${JSON.stringify(url)}).then((r) => r.status, () => 0));
      await new Promise((r) => setTimeout(r, ${everyMs}));
    }
    const sendingSeconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ sendingSeconds, statuses: await Promise.all(answers) }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(out);
}

const jsonBody = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

describe('request limits', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers) });
  });
  afterAll(() => gateway.close());

  it('answers a request target over the limit with 414 in the error shape, echoing nothing of it', async () => {
    const res = await fetch(`${gateway.url}/v1/records/${'a'.repeat(api.maxUrlBytes)}`);
    expect(res.status).toBe(414);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'uri_too_long', message: expect.any(String), details: [] } });
    expect(text.length).toBeLessThan(300);
  });

  it('answers headers over the limit with 431 in the error shape, not an empty reply', async () => {
    const res = await raw(gateway, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40 * 1024)}\r\nConnection: close\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonBody(res)).toEqual({ error: { code: 'headers_too_large', message: expect.any(String), details: [] } });
  });

  it('routes HEAD /health to the health function', async () => {
    seen.length = 0;
    const res = await fetch(`${gateway.url}/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(seen.map((e) => e.routeKey)).toEqual(['HEAD /health']);
  });
});

describe('throttling', () => {
  it('answers 429 with Retry-After, and keeps answering health checks from their own budget', async () => {
    const gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers), throttle: { ratePerSecond: 0.5, burst: 1 } });
    try {
      expect((await fetch(`${gateway.url}/openapi.json`)).status).toBe(200);
      const refused = await fetch(`${gateway.url}/openapi.json`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toEqual({ error: { code: 'too_many_requests', message: expect.any(String), details: [] } });
      // The stage is exhausted; health checks are throttled apart (catalogue route throttle).
      for (let i = 0; i < 5; i++) expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('admits or refuses each request when it arrives, however busy the functions are', async () => {
    // Functions that keep a core busy (100 ms each) in their own execution environments, as on Lambda.
    const busy = resolve(import.meta.dirname, '../support/lambda-handlers/busy.ts');
    const invoker = workerInvoker({
      maxEnvironmentsPerFunction: 2,
      functions: { ...functions, openapi: { entry: busy, memoryMb: 256, timeoutSeconds: 10 } },
    });
    const rate = 20;
    const burst = 10;
    const gateway = await startGateway({ port: 0, invoker, throttle: { ratePerSecond: rate, burst } });
    try {
      // The clients run in a process of their own, so their pace does not depend on the gateway's.
      const { sendingSeconds, statuses } = await fireFromAnotherProcess(`${gateway.url}/openapi.json?ms=100`, 200, 10);
      const admitted = statuses.filter((s) => s === 200).length;
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      // The budget over the time the requests arrived in, not over the time they took to be served.
      expect(admitted).toBeLessThanOrEqual(burst + Math.ceil(rate * sendingSeconds) + 2);
      expect(admitted).toBeGreaterThanOrEqual(burst);
    } finally {
      await gateway.close();
      await invoker.close();
    }
  });
});

describe('CORS', () => {
  it('is off by default: a preflight is an ordinary request that no route takes', async () => {
    const gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers) });
    try {
      seen.length = 0;
      const res = await fetch(`${gateway.url}/v1/sources`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(seen.map((e) => e.routeKey)).toEqual(['$default']);
    } finally {
      await gateway.close();
    }
  });

  it('answers preflights of configured origins and adds the headers to their responses; other origins get none', async () => {
    const gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers), corsOrigins: ['https://console.example.gov.cn'] });
    try {
      const pre = await fetch(`${gateway.url}/v1/sources`, {
        method: 'OPTIONS',
        headers: { origin: 'https://console.example.gov.cn', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://console.example.gov.cn');
      expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
      expect(pre.headers.get('access-control-allow-headers')).toContain('idempotency-key');
      const actual = await fetch(`${gateway.url}/health`, { headers: { origin: 'https://console.example.gov.cn' } });
      expect(actual.headers.get('access-control-allow-origin')).toBe('https://console.example.gov.cn');
      expect(actual.headers.get('access-control-expose-headers')).toContain('retry-after');
      const foreign = await fetch(`${gateway.url}/v1/sources`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      expect((await fetch(`${gateway.url}/health`, { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await gateway.close();
    }
  });
});
