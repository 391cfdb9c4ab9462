/**
 * The `expire` job (API.md "Jobs"): ends the approved publications whose period is over as of `asOf` (their
 * `until` before it), each as a decision (shared/publication/decisions.ts expire: endReason expired), so that the
 * site drops them and the upward platforms are told to delete them. It reads only the approved records with an end
 * before `asOf`, from the sparse index `publicationQueue` (earliest end first), never the whole table.
 *
 * Its run lives in the `jobs` table like a sync's (pk RUN#<run id>, sk RUN), with its own counts; a run that runs
 * short of time continues in another invocation (what it has ended has left the index). Running twice is harmless:
 * each change is conditional on the version it was decided on, and an ended record is not ended again.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RunStatus } from '../../contracts/jobs.js';
import { base32 } from '../domain/base32.js';
import { todayInChina } from '../domain/dates.js';
import { expire, type DecisionContext } from './decisions.js';
import { decideOnRecord, type DecisionsStore, type QueuePosition } from './decisions-store.js';

export const EXPIRE_JOB = 'expire';

export interface ExpireCounts {
  /** Publications ended now. */
  expired: number;
  /** Read from the index but not ended (changed meanwhile, no longer approved or no longer past its end). */
  skipped: number;
}

export interface ExpireRun {
  runId: string;
  job: typeof EXPIRE_JOB;
  status: RunStatus;
  asOf: string;
  requestedBy: 'operator' | 'schedule';
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  counts: ExpireCounts;
}

export function newExpireRun(input: { runId?: string; asOf?: string; requestedBy: ExpireRun['requestedBy']; now: Date }): ExpireRun {
  return {
    runId: input.runId ?? `run_${base32(randomBytes(17), 26)}`,
    job: EXPIRE_JOB,
    status: 'waiting',
    asOf: input.asOf ?? todayInChina(input.now),
    requestedBy: input.requestedBy,
    createdAt: input.now.toISOString(),
    counts: { expired: 0, skipped: 0 },
  };
}

export function isExpireRun(run: unknown): run is ExpireRun {
  return typeof run === 'object' && run !== null && (run as { job?: unknown }).job === EXPIRE_JOB;
}

/** What GET /v1/jobs/runs/{runId} shows of it. */
export function expireRunView(run: ExpireRun) {
  return {
    runId: run.runId,
    job: run.job,
    status: run.status,
    counts: { expired: run.counts.expired, skipped: run.counts.skipped },
    asOf: run.asOf,
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(run.reason ? { reason: run.reason } : {}),
  };
}

const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });

export interface ExpireRunsStore {
  create(run: ExpireRun): Promise<void>;
  get(runId: string): Promise<ExpireRun | undefined>;
  /** Saves status, counts and times; only while the run is not finished. False when it is. */
  save(run: ExpireRun): Promise<boolean>;
  /** Writes `run` over the stored one if that one is still waiting (the jobs function, which may only Put). */
  replaceWaiting(run: ExpireRun): Promise<boolean>;
}

export class DynamoExpireRunsStore implements ExpireRunsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(run: ExpireRun): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...runKey(run.runId), ...run }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async get(runId: string): Promise<ExpireRun | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: runKey(runId), ConsistentRead: true }));
    const item = out.Item as Record<string, unknown> | undefined;
    if (!item || !isExpireRun(item)) return undefined;
    const { pk: _pk, sk: _sk, ...run } = item;
    return run as unknown as ExpireRun;
  }

  async replaceWaiting(run: ExpireRun): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...runKey(run.runId), ...run },
          ConditionExpression: '#status = :waiting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':waiting': 'waiting' },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async save(run: ExpireRun): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: runKey(run.runId),
          UpdateExpression: `SET #status = :status, counts = :counts${run.startedAt ? ', startedAt = :started' : ''}${run.finishedAt ? ', finishedAt = :finished' : ''}${run.reason ? ', reason = :reason' : ''}`,
          ConditionExpression: '#status IN (:waiting, :running)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': run.status,
            ':counts': run.counts,
            ':waiting': 'waiting',
            ':running': 'running',
            ...(run.startedAt ? { ':started': run.startedAt } : {}),
            ...(run.finishedAt ? { ':finished': run.finishedAt } : {}),
            ...(run.reason ? { ':reason': run.reason } : {}),
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}

export interface ExpireDeps {
  runs: ExpireRunsStore;
  decisions: DecisionsStore;
  now: () => Date;
  /** Time left in the invocation (ms). */
  remainingMs: () => number;
  /** Continues the run in another invocation. */
  continueLater: (runId: string) => Promise<void>;
}

/** Records read per page of the index. */
export const EXPIRE_PAGE = 100;
/** Time kept back to save the run and continue it. */
export const EXPIRE_MARGIN_MS = 30_000;

export type ExpireOutcome = 'completed' | 'continued' | 'not-runnable';

/** Runs (or continues) the run `runId`. */
export async function runExpire(runId: string, deps: ExpireDeps): Promise<ExpireOutcome> {
  const stored = await deps.runs.get(runId);
  if (!stored || (stored.status !== 'waiting' && stored.status !== 'running')) return 'not-runnable';
  const run: ExpireRun = { ...stored, status: 'running', startedAt: stored.startedAt ?? deps.now().toISOString(), counts: { ...stored.counts } };
  if (!(await deps.runs.save(run))) return 'not-runnable';
  let after: QueuePosition | undefined;
  do {
    const page = await deps.decisions.queue('approved', EXPIRE_PAGE, after, run.asOf);
    for (const head of page.heads) {
      const now = deps.now();
      const ctx: DecisionContext = { by: 'expire', at: now.toISOString(), today: todayInChina(now) };
      const result = await decideOnRecord(deps.decisions, head.id, (h) => {
        const next = expire(h, ctx, run.asOf);
        return next ? { head: next } : { refused: 'publication_state', message: 'not due' };
      });
      if (result.status === 'written') run.counts.expired++;
      else run.counts.skipped++;
    }
    after = page.next;
    if (after && deps.remainingMs() < EXPIRE_MARGIN_MS) {
      await deps.runs.save(run);
      await deps.continueLater(run.runId);
      return 'continued';
    }
    if (after) await deps.runs.save(run);
  } while (after);
  await deps.runs.save({ ...run, status: 'completed', finishedAt: deps.now().toISOString() });
  return 'completed';
}

/** Marks a waiting run failed (one that could not be started). */
export async function failExpireRun(runs: ExpireRunsStore, run: ExpireRun, reason: string, now: Date): Promise<void> {
  await runs.replaceWaiting({ ...run, status: 'failed', reason, finishedAt: now.toISOString() });
}
