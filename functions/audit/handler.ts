/**
 * GET /v1/audit/reads (operator only): who read which record with identity
 * numbers in full, when and from where — newest first, paged with an opaque
 * cursor (shared/audit/list-reads.ts).
 */
import { auditReadsQuerySchema } from '../../contracts/audit.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { listAuditReads } from '../../shared/audit/list-reads.js';
import { auditStore, authDeps } from '../../shared/deps.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { badRequest } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';

export const handler = httpHandler(async (event) => {
  requireRole(await authenticate(event, authDeps()), ['operator']);
  const parsed = auditReadsQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw badRequest('查询参数有误 (invalid query parameter)', fieldErrors(parsed.error), 'invalid_query');
  return json(200, await listAuditReads(auditStore(), parsed.data, todayInChina()));
});
