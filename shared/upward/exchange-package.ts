/**
 * The exchange package (GB/T 39443-2020 practice: a header and a body) that carries record versions (a package
 * of up to 100, or a part of one: package-model.ts) to an upward platform in the real-time path. Pure: the same
 * versions always give the same bytes, so that a retry, on whichever receive and whichever day, resends exactly
 * what was sent before, under the same Idempotency-Key.
 *
 * ```json
 * {"header":{"packageId":"…","sender":"<USCC>","createdAt":"<when the package was opened>","recordCount":2,
 *            "bodySha256":"<hex of the body's bytes>","standard":"GB/T 39443-2020"},
 *  "body":{"records":[{"operation":"upsert","kind":"penalty","recordId":"pen_…","version":2,"sourceId":"…",
 *                      "fields":{"CF_XDR_MC":"…","CF_XDR_ZJHM":"<in full>",…}}]}}
 * ```
 *
 * `bodySha256` is the SHA-256 (hex) of `JSON.stringify(body)`, which is exactly the text of `body` inside the
 * package as sent (and what a receiver gets back by serialising the body it parsed).
 */
import { createHash } from 'node:crypto';

export const EXCHANGE_STANDARD = 'GB/T 39443-2020';

/** The namespace of package ids (a UUID of the hub's own): ids are UUID version 5 names within it. */
export const PACKAGE_ID_NAMESPACE = '5b0c3f0e-2d51-4c8e-9a57-8f0e6c1d2a44';

export interface PackageHeader {
  packageId: string;
  sender: string;
  createdAt: string;
  recordCount: number;
  bodySha256: string;
  standard: typeof EXCHANGE_STANDARD;
}

export interface PackageRecord {
  operation: 'upsert' | 'delete';
  kind: string;
  recordId: string;
  version: number;
  sourceId: string;
  /** The record's fields in their national codes, a natural person's certificate number in full. */
  fields: Record<string, string>;
}

export interface ExchangePackage {
  header: PackageHeader;
  body: { records: PackageRecord[] };
}

/** What goes over the wire: the package id (the Idempotency-Key) and the exact bytes of the request body. */
export interface PackageToSend {
  packageId: string;
  bytes: string;
}

/** UUID version 5 (RFC 9562: SHA-1 of the namespace and the name) as lower-case text. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface PackageInput {
  /** The package's (or part's) Idempotency-Key (package-model.ts packageIdOf). */
  packageId: string;
  /** The sender's USCC (sender.ts). */
  sender: string;
  /** When the package was opened (its body's openedAt), never the time of sending. */
  createdAt: string;
  records: readonly PackageRecord[];
}

/** The package of some record versions, in the order given, and its bytes. */
export function buildExchangePackage(input: PackageInput): PackageToSend & { package: ExchangePackage } {
  // Built key by key, so that the text (and its hash) never depends on how the caller ordered its objects.
  const body = {
    records: input.records.map(({ operation, kind, recordId, version, sourceId, fields }) => ({ operation, kind, recordId, version, sourceId, fields: { ...fields } })),
  };
  const header: PackageHeader = {
    packageId: input.packageId,
    sender: input.sender,
    createdAt: input.createdAt,
    recordCount: body.records.length,
    bodySha256: sha256Hex(JSON.stringify(body)),
    standard: EXCHANGE_STANDARD,
  };
  const pkg: ExchangePackage = { header, body };
  return { packageId: input.packageId, bytes: JSON.stringify(pkg), package: pkg };
}
