import { beforeEach, describe, expect, it } from 'vitest';
import { ddb, errorOf, invoke, apiEvent } from './support.js';
import { routes } from '../../../infra/catalogue.js';
import { handler as health } from '../../../functions/health/handler.js';
import { handler as openapi } from '../../../functions/openapi/handler.js';

beforeEach(() => {
  ddb.reset();
});

describe('health handler', () => {
  it("answers 'GET /health' with 200 {status: ok} as JSON", async () => {
    const res = await invoke(health, apiEvent('GET /health'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(ddb.calls()).toHaveLength(0);
  });

  it("answers '$default' (an unmatched route) with 404 in the API error shape", async () => {
    const res = await invoke(health, apiEvent('$default', { rawPath: '/v1/nothing-here' }));
    expect(res.status).toBe(404);
    const error = errorOf(res);
    expect(error.code).toBe('no_route');
    expect(error.details).toEqual([]);
    expect(error.message).toContain('/v1/nothing-here');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
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
