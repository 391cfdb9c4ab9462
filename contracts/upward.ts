/**
 * The upward platforms on the hub's API (API.md "Upward platforms"): a record's delivery state per platform
 * (GET /v1/records/{id}), the platforms' per-record feedback (POST /v1/feedback, role platform) and the
 * operator's dead-letter queues (GET /v1/dlq/{platform}, POST /v1/dlq/{platform}/redrive). The handlers
 * validate with these schemas and the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { platforms } from '../infra/catalogue.js';
import { text } from './fields.js';
import { recordIdSchema } from './record-id.js';

/** The upward platforms, by their names in URLs, in the `delivery` of a record and as the ids of their sources. */
export const PLATFORM_NAMES = Object.keys(platforms) as [keyof typeof platforms, ...(keyof typeof platforms)[]];

export const platformNameSchema = z.enum(PLATFORM_NAMES).meta({ description: `an upward platform: ${PLATFORM_NAMES.join(' (省), ')} (国家)`, example: 'national' });

// ---- Feedback ------------------------------------------------------------------------------------

export const FEEDBACK_OUTCOMES = ['received', 'rejected', 'applied'] as const;
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];
export const MAX_FEEDBACK_ITEMS = 1000;
/** The longest reason or measure kept (the platform's words). */
export const FEEDBACK_TEXT_MAX = 500;

const instant = (description: string) =>
  z.iso.datetime({ offset: true, error: '应为ISO 8601时间，如2026-05-01T08:00:00Z (an ISO 8601 date-time with Z or an offset)' }).meta({ description, format: 'date-time' });

export const feedbackItemSchema = z
  .strictObject({
    recordId: recordIdSchema,
    version: z.number().int().min(1).meta({ description: 'the record version the platform was sent (the package’s record `version`)' }),
    outcome: z.enum(FEEDBACK_OUTCOMES).meta({
      description: 'received: the platform has it; rejected: it refused it (a reason is required); applied: 联合奖惩 — a joint reward or punishment measure was applied on it (`measure` says which)',
    }),
    reason: text(FEEDBACK_TEXT_MAX, 'why the platform rejected the record (required for rejected); shown to the source that pushed it and to the operator').optional(),
    measure: text(FEEDBACK_TEXT_MAX, 'outcome applied: the 联合奖惩 measure applied (联合奖惩措施)').optional(),
    at: instant('when the outcome happened at the platform; the time the hub received it when absent').optional(),
  })
  .superRefine((item, ctx) => {
    if (item.outcome === 'rejected' && item.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: '退回须说明原因 (a rejection needs a reason)' });
    if (item.measure !== undefined && item.outcome !== 'applied') ctx.addIssue({ code: 'custom', path: ['measure'], message: '只有applied可带measure (measure goes with outcome applied only)' });
  })
  .meta({ id: 'FeedbackItem' });

export const feedbackRequestSchema = z
  .strictObject({
    items: z
      .array(feedbackItemSchema)
      .min(1, '至少一条反馈 (at least one item)')
      .max(MAX_FEEDBACK_ITEMS, `每次最多${MAX_FEEDBACK_ITEMS}条反馈 (at most ${MAX_FEEDBACK_ITEMS} items per request)`),
  })
  .meta({ id: 'Feedback' });

export type FeedbackRequest = z.output<typeof feedbackRequestSchema>;
export type FeedbackItem = z.output<typeof feedbackItemSchema>;

const unknownDeliverySchema = z
  .object({ index: z.number().int(), recordId: z.string(), version: z.number().int() })
  .meta({ id: 'UnknownDelivery', description: 'an item about a record version this platform was never sent (index: its place in items, from 0)' });

export const feedbackResponseSchema = z
  .object({
    recorded: z.number().int().meta({ description: 'items kept on their deliveries (a later feedback on the same delivery replaces an earlier one)' }),
    unknown: z.array(unknownDeliverySchema).meta({ description: 'items about no delivery to this platform: nothing kept for them' }),
  })
  .meta({ id: 'FeedbackRecorded' });

export type FeedbackResponse = z.output<typeof feedbackResponseSchema>;

// ---- Delivery state of a record ------------------------------------------------------------------

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;

export const storedFeedbackSchema = z
  .object({
    outcome: z.enum(FEEDBACK_OUTCOMES),
    reason: z.string().optional(),
    measure: z.string().optional(),
    at: z.string().meta({ format: 'date-time', description: 'when it happened at the platform (as it said, or when the hub received it)' }),
    receivedAt: z.string().meta({ format: 'date-time', description: 'when the hub received it' }),
  })
  .meta({ id: 'DeliveryFeedback', description: "the platform's latest feedback on this version (POST /v1/feedback)" });

