/**
 * Review, objections, repair (API.md): the bodies and answers of the publication endpoints. The handlers validate
 * with these schemas and the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { text } from './fields.js';
import { recordIdSchema } from './record-id.js';
import { RECORD_KINDS } from './roles.js';
import { sourceIdSchema } from './sources.js';

// ---- Policy ------------------------------------------------------------------------------------

export const MAX_POLICY_SOURCES = 500;

export const publicationPolicySchema = z
  .strictObject({
    approvedOnArrival: z.strictObject({
      kinds: z
        .array(z.enum(RECORD_KINDS))
        .max(RECORD_KINDS.length)
        .refine((k) => new Set(k).size === k.length, '种类重复 (a kind is listed twice)')
        .meta({ description: 'kinds whose records are approved on arrival (licences, say)' }),
      sources: z
        .array(sourceIdSchema)
        .max(MAX_POLICY_SOURCES)
        .refine((s) => new Set(s).size === s.length, '数据源重复 (a source is listed twice)')
        .meta({ description: 'sources whose records are approved on arrival' }),
    }),
  })
  .meta({ id: 'PublicationPolicyRequest' });

export const publicationPolicyViewSchema = z
  .object({
    approvedOnArrival: z.object({ kinds: z.array(z.enum(RECORD_KINDS)), sources: z.array(z.string()) }),
    updatedBy: z.string().optional(),
    updatedAt: z.string().optional().meta({ format: 'date-time' }),
  })
  .meta({
    id: 'PublicationPolicy',
    description:
      'What is approved on arrival; everything else waits for review. Applies to records pushed after it is set (new ones, and new versions of changed ones); ' +
      'records already waiting stay in the queue.',
  });

// ---- Review ------------------------------------------------------------------------------------

export const REVIEW_PAGE_DEFAULT = 50;
export const REVIEW_PAGE_MAX = 200;
export const CURSOR_MAX = 1024;

const pageLimit = (max: number, def: number, what: string) =>
  z
    .string()
    .regex(/^[0-9]{1,4}$/, `应为1到${max}的整数 (an integer from 1 to ${max})`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `应为1到${max}的整数 (an integer from 1 to ${max})`)
    .meta({ description: `${what} per page, 1 to ${max} (default ${def})`, example: String(def) });

export const reviewsQuerySchema = z.strictObject({
  cursor: z.string().min(1).max(CURSOR_MAX).optional().meta({ description: 'the `next` of the previous page' }),
  limit: pageLimit(REVIEW_PAGE_MAX, REVIEW_PAGE_DEFAULT, 'records').optional(),
});

export const reviewItemSchema = z
  .object({
    id: z.string(),
    kind: z.enum(RECORD_KINDS),
    source: z.string(),
    version: z.number().int(),
    name: z.string().optional().meta({ description: 'the subject’s name (XK_XDR_MC, CF_XDR_MC, iname)' }),
    document: z.string().meta({ description: 'the document or case number identifying the record (XK_WSH, CF_WSH, caseCode)' }),
    decisionDate: z.string().meta({ format: 'date' }),
    grade: z.string().optional().meta({ description: '失信等级 code: 1 轻微, 2 一般, 3 严重' }),
    from: z.string().meta({ format: 'date' }),
    until: z.string().optional().meta({ format: 'date' }),
    waitingSince: z.string().meta({ format: 'date-time', description: 'when it began to wait for review (its arrival, or the new version that sent it back)' }),
    underObjection: z.boolean(),
  })
  .meta({ id: 'ReviewItem' });

export const reviewsPageSchema = z
  .object({ items: z.array(reviewItemSchema), next: z.string().optional().meta({ description: 'send as `cursor` for the next page; absent at the end' }) })
  .meta({ id: 'ReviewsPage' });

export const approveSchema = z
  .strictObject({ note: text(2000, '备注 (why; kept with the decision)').optional() })
  .meta({ id: 'ApproveRecord', description: 'an empty body (or none) is the same as {}' });

export const withholdSchema = z.strictObject({ reason: text(2000, '暂缓公示的理由 (why it is not published; kept with the decision)') }).meta({ id: 'WithholdRecord' });

export const repairSchema = z.strictObject({ reason: text(2000, '信用修复的理由 (the conduct corrected, obligations performed, a commitment made)') }).meta({ id: 'RepairRecord' });

export const decisionResultSchema = z
  .object({
    id: z.string(),
    version: z.number().int().meta({ description: 'the record’s new version: every decision is one, and reaches the upward platforms' }),
    publication: z.object({
      state: z.enum(['pending-review', 'approved', 'withheld', 'not-published', 'ended']),
      from: z.string(),
      minUntil: z.string().optional(),
      until: z.string().optional(),
      endedOn: z.string().optional(),
      endReason: z.enum(['removed', 'repaired', 'revoked', 'expired']).optional(),
    }),
  })
  .meta({ id: 'DecisionResult' });

// ---- Objections --------------------------------------------------------------------------------

/** Working days (Chinese calendar) within which the platform says whether it accepts an objection, and the department answers it. */
export const OBJECTION_ACCEPT_WORKING_DAYS = 2;
export const OBJECTION_ANSWER_WORKING_DAYS = 10;
/** Objections one client (IP address) may file per minute. */
export const OBJECTIONS_PER_MINUTE = 5;

