/**
 * The local stand-in for CloudFront in front of the public site's bucket (infra/local/site-server.ts), against the
 * local S3 emulator: `/` is the index document, a missing page is a 404 with the not-found document (or a built-in
 * page), every response has the catalogue's security headers, Content-Type comes from the object, ETags answer
 * 304, only GET and HEAD are served, and it listens on 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buckets, siteSecurityHeaderValues, type WebsiteSpec } from '../../infra/catalogue.js';
import { provisionBuckets } from '../../infra/local/provision.js';
import { startS3Local, type S3Local } from '../../infra/local/s3-local.js';
import { siteKey, startSiteServer, type SiteServer } from '../../infra/local/site-server.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { nonLoopbackAddress } from '../support/listening-sockets.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: `HUBTEST${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
const temp = mkdtempSync(join(tmpdir(), 'hub-site-'));
const BUCKET = buckets.site.localName;
const website: WebsiteSpec = buckets.site.website;

let s3: S3Local | undefined;
let client: S3Client;
let site: SiteServer | undefined;

const INDEX = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>信用信息公示</title></head><body><a href="/records/r1.html">记录</a></body></html>';
const NOT_FOUND = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>未找到</title></head><body>本站的未找到页面</body></html>';

const put = (key: string, body: string, contentType: string, extra: { CacheControl?: string } = {}) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: contentType, ...extra }));

beforeAll(async () => {
  s3 = await startS3Local({ dir: join(temp, 's3'), credentials, onEvent: () => undefined });
  client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: REGION, credentials, forcePathStyle: true }));
  await provisionBuckets(client, { site: buckets.site });
  await put('index.html', INDEX, 'text/html; charset=utf-8');
  await put('records/r1.html', '<!doctype html><title>记录一</title>', 'text/html; charset=utf-8', { CacheControl: 'max-age=60' });
  await put('assets/site.css', 'body{margin:0}', 'text/css; charset=utf-8');
  await put('search/index.json', '{"records":[]}', 'application/json');
  site = await startSiteServer({ port: 0, s3: { endpoint: s3.endpoint, region: REGION, credentials }, bucket: BUCKET, website });
}, 60_000);

afterAll(async () => {
  await site?.close();
  client?.destroy();
  await s3?.stop();
  rmSync(temp, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request as a browser or crawler sends it (the path sent as written, not normalised by a client). */
