/**
 * POST /v1/feedback (role platform): a platform reports per-record outcomes on what it was sent
 * (shared/upward/feedback.ts). The platform is the key's: a platform source's id is `provincial` or `national`.
 * Logs counts only (never a record id, a reason or a measure).
 */
import { feedbackRequestSchema } from '../../contracts/upward.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { authDeps } from '../../shared/deps.js';
import { jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, forbidden } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { logger } from '../../shared/logger.js';
import { isPlatformName } from '../../shared/upward/package-model.js';
import { recordFeedback } from '../../shared/upward/feedback.js';
import { feedbackDeps } from './deps.js';

/** 1,000 items with reasons and measures of 500 characters fit. */
const MAX_BODY = 6 * 1024 * 1024;

export const handler = httpHandler(async (event) => {
  const principal = await authenticate(event, authDeps());
  requireRole(principal, ['platform']);
  if (principal.role !== 'platform' || !isPlatformName(principal.sourceId)) {
    // Registered before platform ids were checked: the key cannot say which platform it speaks for.
    throw forbidden('此密钥的数据源标识不是上级平台名称 (this platform key’s source id is not provincial or national: register the platform under its name)');
  }
  const parsed = feedbackRequestSchema.safeParse(jsonObjectBody(event, MAX_BODY));
  if (!parsed.success) throw badRequest('反馈有误 (invalid feedback)', fieldErrors(parsed.error), 'invalid_feedback');
  const answer = await recordFeedback(principal.sourceId, parsed.data.items, feedbackDeps());
  logger.appendKeys({ feedback: { items: parsed.data.items.length, recorded: answer.recorded, unknown: answer.unknown.length } });
  return json(200, answer);
});
