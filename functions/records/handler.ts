/**
 * GET /v1/records/{id}: the owning source or the operator. Record ids are
 * derived from public facts (kind, source, document number), so anyone can
 * compute one: everyone else gets exactly the answer of an unknown id, and
 * learns nothing about whether that document exists.
 */
import { authenticate } from '../../shared/auth/authenticate.js';
import { fieldCipher } from '../../shared/config.js';
import { authDeps, recordsStore } from '../../shared/deps.js';
import { shorten } from '../../shared/domain/text.js';
import { notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { recordView } from '../../shared/records/view.js';

const RECORD_ID = /^[a-z]{2,8}_[a-z2-7]{26}$/;
/** How much of the requested id an error message quotes back. */
const QUOTED_ID_MAX = 64;

export const handler = httpHandler(async (event) => {
  const principal = await authenticate(event, authDeps());
  const id = event.pathParameters?.id ?? '';
  const found = RECORD_ID.test(id) ? await recordsStore().getRecord(id) : undefined;
  const operator = principal.role === 'operator';
  const visible = found && (operator || principal.sourceId === found.head.sourceId);
  if (!visible) throw notFound(`没有记录${shorten(id, QUOTED_ID_MAX)} (unknown record id)`);
  return json(200, await recordView(found.head, found.versions, operator, fieldCipher));
});
