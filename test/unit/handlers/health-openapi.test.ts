import { DynamoDBClient, GetItemCommand, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ddb, errorOf, invoke, apiEvent, SOURCES_TABLE } from './support.js';
import { api, routes } from '../../../infra/catalogue.js';
import { handler as health } from '../../../functions/health/handler.js';
import { OK_TTL_MS, PROBE_KEY } from '../../../shared/store/store-probe.js';
import { handler as openapi } from '../../../functions/openapi/handler.js';

beforeEach(() => {
  ddb.reset();
});

/** The health probe's client (the low-level DynamoDB client, loaded on first use). */
const dynamodb = mockClient(DynamoDBClient);

describe('health handler', () => {
  // The store probe's answer is cached for OK_TTL_MS: each test starts a minute after the last one.
  let clock = Date.now();
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    clock += 60_000;
    vi.setSystemTime(clock);
    dynamodb.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED', $metadata: { attempts: 2 } });

  it("answers 'GET /health' with 200 {status: ok} as JSON after one GetItem of a fixed key on the sources table", async () => {
    dynamodb.on(GetItemCommand).resolves({});
    const res = await invoke(health, apiEvent('GET /health'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const calls = dynamodb.commandCalls(GetItemCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({ TableName: SOURCES_TABLE, Key: PROBE_KEY });
    expect(dynamodb.calls()).toHaveLength(1);
    expect(ddb.calls()).toHaveLength(0);
  });

  it(`reads the table at most once per ${OK_TTL_MS} ms while the store answers, and once for concurrent probes`, async () => {
    dynamodb.on(GetItemCommand).resolves({});
    const burst = await Promise.all([1, 2, 3].map(() => invoke(health, apiEvent('GET /health'))));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(1);
    vi.setSystemTime(clock + OK_TTL_MS - 1);
    expect((await invoke(health, apiEvent('GET /health'))).status).toBe(200);
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(1);
    vi.setSystemTime(clock + OK_TTL_MS);
    expect((await invoke(health, apiEvent('GET /health'))).status).toBe(200);
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(2);
  });

  it('answers 503 {status: unavailable} with Retry-After when the store cannot be reached, and asks again on the next probe', async () => {
    dynamodb.on(GetItemCommand).rejects(unreachable());
    const down = await invoke(health, apiEvent('GET /health'));
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'unavailable' });
    expect(down.headers['retry-after']).toBe(String(api.retryAfterSeconds));
    expect(down.headers['content-type']).toMatch(/^application\/json/);

    // A failure is not cached: the store is back, the very next probe says so.
    dynamodb.on(GetItemCommand).resolves({});
    const up = await invoke(health, apiEvent('GET /health'));
    expect(up.status).toBe(200);
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(2);
  });

  it('answers 503 when the store refuses the probe (throttled, or a fault such as a missing table)', async () => {
    dynamodb.on(GetItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    expect((await invoke(health, apiEvent('GET /health'))).status).toBe(503);
    dynamodb.on(GetItemCommand).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: { httpStatusCode: 400 } }));
    expect((await invoke(health, apiEvent('GET /health'))).body).toEqual({ status: 'unavailable' });
  });

  it("answers 'HEAD /health' with the same status and headers and no body", async () => {
    dynamodb.on(GetItemCommand).resolves({});
    const up = await invoke(health, apiEvent('HEAD /health'));
    expect(up.status).toBe(200);
    expect(up.raw).toBe('');
    expect(up.headers['content-type']).toMatch(/^application\/json/);

    vi.setSystemTime(clock + OK_TTL_MS);
    dynamodb.on(GetItemCommand).rejects(unreachable());
    const down = await invoke(health, apiEvent('HEAD /health'));
    expect(down.status).toBe(503);
    expect(down.raw).toBe('');
    expect(down.headers['retry-after']).toBe(String(api.retryAfterSeconds));
  });

  it("answers '$default' (an unmatched route) with 404 no_route in the API error shape, without touching the store", async () => {
    const res = await invoke(health, apiEvent('$default', { rawPath: '/v1/nothing-here' }));
    expect(res.status).toBe(404);
    const error = errorOf(res);
    expect(error.code).toBe('no_route');
    expect(error.details).toEqual([]);
    expect(error.message).toContain('/v1/nothing-here');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.allow).toBeUndefined();
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('quotes at most the first 100 characters of an unmatched path back', async () => {
    const res = await invoke(health, apiEvent('$default', { rawPath: `/v1/${'x'.repeat(12_000)}` }));
    expect(res.status).toBe(404);
    expect(errorOf(res).message.length).toBeLessThan(200);
  });

  /** Every path of the catalogue with the methods it routes (API Gateway's route keys). */
  const methodsByPath = new Map<string, string[]>();
  for (const { routeKey } of routes) {
    if (routeKey === '$default') continue;
    const [method, path] = routeKey.split(' ') as [string, string];
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method].sort());
  }
  const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  const wrongMethodCases = [...methodsByPath].flatMap(([path, allowed]) =>
    ALL_METHODS.filter((m) => !allowed.includes(m)).map((method) => ({ method, path, allowed, rawPath: path.replace(/\{\w+\}/g, 'abc') })),
  );

  it.each(wrongMethodCases)('answers $method $rawPath with 405 method_not_allowed and Allow: the catalogue’s methods for $path', async ({ method, rawPath, allowed }) => {
    const event = apiEvent('$default', { rawPath });
    event.requestContext.http.method = method;
    const res = await invoke(health, event);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allowed.join(', '));
    if (method === 'HEAD') {
      expect(res.raw).toBe('');
    } else {
      const error = errorOf(res);
      expect(error.code).toBe('method_not_allowed');
      expect(error.message).toContain(method);
      expect(error.message).toContain(allowed.join(', '));
    }
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it.each([
    ['DELETE', '/v1/sources', 'GET, POST'],
    ['HEAD', '/v1/sources', 'GET, POST'],
    ['GET', '/v1/submissions/license', 'POST'],
    ['PUT', '/health', 'GET, HEAD'],
    ['POST', '/v1/records/lic_abcdefghijklmnopqrstuvwxyz', 'GET'],
    ['GET', '/v1/sources/shi-scjgj/keys', 'POST'],
  ])('%s %s → 405 with Allow: %s', async (method, rawPath, allow) => {
    const event = apiEvent('$default', { rawPath });
    event.requestContext.http.method = method;
    const res = await invoke(health, event);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
  });

  it.each([['GET', '/v1/sources/'], ['POST', '/v1/sources/shi-scjgj'], ['GET', '/v1/records'], ['DELETE', '/healthz']])('%s %s (no such path) stays 404 no_route', async (method, rawPath) => {
    const event = apiEvent('$default', { rawPath });
    event.requestContext.http.method = method;
    const res = await invoke(health, event);
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('no_route');
  });
});

describe('openapi handler', () => {
  it('serves an OpenAPI 3.1.0 document with a path and operation for every catalogue route', async () => {
    const res = await invoke(openapi, apiEvent('GET /openapi.json'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    const keys = routes.map((r) => r.routeKey).filter((k) => k !== '$default');
    expect(keys.length).toBeGreaterThanOrEqual(7);
    for (const key of keys) {
      const [method, path] = key.split(' ') as [string, string];
      expect(res.body.paths, `paths of ${key}`).toHaveProperty([path]);
      expect(res.body.paths[path], `operation of ${key}`).toHaveProperty([method.toLowerCase()]);
    }
  });

  it('serves the same document on a second call (cached per container)', async () => {
    const first = await invoke(openapi, apiEvent('GET /openapi.json'));
    const second = await invoke(openapi, apiEvent('GET /openapi.json'));
    expect(second.status).toBe(200);
    expect(second.raw).toBe(first.raw);
  });
});
