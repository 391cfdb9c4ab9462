/**
 * The record kinds: all five that API.md names (a source may be granted any
 * of them), and the push specification of those the submissions endpoint
 * (and the court batches) take today: one specification per kind, read by
 * the one push path (shared/ingest/).
 */
import type { z } from 'zod';
import { PARTY_TYPE_NAME, storedCodeKind } from '../shared/domain/debtor.js';
import { RESIDENT_ID_CERTIFICATE } from './codes.js';
import { dishonestDebtorRecordSchema } from './dishonest-debtor.js';
import { licenseRecordSchema } from './license.js';
import { penaltyRecordSchema } from './penalty.js';
import type { SubjectPrefix } from './subject.js';

export { KINDS_BY_ROLE, PUSHING_ROLES, RECORD_KINDS, SOURCE_ROLES, type RecordKind, type Role, type SourceRole } from './roles.js';
import type { RecordKind } from './roles.js';

/**
 * How a kind names its subject (行政相对人, 被执行人), so that one push path
 * encrypts, hashes and keys the subjects of every kind.
 */
export interface SubjectSpec {
  /** The subject's name. */
  nameField: string;
  /** The field holding a natural person's certificate number: such a number is stored only encrypted and hashed, never in clear. */
  certificateNumberField: string;
  /**
   * 证件类型 code of the number in `certificateNumberField` when it is a
   * natural person's; undefined when the record has none, or when the field
   * holds an organisation's code (a debtor's USCC), which stays in clear.
   */
  personalCertificateType(fields: Readonly<Record<string, string>>): string | undefined;
  /** The subject's USCC, when it has one. */
  uscc(fields: Readonly<Record<string, string>>): string | undefined;
  /** The subject's old GB 11714 organisation code, when that is what identifies it. */
  organisationCode(fields: Readonly<Record<string, string>>): string | undefined;
}

/** How long a record of the kind is published, and from which fields. */
export type PublicationRule =
  /** 双公示 licences: from the decision until the end of validity (open-ended without one). */
  | { rule: 'validity'; validUntilField?: string }
  /** Penalties: by the dishonesty grade (一般 when absent), a proposed end kept within its bounds. */
  | { rule: 'graded'; gradeField: string; proposedEndField?: string }
  /** 失信被执行人: 2 years from the decision date field; a record whose status field says removed has ended. */
  | { rule: 'listing'; statusField: string };

export interface PushKindSpec {
  kind: RecordKind;
  label: string;
  /** Prefix of record ids of this kind. */
  idPrefix: string;
  schema: z.ZodType<Record<string, string>, unknown>;
  /** With the source, identifies a record. */
  identityField: string;
  /** The date publication (and, for 双公示, lateness) counts from. */
  decisionDateField: string;
  subject: SubjectSpec;
  /** 数据来源单位 and its USCC, for kinds that carry them: the code must be the pushing source's; both default to it. */
  dataSource?: { nameField: string; codeField: string };
  /** 双公示 kinds must arrive within 7 working days of the decision. */
  doublePublicity: boolean;
  publication: PublicationRule;
}

/** The subject of a 双公示 record: `${p}_XDR_MC`, `${p}_XDR_SHXYM`, `${p}_XDR_ZJLX` + `${p}_XDR_ZJHM`. */
function doublePublicitySubject(p: SubjectPrefix): SubjectSpec {
  return {
    nameField: `${p}_XDR_MC`,
    certificateNumberField: `${p}_XDR_ZJHM`,
    personalCertificateType: (fields) => (fields[`${p}_XDR_ZJHM`] === undefined ? undefined : fields[`${p}_XDR_ZJLX`]),
    uscc: (fields) => fields[`${p}_XDR_SHXYM`],
    organisationCode: () => undefined,
  };
}

/** The subject of a 失信被执行人 record: `iname`, and `cardNum` whose kind `partyTypeName` (always stored) tells. */
const debtorSubject: SubjectSpec = {
  nameField: 'iname',
  certificateNumberField: 'cardNum',
  personalCertificateType: (fields) => (fields.cardNum !== undefined && fields.partyTypeName === PARTY_TYPE_NAME.naturalPerson ? RESIDENT_ID_CERTIFICATE : undefined),
  uscc: (fields) => (fields.cardNum !== undefined && storedCodeKind(fields.cardNum, fields.partyTypeName ?? '') === 'uscc' ? fields.cardNum : undefined),
  organisationCode: (fields) =>
    fields.cardNum !== undefined && storedCodeKind(fields.cardNum, fields.partyTypeName ?? '') === 'organisation-code' ? fields.cardNum : undefined,
};

export const PUSH_KINDS = {
  license: {
    kind: 'license',
    label: '行政许可',
    idPrefix: 'lic',
    schema: licenseRecordSchema as unknown as z.ZodType<Record<string, string>, unknown>,
    identityField: 'XK_WSH',
    decisionDateField: 'XK_JDRQ',
    subject: doublePublicitySubject('XK'),
    dataSource: { nameField: 'XK_LYDW', codeField: 'XK_LYDWDM' },
    doublePublicity: true,
    publication: { rule: 'validity', validUntilField: 'XK_YXQZI' },
  },
  penalty: {
    kind: 'penalty',
    label: '行政处罚',
    idPrefix: 'pen',
    schema: penaltyRecordSchema as unknown as z.ZodType<Record<string, string>, unknown>,
    identityField: 'CF_WSH',
    decisionDateField: 'CF_JDRQ',
    subject: doublePublicitySubject('CF'),
    dataSource: { nameField: 'CF_SJLY', codeField: 'CF_SJLYDM' },
    doublePublicity: true,
    publication: { rule: 'graded', gradeField: 'SXDJ', proposedEndField: 'CF_GSJZQ' },
  },
  'dishonest-debtor': {
    kind: 'dishonest-debtor',
    label: '失信被执行人',
    idPrefix: 'dd',
    schema: dishonestDebtorRecordSchema as unknown as z.ZodType<Record<string, string>, unknown>,
    identityField: 'caseCode',
    decisionDateField: 'publishDate',
    subject: debtorSubject,
    doublePublicity: false,
    publication: { rule: 'listing', statusField: 'status' },
  },
} as const satisfies Partial<Record<RecordKind, PushKindSpec>>;

export type PushKind = keyof typeof PUSH_KINDS;

/** The kind's field codes in the order of the national standard (the order of its schema). */
export function fieldOrder(spec: PushKindSpec): string[] {
  return Object.keys((spec.schema as unknown as { shape: Record<string, unknown> }).shape);
}

/** Fields of a record in the kind's standard order; fields it does not know come last. */
export function inFieldOrder(spec: PushKindSpec | undefined, fields: Record<string, string>): Record<string, string> {
  if (!spec) return { ...fields };
  const ordered: Record<string, string> = {};
  for (const key of fieldOrder(spec)) if (key in fields) ordered[key] = fields[key]!;
  for (const [key, value] of Object.entries(fields)) if (!(key in ordered)) ordered[key] = value;
  return ordered;
}

export function pushKind(kind: string): PushKindSpec | undefined {
  return Object.hasOwn(PUSH_KINDS, kind) ? (PUSH_KINDS as Record<string, PushKindSpec>)[kind] : undefined;
}