export const platformDeliverySchema = z
  .object({
    state: z.enum(DELIVERY_STATES).meta({
      description:
        'pending: owed (queued, or not yet fanned out); delivered: the platform answered 2xx; failed: it refused the record (a 4xx), or the hub could not send it for a fault of its own (`internal: …`), and the delivery waits in the dead-letter queue for the operator (a platform that is unavailable leaves it pending: it is sent again until it is taken). Every version travels, in a package of up to 100; a package the platform refuses whole is split until the record it refuses is alone',
    }),
    version: z.number().int().meta({ description: 'the record version this is about: the current one' }),
    deliveredAt: z.string().optional().meta({ format: 'date-time' }),
    failedAt: z.string().optional().meta({ format: 'date-time' }),
    reason: z.string().optional().meta({ description: 'state failed: why (the platform’s status and answer, identity numbers redacted)' }),
    attempts: z.number().int().optional().meta({ description: 'requests to the platform that did not succeed' }),
    feedback: storedFeedbackSchema.optional(),
  })
  .meta({ id: 'PlatformDelivery' });

export const recordDeliverySchema = z
  .object(Object.fromEntries(PLATFORM_NAMES.map((p) => [p, platformDeliverySchema])) as Record<(typeof PLATFORM_NAMES)[number], typeof platformDeliverySchema>)
  .meta({ id: 'RecordDelivery', description: 'per upward platform, the delivery of the current version' });

export type PlatformDeliveryView = z.output<typeof platformDeliverySchema>;

// ---- Dead-letter queues --------------------------------------------------------------------------

export const DLQ_PAGE_DEFAULT = 100;
export const DLQ_PAGE_MAX = 1000;
export const DLQ_CURSOR_MAX = 2048;

const pageLimit = z
  .string()
  .regex(/^[0-9]{1,4}$/, `应为1到${DLQ_PAGE_MAX}的整数 (an integer from 1 to ${DLQ_PAGE_MAX})`)
  .transform(Number)
  .refine((n) => n >= 1 && n <= DLQ_PAGE_MAX, `应为1到${DLQ_PAGE_MAX}的整数 (an integer from 1 to ${DLQ_PAGE_MAX})`)
  .meta({ description: `failed deliveries per page, 1 to ${DLQ_PAGE_MAX} (default ${DLQ_PAGE_DEFAULT})`, example: '100' });

export const dlqQuerySchema = z.strictObject({
  cursor: z.string().min(1).max(DLQ_CURSOR_MAX).optional().meta({ description: 'the `next` of the previous page of the same platform' }),
  limit: pageLimit.optional(),
});

export type DlqQuery = z.output<typeof dlqQuerySchema>;

export const deadLetterSchema = z
  .object({
    recordId: z.string(),
    version: z.number().int(),
    operation: z.enum(['upsert', 'delete']),
    reason: z.string().meta({ description: 'why it failed: the platform’s status and answer (identity numbers redacted), or `internal: <error name>` for a fault of the hub' }),
    failedAt: z.string().meta({ format: 'date-time' }),
    attempts: z.number().int().meta({ description: 'requests to the platform that did not succeed' }),
  })
  .meta({ id: 'DeadLetter' });

export const dlqPageSchema = z
  .object({
    platform: platformNameSchema,
    depth: z.number().int().meta({ description: 'messages waiting in the platform’s dead-letter queue (SQS ApproximateNumberOfMessages)' }),
    items: z.array(deadLetterSchema).meta({ description: 'the platform’s failed deliveries, oldest failure first' }),
    next: z.string().optional().meta({ description: 'present when there may be more: send it as `cursor`; absent at the end' }),
  })
  .meta({ id: 'DeadLetterPage' });

export type DlqPage = z.output<typeof dlqPageSchema>;

export const redriveResponseSchema = z
  .object({
    platform: platformNameSchema,
    redriven: z.number().int().meta({ description: 'failed deliveries made pending again' }),
    moved: z.number().int().optional().meta({ description: 'messages moved from the dead-letter queue back to the platform’s queue (where the hub moves them itself)' }),
    task: z.string().optional().meta({ description: 'on AWS: the SQS message move task (StartMessageMoveTask) moving the dead-letter queue back, by its handle' }),
    more: z.boolean().optional().meta({ description: 'true when the time of this request ran out before everything was redriven: send the same request again' }),
  })
  .meta({ id: 'Redrive' });

export type RedriveResponse = z.output<typeof redriveResponseSchema>;
