/**
 * The local stand-in for CloudFront in front of the public site's bucket (API.md "The public site": SITE_PORT):
 * reads the objects through the S3 API of the local emulator, as CloudFront reads them with origin access control,
 * and answers the way the distribution of infra/stack.ts does:
 * - `/` serves the bucket's index document (CloudFront's default root object), and only `/`: any other path is the
 *   key it names (`/a/` is the key `a/`, which a site does not have), the query string ignored;
 * - a missing object serves the not-found document with status 404 (CloudFront's custom error response), or a
 *   short built-in page when the bucket has none;
 * - every response carries the catalogue's security headers (siteSecurityHeaderValues: the response headers policy);
 * - the object's Content-Type, ETag, Last-Modified and Cache-Control as stored; If-None-Match answers 304;
 * - GET and HEAD only: any other method is refused with 405.
 * It listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, S3Client, type GetObjectCommandOutput, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { siteSecurityHeaderValues, type WebsiteSpec } from '../catalogue.js';

export interface SiteServerOptions {
  /** The port to listen on (0: any free one). */
  port: number;
  /** The S3 endpoint and the credentials the emulator accepts. */
  s3: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** The site's bucket (its local name) and how it is served (the catalogue's `website`). */
  bucket: string;
  website: WebsiteSpec;
  /** Where a failure to read the bucket is reported (never a request's path: a page name is public, but keep logs quiet). */
  log?: (line: string) => void;
}

export interface SiteServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';

/** What a missing page shows when the bucket has no not-found document (no style or script: the CSP allows none inline). */
const BUILT_IN_NOT_FOUND =
  '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>页面不存在</title></head>' +
  '<body><main><h1>页面不存在</h1><p>您要找的页面不存在或已撤下。</p><p><a href="/index.html">返回首页</a></p></main></body></html>\n';

/** The bucket key a request path names: `/` the index document, else the path decoded without its leading slash; null when it cannot be read. */
export function siteKey(target: string | undefined, website: WebsiteSpec): string | null {
  let pathname: string;
  try {
    // The WHATWG parser resolves dot segments (`/a/../b`, `/%2e%2e/`), as CloudFront normalises the path.
    pathname = decodeURIComponent(new URL(target ?? '/', 'http://site.invalid').pathname);
  } catch {
    return null;
  }
  if (pathname === '/') return website.indexDocument;
  if (pathname.includes('\0')) return null;
  return pathname.slice(1);
}

const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const isMissing = (e: unknown) => statusOf(e) === 404 || (e as { name?: string }).name === 'NoSuchKey' || (e as { name?: string }).name === 'NotFound';

function objectHeaders(object: GetObjectCommandOutput | HeadObjectCommandOutput): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': object.ContentType ?? 'application/octet-stream' };
  if (object.ContentLength !== undefined) headers['content-length'] = String(object.ContentLength);
  if (object.ETag) headers.etag = object.ETag;
  if (object.LastModified) headers['last-modified'] = object.LastModified.toUTCString();
  if (object.CacheControl) headers['cache-control'] = object.CacheControl;
  if (object.ContentEncoding) headers['content-encoding'] = object.ContentEncoding;
  if (object.ContentLanguage) headers['content-language'] = object.ContentLanguage;
  return headers;
}

export async function startSiteServer(options: SiteServerOptions): Promise<SiteServer> {
  const log = options.log ?? (() => undefined);
  const security = siteSecurityHeaderValues();
  const client = new S3Client(s3ClientConfig({ endpoint: options.s3.endpoint, region: options.s3.region, credentials: options.s3.credentials, forcePathStyle: true }));
  const { bucket, website } = options;

  const answer = (res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer) => {
    res.writeHead(status, { ...headers, ...security });
    res.end(body);
  };

  const read = async (key: string, head: boolean, ifNoneMatch?: string) =>
    head
      ? client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) }))
      : client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) }));

  /** Sends an object (its body for GET), with the given status. */
  const sendObject = async (res: ServerResponse, status: number, object: GetObjectCommandOutput | HeadObjectCommandOutput) => {
    res.writeHead(status, { ...objectHeaders(object), ...security });
    const body = (object as GetObjectCommandOutput).Body as Readable | undefined;
    if (!body) return void res.end();
    await pipeline(body, res);
  };

  const notFound = async (res: ServerResponse, head: boolean, missingKey: string) => {
    if (missingKey !== website.notFoundDocument) {
      try {
        return await sendObject(res, 404, await read(website.notFoundDocument, head));
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    }
    const body = Buffer.from(BUILT_IN_NOT_FOUND);
    answer(res, 404, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length) }, head ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      return answer(res, 405, { allow: ALLOWED_METHODS, 'content-type': 'text/plain; charset=utf-8' }, `405 Method Not Allowed: the site answers ${ALLOWED_METHODS} only\n`);
    }
    const head = method === 'HEAD';
    const key = siteKey(req.url, website);
    if (key === null) return answer(res, 400, { 'content-type': 'text/plain; charset=utf-8' }, head ? undefined : '400 Bad Request: the path cannot be read\n');
    const ifNoneMatch = req.headers['if-none-match'];
    try {
      await sendObject(res, 200, await read(key, head, ifNoneMatch));
    } catch (e) {
      if (statusOf(e) === 304) {
        // S3 answers 304 only when the ETag asked about is the object's: that one (the emulator leaves it out).
        const etag = (e as { $response?: { headers?: Record<string, string> } }).$response?.headers?.etag ?? (ifNoneMatch !== '*' ? ifNoneMatch : undefined);
        return answer(res, 304, etag ? { etag } : {});
      }
      if (isMissing(e)) return notFound(res, head, key);
      throw e;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // Once the answer has begun, a failure is the transfer's (most often the reader went away): the connection is cut.
      if (res.headersSent) return void res.destroy();
      log(`site: could not read the bucket ${bucket}: ${(e as Error).message}`);
      answer(res, 502, { 'content-type': 'text/plain; charset=utf-8' }, '502 Bad Gateway: the site bucket could not be read\n');
    });
  });
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
  } catch (e) {
    client.destroy();
    throw new Error(`the public site cannot listen on 127.0.0.1:${options.port} (SITE_PORT): ${(e as Error).message}`);
  }
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          client.destroy();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