const CONTACT = /^[\p{L}\p{N} @._+\-()#:/，,]+$/u;

export const objectionSchema = z
  .strictObject({
    recordId: recordIdSchema,
    reason: text(2000, '异议理由 (what is wrong with the record)'),
    contact: z
      .string()
      .trim()
      .min(5, '联系方式至少5个字符 (at least 5 characters: a telephone number or an e-mail address)')
      .max(200, '联系方式不能超过200个字符 (at most 200 characters)')
      .regex(CONTACT, '联系方式只能包含字母、数字、空格和 @._+-()#:/, (a telephone number or an e-mail address)')
      .refine((v) => /[0-9]{5,}|@/.test(v.replace(/[\s-]/g, '')), '请提供电话号码或电子邮件地址 (a telephone number or an e-mail address)')
      .meta({ description: 'how the credit office reaches the objector (telephone or e-mail): kept encrypted, shown to the operator only, never on a page', example: '13800000000' }),
  })
  .meta({ id: 'FileObjection' });

export const objectionFiledSchema = z.object({ objectionId: z.string().meta({ example: 'obj_3k7vq2m5xw4hyb6tzr2a8nc4de' }) }).meta({ id: 'ObjectionFiled' });

export const OBJECTION_ID_PATTERN = /^obj_[a-z2-7]{26}$/;

export const objectionsQuerySchema = z.strictObject({
  status: z.enum(['open']).default('open').meta({ description: 'open (the default): the objections not resolved yet' }),
  cursor: z.string().min(1).max(CURSOR_MAX).optional().meta({ description: 'the `next` of the previous page' }),
  limit: pageLimit(REVIEW_PAGE_MAX, REVIEW_PAGE_DEFAULT, 'objections').optional(),
});

export const objectionViewSchema = z
  .object({
    id: z.string(),
    recordId: z.string(),
    reason: z.string(),
    contact: z.string().meta({ description: 'decrypted for the operator only' }),
    status: z.enum(['open', 'resolved']),
    filedAt: z.string().meta({ format: 'date-time' }),
    acceptBy: z.string().meta({ format: 'date', description: `the platform says whether it accepts the objection by this day: ${OBJECTION_ACCEPT_WORKING_DAYS} Chinese working days after filing` }),
    answerBy: z.string().meta({ format: 'date', description: `the providing department answers by this day: ${OBJECTION_ANSWER_WORKING_DAYS} Chinese working days after filing` }),
    overdue: z.boolean().meta({ description: 'open after answerBy (today in China)' }),
    acceptanceOverdue: z.boolean().meta({ description: 'open after acceptBy' }),
  })
  .meta({ id: 'Objection' });

export const objectionsPageSchema = z
  .object({ items: z.array(objectionViewSchema), next: z.string().optional().meta({ description: 'send as `cursor` for the next page; absent at the end' }) })
  .meta({ id: 'ObjectionsPage' });

export const OBJECTION_OUTCOMES = ['upheld', 'corrected', 'revoked'] as const;
export type ObjectionOutcome = (typeof OBJECTION_OUTCOMES)[number];

export const resolveObjectionSchema = z
  .strictObject({
    outcome: z.enum(OBJECTION_OUTCOMES).meta({
      description:
        'upheld: the record stands as it is; corrected: the record was wrong in part and stays published (its source pushes the corrected version, which is reviewed like any new version); ' +
        'revoked: the record was wrong, publication ends at once (endReason revoked) and the platforms are told to delete it',
    }),
    note: text(2000, '处理意见 (the answer to the objector; kept with the objection)'),
  })
  .meta({ id: 'ResolveObjection' });

export const objectionResolvedSchema = z
  .object({ id: z.string(), status: z.literal('resolved'), outcome: z.enum(OBJECTION_OUTCOMES), recordVersion: z.number().int() })
  .meta({ id: 'ObjectionResolved' });

// ---- The expire job ------------------------------------------------------------------------------

export const expireRunSchema = z
  .object({
    runId: z.string(),
    job: z.literal('expire'),
    status: z.enum(['waiting', 'running', 'completed', 'failed']),
    counts: z
      .object({
        expired: z.number().int().min(0).meta({ description: 'approved publications whose end (until) was before asOf, ended now (endReason expired)' }),
        skipped: z.number().int().min(0).meta({ description: 'read from the index but changed meanwhile (no longer approved, or no longer past its end): left as they are' }),
      })
      .meta({ id: 'ExpireCounts' }),
    asOf: z.string().meta({ format: 'date', description: 'publications whose until is before this day end (default: today in China)' }),
    requestedBy: z.enum(['operator', 'schedule']),
    createdAt: z.string().meta({ format: 'date-time' }),
    startedAt: z.string().optional().meta({ format: 'date-time' }),
    finishedAt: z.string().optional().meta({ format: 'date-time' }),
    reason: z.string().optional(),
  })
  .meta({ id: 'ExpireRun' });
