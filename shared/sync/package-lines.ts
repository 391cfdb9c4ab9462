/**
 * The lines of a nightly sync package (pure; sync-model.ts describes the package), what the sync does with each
 * delivery it reads, and the lines of a segment's list of the deliveries it carried. Each object is built key by
 * key, so that the bytes never depend on how a caller ordered its own: the same versions give the same bytes.
 */
import type { PackageRecord } from '../upward/exchange-package.js';
import { isPackageKey, isPartPath, type PackageDelivery, type PartPath } from '../upward/package-model.js';
import type { SyncHeader } from './sync-model.js';

/** A record version as a sync line has it: as in a real-time package, and the Idempotency-Key of the package that carries it in real time. */
export interface SyncRecord extends PackageRecord {
  packageId: string;
}

/** One record version's line: `{"operation","kind","recordId","version","sourceId","packageId","fields":{…}}` and a newline. */
export function syncLine(record: SyncRecord): string {
  const { operation, kind, recordId, version, sourceId, packageId, fields } = record;
  return `${JSON.stringify({ operation, kind, recordId, version, sourceId, packageId, fields: { ...fields } })}\n`;
}

/** The manifest line that opens the package: `{"header":{…}}` and a newline. */
export function headerLine(header: SyncHeader): string {
  const { packageId, sender, platform, createdAt, from, to, recordCount, bodySha256 } = header;
  return `${JSON.stringify({ header: { packageId, sender, platform, createdAt, from, to, recordCount, bodySha256 } })}\n`;
}

/**
 * What the sync does with a delivery it read (by day in the window, or owed from before it):
 * - send: pending or delivered — every record version in it goes into the package (the window is every change
 *   since the watermark, delivered in real time or not); those of a pending one are marked delivered once the
 *   platform acknowledged the package;
 * - refused: failed — the platform refused it (a part of one record, in the dead-letter list for the operator:
 *   sending it in the package would have the whole package refused), or the hub could not send it; its versions
 *   are skipped (counted);
 * - split: it carries nothing itself: its parts are deliveries of their own, created at the split, read by their
 *   own createdAt (in this window or the next) or as owed.
 */
export type Treatment = 'send' | 'refused' | 'split';

export function treatmentOf(delivery: Pick<PackageDelivery, 'state'>): Treatment {
  switch (delivery.state) {
    case 'pending':
    case 'delivered':
      return 'send';
    case 'failed':
      return 'refused';
    case 'split':
      return 'split';
  }
}

/** A delivery to the run's platform, as a segment's list of those it carried names it. */
export interface CarriedDelivery {
  key: string;
  path: PartPath;
}

/** One line of that list: `{"key","path"}` and a newline. */
export function carriedLine(ref: CarriedDelivery): string {
  return `${JSON.stringify({ key: ref.key, path: ref.path })}\n`;
}

export function parseCarriedLine(line: string): CarriedDelivery {
  const parsed = JSON.parse(line) as { key?: unknown; path?: unknown };
  if (!isPackageKey(parsed.key) || !isPartPath(parsed.path)) throw new Error('a line of a segment’s carried deliveries is not {"key","path"}');
  return { key: parsed.key, path: parsed.path };
}
