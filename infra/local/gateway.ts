/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): matches
 * the catalogue's routes, builds the same v2 events, invokes the functions
 * through the local Lambda runtime, and applies the catalogue's throttling
 * (stage and route), CORS, and request limits.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ErrorCode } from '../../contracts/errors.js';
import { api, environment, routes, type Throttle } from '../catalogue.js';
import type { FunctionInvoker } from './lambda-runtime.js';
import { compileRoutes, matchRoute } from '../../shared/http/routes.js';

export { compileRoutes, matchRoute } from '../../shared/http/routes.js';

const TEXT_TYPES = /^(text\/|application\/(json|.*\+json|x-ndjson|xml|x-www-form-urlencoded)|application\/javascript)/i;

/**
 * The path and query of a request target, as API Gateway sees them: the path
 * is taken as sent (`//x` stays `//x`); an absolute-form target
 * (`http://host/path`) gives its path. Null when the target cannot be read.
 */
export interface RequestTarget {
  path: string;
  query: URLSearchParams;
  rawQuery: string;
}

export function requestTarget(target: string | undefined): RequestTarget | null {
  let raw = target ?? '/';
  if (!raw.startsWith('/')) {
    try {
      const url = new URL(raw);
      raw = url.pathname + url.search;
    } catch {
      return null;
    }
  }
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q + 1);
  return { path, query: new URLSearchParams(rawQuery), rawQuery };
}

export function buildEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
  url: RequestTarget = requestTarget(req.url) ?? { path: '/', query: new URLSearchParams(), rawQuery: '' },
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/);
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const params = new Map<string, string>();
  for (const [k, v] of url.query) params.set(k, params.has(k) ? `${params.get(k)},${v}` : v);
  const query = Object.fromEntries(params);
  const now = new Date();
  // A string only when it is certainly the client's UTF-8 text; anything else (another charset, a Content-Encoding,
  // bytes that are not UTF-8) is base64-encoded, so that the handler decodes the real bytes.
  const contentType = headers['content-type'] ?? 'application/json';
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1] ?? '';
  const text = TEXT_TYPES.test(contentType) && /^(utf-?8)?$/i.test(charset) && !headers['content-encoding'] && isUtf8(body);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.path,
    rawQueryString: url.rawQuery,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: { method: req.method ?? 'GET', path: url.path, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/** Token bucket, as API Gateway's stage and route throttling: a token is taken when a request arrives. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.rate);
    this.#last = t;
  }

  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whole seconds until a token will be there (at least 1): the Retry-After of a 429. */
  secondsUntilToken(): number {
    this.#refill();
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.rate));
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message, details: [] } });
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' };

function gatewayError(res: ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
  send(res, status, { ...JSON_HEADERS, ...headers }, errorBody(code, message));
}

/** CORS as API Gateway applies an HTTP API's CORS configuration: preflights answered by the gateway, headers added to responses. */
export class Cors {
  readonly #origins: Set<string>;

  constructor(origins: readonly string[]) {
    this.#origins = new Set(origins.map((o) => o.trim().replace(/\/$/, '')).filter(Boolean));
  }

  get enabled(): boolean {
    return this.#origins.size > 0;
  }

  allows(origin: string | undefined): origin is string {
    return origin !== undefined && (this.#origins.has('*') || this.#origins.has(origin));
  }

  isPreflight(req: IncomingMessage): boolean {
    return this.enabled && req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
  }

  preflightHeaders(req: IncomingMessage): Record<string, string> {
    if (!this.allows(req.headers.origin)) return {};
    return {
      'access-control-allow-origin': req.headers.origin,
      'access-control-allow-methods': [...new Set(routes.filter((r) => r.routeKey !== '$default').map((r) => r.routeKey.split(' ')[0]!))].sort().join(','),
      'access-control-allow-headers': api.cors.allowHeaders.join(','),
      'access-control-max-age': String(api.cors.maxAgeSeconds),
      vary: 'origin',
    };
  }

  responseHeaders(req: IncomingMessage): Record<string, string> {
    if (!this.allows(req.headers.origin)) return {};
    return { 'access-control-allow-origin': req.headers.origin, 'access-control-expose-headers': api.cors.exposeHeaders.join(','), vary: 'origin' };
  }
}

/** Origins allowed by CORS in the local stack, from HUB_CORS_ORIGINS (comma-separated); none by default. */
export function corsOriginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[environment.corsOrigins] ?? '').split(',').map((o) => o.trim()).filter(Boolean);
}

