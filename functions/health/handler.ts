/**
 * GET|HEAD /health: whether the stack can reach its store — 200
 * {"status":"ok"}, or 503 {"status":"unavailable"} with Retry-After (a HEAD
 * gets the same status without a body). And, as API Gateway's `$default`
 * route, the answer for any request no route matches: 405 with `Allow` when
 * the path exists with other methods, 404 `no_route` when it does not.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { api } from '../../infra/catalogue.js';
import { unavailableReason } from '../../shared/aws/errors.js';
import { shorten } from '../../shared/domain/text.js';
import { HttpError, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { allowedMethods, compileRoutes } from '../../shared/http/routes.js';
import { logger } from '../../shared/logger.js';
import { storeState } from '../../shared/store/store-probe.js';

const compiled = compileRoutes();
/** How much of the requested path an error message quotes back. */
const QUOTED_PATH_MAX = 100;

export const handler = httpHandler(async (event) => {
  if (event.routeKey === 'GET /health' || event.routeKey === 'HEAD /health') return health();
  throw unmatched(event);
});

async function health() {
  const state = await storeState();
  if (state.reachable) return json(200, { status: 'ok' });
  // On the request's log line (an ERROR line, being a 503): why the store could not be reached.
  logger.appendKeys({ reason: unavailableReason(state.error) ?? 'other', error: state.error as Error });
  return json(503, { status: 'unavailable' }, { 'retry-after': String(api.retryAfterSeconds) });
}

function unmatched(event: APIGatewayProxyEventV2): HttpError {
  const method = event.requestContext.http.method;
  const path = shorten(event.rawPath, QUOTED_PATH_MAX);
  const allow = allowedMethods(compiled, event.rawPath);
  if (allow.length === 0) return notFound(`没有这个接口 (no route for ${method} ${path})`, 'no_route');
  return new HttpError(405, 'method_not_allowed', `此路径不支持${method}方法 (method ${method} not allowed on ${path}; allowed: ${allow.join(', ')})`, [], {
    allow: allow.join(', '),
  });
}
