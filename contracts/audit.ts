/**
 * GET /v1/audit/reads (operator): the audit of reads that returned identity
 * numbers in full — who read which record, when and from where. The query
 * parameters are validated with `auditReadsQuerySchema`; the answer is an
 * `AuditReadsPage`, newest read first.
 */
import * as z from 'zod';
import { date } from './fields.js';
import { recordIdSchema } from './record-id.js';
import { SOURCE_ROLES } from './roles.js';

/** Reads per page unless `limit` says otherwise, and the most `limit` may ask for. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;
/** Without `record`, the days one query may span (each day is one query of the byDay index). */
export const AUDIT_DAYS_MAX = 31;
/** The longest cursor accepted (the hub's own are about 300 characters). */
export const AUDIT_CURSOR_MAX = 2048;

const limit = z
  .string()
  .regex(/^[0-9]{1,4}$/, `应为1到${AUDIT_PAGE_MAX}的整数 (an integer from 1 to ${AUDIT_PAGE_MAX})`)
  .transform(Number)
  .refine((n) => n >= 1 && n <= AUDIT_PAGE_MAX, `应为1到${AUDIT_PAGE_MAX}的整数 (an integer from 1 to ${AUDIT_PAGE_MAX})`)
  .meta({ description: `reads per page, 1 to ${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT})`, example: '100' });

export const auditReadsQuerySchema = z
  .strictObject({
    record: recordIdSchema.optional().meta({ description: 'only the reads of this record (all days unless from/to are given)' }),
    from: date('first day (in China, UTC+8) of the reads listed; default: `to`').optional(),
    to: date('last day (in China, UTC+8) of the reads listed; default: today in China').optional(),
    cursor: z
      .string()
      .min(1)
      .max(AUDIT_CURSOR_MAX)
      .optional()
      .meta({ description: 'the `next` of the previous page; send it with the same record, from and to as the first request' }),
    limit: limit.optional(),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from不能晚于to (from is after to)' });
  });

export type AuditReadsQuery = z.output<typeof auditReadsQuerySchema>;

export const auditReadSchema = z
  .object({
    recordId: z.string().meta({ description: 'the record read' }),
    reader: z.string().meta({ description: 'who read it: the source id, or `operator` for the operator key' }),
    readerRole: z.enum(['operator', ...SOURCE_ROLES]).meta({ description: "the reader's role (tells the operator apart from a source whatever its id)" }),
    at: z.string().meta({ format: 'date-time', description: 'when, recorded before the answer was sent' }),
    route: z.string().meta({ description: 'the API route that answered', example: 'GET /v1/records/{id}' }),
    sourceIp: z.string().meta({ description: "the client's IP address as the API saw it" }),
    userAgent: z.string().meta({ description: 'the User-Agent header, cut to 200 characters' }),
    requestId: z.string().meta({ description: "API Gateway's request id (apigw-requestid), as in the function's log line" }),
  })
  .meta({ id: 'AuditRead' });

export const auditReadsPageSchema = z
  .object({
    items: z.array(auditReadSchema).meta({ description: 'newest first; a page may hold fewer than `limit` reads, even none, and still have a `next`' }),
    next: z.string().optional().meta({ description: 'present when there may be more: send it as `cursor`; absent at the end' }),
  })
  .meta({ id: 'AuditReadsPage' });

export type AuditRead = z.output<typeof auditReadSchema>;
