/**
 * What GET /v1/records/{id} shows: canonical fields with a natural person's
 * certificate number put back in its kind's field (in full for the operator,
 * masked for everyone else), labels of the coded values, every version,
 * status, whether the subject is a government body, publication, and the
 * delivery of the current version to each upward platform (from the
 * deliveries table: shared/upward/delivery-view.ts).
 */
import {
  CERTIFICATE_TYPE,
  codeName,
  DEBTOR_STATUS,
  DISHONESTY_GRADE,
  LICENSE_CATEGORY,
  LICENSE_STATUS,
  PENALTY_CATEGORY,
  SUBJECT_CATEGORY,
  type CodeTable,
} from '../../contracts/codes.js';
import { inFieldOrder, pushKind } from '../../contracts/kinds.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { maskIdentityNumber } from '../domain/identifiers.js';
import type { RecordContent, StoredHead, StoredVersion } from '../domain/record-model.js';
import { recordDeliveryView, type VersionDeliveries } from '../upward/delivery-view.js';

const CODED_FIELDS: Record<string, CodeTable> = {
  XK_XDR_LB: SUBJECT_CATEGORY,
  CF_XDR_LB: SUBJECT_CATEGORY,
  XK_XDR_ZJLX: CERTIFICATE_TYPE,
  CF_XDR_ZJLX: CERTIFICATE_TYPE,
  XK_XKLB: LICENSE_CATEGORY,
  XK_ZT: LICENSE_STATUS,
  CF_CFLB: PENALTY_CATEGORY,
  SXDJ: DISHONESTY_GRADE,
  status: DEBTOR_STATUS,
};

export function labelsOf(fields: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [field, value] of Object.entries(fields)) {
    const table = CODED_FIELDS[field];
    if (table) labels[field] = value.split(';').map((code) => codeName(table, code) ?? code).join(';');
  }
  return labels;
}

async function fieldsFor(id: string, kind: string, content: RecordContent, reveal: boolean, cipher: () => Promise<FieldCipher>): Promise<Record<string, string>> {
  const spec = pushKind(kind);
  if (!content.certificate) return inFieldOrder(spec, content.fields);
  if (!spec) throw new Error(`record ${id} of kind ${kind} has a certificate but its kind has no certificate field`);
  // The number is put back in the field it came from (XK_XDR_ZJHM, CF_XDR_ZJHM, cardNum), bound to it by the encryption.
  const field = spec.subject.certificateNumberField;
  const number = await (await cipher()).decrypt(content.certificate.cipher, `${id}:${field}`);
  return inFieldOrder(spec, { ...content.fields, [field]: reveal ? number : maskIdentityNumber(number) });
}

/**
 * How many versions a record view lists: the most recent ones, so that a
 * record pushed with changes hundreds of times still fits in one Lambda
 * response (6 MB); `versionCount` says how many there are in all.
 */
export const MAX_VERSIONS_SHOWN = 50;

/** The superseded versions a record view lists: the most recent, so that with the current one there are at most MAX_VERSIONS_SHOWN. */
function shownVersions(versions: StoredVersion[]): StoredVersion[] {
  return versions.slice(Math.max(0, versions.length - (MAX_VERSIONS_SHOWN - 1)));
}

/**
 * Whether the view of this record holds a natural person's certificate
 * number (the current version or a listed one has one): what the operator's
 * view shows in full, and the audit must record (whatever field holds it:
 * XK_XDR_ZJHM, CF_XDR_ZJHM, or a debtor's cardNum; an organisation's cardNum
 * is a USCC and does not count).
 */
export function showsCertificateNumber(head: StoredHead, versions: StoredVersion[]): boolean {
  return head.certificate !== undefined || shownVersions(versions).some((v) => v.certificate !== undefined);
}

/** `deliveries`: what the deliveries table holds of the current version (nothing yet: pending). */
export async function recordView(head: StoredHead, versions: StoredVersion[], reveal: boolean, cipher: () => Promise<FieldCipher>, deliveries: VersionDeliveries = { deliveries: [] }) {
  const fields = await fieldsFor(head.id, head.kind, head, reveal, cipher);
  const shown = shownVersions(versions);
  const history = await Promise.all(
    shown.map(async (v) => ({
      version: v.version,
      receivedAt: v.receivedAt,
      supersededAt: v.supersededAt,
      contentHash: v.contentHash,
      fields: await fieldsFor(head.id, head.kind, v, reveal, cipher),
    })),
  );
  const current = { version: head.version, receivedAt: head.receivedAt, contentHash: head.contentHash, fields };
  const omitted = versions.length - shown.length;
  return {
    id: head.id,
    kind: head.kind,
    source: head.sourceId,
    status: head.status,
    governmentBody: head.governmentBody === true,
    version: head.version,
    late: head.late,
    firstReceivedAt: head.firstReceivedAt,
    receivedAt: head.receivedAt,
    fields,
    labels: labelsOf(fields),
    versions: [...history, current],
    versionCount: versions.length + 1,
    ...(omitted > 0 ? { versionsOmitted: omitted } : {}),
    publication: head.publication,
    ...(head.objection ? { objection: head.objection } : {}),
    delivery: recordDeliveryView(head.id, head.version, deliveries),
  };
}
