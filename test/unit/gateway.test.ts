/** The local stand-in for API Gateway (infra/local/gateway.ts): no AWS, fake handlers. */
import { request, type IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, functions, routes, type FunctionName } from '../../infra/catalogue.js';
import { buildEvent, compileRoutes, matchRoute, startGateway, TokenBucket, type Gateway } from '../../infra/local/gateway.js';
import { inProcessInvoker, type LambdaHandlerFn } from '../../infra/local/lambda-runtime.js';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

const compiled = compileRoutes();

/** A concrete path for a route template, with each {param} replaced by `values[param]`. */
const pathOf = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_m, name: string) => values[name]!);

describe('compileRoutes / matchRoute', () => {
  const concrete = routes.filter((r) => r.routeKey !== '$default');

  it('compiles every catalogue route except $default, which becomes the fallback', () => {
    expect(compiled.routes.map((r) => r.routeKey).sort()).toEqual(concrete.map((r) => r.routeKey).sort());
    expect(compiled.fallback).toBe(routes.find((r) => r.routeKey === '$default')!.function);
  });

  it.each(concrete.map((r) => [r.routeKey, r.function] as const))('matches %s to its function with its path parameters', (routeKey, fn) => {
    const [method, template] = routeKey.split(' ') as [string, string];
    const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const values = Object.fromEntries(params.map((p) => [p, `${p}-value_1`]));
    const match = matchRoute(compiled, method, pathOf(template, values));
    expect(match).toEqual({ routeKey, fn, pathParameters: params.length ? values : {} });
  });

  it('extracts and URL-decodes path parameters', () => {
    expect(matchRoute(compiled, 'POST', '/v1/submissions/license')).toEqual({
      routeKey: 'POST /v1/submissions/{kind}',
      fn: 'submissions',
      pathParameters: { kind: 'license' },
    });
    expect(matchRoute(compiled, 'POST', '/v1/sources/shi-%E5%B8%82%20a/keys')?.pathParameters).toEqual({ id: 'shi-市 a' });
    expect(matchRoute(compiled, 'GET', '/v1/records/lic_abc%2Fdef')?.pathParameters).toEqual({ id: 'lic_abc/def' });
    // A malformed escape is passed on as it came rather than failing.
    expect(matchRoute(compiled, 'GET', '/v1/records/%E0%A4%A')?.pathParameters).toEqual({ id: '%E0%A4%A' });
  });

  it.each([
    ['GET', '/nothing'],
    ['GET', '/health/'],
    ['GET', '/HEALTH'],
    ['POST', '/health'],
    ['DELETE', '/v1/sources'],
    ['GET', '/v1/submissions/license'],
    ['POST', '/v1/submissions/'],
    ['POST', '/v1/submissions/a/b'],
    ['POST', '/v1/sources/x/keys/extra'],
    ['GET', '/openapiXjson'],
    ['GET', '/v1/records'],
  ])('sends %s %s to $default without path parameters', (method, path) => {
    expect(matchRoute(compiled, method, path)).toEqual({ routeKey: '$default', fn: compiled.fallback, pathParameters: undefined });
  });

  it('answers undefined when there is no $default route', () => {
    expect(matchRoute({ routes: compiled.routes, fallback: undefined }, 'GET', '/nothing')).toBeUndefined();
  });
});

function fakeRequest(options: { method?: string; url: string; headers?: Record<string, string | string[]> }): IncomingMessage {
  return {
    method: options.method ?? 'GET',
    url: options.url,
    httpVersion: '1.1',
    headers: options.headers ?? {},
    socket: { remoteAddress: '10.1.2.3' },
  } as unknown as IncomingMessage;
}

