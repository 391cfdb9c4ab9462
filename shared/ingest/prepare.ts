/**
 * From one raw pushed record to the head the hub would store if it were new:
 * validation against the kind's contract, the data-source rule, encryption of
 * the certificate number, subject key, content hash, lateness and publication.
 */
import { RESIDENT_ID_CERTIFICATE } from '../../contracts/codes.js';
import type { PushKindSpec } from '../../contracts/kinds.js';
import type { FieldCipher, LookupHasher } from '../crypto/field-cipher.js';
import { todayInChina } from '../domain/dates.js';
import { contentHash, dishonestyPublication, GRADE, licencePublication, recordId, type StoredHead } from '../domain/record-model.js';
import { isLate } from '../domain/workdays.js';
import type { FieldError } from '../http/errors.js';
import { fieldErrors } from '../http/validation.js';
import type { KeyPrincipal } from '../store/sources-store.js';

export type Prepared = { ok: true; head: StoredHead } | { ok: false; errors: FieldError[] };

/** null and blank strings mean "absent", as departments' exports use both. */
export function dropEmpty(raw: Record<string, unknown>): Record<string, unknown> {
  // fromEntries defines own properties: a "__proto__" key stays a (rejected) field, never a prototype.
  return Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null && !(typeof value === 'string' && value.trim() === '')));
}

export function subjectKeyOf(uscc: string | undefined, certificate: { type: string; hash: string } | undefined): string {
  if (uscc) return `USCC#${uscc}`;
  if (!certificate) throw new Error('a validated subject has a USCC or a certificate');
  return certificate.type === RESIDENT_ID_CERTIFICATE ? `PID#${certificate.hash}` : `CERT#${certificate.type}#${certificate.hash}`;
}

export interface PrepareDeps {
  cipher: FieldCipher;
  hasher: LookupHasher;
}

export async function prepareRecord(spec: PushKindSpec, source: KeyPrincipal, raw: unknown, receivedAt: Date, deps: PrepareDeps): Promise<Prepared> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: '', message: '每条记录必须是JSON对象 (each record must be a JSON object)' }] };
  }
  const parsed = spec.schema.safeParse(dropEmpty(raw as Record<string, unknown>));
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  const fields = { ...parsed.data };

  const declaredSource = fields[spec.dataSourceCodeField];
  if (declaredSource !== undefined && declaredSource !== source.uscc) {
    return {
      ok: false,
      errors: [{ field: spec.dataSourceCodeField, message: `数据来源单位代码与报送单位不一致 (must be the pushing source's USCC ${source.uscc})` }],
    };
  }
  fields[spec.dataSourceCodeField] = source.uscc;
  fields[spec.dataSourceNameField] ??= source.name;

  const p = spec.subjectPrefix;
  const identity = fields[spec.identityField]!;
  const id = recordId(spec.idPrefix, spec.kind, source.sourceId, identity);
  const number = fields[`${p}_XDR_ZJHM`];
  delete fields[`${p}_XDR_ZJHM`];
  let certificate: StoredHead['certificate'];
  if (number !== undefined) {
    const type = fields[`${p}_XDR_ZJLX`]!;
    const [cipher, hash] = await Promise.all([deps.cipher.encrypt(number, `${id}:${p}_XDR_ZJHM`), deps.hasher.hash(`cert:${type}`, number)]);
    certificate = { type, cipher, hash };
  }

  const decisionDate = fields[spec.decisionDateField]!;
  const receivedIso = receivedAt.toISOString();
  const grade = spec.gradeField ? (fields[spec.gradeField] ??= GRADE.general) : undefined;
  const publication = grade
    ? dishonestyPublication(grade, decisionDate, spec.proposedEndField ? fields[spec.proposedEndField] : undefined)
    : licencePublication(decisionDate, spec.validUntilField ? fields[spec.validUntilField] : undefined);

  const head: StoredHead = {
    id,
    kind: spec.kind,
    sourceId: source.sourceId,
    identity,
    version: 1,
    fields,
    ...(certificate ? { certificate } : {}),
    contentHash: contentHash(spec.kind, fields, certificate),
    subjectKey: subjectKeyOf(fields[`${p}_XDR_SHXYM`], certificate),
    decisionDate,
    late: spec.doublePublicity && isLate(decisionDate, todayInChina(receivedAt)),
    firstReceivedAt: receivedIso,
    receivedAt: receivedIso,
    status: 'active',
    publication,
    delivery: { provincial: { state: 'pending' }, national: { state: 'pending' } },
  };
  return { ok: true, head };
}
