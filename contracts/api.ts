/**
 * Request and response bodies of the HTTP API (API.md), as zod schemas: the
 * handlers validate with them, and the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { fieldErrorSchema } from './errors.js';
import { RECORD_KINDS } from './roles.js';
import { licenseRecordSchema } from './license.js';
import { penaltyRecordSchema } from './penalty.js';
import { dishonestDebtorRecordSchema } from './dishonest-debtor.js';
import { recordDeliverySchema } from './upward.js';

export * from './errors.js';
export * from './sources.js';

export const MAX_RECORDS_PER_SUBMISSION = 1000;

/** The envelope of a push; each record is validated on its own by its kind's schema. */
export const submissionEnvelopeSchema = z.strictObject({
  records: z
    .array(z.unknown())
    .min(1, '至少一条记录 (at least one record)')
    .max(MAX_RECORDS_PER_SUBMISSION, `每次最多${MAX_RECORDS_PER_SUBMISSION}条记录 (at most ${MAX_RECORDS_PER_SUBMISSION} records per request)`),
});

export const licenseSubmissionSchema = z.object({ records: z.array(licenseRecordSchema).min(1).max(MAX_RECORDS_PER_SUBMISSION) }).meta({ id: 'LicenseSubmission' });
export const penaltySubmissionSchema = z.object({ records: z.array(penaltyRecordSchema).min(1).max(MAX_RECORDS_PER_SUBMISSION) }).meta({ id: 'PenaltySubmission' });
export const dishonestDebtorSubmissionSchema = z
  .object({ records: z.array(dishonestDebtorRecordSchema).min(1).max(MAX_RECORDS_PER_SUBMISSION) })
  .meta({ id: 'DishonestDebtorSubmission' });

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
    state: z
      .enum(['pending-review', 'approved', 'withheld', 'not-published', 'ended'])
      .meta({
        description:
          'pending-review: to be published once reviewed; approved: on the public site while its period runs (from … until); withheld: the operator decided not to publish it (still shared upward); ' +
          'not-published: not to be published (轻微); ended: publication is over before or at its time (endReason, endedOn)',
      }),
    grade: z.string().optional().meta({ description: '失信等级 code: 1 轻微, 2 一般, 3 严重' }),
    from: z.string().meta({ format: 'date', description: 'publication runs from this date: the decision date, or a listing’s publishDate' }),
    minUntil: z.string().optional().meta({ format: 'date', description: 'credit repair may be applied for from this date' }),
    until: z
      .string()
      .optional()
      .meta({ format: 'date', description: 'publication ends at the end of this date; absent when open-ended. An ended publication keeps the end it would have had' }),
    endedOn: z.string().optional().meta({ format: 'date', description: 'state ended: the date (in China) publication ended' }),
    endReason: z
      .enum(['removed', 'repaired', 'revoked', 'expired'])
      .optional()
      .meta({ description: 'state ended: why; removed: the court removed the 失信被执行人 listing; repaired: 信用修复; revoked: an objection upheld as wrong; expired: its period ran out (the expire job)' }),
    decisions: z
      .array(
        z.object({
          action: z.enum(['approve', 'withhold', 'auto-approve', 'repair', 'revoke', 'expire']),
          by: z.string().meta({ description: 'operator, policy (approved on arrival) or expire (the job)' }),
          at: z.string().meta({ format: 'date-time' }),
          note: z.string().optional().meta({ description: 'why (a withholding’s or repair’s reason, an approval’s note)' }),
        }),
      )
      .optional()
      .meta({ description: 'the decisions taken on its publication, oldest first (at most the last 100)' }),
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
    status: z.enum(['active', 'removed']).meta({ description: 'active: in force; removed: the source removed it (a 失信被执行人 listing with status removed), and its publication has ended' }),
    governmentBody: z.boolean().meta({
      description: 'the subject is a government body: its USCC was issued by the establishment offices (registration-authority code 1, 机构编制: 机关, 事业单位)',
    }),
    version: z.number().int(),
    late: z.boolean(),
    firstReceivedAt: z.string().meta({ format: 'date-time' }),
    receivedAt: z.string().meta({ format: 'date-time' }),
    fields: z
      .record(z.string(), z.string())
      .meta({ description: 'canonical values in the kind’s field codes (national 双公示 codes, or the courts’ names for 失信被执行人); identity numbers masked unless operator' }),
    labels: z.record(z.string(), z.string()).meta({ description: 'names of the coded values in fields' }),
    versions: z.array(versionSchema).meta({ description: 'the versions, oldest first, at most the 50 most recent; the last is the current one' }),
    versionCount: z.number().int().meta({ description: 'how many versions the record has in all' }),
    versionsOmitted: z.number().int().optional().meta({ description: 'how many older versions are not listed (when over 50)' }),
    publication: publicationSchema,
    objection: z
      .object({ openSince: z.string().meta({ format: 'date-time' }), count: z.number().int() })
      .optional()
      .meta({ description: 'present while objections (异议) about the record are open: since when, how many; the public site marks the record 异议处理中' }),
    delivery: recordDeliverySchema,
  })
  .meta({ id: 'Record' });

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