function send(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(site!.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function expectSecurityHeaders(answer: Answer) {
  for (const [name, value] of Object.entries(siteSecurityHeaderValues())) expect(answer.headers[name], name).toBe(value);
}

describe('the request path', () => {
  it('names the index document for / only, the decoded key otherwise, dot segments resolved and the query ignored', () => {
    expect(siteKey('/', website)).toBe('index.html');
    expect(siteKey('/?q=1', website)).toBe('index.html');
    expect(siteKey('/records/r1.html?x=y', website)).toBe('records/r1.html');
    expect(siteKey('/kinds/', website)).toBe('kinds/');
    expect(siteKey('/records/../index.html', website)).toBe('index.html');
    expect(siteKey('/%2e%2e/%2e%2e/index.html', website)).toBe('index.html');
    expect(siteKey('/%E4%B8%BB%E4%BD%93/a.html', website)).toBe('主体/a.html');
    expect(siteKey('/%E4%B8', website)).toBeNull();
    expect(siteKey('/a%00b', website)).toBeNull();
  });
});

describe('the local site server', () => {
  it('serves the index document at / and at /index.html, with the object’s Content-Type, ETag and the security headers', async () => {
    for (const path of ['/', '/index.html']) {
      const answer = await send('GET', path);
      expect(answer.status, path).toBe(200);
      expect(answer.body).toBe(INDEX);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
      expectSecurityHeaders(answer);
    }
  });

  it('gives each object its own Content-Type and Cache-Control as stored', async () => {
    const css = await send('GET', '/assets/site.css');
    expect([css.status, css.headers['content-type'], css.body]).toEqual([200, 'text/css; charset=utf-8', 'body{margin:0}']);
    const json = await send('GET', '/search/index.json');
    expect([json.status, json.headers['content-type']]).toEqual([200, 'application/json']);
    const page = await send('GET', '/records/r1.html');
    expect([page.status, page.headers['cache-control']]).toEqual([200, 'max-age=60']);
    expectSecurityHeaders(css);
  });

  it('answers a HEAD with the headers of the GET and no body', async () => {
    const answer = await send('HEAD', '/index.html');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('');
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)));
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(answer);
  });

  it('answers 304 to If-None-Match with the current ETag, and the page again once it has changed', async () => {
    const first = await send('GET', '/records/r1.html');
    const etag = first.headers.etag as string;
    const again = await send('GET', '/records/r1.html', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expectSecurityHeaders(again);
    await put('records/r1.html', '<!doctype html><title>记录一（更正）</title>', 'text/html; charset=utf-8');
    const changed = await send('GET', '/records/r1.html', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.body).toContain('更正');
    expect(changed.headers.etag).not.toBe(etag);
  });

  it('answers a missing page with 404 and a built-in page while the bucket has no not-found document, then with that document', async () => {
    const builtIn = await send('GET', '/records/gone.html');
    expect(builtIn.status).toBe(404);
    expect(builtIn.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(builtIn.body).toContain('页面不存在');
    expect(builtIn.body).not.toMatch(/<script|<style|style=/i);
    expectSecurityHeaders(builtIn);

    await put(website.notFoundDocument, NOT_FOUND, 'text/html; charset=utf-8');
    try {
      for (const path of ['/records/gone.html', '/kinds/', '/records/../nothing.html']) {
        const answer = await send('GET', path);
        expect(answer.status, path).toBe(404);
        expect(answer.body).toBe(NOT_FOUND);
        expectSecurityHeaders(answer);
      }
      const head = await send('HEAD', '/records/gone.html');
      expect([head.status, head.body]).toEqual([404, '']);
      // The not-found document itself is a page like any other.
      expect((await send('GET', `/${website.notFoundDocument}`)).status).toBe(200);
    } finally {
      await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: website.notFoundDocument }));
    }
  });

  it('takes a deleted page off at once', async () => {
    await put('records/r2.html', '<!doctype html><title>记录二</title>', 'text/html; charset=utf-8');
    expect((await send('GET', '/records/r2.html')).status).toBe(200);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'records/r2.html' }));
    expect((await send('GET', '/records/r2.html')).status).toBe(404);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('refuses %s with 405, naming GET and HEAD, and changes nothing', async (method) => {
    const answer = await send(method, '/index.html');
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
    expectSecurityHeaders(answer);
    expect((await send('GET', '/index.html')).body).toBe(INDEX);
  });

  it('answers 400 to a path it cannot read', async () => {
    const answer = await send('GET', '/%E4%B8');
    expect(answer.status).toBe(400);
    expectSecurityHeaders(answer);
  });

  it('listens on 127.0.0.1 only', async () => {
    const address = nonLoopbackAddress();
    const port = Number(new URL(site!.url).port);
    expect(new URL(site!.url).hostname).toBe('127.0.0.1');
    expect(site!.server.address()).toMatchObject({ address: '127.0.0.1', port });
    if (address) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: address, port, timeout: 2000 });
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('timeout', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(false));
      });
      expect(reached, `reached on ${address}`).toBe(false);
    }
  });

  it('answers 502 when the bucket cannot be read, and says why in the log', async () => {
    const lines: string[] = [];
    // An endpoint where nothing listens: the emulator's port once this test's own probe server is closed.
    const probe = await startSiteServer({ port: 0, s3: { endpoint: 'http://127.0.0.1:9', region: REGION, credentials }, bucket: BUCKET, website, log: (l) => lines.push(l) });
    try {
      const url = new URL(probe.url);
      const answer = await new Promise<Answer>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, path: '/index.html' }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(answer.status).toBe(502);
      expectSecurityHeaders(answer);
      expect(lines.join('\n')).toMatch(/could not read the bucket hub-site/);
    } finally {
      await probe.close();
    }
  });
});

describe('a port already taken', () => {
  it('is refused at start, naming SITE_PORT', async () => {
    const port = Number(new URL(site!.url).port);
    await expect(startSiteServer({ port, s3: { endpoint: s3!.endpoint, region: REGION, credentials }, bucket: BUCKET, website })).rejects.toThrow(
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(SITE_PORT\\).*EADDRINUSE`),
    );
  });
});
