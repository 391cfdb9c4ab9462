/** GET /health, and the answer for any route the API does not have. */
import { notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';

export const handler = httpHandler(async (event) => {
  if (event.routeKey === 'GET /health') return json(200, { status: 'ok' });
  throw notFound(`没有这个接口 (no route for ${event.requestContext.http.method} ${event.rawPath})`, 'no_route');
});
