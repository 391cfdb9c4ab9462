/** Regression tests for problems found in review: each would fail on the code before its fix. */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway, requestTarget } from '../../infra/local/gateway.js';
import { inProcessInvoker } from '../../infra/local/lambda-runtime.js';
import type { FunctionName } from '../../infra/catalogue.js';
import { errorResponse } from '../../shared/http/middleware.js';
import { dropEmpty } from '../../shared/ingest/prepare.js';
import { MAX_VERSIONS_SHOWN, recordView } from '../../shared/records/view.js';
import type { StoredHead, StoredVersion } from '../../shared/domain/record-model.js';
import { StoreBusyError } from '../../shared/store/errors.js';
import { isRealDate } from '../../shared/domain/identifiers.js';
import { licenseRecordSchema } from '../../contracts/license.js';
import { license } from '../support/fixtures.js';

describe('local gateway request targets', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    const ok = async () => ({ statusCode: 200, body: 'ok' });
    const handlers = { health: ok, openapi: ok, sources: ok, submissions: ok, records: ok } as Record<FunctionName, typeof ok>;
    gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers) });
  });
  afterAll(async () => {
    await gateway.close();
  });

  function rawRequest(line: string): Promise<string> {
    const { port } = gateway.server.address() as { port: number };
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let out = '';
      socket.on('data', (d) => (out += d.toString()));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
  }

  it('answers an unreadable target with 400, not 500', async () => {
    expect(await rawRequest('GET http://[ HTTP/1.1')).toMatch(/^HTTP\/1\.1 400/);
  });

  it('keeps a path that starts with // as a path', () => {
    expect(requestTarget('//v1/sources?a=1')).toMatchObject({ path: '//v1/sources', rawQuery: 'a=1' });
    expect(requestTarget('http://example/v1/sources?b=2')).toMatchObject({ path: '/v1/sources', rawQuery: 'b=2' });
  });
});

describe('record contents', () => {
  it('keeps "__proto__" as a field, so it is rejected by name instead of smuggling values in', () => {
    const raw = JSON.parse(JSON.stringify(license(1)).replace('"XK_ZT":"有效"', '"__proto__":{"XK_ZT":"有效"}'));
    const cleaned = dropEmpty(raw);
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    const parsed = licenseRecordSchema.safeParse(cleaned);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => (i.code === 'unrecognized_keys' ? i.keys : i.path).join('.'))).toEqual(expect.arrayContaining(['__proto__', 'XK_ZT']));
  });

  it('refuses ill-formed Unicode in text, so two document numbers cannot hash to one record', () => {
    expect(licenseRecordSchema.safeParse(license('LS\ud800')).success).toBe(false);
    expect(licenseRecordSchema.safeParse(license('LS\ufffd')).success).toBe(true);
  });

  it('treats years 1-99 as real years', () => {
    expect(isRealDate(99, 2, 28)).toBe(true);
    expect(isRealDate(4, 2, 29)).toBe(true);
    expect(isRealDate(1, 2, 29)).toBe(false);
  });
});

describe('errors', () => {
  it('answers a busy store with 503 and Retry-After', () => {
    const res = errorResponse(new StoreBusyError('conflicts'));
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(res.body!)).toMatchObject({ error: { code: 'unavailable' } });
  });
});

describe('record view', () => {
  it(`lists at most the ${MAX_VERSIONS_SHOWN} most recent versions and says how many there are`, async () => {
    const content = (n: number) => ({ fields: { XK_NR: `v${n}` }, contentHash: `h${n}` });
    const versions: StoredVersion[] = Array.from({ length: 59 }, (_, i) => ({ id: 'lic_x', version: i + 1, receivedAt: 't', supersededAt: 't', ...content(i + 1) }));
    const head = { id: 'lic_x', kind: 'license', sourceId: 's', version: 60, receivedAt: 't', firstReceivedAt: 't', late: false, status: 'active', ...content(60) } as unknown as StoredHead;
    const view = await recordView(head, versions, false, () => Promise.reject(new Error('no certificate to decrypt')));
    expect(view.versions).toHaveLength(MAX_VERSIONS_SHOWN);
    expect(view.versions[0]!.version).toBe(11);
    expect(view.versions.at(-1)!.version).toBe(60);
    expect(view.versionCount).toBe(60);
    expect(view.versionsOmitted).toBe(10);
  });
});

describe('local gateway throttling', () => {
  it('answers 429 in the API error shape once the burst is spent, as the stage throttling does', async () => {
    const ok = async () => ({ statusCode: 200, body: '{"status":"ok"}' });
    const handlers = { health: ok, openapi: ok, sources: ok, submissions: ok, records: ok } as Record<FunctionName, typeof ok>;
    const gateway = await startGateway({ port: 0, invoker: inProcessInvoker(handlers), throttle: { ratePerSecond: 0.001, burst: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await fetch(`${gateway.url}/openapi.json`));
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(await statuses[2]!.json()).toEqual({ error: { code: 'too_many_requests', message: expect.any(String), details: [] } });
    } finally {
      await gateway.close();
    }
  });
});