describe('buildEvent', () => {
  it('builds a payload 2.0 event with route, path, query, headers, cookies and request context', () => {
    const req = fakeRequest({
      method: 'POST',
      url: '/v1/submissions/license?dry=1&tag=a&tag=b&q=%E5%B8%82',
      headers: { host: 'localhost:3000', 'content-type': 'application/json', authorization: 'Bearer k', 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'], cookie: 'a=1; b=2', 'user-agent': 'ua/1' },
    });
    const body = Buffer.from('{"records":[]}');
    const event = buildEvent(req, body, 'POST /v1/submissions/{kind}', { kind: 'license' });
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /v1/submissions/{kind}');
    expect(event.rawPath).toBe('/v1/submissions/license');
    expect(event.rawQueryString).toBe('dry=1&tag=a&tag=b&q=%E5%B8%82');
    expect(event.queryStringParameters).toEqual({ dry: '1', tag: 'a,b', q: '市' });
    expect(event.pathParameters).toEqual({ kind: 'license' });
    expect(event.headers).toEqual({ host: 'localhost:3000', 'content-type': 'application/json', authorization: 'Bearer k', 'x-forwarded-for': '1.1.1.1,2.2.2.2', 'user-agent': 'ua/1' });
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.body).toBe('{"records":[]}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      routeKey: 'POST /v1/submissions/{kind}',
      stage: '$default',
      domainName: 'localhost:3000',
      http: { method: 'POST', path: '/v1/submissions/license', protocol: 'HTTP/1.1', sourceIp: '10.1.2.3', userAgent: 'ua/1' },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5000);
  });

  it('leaves out query parameters, path parameters, cookies and body when there are none', () => {
    const event = buildEvent(fakeRequest({ url: '/health' }), Buffer.alloc(0), 'GET /health', undefined);
    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('body');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('keeps query parameter names that are also Object.prototype properties', () => {
    const event = buildEvent(fakeRequest({ url: '/health?toString=1&constructor=2&valueOf=3' }), Buffer.alloc(0), 'GET /health', undefined);
    expect(event.queryStringParameters).toEqual({ toString: '1', constructor: '2', valueOf: '3' });
  });

  it.each(['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json;charset=utf8', 'application/problem+json', 'application/x-ndjson', 'text/csv', 'application/x-www-form-urlencoded'])(
    'passes a %s body as text',
    (type) => {
      const event = buildEvent(fakeRequest({ method: 'POST', url: '/x', headers: { 'content-type': type } }), Buffer.from('a,b\n1,2'), '$default', undefined);
      expect(event.isBase64Encoded).toBe(false);
      expect(event.body).toBe('a,b\n1,2');
    },
  );

  it.each([
    ['a charset other than UTF-8', { 'content-type': 'application/json; charset=gb18030' }, Buffer.from('{"a":"中"}')],
    ['a quoted GBK charset', { 'content-type': 'text/plain; charset="GBK"' }, Buffer.from('abc')],
    ['a Content-Encoding', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, Buffer.from('{}')],
    ['bytes that are not UTF-8', { 'content-type': 'application/json' }, Buffer.from([0x7b, 0x22, 0xd6, 0xd0, 0x22, 0x7d])],
    ['bytes that are not UTF-8 and no content type', {}, Buffer.from([0xff, 0xfe])],
  ])('base64-encodes a text body with %s, so the handler sees the real bytes', (_what, headers, bytes) => {
    const event = buildEvent(fakeRequest({ method: 'POST', url: '/x', headers }), bytes, '$default', undefined);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').equals(bytes)).toBe(true);
  });

  it('treats a body without content type as text (JSON)', () => {
    const event = buildEvent(fakeRequest({ method: 'POST', url: '/x' }), Buffer.from('{}'), '$default', undefined);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{}');
  });

  it.each(['application/octet-stream', 'image/png', 'application/zip', 'multipart/form-data; boundary=x'])('base64-encodes a %s body', (type) => {
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f, 0x0a]);
    const event = buildEvent(fakeRequest({ method: 'POST', url: '/x', headers: { 'content-type': type } }), bytes, '$default', undefined);
    expect(event.isBase64Encoded).toBe(true);
    expect(event.body).toBe(bytes.toString('base64'));
    expect(Buffer.from(event.body!, 'base64').equals(bytes)).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows `burst` requests at once, then refuses', () => {
    let now = 1_000;
    const bucket = new TokenBucket(10, 5, () => now);
    const taken = Array.from({ length: 7 }, () => bucket.take());
    expect(taken).toEqual([true, true, true, true, true, false, false]);
    expect(now).toBe(1_000);
  });

  it('refills at `rate` per second, never above `burst`', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);

    now += 50; // half a token
    expect(bucket.take()).toBe(false);
    now += 50; // one token in all
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);

    now += 300; // three tokens
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);

    now += 60_000; // a long pause fills the bucket to burst only
    const after = Array.from({ length: 7 }, () => bucket.take());
    expect(after.filter(Boolean)).toHaveLength(5);
    expect(after.slice(0, 5).every(Boolean)).toBe(true);
  });

  it('does not let refused requests consume tokens', () => {
    let now = 0;
    const bucket = new TokenBucket(1, 1, () => now);
    expect(bucket.take()).toBe(true);
    for (let i = 0; i < 100; i++) expect(bucket.take()).toBe(false);
    now += 1000;
    expect(bucket.take()).toBe(true);
  });
});

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** One HTTP request; tolerates the server closing the connection once it has answered. */
function send(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    let answered = false;
    const req = request({ hostname, port, method: options.method ?? 'GET', path: options.path, headers: { connection: 'close', ...options.headers } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

describe('startGateway', () => {
  let gateway: Gateway;
  const received: { fn: FunctionName; event: APIGatewayProxyEventV2; context: Context }[] = [];
  let behaviour: LambdaHandler = async () => ({ statusCode: 200, body: '{}' });

  beforeAll(async () => {
    const handlers = Object.fromEntries(
      (Object.keys(functions) as FunctionName[]).map((fn) => [
        fn,
        (async (event, context) => {
          received.push({ fn, event, context });
          return behaviour(event, context);
        }) as LambdaHandler,
      ]),
    ) as Record<FunctionName, LambdaHandlerFn>;
    gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers) });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  beforeEach(() => {
    received.length = 0;
    behaviour = async () => ({ statusCode: 200, body: '{}' });
  });

  it('listens on an ephemeral port on 127.0.0.1', () => {
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.url).not.toMatch(/:0$/);
  });

  it("passes the handler's statusCode, headers and body through unchanged", async () => {
    behaviour = async () => ({ statusCode: 418, headers: { 'content-type': 'application/teapot', 'x-hub-test': 'yes', 'retry-after': '7' }, body: '短いbody ✓' });
    const res = await send(gateway.url, { path: '/health' });
    expect(res.status).toBe(418);
    expect(res.headers['content-type']).toBe('application/teapot');
    expect(res.headers['x-hub-test']).toBe('yes');
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body.toString('utf8')).toBe('短いbody ✓');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength('短いbody ✓'));
  });

  it('decodes a base64 result body', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    behaviour = async () => ({ statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes.toString('base64'), isBase64Encoded: true });
    const res = await send(gateway.url, { path: '/health' });
    expect(res.body.equals(bytes)).toBe(true);
  });

  it('answers 200 JSON for a handler that returns a string or a plain object', async () => {
    behaviour = async () => '{"plain":true}';
    const text = await send(gateway.url, { path: '/health' });
    expect(text.status).toBe(200);
    expect(text.body.toString()).toBe('{"plain":true}');
    behaviour = (async () => ({ plain: 'object' })) as unknown as LambdaHandler;
    const object = await send(gateway.url, { path: '/health' });
    expect(object.status).toBe(200);
    expect(JSON.parse(object.body.toString())).toEqual({ plain: 'object' });
  });

  it('invokes the function of the matched route with a v2 event (lowercased headers, query, path parameters, body)', async () => {
    const body = JSON.stringify({ records: [{ XK_XDR_MC: '张三' }] });
    await send(gateway.url, {
      method: 'POST',
      path: '/v1/submissions/license?x=1&x=2',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer abc', 'X-Custom-Header': 'Value' },
      body,
    });
    expect(received).toHaveLength(1);
    const { fn, event, context } = received[0]!;
    expect(fn).toBe('submissions');
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /v1/submissions/{kind}');
    expect(event.pathParameters).toEqual({ kind: 'license' });
    expect(event.rawQueryString).toBe('x=1&x=2');
    expect(event.queryStringParameters).toEqual({ x: '1,2' });
    expect(event.headers.authorization).toBe('Bearer abc');
    expect(event.headers['x-custom-header']).toBe('Value');
    expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);
    expect(context.functionName).toContain('submissions');
    expect(context.awsRequestId).toBe(event.requestContext.requestId);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(functions.submissions.timeoutSeconds * 1000);
  });

  it('base64-encodes a binary request body for the handler', async () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]);
    await send(gateway.url, { method: 'PUT', path: '/upload', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const { event } = received[0]!;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').equals(bytes)).toBe(true);
  });

  it('sends unmatched requests to the $default function with routeKey $default', async () => {
    await send(gateway.url, { path: '/no/such/route' });
    expect(received).toHaveLength(1);
    expect(received[0]!.fn).toBe(compiled.fallback);
    expect(received[0]!.event.routeKey).toBe('$default');
    expect(received[0]!.event).not.toHaveProperty('pathParameters');
  });

  it('answers 413 for a body over api.gatewayMaxBodyBytes without invoking any handler', async () => {
    const res = await send(gateway.url, {
      method: 'POST',
      path: '/v1/submissions/license',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(api.gatewayMaxBodyBytes + 1, 0x20),
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: 'payload_too_large', details: [] } });
    expect(received).toHaveLength(0);
  });

  it('passes a body of exactly api.gatewayMaxBodyBytes on to the handler', async () => {
    behaviour = async (event) => ({ statusCode: 200, body: String(event.body?.length ?? 0) });
    const res = await send(gateway.url, {
      method: 'POST',
      path: '/v1/submissions/license',
      headers: { 'content-type': 'text/plain' },
      body: Buffer.alloc(api.gatewayMaxBodyBytes, 0x61),
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(String(api.gatewayMaxBodyBytes));
  });

  it('answers 500 internal with no detail when a handler throws', async () => {
    behaviour = async () => {
      throw new Error('secret detail of the integration');
    };
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const res = await send(gateway.url, { path: '/health' });
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body.toString())).toEqual({ error: { code: 'internal', message: 'Internal Server Error', details: [] } });
      expect(res.body.toString()).not.toContain('secret detail');
    } finally {
      process.stderr.write = stderr;
    }
  });
});
