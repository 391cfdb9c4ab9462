/**
 * A run of the `publish` job (API.md "Jobs": bring the public site up to date as of `asOf`), kept like the sync runs
 * in the `jobs` table (pk RUN#<run id>, sk RUN: shared/jobs/runs-store.ts), with a checkpoint of its own. Pure.
 *
 * waiting → running (the site's lease taken, the checkpoint set) → completed | failed.
 */
import type { RunStatus } from '../../contracts/jobs.js';
import { todayInChina } from '../domain/dates.js';
import type { DynamoRunsStore } from '../jobs/runs-store.js';
import type { SyncCheckpoint, SyncCounts } from '../sync/sync-model.js';

export const PUBLISH_JOB = 'publish';

export interface PublishCounts {
  /** Record heads read. */
  records: number;
  /** Of those, published on asOf (on the site). */
  published: number;
  /** Pages PUT to the site bucket. */
  pagesWritten: number;
  /** Pages rendered the same as they were: not written. */
  pagesUnchanged: number;
  /** Pages DELETEd (records no longer published, lists left empty). */
  pagesDeleted: number;
}

export const ZERO_PUBLISH_COUNTS: PublishCounts = { records: 0, published: 0, pagesWritten: 0, pagesUnchanged: 0, pagesDeleted: 0 };

/**
 * Where a run goes on from: `records` (the heads, from `cursor`), `partitions` (a scan of the site index: every list,
 * subject and search partition rendered once, `lastPk` the last one done; stale members removed), `groups` (the
 * months in `months`, their sections and the index, the fixed pages), `sweep` (pages this run did not render are
 * deleted, from `cursor`).
 */
export interface PublishCheckpoint {
  phase: 'records' | 'partitions' | 'groups' | 'sweep';
  /** Saves so far: each save is conditional on the previous one. */
  step: number;
  cursor?: Record<string, unknown>;
  lastPk?: string;
  /** The month partitions that have lists (MONTH#<section>/YYYY-MM): bounded by the calendar, not by records. */
  months?: string[];
}

export interface PublishRun {
  runId: string;
  job: typeof PUBLISH_JOB;
  status: RunStatus;
  asOf: string;
  requestedBy: 'operator' | 'schedule';
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  counts: PublishCounts;
  checkpoint?: PublishCheckpoint;
  attempts?: number;
  lastError?: string;
}

/** A new publish run, waiting; `asOf` defaults to today in China; a day after today is a RangeError. */
export function newPublishRun(request: { runId: string; asOf?: string; requestedBy: PublishRun['requestedBy']; now: Date }): PublishRun {
  const today = todayInChina(request.now);
  const asOf = request.asOf ?? today;
  if (asOf > today) throw new RangeError(`asOf ${asOf} is after today (${today})`);
  return { runId: request.runId, job: PUBLISH_JOB, status: 'waiting', asOf, requestedBy: request.requestedBy, createdAt: request.now.toISOString(), counts: { ...ZERO_PUBLISH_COUNTS } };
}

/** What GET /v1/jobs/runs/{runId} shows of a publish run: never the checkpoint. */
export interface PublishRunView {
  runId: string;
  job: typeof PUBLISH_JOB;
  status: RunStatus;
  counts: PublishCounts;
  asOf: string;
  requestedBy: PublishRun['requestedBy'];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
}

export function publishRunView(run: PublishRun): PublishRunView {
  return {
    runId: run.runId,
    job: run.job,
    status: run.status,
    counts: { ...ZERO_PUBLISH_COUNTS, ...run.counts },
    asOf: run.asOf,
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    ...(run.startedAt !== undefined ? { startedAt: run.startedAt } : {}),
    ...(run.finishedAt !== undefined ? { finishedAt: run.finishedAt } : {}),
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
  };
}

export function isPublishRun(run: { job: string }): run is PublishRun {
  return run.job === PUBLISH_JOB;
}

/** The run item operations a publish run uses, typed for it. */
export interface PublishRuns {
  create(run: PublishRun): Promise<void>;
  get(runId: string): Promise<PublishRun | undefined>;
  countAttempt(runId: string): Promise<number | undefined>;
  begin(runId: string, asOf: string, startedAt: string, checkpoint: PublishCheckpoint): Promise<'ok' | 'lost'>;
  save(runId: string, previousStep: number, checkpoint: PublishCheckpoint, counts: PublishCounts): Promise<'ok' | 'lost'>;
  complete(runId: string, previousStep: number, counts: PublishCounts, at: string): Promise<'ok' | 'lost'>;
  fail(runId: string, reason: string, at: string, from: readonly RunStatus[]): Promise<'ok' | 'lost'>;
  noteError(runId: string, error: string): Promise<'ok' | 'lost'>;
}

/**
 * The same item, the same conditional updates as a sync run (shared/jobs/runs-store.ts): only the shapes of the
 * checkpoint and the counts differ, which DynamoDB does not look into. (`from` is set to asOf when it begins.)
 */
export function publishRuns(store: DynamoRunsStore): PublishRuns {
  const asSync = <T>(value: T) => value as unknown as SyncCheckpoint & SyncCounts;
  return {
    create: (run) => store.create(run as never),
    get: async (runId) => {
      const run = (await store.get(runId)) as unknown as PublishRun | undefined;
      return run && isPublishRun(run) ? run : undefined;
    },
    countAttempt: (runId) => store.countAttempt(runId),
    begin: (runId, asOf, startedAt, checkpoint) => store.begin(runId, { from: asOf, startedAt, checkpoint: asSync(checkpoint) }),
    save: (runId, previousStep, checkpoint, counts) => store.save(runId, previousStep, asSync(checkpoint), asSync(counts)),
    complete: (runId, previousStep, counts, at) => store.complete(runId, previousStep, asSync(counts), at),
    fail: (runId, reason, at, from) => store.fail(runId, reason, at, from),
    noteError: (runId, error) => store.noteError(runId, error),
  };
}
