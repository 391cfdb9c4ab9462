/**
 * From one raw pushed record (or one row of a court batch) to the head the
 * hub would store if it were new, for every kind by its specification
 * (contracts/kinds.ts): validation against the kind's contract, the
 * data-source rule, encryption of a natural person's certificate number,
 * subject key, government-body mark, content hash, lateness (双公示 only),
 * publication and status.
 */
import { DEBTOR_STATUS_CODE, RESIDENT_ID_CERTIFICATE } from '../../contracts/codes.js';
import type { PublicationRule, PushKindSpec } from '../../contracts/kinds.js';
import type { FieldCipher, LookupHasher } from '../crypto/field-cipher.js';
import { todayInChina } from '../domain/dates.js';
import { listingPublication } from '../domain/debtor.js';
import { isGovernmentBody } from '../domain/government-body.js';
import {
  contentHash,
  dishonestyPublication,
  GRADE,
  licencePublication,
  recordId,
  type Publication,
  type RecordStatus,
  type StoredHead,
} from '../domain/record-model.js';
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

/** The subject's key (GSI bySubject): its USCC, else its old organisation code, else the keyed hash of its certificate number. */
export function subjectKeyOf(uscc: string | undefined, certificate: { type: string; hash: string } | undefined, organisationCode?: string): string {
  if (uscc) return `USCC#${uscc}`;
  if (organisationCode) return `ORG#${organisationCode}`;
  if (!certificate) throw new Error('a validated subject has a USCC, an organisation code or a certificate');
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

  if (spec.dataSource) {
    const { codeField, nameField } = spec.dataSource;
    const declaredSource = fields[codeField];
    if (declaredSource !== undefined && declaredSource !== source.uscc) {
      return { ok: false, errors: [{ field: codeField, message: `数据来源单位代码与报送单位不一致 (must be the pushing source's USCC ${source.uscc})` }] };
    }
    fields[codeField] = source.uscc;
    fields[nameField] ??= source.name;
  }

  const identity = fields[spec.identityField]!;
  const id = recordId(spec.idPrefix, spec.kind, source.sourceId, identity);
  const subject = spec.subject;
  const uscc = subject.uscc(fields);
  const organisationCode = subject.organisationCode(fields);
  const certificateType = subject.personalCertificateType(fields);
  let certificate: StoredHead['certificate'];
  if (certificateType !== undefined) {
    // A natural person's number: kept only as ciphertext bound to this record and field, and as a keyed hash.
    const field = subject.certificateNumberField;
    const number = fields[field]!;
    delete fields[field];
    const [cipher, hash] = await Promise.all([deps.cipher.encrypt(number, `${id}:${field}`), deps.hasher.hash(`cert:${certificateType}`, number)]);
    certificate = { type: certificateType, cipher, hash };
  }

  const decisionDate = fields[spec.decisionDateField]!;
  const receivedIso = receivedAt.toISOString();
  const { publication, status } = publicationOf(spec.publication, fields, decisionDate, todayInChina(receivedAt));

  const head: StoredHead = {
    id,
    kind: spec.kind,
    sourceId: source.sourceId,
    identity,
    version: 1,
    fields,
    ...(certificate ? { certificate } : {}),
    contentHash: contentHash(spec.kind, fields, certificate),
    subjectKey: subjectKeyOf(uscc, certificate, organisationCode),
    ...(isGovernmentBody(uscc) ? { governmentBody: true as const } : {}),
    decisionDate,
    late: spec.doublePublicity && isLate(decisionDate, todayInChina(receivedAt)),
    firstReceivedAt: receivedIso,
    receivedAt: receivedIso,
    status,
    publication,
  };
  return { ok: true, head };
}

/**
 * The publication period by the kind's rule, and the record's status. Fills
 * in a default the rule has (a penalty's grade), so that an absent grade and
 * an explicit 一般 are the same content.
 */
function publicationOf(rule: PublicationRule, fields: Record<string, string>, decisionDate: string, receivedOn: string): { publication: Publication; status: RecordStatus } {
  switch (rule.rule) {
    case 'validity':
      return { publication: licencePublication(decisionDate, rule.validUntilField ? fields[rule.validUntilField] : undefined), status: 'active' };
    case 'graded': {
      const grade = (fields[rule.gradeField] ??= GRADE.general);
      return { publication: dishonestyPublication(grade, decisionDate, rule.proposedEndField ? fields[rule.proposedEndField] : undefined), status: 'active' };
    }
    case 'listing': {
      const removed = fields[rule.statusField] === DEBTOR_STATUS_CODE.removed;
      return { publication: listingPublication(decisionDate, removed ? receivedOn : undefined), status: removed ? 'removed' : 'active' };
    }
  }
}
