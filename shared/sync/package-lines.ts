/**
 * The lines of a nightly sync package (pure; sync-model.ts describes the package). Each object is built key by
 * key, so that the bytes never depend on how a caller ordered its own: the same versions give the same bytes.
 */
import type { StoredHead } from '../domain/record-model.js';
import type { Delivery } from '../upward/delivery-model.js';
import type { PackageRecord } from '../upward/exchange-package.js';
import type { SyncHeader } from './sync-model.js';

/** One record version's line: `{"operation","kind","recordId","version","sourceId","fields":{…}}` and a newline. */
export function syncLine(record: PackageRecord): string {
  const { operation, kind, recordId, version, sourceId, fields } = record;
  return `${JSON.stringify({ operation, kind, recordId, version, sourceId, fields: { ...fields } })}\n`;
}

/** The manifest line that opens the package: `{"header":{…}}` and a newline. */
export function headerLine(header: SyncHeader): string {
  const { packageId, sender, platform, createdAt, from, to, recordCount, bodySha256 } = header;
  return `${JSON.stringify({ header: { packageId, sender, platform, createdAt, from, to, recordCount, bodySha256 } })}\n`;
}

/**
 * Whether a delivery's version goes into the package, by the record's current head:
 * - send: the version is the current one (an upsert, or a delete of a removed record);
 * - superseded: a newer version exists (it carries the record's whole state, in this package or the next), or the
 *   delivery was marked so;
 * - refused: the platform refused it before (a 4xx: it is in the dead-letter list for the operator; sending it in
 *   the package would have the whole package refused);
 * - gone: the record is no longer stored.
 * A head older than the delivery cannot be read back strongly consistent: a fault (thrown), tried again.
 */
export type Inclusion = 'send' | 'superseded' | 'refused' | 'gone';

export function inclusionOf(delivery: Pick<Delivery, 'recordId' | 'version' | 'state'>, head: Pick<StoredHead, 'version'> | undefined): Inclusion {
  if (delivery.state === 'superseded') return 'superseded';
  if (delivery.state === 'failed') return 'refused';
  if (!head) return 'gone';
  if (head.version > delivery.version) return 'superseded';
  if (head.version < delivery.version) throw new Error(`record ${delivery.recordId}: delivery of version ${delivery.version} but the head is at version ${head.version}`);
  return 'send';
}
