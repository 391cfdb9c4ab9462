/** POST /v1/sources, GET /v1/sources, POST /v1/sources/{id}/keys (operator only). */
import { createSourceSchema, sourceIdSchema } from '../../contracts/sources.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { generateApiKey, hashApiKey } from '../../shared/auth/api-keys.js';
import { authDeps, sourcesStore } from '../../shared/deps.js';
import { jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, conflict, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { logger } from '../../shared/logger.js';
import { SourceExistsError } from '../../shared/store/sources-store.js';

const MAX_BODY = 64 * 1024;

export const handler = httpHandler(async (event) => {
  requireRole(await authenticate(event, authDeps()), ['operator']);
  const store = sourcesStore();
  const now = new Date().toISOString();

  switch (event.routeKey) {
    case 'POST /v1/sources': {
      const parsed = createSourceSchema.safeParse(jsonObjectBody(event, MAX_BODY));
      if (!parsed.success) throw badRequest('数据源信息有误 (invalid source)', fieldErrors(parsed.error), 'invalid_source');
      const apiKey = generateApiKey();
      try {
        await store.create({ ...parsed.data, createdAt: now, keyRotatedAt: now }, hashApiKey(apiKey));
      } catch (e) {
        if (e instanceof SourceExistsError) throw conflict(`数据源标识${parsed.data.id}已被使用 (source id already taken)`, 'source_exists');
        throw e;
      }
      logger.appendKeys({ registered: { sourceId: parsed.data.id, role: parsed.data.role, kinds: parsed.data.kinds } });
      return json(201, { id: parsed.data.id, apiKey });
    }
    case 'GET /v1/sources': {
      const items = (await store.list()).sort((a, b) => (a.id < b.id ? -1 : 1));
      return json(200, { items });
    }
    case 'POST /v1/sources/{id}/keys': {
      const id = event.pathParameters?.id ?? '';
      const apiKey = generateApiKey();
      if (!sourceIdSchema.safeParse(id).success || !(await store.rotateKey(id, hashApiKey(apiKey), now))) throw notFound('没有这个数据源 (unknown source)');
      logger.appendKeys({ keyRotated: id });
      return json(201, { apiKey });
    }
    default:
      throw notFound(`没有这个接口 (no route ${event.routeKey})`, 'no_route');
  }
});
