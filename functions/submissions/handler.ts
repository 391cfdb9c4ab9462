/** POST /v1/submissions/{kind} (信息报送): department, court, discipline. */
import { submissionEnvelopeSchema } from '../../contracts/api.js';
import { PUSHING_ROLES, pushKind, type RecordKind } from '../../contracts/kinds.js';
import { api } from '../../infra/catalogue.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { fieldCipher, lookupHasher } from '../../shared/config.js';
import { authDeps, recordsStore } from '../../shared/deps.js';
import { jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, forbidden, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { submitRecords } from '../../shared/ingest/submit.js';
import { logger } from '../../shared/logger.js';

export const handler = httpHandler(async (event) => {
  const principal = await authenticate(event, authDeps());
  const kind = event.pathParameters?.kind ?? '';
  const spec = pushKind(kind);
  if (!spec) throw notFound(`未知的信息种类${kind} (unknown kind; this endpoint takes: license, penalty)`, 'unknown_kind');
  requireRole(principal, PUSHING_ROLES);
  if (principal.role === 'operator' || !principal.kinds.includes(kind as RecordKind)) {
    throw forbidden(`本数据源不能报送${kind} (this source may push: ${principal.role === 'operator' ? 'nothing' : principal.kinds.join(', ') || 'nothing'})`);
  }
  const envelope = submissionEnvelopeSchema.safeParse(jsonObjectBody(event, api.maxBodyBytes));
  if (!envelope.success) throw badRequest('报送内容有误 (invalid submission)', fieldErrors(envelope.error), 'invalid_submission');

  const [cipher, hasher] = await Promise.all([fieldCipher(), lookupHasher()]);
  // Pushes are idempotent: after a transient failure part-way (503), sending the whole request again is safe.
  const result = await submitRecords(spec, principal, envelope.data.records, { store: recordsStore(), cipher, hasher });
  logger.info('submission stored', {
    sourceId: principal.sourceId,
    kind,
    received: envelope.data.records.length,
    accepted: result.accepted,
    updated: result.updated,
    duplicates: result.duplicates,
    rejected: result.rejected,
    late: result.results.filter((r) => r.late).length,
  });
  return json(200, result);
});
