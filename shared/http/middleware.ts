/**
 * The middy stack every HTTP handler uses: Powertools context in the logs,
 * one access line per request, and every error turned into API.md's error
 * shape in one place. A client's mistake is an HttpError (4xx); anything else
 * is logged with its stack and answered with a 500 that reveals nothing.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../logger.js';
import { StoreBusyError } from '../store/errors.js';
import { HttpError, unavailable } from './errors.js';
import { json } from './response.js';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const TRANSIENT = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalServerError', 'TimeoutError']);

/** An AWS error that goes away by itself (throttling, a service hiccup): the client should retry, not give up. */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; $retryable?: unknown; $metadata?: unknown };
  return e.$metadata !== undefined && (e.$retryable !== undefined || TRANSIENT.has(e.name ?? ''));
}

export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof HttpError) {
    const body = { error: { code: error.code, message: error.message, details: error.details } };
    return json(error.status, body, error.headers);
  }
  if (isTransientAwsError(error) || error instanceof StoreBusyError) {
    return errorResponse(unavailable('服务暂时不可用，请重新发送整个请求 (temporarily unavailable; send the whole request again)'));
  }
  return json(500, { error: { code: 'internal', message: '服务器内部错误 (internal error; it has been logged)', details: [] } });
}

function accessLog(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const started = new WeakMap<object, number>();
  const done = (request: middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>) => {
    const status = request.response?.statusCode ?? 500;
    const line = { route: request.event.routeKey, status, ms: Math.round(performance.now() - (started.get(request) ?? performance.now())) };
    if (status >= 500) logger.error('request failed', line);
    else logger.info('request', line);
  };
  return {
    before: (request) => {
      started.set(request, performance.now());
    },
    after: done,
    onError: async (request) => {
      if (!(request.error instanceof HttpError)) logger.error('unhandled error', { error: request.error as Error });
      request.response = errorResponse(request.error);
      done(request);
    },
  };
}

/** Wraps a route handler with the hub's HTTP middleware. */
export function httpHandler(fn: HttpHandler) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(accessLog())
    .handler(fn);
}
