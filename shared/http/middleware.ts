/**
 * The middy stack every HTTP handler uses: one log line per request, and
 * every error turned into API.md's error shape in one place.
 *
 * A client's mistake is an HttpError (4xx, or a 503 raised on purpose); an
 * AWS dependency that is unavailable for now (unreachable, timing out,
 * throttling, failing: shared/aws/errors.ts) or a store too busy to finish
 * is 503 with Retry-After; anything else is a 500 that reveals nothing.
 *
 * The request's line (message "request") names the route, status, duration
 * in ms, the caller (`source`: a source id or "operator", added by
 * authenticate(); absent when unauthenticated), the request id (API
 * Gateway's, the `apigw-requestid` a client sees) and whether this was the
 * cold start of the function's module instance; a 5xx line carries the
 * error with its stack. Keys added during a request are dropped after it.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { unavailableReason } from '../aws/errors.js';
import { shorten } from '../domain/text.js';
import { logger } from '../logger.js';
import { StoreBusyError } from '../store/errors.js';
import { HttpError, unavailable } from './errors.js';
import { json } from './response.js';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>;

/** Whether an error means "temporarily unavailable, send the request again" (503) rather than a fault of the hub (500). */
export function isUnavailable(error: unknown): boolean {
  return error instanceof StoreBusyError || unavailableReason(error) !== undefined;
}

export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof HttpError) {
    const body = { error: { code: error.code, message: error.message, details: error.details } };
    return json(error.status, body, error.headers);
  }
  if (isUnavailable(error)) {
    return errorResponse(unavailable('服务暂时不可用，请重新发送整个请求 (temporarily unavailable; send the whole request again)'));
  }
  return json(500, { error: { code: 'internal', message: '服务器内部错误 (internal error; it has been logged)', details: [] } });
}

/** How much of an unmatched request's path the log line quotes. */
const LOGGED_PATH_MAX = 80;

function requestLog(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  // One module instance per execution environment: its first invocation is the cold start.
  let coldStart = true;
  const started = new WeakMap<object, number>();

  const done = (request: Request) => {
    const { event } = request;
    const status = request.response?.statusCode ?? 500;
    const line: Record<string, unknown> = {
      route: event.routeKey,
      status,
      ms: Math.round(performance.now() - (started.get(request) ?? performance.now())),
    };
    if (event.routeKey === '$default') line.path = shorten(`${event.requestContext?.http?.method ?? ''} ${event.rawPath ?? ''}`, LOGGED_PATH_MAX);
    const error = request.error;
    if (error instanceof HttpError) line.code = error.code;
    else if (error) {
      line.code = isUnavailable(error) ? 'unavailable' : 'internal';
      const reason = unavailableReason(error);
      if (reason) line.reason = reason;
    }
    if (error && status >= 500) line.error = error;
    if (status >= 500) logger.error('request', line);
    else logger.info('request', line);
  };

  return {
    before: (request) => {
      started.set(request, performance.now());
      logger.resetKeys();
      logger.appendKeys({ request_id: request.event.requestContext?.requestId ?? request.context.awsRequestId, cold_start: coldStart });
      coldStart = false;
    },
    after: (request) => {
      withoutBodyForHead(request);
      done(request);
      logger.resetKeys();
    },
    onError: (request) => {
      request.response = errorResponse(request.error);
      withoutBodyForHead(request);
      done(request);
      logger.resetKeys();
    },
  };
}

/** A HEAD request gets the status and headers a GET would, and no body. */
function withoutBodyForHead(request: Request): void {
  if (request.event.requestContext?.http?.method === 'HEAD' && request.response) {
    request.response = { ...request.response, body: '' };
  }
}

/** Wraps a route handler with the hub's HTTP middleware. */
export function httpHandler(fn: HttpHandler) {
  // No early-timeout race (middy's timeoutEarlyInMillis): it would answer while the handler goes on
  // working behind the answer. Handlers stop themselves at their deadline (deadline.ts) instead.
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>({ timeoutEarlyInMillis: 0 }).use(requestLog()).handler(fn);
}
