/**
 * Court batches (API.md "Court batches"): what a court declares when it opens
 * a batch, what it gets back, and the status it reads. The handler validates
 * with these schemas and the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { RECORD_KINDS, type RecordKind } from './roles.js';

/** The kinds that can be delivered as a batch file. */
export const BATCH_KINDS: readonly RecordKind[] = ['dishonest-debtor'];
export const BATCH_FORMATS = ['ndjson', 'csv'] as const;
export const BATCH_ENCODINGS = ['utf-8', 'gb18030'] as const;
export const BATCH_STATUSES = ['waiting', 'processing', 'completed', 'failed'] as const;

/** Batch ids: `bat_` and 26 base32 characters of 128 random bits (functions/batches/new-batch.ts). */
export const BATCH_ID_PATTERN = /^bat_[a-z2-7]{26}$/;

export const batchIdSchema = z
  .string()
  .meta({ description: 'batch id: bat_ and 26 base32 characters, as POST /v1/batches returned it', example: 'bat_3k7vq2m5xw4hyb6tzr2a8nc4de' });

/** The message of a value not in the list, or of a missing one. */
const oneOf =
  (values: readonly string[], what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? '必填字段缺失 (required field is missing)' : `${what}须为以下之一 (must be one of): ${values.join(', ')}`;

export const createBatchSchema = z
  .strictObject({
    kind: z
      .enum(RECORD_KINDS, { error: oneOf(RECORD_KINDS, '信息种类') })
      .meta({ description: `the kind of the rows; batches take ${BATCH_KINDS.join(', ')} (a kind the key may not push is 403)` }),
    format: z
      .enum(BATCH_FORMATS, { error: oneOf(BATCH_FORMATS, '文件格式') })
      .meta({ description: 'ndjson: one JSON object per line; csv: RFC 4180, a header row of the field names, then one row per record' }),
    encoding: z
      .enum(BATCH_ENCODINGS, { error: oneOf(BATCH_ENCODINGS, '字符编码') })
      .default('utf-8')
      .meta({ description: 'the file’s character encoding; utf-8 when absent (a byte-order mark is skipped)' }),
  })
  .meta({ id: 'CreateBatch' });

export type CreateBatch = z.infer<typeof createBatchSchema>;

export const batchCreatedSchema = z
  .object({
    batchId: z.string().meta({ example: 'bat_3k7vq2m5xw4hyb6tzr2a8nc4de' }),
    uploadUrl: z.string().meta({
      format: 'uri',
      description: 'absolute; PUT the file to it as the body, with no other header (`curl -T file.ndjson "$uploadUrl"`), up to 5 GB, before expiresAt',
    }),
    expiresAt: z.string().meta({ format: 'date-time', description: 'the upload URL works until then' }),
  })
  .meta({ id: 'BatchCreated' });

const count = (description: string) => z.number().int().min(0).meta({ description });

export const batchStatusSchema = z
  .object({
    batchId: z.string(),
    kind: z.enum(RECORD_KINDS),
    format: z.enum(BATCH_FORMATS),
    encoding: z.enum(BATCH_ENCODINGS),
    status: z.enum(BATCH_STATUSES).meta({
      description:
        'waiting: nothing uploaded yet; processing: rows are being ingested (the counts grow); completed: every row decided; ' +
        'failed: the file could not be ingested (reason), or nothing was uploaded before expiresAt',
    }),
    total: count('rows read so far (a CSV header is not a row); always accepted + updated + duplicates + rejected'),
    accepted: count('new records'),
    updated: count('records changed: a new version (a removed row ends a listing)'),
    duplicates: count('rows identical to what was stored (repeated in the file or sent before)'),
    rejected: count('rows refused, each with its line number and reasons in the rejects file'),
    rejectsUrl: z
      .string()
      .optional()
      .meta({
        format: 'uri',
        description:
          'completed with rejected rows: a download (presigned GET, valid an hour from this answer) of NDJSON, one rejected row a line: ' +
          '{"line","reasons":[{"field","message"}],"row"?,"text"?}, identity numbers masked',
      }),
    reason: z.string().optional().meta({ description: 'failed: why, in words the court can act on (Chinese, with English in parentheses)' }),
    expiresAt: z.string().optional().meta({ format: 'date-time', description: 'waiting: the upload URL works until then' }),
    createdAt: z.string().meta({ format: 'date-time' }),
    finishedAt: z.string().optional().meta({ format: 'date-time', description: 'completed or failed: when' }),
  })
  .meta({ id: 'BatchStatus' });

export type BatchStatusView = z.infer<typeof batchStatusSchema>;
