/** GET /openapi.json: the OpenAPI 3.1 document generated from the contracts, built once per container. */
import { openApiDocument } from '../../contracts/openapi.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';

let document: string | undefined;

export const handler = httpHandler(async () => {
  document ??= JSON.stringify(openApiDocument());
  const response = json(200, null, { 'cache-control': 'public, max-age=300' });
  return { ...response, body: document };
});
