/**
 * What GET /v1/records/{id} shows: canonical fields with the certificate
 * number put back (in full for the operator, masked for everyone else),
 * labels of the coded values, every version, publication and delivery.
 */
import {
  CERTIFICATE_TYPE,
  codeName,
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

const CODED_FIELDS: Record<string, CodeTable> = {
  XK_XDR_LB: SUBJECT_CATEGORY,
  CF_XDR_LB: SUBJECT_CATEGORY,
  XK_XDR_ZJLX: CERTIFICATE_TYPE,
  CF_XDR_ZJLX: CERTIFICATE_TYPE,
  XK_XKLB: LICENSE_CATEGORY,
  XK_ZT: LICENSE_STATUS,
  CF_CFLB: PENALTY_CATEGORY,
  SXDJ: DISHONESTY_GRADE,
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
  const field = `${spec?.subjectPrefix ?? 'XK'}_XDR_ZJHM`;
  const number = await (await cipher()).decrypt(content.certificate.cipher, `${id}:${field}`);
  return inFieldOrder(spec, { ...content.fields, [field]: reveal ? number : maskIdentityNumber(number) });
}

/**
 * How many versions a record view lists: the most recent ones, so that a
 * record pushed with changes hundreds of times still fits in one Lambda
 * response (6 MB); `versionCount` says how many there are in all.
 */
export const MAX_VERSIONS_SHOWN = 50;

export async function recordView(head: StoredHead, versions: StoredVersion[], reveal: boolean, cipher: () => Promise<FieldCipher>) {
  const fields = await fieldsFor(head.id, head.kind, head, reveal, cipher);
  const shown = versions.slice(Math.max(0, versions.length - (MAX_VERSIONS_SHOWN - 1)));
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
    delivery: head.delivery,
  };
}
