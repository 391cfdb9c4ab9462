/**
 * A job run (API.md "Jobs"): its item in the `jobs` table (pk RUN#<run id>, sk RUN), how it is made, and what
 * `GET /v1/jobs/runs/{runId}` shows of it. Pure.
 *
 * waiting (asked for) → running (a runner took it: `from` is fixed then) → completed | failed.
 */
import { randomBytes } from 'node:crypto';
import type { JobRunView, RunStatus, SyncJob } from '../../contracts/jobs.js';
import { base32 } from '../domain/base32.js';
import { runBounds } from '../sync/sync-window.js';
import { ZERO_COUNTS, type SyncCheckpoint, type SyncCounts } from '../sync/sync-model.js';
import type { PlatformName } from '../upward/package-model.js';

export type { RunStatus, SyncJob };

export interface JobRun {
  runId: string;
  job: SyncJob;
  platform: PlatformName;
  status: RunStatus;
  asOf: string;
  /** The end of the window (inclusive), fixed when the run is made. */
  to: string;
  requestedBy: 'operator' | 'schedule';
  createdAt: string;
  /** The start of the window (exclusive): the watermark when the run started (or the first run's lookback). */
  from?: string;
  /** The watermark the run found (absent: the platform's first run); the watermark moves only from this value. */
  watermark?: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  counts: SyncCounts;
  checkpoint?: SyncCheckpoint;
  /** Invocations that took the run (a run that keeps failing is given up: syncLimits.maxAttempts). */
  attempts?: number;
  /** The last error an invocation stopped on (its kind and message only). */
  lastError?: string;
}

/** The platform a sync job serves: sync-provincial → provincial. */
export function platformOfJob(job: SyncJob): PlatformName {
  return job === 'sync-provincial' ? 'provincial' : 'national';
}

/** `run_` and 26 base32 characters of 128 random bits (contracts/jobs.ts RUN_ID_PATTERN): not guessable, never reused. */
export function newRunId(random: (n: number) => Buffer = randomBytes): string {
  return `run_${base32(random(17), 26)}`;
}

export interface RunRequest {
  runId: string;
  job: SyncJob;
  asOf?: string;
  requestedBy: JobRun['requestedBy'];
  now: Date;
}

/** A new run, waiting: its window ends at `to` (runBounds); throws a RangeError for an asOf after today. */
export function newRun(request: RunRequest): JobRun {
  const { asOf, to } = runBounds(request.asOf, request.now);
  return {
    runId: request.runId,
    job: request.job,
    platform: platformOfJob(request.job),
    status: 'waiting',
    asOf,
    to,
    requestedBy: request.requestedBy,
    createdAt: request.now.toISOString(),
    counts: { ...ZERO_COUNTS },
  };
}

/** What GET /v1/jobs/runs/{runId} shows (contracts/jobs.ts jobRunSchema): never the checkpoint's internals. */
export function runView(run: JobRun): JobRunView {
  return {
    runId: run.runId,
    job: run.job,
    status: run.status,
    counts: { ...ZERO_COUNTS, ...run.counts },
    asOf: run.asOf,
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    ...(run.from !== undefined ? { from: run.from } : {}),
    to: run.to,
    ...(run.startedAt !== undefined ? { startedAt: run.startedAt } : {}),
    ...(run.finishedAt !== undefined ? { finishedAt: run.finishedAt } : {}),
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
  };
}
