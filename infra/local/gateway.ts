/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): matches
 * the catalogue's routes, builds the same v2 events, invokes the same Lambda
 * handlers, and applies the catalogue's throttling and body limits.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { api, functions, routes, type FunctionName } from '../catalogue.js';

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

interface CompiledRoute {
  routeKey: string;
  method: string;
  pattern: RegExp;
  params: string[];
  fn: FunctionName;
}

export function compileRoutes(): { routes: CompiledRoute[]; fallback: FunctionName | undefined } {
  const compiled: CompiledRoute[] = [];
  let fallback: FunctionName | undefined;
  for (const route of routes) {
    if (route.routeKey === '$default') {
      fallback = route.function;
      continue;
    }
    const [method, path] = route.routeKey.split(' ') as [string, string];
    const params: string[] = [];
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      params.push(name);
      return '([^/]+)';
    });
    compiled.push({ routeKey: route.routeKey, method, pattern: new RegExp(`^${source}$`), params, fn: route.function });
  }
  return { routes: compiled, fallback };
}

export function matchRoute(compiled: ReturnType<typeof compileRoutes>, method: string, path: string) {
  for (const route of compiled.routes) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    route.params.forEach((name, i) => {
      try {
        pathParameters[name] = decodeURIComponent(m[i + 1]!);
      } catch {
        pathParameters[name] = m[i + 1]!;
      }
    });
    return { routeKey: route.routeKey, fn: route.fn, pathParameters };
  }
  return compiled.fallback ? { routeKey: '$default', fn: compiled.fallback, pathParameters: undefined } : undefined;
}

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
  const text = TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
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

function lambdaContext(fn: FunctionName, requestId: string): Context {
  const spec = functions[fn];
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `credit-hub-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:credit-hub-${fn}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/credit-hub-${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Token bucket for the whole API, as API Gateway's stage throttling. */
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

  take(): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.rate);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function gatewayError(res: ServerResponse, status: number, code: string, message: string) {
  send(res, status, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ error: { code, message, details: [] } }));
}

export interface Gateway {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(options: {
  port: number;
  host?: string;
  handlers: Record<FunctionName, LambdaHandler>;
  /** The catalogue's stage throttling unless given (tests). */
  throttle?: { ratePerSecond: number; burst: number };
}): Promise<Gateway> {
  const compiled = compileRoutes();
  const throttle = options.throttle ?? api.throttle;
  const bucket = new TokenBucket(throttle.ratePerSecond, throttle.burst);
  const server = createServer((req, res) => {
    void (async () => {
      if (!bucket.take()) return gatewayError(res, 429, 'too_many_requests', '请求过于频繁 (too many requests; slow down and retry)');
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > api.gatewayMaxBodyBytes) {
          tooLarge = true;
          break;
        }
        chunks.push(chunk);
      }
      if (tooLarge) {
        res.setHeader('connection', 'close');
        gatewayError(res, 413, 'payload_too_large', `请求体超过${api.gatewayMaxBodyBytes}字节 (request body over ${api.gatewayMaxBodyBytes} bytes)`);
        req.destroy();
        return;
      }
      const target = requestTarget(req.url);
      if (!target) return gatewayError(res, 400, 'bad_request', 'Bad Request: the request target cannot be read');
      const match = matchRoute(compiled, req.method ?? 'GET', target.path);
      if (!match) return gatewayError(res, 404, 'no_route', 'Not Found');
      const event = buildEvent(req, Buffer.concat(chunks), match.routeKey, match.pathParameters, target);
      const result = await options.handlers[match.fn](event, lambdaContext(match.fn, event.requestContext.requestId));
      if (typeof result === 'string' || result === undefined || !('statusCode' in result)) {
        return send(res, 200, { 'content-type': 'application/json' }, typeof result === 'string' ? result : JSON.stringify(result ?? null));
      }
      const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
      send(res, result.statusCode ?? 200, headers, body);
    })().catch((e: unknown) => {
      // API Gateway answers a failed integration with 500 and no detail.
      process.stderr.write(`gateway: integration failed: ${(e as Error).stack ?? String(e)}\n`);
      if (!res.headersSent) gatewayError(res, 500, 'internal', 'Internal Server Error');
      else res.destroy();
    });
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
