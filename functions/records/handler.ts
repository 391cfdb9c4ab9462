/** GET /v1/records/{id}: the owning source or the operator. */
import { authenticate } from '../../shared/auth/authenticate.js';
import { fieldCipher } from '../../shared/config.js';
import { authDeps, recordsStore } from '../../shared/deps.js';
import { forbidden, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { recordView } from '../../shared/records/view.js';

export const handler = httpHandler(async (event) => {
  const principal = await authenticate(event, authDeps());
  const id = event.pathParameters?.id ?? '';
  const found = /^[a-z]{2,8}_[a-z2-7]{26}$/.test(id) ? await recordsStore().getRecord(id) : undefined;
  if (!found) throw notFound(`没有记录${id} (unknown record id)`);
  const operator = principal.role === 'operator';
  if (!operator && principal.sourceId !== found.head.sourceId) throw forbidden('只有报送单位和信用办可以查看此记录 (only the owning source and the operator may read this record)');
  return json(200, await recordView(found.head, found.versions, operator, fieldCipher));
});
