/**
 * The request log (shared/http/middleware.ts, shared/logger.ts): one short
 * line per request with route, status, duration, caller, request id and cold
 * start, as written to stdout by real handler invocations.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, ddb, DEPARTMENT_KEY, department, errorOf, invoke, mockKey, mockNoItems, OPERATOR_KEY } from './handlers/support.js';
import { api } from '../../infra/catalogue.js';
import { handler as records } from '../../functions/records/handler.js';
import { handler as sources } from '../../functions/sources/handler.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { logger } from '../../shared/logger.js';

let written: string[];

beforeEach(() => {
  ddb.reset();
  logger.setLogLevel('INFO');
  written = [];
  const capture = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
});

afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('SILENT');
});

/** Every line written, as text. */
const lines = () => written.join('').split('\n').filter(Boolean);
/** The one line the request wrote (fails when there is not exactly one). */
function requestLine(): Record<string, any> {
  const all = lines();
  expect(all, all.join('\n')).toHaveLength(1);
  return JSON.parse(all[0]!);
}

const withRequestId = (event: ReturnType<typeof apiEvent>, id: string) => {
  event.requestContext.requestId = id;
  return event;
};

describe('one line per request', () => {
  it('names route, status, duration, caller and request id, and nothing of the Lambda context', async () => {
    mockNoItems(); // the operator's key item, and per-key counters that admit
    ddb.on(QueryCommand).resolves({ Items: [] });
    const res = await invoke(sources, withRequestId(apiEvent('GET /v1/sources', { key: OPERATOR_KEY }), 'K3a9TjM2hcwEJ-w='));
    expect(res.status).toBe(200);
    const line = requestLine();
    expect(line).toEqual({
      level: 'INFO',
      message: 'request',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      request_id: 'K3a9TjM2hcwEJ-w=',
      cold_start: expect.any(Boolean),
      source: 'operator',
      route: 'GET /v1/sources',
      status: 200,
      ms: expect.any(Number),
    });
    expect(line.ms).toBeGreaterThanOrEqual(0);
  });

  it('stays short: under 250 characters for a department reading a record', async () => {
    mockKey(DEPARTMENT_KEY, department);
    ddb.on(QueryCommand).resolves({ Items: [] });
    const res = await invoke(records, withRequestId(apiEvent('GET /v1/records/{id}', { key: DEPARTMENT_KEY, pathParameters: { id: 'lic_abcdefghijklmnopqrstuvwxyz' } }), 'c8a7b5e2-6f0d-4a51-9c3e-2b7d1e4f9a60'));
    expect(res.status).toBe(404);
    const [text] = lines();
    expect(lines()).toHaveLength(1);
    expect(text!.length, text).toBeLessThan(250);
    expect(JSON.parse(text!)).toMatchObject({ route: 'GET /v1/records/{id}', status: 404, code: 'not_found', source: department.sourceId, request_id: 'c8a7b5e2-6f0d-4a51-9c3e-2b7d1e4f9a60' });
  });

  it('says cold_start true on the first invocation of a module instance and false after', async () => {
    const handler = httpHandler(async () => json(200, { ok: true }));
    await handler(apiEvent('GET /health'), {} as never);
    await handler(apiEvent('GET /health'), {} as never);
    await handler(apiEvent('GET /health'), {} as never);
    expect(lines().map((l) => JSON.parse(l).cold_start)).toEqual([true, false, false]);
  });

  it('names the source for a source’s key, and no one when the caller is not authenticated', async () => {
    mockNoItems();
    mockKey(DEPARTMENT_KEY, department);
    ddb.on(QueryCommand).resolves({ Items: [] });
    await invoke(records, apiEvent('GET /v1/records/{id}', { key: DEPARTMENT_KEY, pathParameters: { id: 'lic_abcdefghijklmnopqrstuvwxyz' } }));
    await invoke(records, apiEvent('GET /v1/records/{id}', { pathParameters: { id: 'lic_abcdefghijklmnopqrstuvwxyz' } }));
    await invoke(records, apiEvent('GET /v1/records/{id}', { key: 'hub_unknown-key', pathParameters: { id: 'lic_abcdefghijklmnopqrstuvwxyz' } }));
    const [named, anonymous, unknown] = lines().map((l) => JSON.parse(l));
    expect(named).toMatchObject({ source: 'shi-scjgj', status: 404 });
    // The previous request's caller does not stay on later lines.
    expect(anonymous).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(anonymous).not.toHaveProperty('source');
    expect(unknown).toMatchObject({ status: 401 });
    expect(unknown).not.toHaveProperty('source');
  });

  it('keeps the request’s keys on every line written during it, and drops them after', async () => {
    const handler = httpHandler(async () => {
      logger.appendKeys({ source: 'shi-scjgj' });
      logger.info('work done', { count: 3 });
      return json(200, {});
    });
    await handler(withRequestId(apiEvent('GET /health'), 'req-a'), {} as never);
    logger.info('between requests');
    const [work, request, between] = lines().map((l) => JSON.parse(l));
    expect(work).toMatchObject({ message: 'work done', request_id: 'req-a', source: 'shi-scjgj', count: 3 });
    expect(request).toMatchObject({ message: 'request', request_id: 'req-a', source: 'shi-scjgj', status: 200 });
    expect(between).not.toHaveProperty('request_id');
    expect(between).not.toHaveProperty('source');
  });

  it('quotes an unmatched request’s method and path, shortened', async () => {
    const handler = httpHandler(async () => json(404, {}));
    const event = apiEvent('$default', { rawPath: `/${'a'.repeat(5_000)}` });
    await handler(event, {} as never);
    const line = requestLine();
    expect(line).toMatchObject({ route: '$default', path: expect.stringMatching(/^GET \/a+…$/) });
    expect(JSON.stringify(line).length).toBeLessThan(400);
  });
});

