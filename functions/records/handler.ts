/**
 * GET /v1/records/{id}: the owning source or the operator. Record ids are
 * derived from public facts (kind, source, document number), so anyone can
 * compute one: everyone else gets exactly the answer of an unknown id, and
 * learns nothing about whether that document exists.
 *
 * An answer that shows identity numbers in full (the operator's, when the
 * record or a listed version has a natural person's certificate number) is
 * written to the audit first, before anything is decrypted; if that write
 * fails, so does the read: no disclosure goes unrecorded.
 *
 * `delivery` is the current version's delivery to each upward platform, with
 * the platform's feedback: the version's claim, then its package's body and
 * deliveries (shared/upward/delivery-view.ts), read only for a caller who may
 * see the record.
 */
import { RECORD_ID_PATTERN } from '../../contracts/record-id.js';
import { readEntry } from '../../shared/audit/read-entry.js';
import { authenticate } from '../../shared/auth/authenticate.js';
import { dynamo } from '../../shared/aws/clients.js';
import { fieldCipher, tableName } from '../../shared/config.js';
import { auditStore, authDeps, recordsStore } from '../../shared/deps.js';
import { shorten } from '../../shared/domain/text.js';
import { notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { recordView, showsCertificateNumber } from '../../shared/records/view.js';
import { readVersionDeliveries } from '../../shared/upward/delivery-view.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';

/** How much of the requested id an error message quotes back. */
const QUOTED_ID_MAX = 64;

let deliveries: DynamoPackagesStore | undefined;
function deliveriesStore(): DynamoPackagesStore {
  deliveries ??= new DynamoPackagesStore(dynamo(), tableName('deliveries'));
  return deliveries;
}

export const handler = httpHandler(async (event) => {
  const principal = await authenticate(event, authDeps());
  const id = event.pathParameters?.id ?? '';
  const found = RECORD_ID_PATTERN.test(id) ? await recordsStore().getRecord(id) : undefined;
  const operator = principal.role === 'operator';
  const visible = found && (operator || principal.sourceId === found.head.sourceId);
  if (!visible) throw notFound(`没有记录${shorten(id, QUOTED_ID_MAX)} (unknown record id)`);
  // Recorded before anything is decrypted: no identity number is even produced for an unrecorded read.
  if (operator && showsCertificateNumber(found.head, found.versions)) await auditStore().recordRead(readEntry(event, principal, id, new Date()));
  const delivered = await readVersionDeliveries(deliveriesStore(), id, found.head.version);
  return json(200, await recordView(found.head, found.versions, operator, fieldCipher, delivered));
});
