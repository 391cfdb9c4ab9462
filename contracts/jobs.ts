/**
 * Jobs (API.md "Jobs", operator only): `POST /v1/jobs/{name}` `{"asOf"?}` → `202 {"runId"}`, and
 * `GET /v1/jobs/runs/{runId}` → the run's status and counts. The handler validates with these schemas and
 * the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { pastDate } from './fields.js';

/** The nightly syncs, one per upward platform (shared/sync/). */
export const SYNC_JOBS = ['sync-provincial', 'sync-national'] as const;
export type SyncJob = (typeof SYNC_JOBS)[number];
/** The public site's job (shared/site-publishing/): publish brings the whole site up to date as of asOf. */
export const SITE_JOBS = ['publish'] as const;
/** The publication jobs (shared/publication/): expire ends the publications whose period is over. */
export const PUBLICATION_JOBS = ['expire'] as const;
export const JOB_NAMES = [...SYNC_JOBS, ...PUBLICATION_JOBS, ...SITE_JOBS] as const;

export function isSyncJob(value: unknown): value is SyncJob {
  return typeof value === 'string' && (SYNC_JOBS as readonly string[]).includes(value);
}

export const RUN_STATUSES = ['waiting', 'running', 'completed', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Run ids: `run_` and 26 base32 characters of 128 random bits (shared/jobs/run-model.ts). */
export const RUN_ID_PATTERN = /^run_[a-z2-7]{26}$/;

export const runIdSchema = z.string().meta({ description: 'run id: run_ and 26 base32 characters, as POST /v1/jobs/{name} returned it', example: 'run_3k7vq2m5xw4hyb6tzr2a8nc4de' });

export const startJobSchema = z
  .strictObject({
    asOf: pastDate(
      'the day the run is as of (in China, UTC+8): a sync sends the changes up to the end of that day; default today (then: up to the moment the run was asked for). Not after today',
    ).optional(),
  })
  .meta({ id: 'StartJob', description: 'an empty body (or none) is the same as {}' });

export type StartJob = z.infer<typeof startJobSchema>;

export const jobStartedSchema = z.object({ runId: z.string().meta({ example: 'run_3k7vq2m5xw4hyb6tzr2a8nc4de' }) }).meta({ id: 'JobStarted' });

const count = (description: string) => z.number().int().min(0).meta({ description });

export const syncCountsSchema = z
  .object({
    changes: count('record versions changed since the watermark (the run’s window), sent'),
    owed: count('record versions the platform still owed from before the window (not acknowledged), sent again'),
    skipped: count('versions of the window not sent: refused by the platform before (in its dead-letter list), or no longer stored'),
    records: count('NDJSON lines of the package after its header: changes + owed'),
    bytes: count('size of the package as sent (gzip)'),
  })
  .meta({ id: 'SyncCounts', description: 'grow while the run is running; final once it is completed' });

export const jobRunSchema = z
  .object({
    runId: z.string(),
    job: z.enum(SYNC_JOBS),
    status: z.enum(RUN_STATUSES).meta({
      description:
        'waiting: asked for, not started yet; running: building or sending the package; completed: the platform acknowledged it and the watermark moved; ' +
        'failed: see reason (the watermark did not move: the next run sends the same changes again)',
    }),
    counts: syncCountsSchema,
    asOf: z.string().meta({ format: 'date', description: 'the day the run is as of (China)' }),
    requestedBy: z.enum(['operator', 'schedule']),
    createdAt: z.string().meta({ format: 'date-time' }),
    from: z.string().optional().meta({ format: 'date-time', description: 'the watermark the window starts after (exclusive), once the run has started' }),
    to: z.string().meta({ format: 'date-time', description: 'the end of the window (inclusive): the moment it was asked for, or the end of asOf in China' }),
    startedAt: z.string().optional().meta({ format: 'date-time' }),
    finishedAt: z.string().optional().meta({ format: 'date-time' }),
    reason: z.string().optional().meta({ description: 'failed: why (another run was in progress, the platform refused the package, …)' }),
  })
  .meta({ id: 'JobRun' });

export type JobRunView = z.infer<typeof jobRunSchema>;

export const publishCountsSchema = z
  .object({
    records: count('record heads read'),
    published: count('of those, on the public site as of asOf (approved, in their period, not ended)'),
    pagesWritten: count('pages PUT to the site bucket (new, or changed: compared by SHA-256)'),
    pagesUnchanged: count('pages rendered the same as the bucket holds them: not written'),
    pagesDeleted: count('pages DELETEd: records no longer published, lists and subjects left empty'),
  })
  .meta({ id: 'PublishCounts', description: 'grow while the run is running; final once it is completed' });

export const publishRunSchema = z
  .object({
    runId: z.string(),
    job: z.enum(SITE_JOBS),
    status: z.enum(RUN_STATUSES).meta({ description: 'waiting, running (it holds the site: changes wait), completed, or failed (see reason: another run of publish was in progress, …)' }),
    counts: publishCountsSchema,
    asOf: z.string().meta({ format: 'date', description: 'the day the site is brought up to date as of (China)' }),
    requestedBy: z.enum(['operator', 'schedule']),
    createdAt: z.string().meta({ format: 'date-time' }),
    startedAt: z.string().optional().meta({ format: 'date-time' }),
    finishedAt: z.string().optional().meta({ format: 'date-time' }),
    reason: z.string().optional(),
  })
  .meta({ id: 'PublishRun' });
