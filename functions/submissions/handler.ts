/** POST /v1/submissions/{kind} (信息报送): department, court, discipline. */
import { submissionEnvelopeSchema } from '../../contracts/api.js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PUSH_KINDS, PUSHING_ROLES, pushKind, type PushKindSpec, type RecordKind } from '../../contracts/kinds.js';
import { api } from '../../infra/catalogue.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { fieldCipher, lookupHasher } from '../../shared/config.js';
import { authDeps, policyStore, recordsStore } from '../../shared/deps.js';
import { jsonEnvelopeBody } from '../../shared/http/body.js';
import { badRequest, forbidden, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { shorten } from '../../shared/domain/text.js';
import { asDeadlineError, deadlineOf, type Deadline } from '../../shared/http/deadline.js';
import { onceForKey, requestKeyOf } from '../../shared/http/idempotency.js';
import { submitRecords, type SubmissionResult } from '../../shared/ingest/submit.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { logger } from '../../shared/logger.js';
import { usageMark, usageSince, type UsageMark } from '../../shared/aws/request-meter.js';

export const handler = httpHandler(async (event, context) => {
  const mark = usageMark();
  const principal = await authenticate(event, authDeps());
  const kind = event.pathParameters?.kind ?? '';
  const spec = pushKind(kind);
  if (!spec) throw notFound(`未知的信息种类${shorten(kind, 64)} (unknown kind; this endpoint takes: ${Object.keys(PUSH_KINDS).join(', ')})`, 'unknown_kind');
  requireRole(principal, PUSHING_ROLES);
  if (principal.role === 'operator' || !principal.kinds.includes(kind as RecordKind)) {
    throw forbidden(`本数据源不能报送${kind} (this source may push: ${principal.role === 'operator' ? 'nothing' : principal.kinds.join(', ') || 'nothing'})`);
  }
  // With an Idempotency-Key, a retry gets the first answer and writes nothing (shared/http/idempotency.ts).
  const scope = `${principal.sourceId}\u0000${kind}`;
  return onceForKey(event, context, scope, () => push(event, spec, principal, deadlineOf(context), requestKeyOf(event, scope), mark));
});

/** Validates, decides and stores one push; stops (503) when the invocation's deadline comes. */
async function push(event: APIGatewayProxyEventV2, spec: PushKindSpec, principal: KeyPrincipal, deadline: Deadline, requestKey: string | undefined, mark: UsageMark) {
  const kind = spec.kind;
  // A key repeated inside record i rejects that record; anywhere else the whole body (400 duplicate_key).
  const body = jsonEnvelopeBody(event, api.maxBodyBytes, 'records');
  const envelope = submissionEnvelopeSchema.safeParse(body.value);
  if (!envelope.success) throw badRequest('报送内容有误 (invalid submission)', fieldErrors(envelope.error), 'invalid_submission');

  const [cipher, hasher] = await Promise.all([fieldCipher(), lookupHasher()]);
  // Pushes are idempotent: after a transient failure part-way (503), sending the whole request again is safe.
  deadline.check();
  let result: SubmissionResult;
  try {
    result = await submitRecords(spec, principal, envelope.data.records, { store: recordsStore(), cipher, hasher, signal: deadline.signal, requestKey, policy: () => policyStore().get() }, body.itemErrors);
  } catch (e) {
    throw asDeadlineError(e, deadline.signal);
  }
  // On the request's one log line (shared/http/middleware.ts), not a line of its own.
  logger.appendKeys({
    kind,
    received: envelope.data.records.length,
    accepted: result.accepted,
    updated: result.updated,
    duplicates: result.duplicates,
    rejected: result.rejected,
    late: result.results.filter((r) => r.late).length,
  });
  // What the push cost on DynamoDB so far (the benchmark adds these up; the idempotency record's completion comes after).
  const units = usageSince(mark);
  logger.appendKeys({ readUnits: units.readUnits, writeUnits: units.writeUnits, transactWriteUnits: units.transactWriteUnits });
  return json(200, result);
}
