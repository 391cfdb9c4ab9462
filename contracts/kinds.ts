/**
 * The record kinds: all five that API.md names (a source may be granted any
 * of them), and the push specification of those the submissions endpoint
 * takes today.
 */
import type { z } from 'zod';
import { licenseRecordSchema } from './license.js';
import { penaltyRecordSchema } from './penalty.js';

export { KINDS_BY_ROLE, PUSHING_ROLES, RECORD_KINDS, SOURCE_ROLES, type RecordKind, type Role, type SourceRole } from './roles.js';
import type { RecordKind } from './roles.js';

export interface PushKindSpec {
  kind: RecordKind;
  label: string;
  /** Prefix of record ids of this kind. */
  idPrefix: string;
  schema: z.ZodType<Record<string, string>, unknown>;
  /** With the source, identifies a record. */
  identityField: string;
  decisionDateField: string;
  subjectPrefix: 'XK' | 'CF';
  dataSourceNameField: string;
  dataSourceCodeField: string;
  /** 双公示 kinds must arrive within 7 working days of the decision. */
  doublePublicity: boolean;
  /** Field holding the dishonesty grade, for kinds that have one. */
  gradeField?: string;
  /** Field with the end of publication proposed by the department. */
  proposedEndField?: string;
  /** Field with the end of validity. */
  validUntilField?: string;
}

export const PUSH_KINDS = {
  license: {
    kind: 'license',
    label: '行政许可',
    idPrefix: 'lic',
    schema: licenseRecordSchema as unknown as z.ZodType<Record<string, string>, unknown>,
    identityField: 'XK_WSH',
    decisionDateField: 'XK_JDRQ',
    subjectPrefix: 'XK',
    dataSourceNameField: 'XK_LYDW',
    dataSourceCodeField: 'XK_LYDWDM',
    doublePublicity: true,
    validUntilField: 'XK_YXQZI',
  },
  penalty: {
    kind: 'penalty',
    label: '行政处罚',
    idPrefix: 'pen',
    schema: penaltyRecordSchema as unknown as z.ZodType<Record<string, string>, unknown>,
    identityField: 'CF_WSH',
    decisionDateField: 'CF_JDRQ',
    subjectPrefix: 'CF',
    dataSourceNameField: 'CF_SJLY',
    dataSourceCodeField: 'CF_SJLYDM',
    doublePublicity: true,
    gradeField: 'SXDJ',
    proposedEndField: 'CF_GSJZQ',
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