export interface Gateway {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface GatewayOptions {
  port: number;
  host?: string;
  /** How functions are invoked: execution environments of their own (lambda-runtime.ts), or in-process handlers in unit tests. */
  invoker: FunctionInvoker;
  /** The catalogue's stage throttling unless given (tests). */
  throttle?: Throttle;
  /** Origins allowed by CORS; none (CORS off) unless given. */
  corsOrigins?: readonly string[];
}

/** Node's own limit on the request line and headers; past it the request is refused before routing (431). */
const MAX_HEADER_BYTES = 32 * 1024;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const compiled = compileRoutes();
  const stage = new TokenBucket((options.throttle ?? api.throttle).ratePerSecond, (options.throttle ?? api.throttle).burst);
  const routeBuckets = new Map(routes.filter((r) => r.throttle).map((r) => [r.routeKey, new TokenBucket(r.throttle!.ratePerSecond, r.throttle!.burst)]));
  const cors = new Cors(options.corsOrigins ?? []);

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    // Everything up to the throttle decision runs synchronously on arrival: a request is admitted
    // or refused when it comes in, as API Gateway does, not when a busy server gets round to it.
    const rawTarget = req.url ?? '/';
    if (Buffer.byteLength(rawTarget) > api.maxUrlBytes) {
      return gatewayError(res, 414, 'uri_too_long', `请求地址过长 (the request target is over ${api.maxUrlBytes} bytes)`);
    }
    const target = requestTarget(rawTarget);
    if (!target) return gatewayError(res, 400, 'bad_request', '无法解析请求地址 (the request target cannot be read)');
    const method = req.method ?? 'GET';
    const match = matchRoute(compiled, method, target.path);
    const bucket = (match && routeBuckets.get(match.routeKey)) || stage;
    if (!bucket.take()) {
      req.resume();
      return gatewayError(res, 429, 'too_many_requests', '请求过于频繁 (too many requests; slow down and retry)', {
        'retry-after': String(bucket.secondsUntilToken()),
        ...cors.responseHeaders(req),
      });
    }
    if (cors.isPreflight(req)) {
      req.resume();
      return send(res, 204, cors.preflightHeaders(req), '');
    }
    void (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > api.gatewayMaxBodyBytes) {
          res.setHeader('connection', 'close');
          gatewayError(res, 413, 'payload_too_large', `请求体超过${api.gatewayMaxBodyBytes}字节 (request body over ${api.gatewayMaxBodyBytes} bytes)`);
          req.destroy();
          return;
        }
        chunks.push(chunk);
      }
      if (!match) return gatewayError(res, 404, 'no_route', '没有这个接口 (not found)');
      const event = buildEvent(req, Buffer.concat(chunks), match.routeKey, match.pathParameters, target);
      const outcome = await options.invoker.invoke(match.fn, event, event.requestContext.requestId);
      const corsHeaders = cors.responseHeaders(req);
      if (outcome.status !== 'ok') {
        // API Gateway answers a failed or timed-out Lambda integration with 500 and no detail.
        return gatewayError(res, 500, 'internal', 'Internal Server Error', corsHeaders);
      }
      const result = outcome.result as APIGatewayProxyStructuredResultV2 | string | undefined | null;
      if (typeof result === 'string' || result === undefined || result === null || !('statusCode' in result)) {
        return send(res, 200, { 'content-type': 'application/json', ...corsHeaders }, typeof result === 'string' ? result : JSON.stringify(result ?? null));
      }
      const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
      send(res, result.statusCode ?? 200, { ...headers, ...corsHeaders }, body);
    })().catch((e: unknown) => {
      process.stderr.write(`gateway: integration failed: ${(e as Error).stack ?? String(e)}\n`);
      if (!res.headersSent) gatewayError(res, 500, 'internal', 'Internal Server Error');
      else res.destroy();
    });
  });

  // A request line or headers over Node's limit: answer in the API's error shape, not Node's empty 431.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, code, message]: [number, ErrorCode, string] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', `请求头过大 (request line and headers over ${MAX_HEADER_BYTES} bytes)`]
        : [400, 'bad_request', '无法解析的HTTP请求 (malformed HTTP request)'];
    const body = errorBody(code, message);
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