describe('errors on the request line', () => {
  it('a 500 is an ERROR line with the error’s stack, and the client learns nothing', async () => {
    mockNoItems(); // the operator's key item, and per-key counters that admit
    ddb.on(QueryCommand).rejects(new Error('a bug in the store adapter'));
    const res = await invoke(sources, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(res.status).toBe(500);
    expect(errorOf(res).code).toBe('internal');
    expect(res.raw).not.toContain('a bug');
    const line = requestLine();
    expect(line).toMatchObject({ level: 'ERROR', message: 'request', status: 500, code: 'internal', source: 'operator', error: { name: 'Error', message: 'a bug in the store adapter' } });
    expect(line.error.stack).toContain('a bug in the store adapter');
  });

  it('a throttled store is a 503 with Retry-After in the error shape, logged with the reason and the stack', async () => {
    mockNoItems(); // the operator's key item, and per-key counters that admit
    ddb.on(QueryCommand).rejects(new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: { httpStatusCode: 400, attempts: 3 } }));
    const res = await invoke(sources, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe(String(api.retryAfterSeconds));
    expect(errorOf(res)).toEqual({ code: 'unavailable', message: expect.any(String), details: [] });
    const line = requestLine();
    expect(line).toMatchObject({ level: 'ERROR', status: 503, code: 'unavailable', reason: 'throttling', error: { name: 'ProvisionedThroughputExceededException' } });
    expect(line.error.stack).toEqual(expect.any(String));
  });

  it('an unreachable store while authenticating a source’s key is a 503, not a 500', async () => {
    ddb.on(GetCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED', name: 'TimeoutError', $metadata: { attempts: 3 } }));
    const res = await invoke(records, apiEvent('GET /v1/records/{id}', { key: DEPARTMENT_KEY, pathParameters: { id: 'lic_abcdefghijklmnopqrstuvwxyz' } }));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe(String(api.retryAfterSeconds));
    expect(requestLine()).toMatchObject({ status: 503, code: 'unavailable', reason: 'connection' });
  });

  it('a 4xx is an INFO line with its code and no stack', async () => {
    await invoke(sources, apiEvent('GET /v1/sources'));
    const line = requestLine();
    expect(line).toMatchObject({ level: 'INFO', status: 401, code: 'unauthorized' });
    expect(line).not.toHaveProperty('error');
  });
});
