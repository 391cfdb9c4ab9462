/**
 * Request and response bodies of the HTTP API (API.md), as zod schemas: the
 * handlers validate with them, and the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { text, uscc } from './fields.js';
import { KINDS_BY_ROLE, PUSHING_ROLES, RECORD_KINDS, SOURCE_ROLES } from './kinds.js';
import { licenseRecordSchema } from './license.js';
import { penaltyRecordSchema } from './penalty.js';

export const MAX_RECORDS_PER_SUBMISSION = 1000;

export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() }).meta({ id: 'FieldError' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable machine-readable word, e.g. bad_request, unauthorized, forbidden, not_found, conflict, payload_too_large, too_many_requests' }),
      message: z.string().meta({ description: 'Chinese, with English in parentheses' }),
      details: z.array(fieldErrorSchema),
    }),
  })
  .meta({ id: 'Error' });

export const sourceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$/, '数据源标识应为2-64位字母、数字、-或_ (2-64 letters, digits, - or _, starting with a letter or digit)')
  .meta({ description: 'chosen by the operator; used in URLs', example: 'shi-scjgj' });

export const createSourceSchema = z
  .strictObject({
    id: sourceIdSchema,
    name: text(200, '单位名称 (name of the source)'),
    uscc: uscc('单位统一社会信用代码 (USCC of the source; GB 32100 check)'),
    role: z.enum(SOURCE_ROLES).meta({ description: 'department, court, discipline push records; checker only queries; platform sends feedback' }),
    kinds: z.array(z.enum(RECORD_KINDS)).max(RECORD_KINDS.length).default([]).meta({ description: 'what the source may push; empty for checker and platform' }),
  })
  .superRefine((s, ctx) => {
    const allowed = KINDS_BY_ROLE[s.role] ?? [];
    s.kinds.forEach((kind, i) => {
      if (!allowed.includes(kind)) {
        ctx.addIssue({ code: 'custom', path: ['kinds', i], message: `角色${s.role}不能报送${kind} (a ${s.role} may push: ${allowed.join(', ') || 'nothing'})` });
      }
    });
    if (new Set(s.kinds).size !== s.kinds.length) ctx.addIssue({ code: 'custom', path: ['kinds'], message: '种类重复 (a kind is listed twice)' });
    if (PUSHING_ROLES.includes(s.role) && s.kinds.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['kinds'], message: `角色${s.role}须至少指定一个种类 (a ${s.role} needs at least one kind: ${allowed.join(', ')})` });
    }
  })
  .meta({ id: 'CreateSource' });

export const sourceCreatedSchema = z.object({ id: z.string(), apiKey: z.string().meta({ description: 'shown once; only its hash is stored' }) }).meta({ id: 'SourceCreated' });
export const keyCreatedSchema = z.object({ apiKey: z.string().meta({ description: 'shown once; the previous key stops working' }) }).meta({ id: 'KeyCreated' });

export const sourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    uscc: z.string(),
    role: z.enum(SOURCE_ROLES),
    kinds: z.array(z.enum(RECORD_KINDS)),
    createdAt: z.string().meta({ format: 'date-time' }),
    keyRotatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Source' });

export const sourceListSchema = z.object({ items: z.array(sourceSchema) }).meta({ id: 'SourceList' });

/** The envelope of a push; each record is validated on its own by its kind's schema. */
export const submissionEnvelopeSchema = z.strictObject({
  records: z
    .array(z.unknown())
    .min(1, '至少一条记录 (at least one record)')
    .max(MAX_RECORDS_PER_SUBMISSION, `每次最多${MAX_RECORDS_PER_SUBMISSION}条记录 (at most ${MAX_RECORDS_PER_SUBMISSION} records per request)`),
});

export const licenseSubmissionSchema = z.object({ records: z.array(licenseRecordSchema).min(1).max(MAX_RECORDS_PER_SUBMISSION) }).meta({ id: 'LicenseSubmission' });
export const penaltySubmissionSchema = z.object({ records: z.array(penaltyRecordSchema).min(1).max(MAX_RECORDS_PER_SUBMISSION) }).meta({ id: 'PenaltySubmission' });

export const recordResultSchema = z
  .object({
    index: z.number().int(),
    status: z.enum(['accepted', 'updated', 'duplicate', 'rejected']),
    id: z.string().optional(),
    late: z.literal(true).optional().meta({ description: 'present when a 双公示 record arrived more than 7 working days after its decision' }),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({ id: 'RecordResult' });

export const submissionResponseSchema = z
  .object({
    accepted: z.number().int(),
    updated: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.number().int(),
    results: z.array(recordResultSchema),
  })
  .meta({ id: 'SubmissionResponse' });

const publicationSchema = z
  .object({
    state: z.enum(['pending-review', 'not-published']),
    grade: z.string().optional().meta({ description: '失信等级 code: 1 轻微, 2 一般, 3 严重' }),
    from: z.string().meta({ format: 'date' }),
    minUntil: z.string().optional().meta({ format: 'date', description: 'credit repair may be applied for from this date' }),
    until: z.string().optional().meta({ format: 'date', description: 'publication ends; absent when open-ended' }),
  })
  .meta({ id: 'Publication' });

const versionSchema = z
  .object({
    version: z.number().int(),
    receivedAt: z.string().meta({ format: 'date-time' }),
    supersededAt: z.string().optional().meta({ format: 'date-time' }),
    contentHash: z.string(),
    fields: z.record(z.string(), z.string()),
  })
  .meta({ id: 'RecordVersion' });

export const recordViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(RECORD_KINDS),
    source: z.string(),
    status: z.enum(['active']),
    version: z.number().int(),
    late: z.boolean(),
    firstReceivedAt: z.string().meta({ format: 'date-time' }),
    receivedAt: z.string().meta({ format: 'date-time' }),
    fields: z.record(z.string(), z.string()).meta({ description: 'canonical values in the national field codes; identity numbers masked unless operator' }),
    labels: z.record(z.string(), z.string()).meta({ description: 'names of the coded values in fields' }),
    versions: z.array(versionSchema).meta({ description: 'every version, oldest first; the last is the current one' }),
    publication: publicationSchema,
    delivery: z.object({ provincial: z.object({ state: z.string() }), national: z.object({ state: z.string() }) }),
  })
  .meta({ id: 'Record' });

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
