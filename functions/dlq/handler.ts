/**
 * GET /v1/dlq/{platform} (a platform's failed deliveries and the depth of its dead-letter queue) and
 * POST /v1/dlq/{platform}/redrive (send them again), for the operator: shared/upward/dead-letter-list.ts and
 * shared/upward/redrive.ts. An unknown platform is 404. Logs counts only.
 */
import { dlqQuerySchema } from '../../contracts/upward.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { authDeps } from '../../shared/deps.js';
import { shorten } from '../../shared/domain/text.js';
import { badRequest, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { logger } from '../../shared/logger.js';
import { listDeadLetters } from '../../shared/upward/dead-letter-list.js';
import { isPlatformName, PLATFORM_NAMES } from '../../shared/upward/package-model.js';
import { redriveDeadLetters } from '../../shared/upward/redrive.js';
import { currentRedriveMode, deadLetterQueue, deliveriesStore } from './deps.js';

/** How much of the requested platform an error message quotes back. */
const QUOTED_MAX = 32;

export const handler = httpHandler(async (event, context) => {
  requireRole(await authenticate(event, authDeps()), ['operator']);
  const platform = event.pathParameters?.platform ?? '';
  if (!isPlatformName(platform)) throw notFound(`没有这个上级平台${shorten(platform, QUOTED_MAX)} (unknown platform: ${PLATFORM_NAMES.join(', ')})`);
  switch (event.routeKey) {
    case 'GET /v1/dlq/{platform}': {
      const parsed = dlqQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!parsed.success) throw badRequest('查询参数有误 (invalid query parameter)', fieldErrors(parsed.error), 'invalid_query');
      const page = await listDeadLetters(platform, parsed.data, { store: deliveriesStore(), queue: deadLetterQueue(platform) });
      logger.appendKeys({ dlq: { platform, depth: page.depth, items: page.items.length } });
      return json(200, page);
    }
    case 'POST /v1/dlq/{platform}/redrive': {
      const answer = await redriveDeadLetters(platform, {
        store: deliveriesStore(),
        queue: deadLetterQueue(platform),
        mode: currentRedriveMode(),
        now: () => new Date(),
        remainingMs: () => context.getRemainingTimeInMillis(),
      });
      logger.appendKeys({ redrive: answer });
      return json(202, answer);
    }
    default:
      throw notFound(`没有这个接口 (no route ${event.routeKey})`, 'no_route');
  }
});
