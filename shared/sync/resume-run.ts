/**
 * Resuming a sync run whose invocation stopped (the local stack killed mid-run, a Lambda crash): the job's lease
 * (shared/jobs/job-lease.ts) still names the run (`holder`) while its run item says it is unfinished. Fired for
 * each sync job right after the local stack starts (catalogue schedules.syncProvincial/syncNational
 * localStartInput `{"resumeJob": …}`): the run goes on from its checkpoint at once rather than at the next night's
 * run.
 *
 * The dead invocation's lease has not lapsed yet (it lasts `limits.leaseMs` unrenewed): this waits for it to lapse,
 * then runSync takes it and resumes the run (run-sync.ts). A live invocation renews its lease meanwhile, and
 * runSync then leaves its run alone (`elsewhere`): resuming never runs a run twice at once.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SyncJob } from '../../contracts/jobs.js';
import { leaseKey, type Lease } from '../jobs/job-lease.js';
import { runSync, type RunOutcome, type SyncDeps } from './run-sync.js';

/** Reads a job's lease as it stands (who holds it, for which run, until when). */
export interface LeaseReader {
  current(job: SyncJob): Promise<Lease | undefined>;
}

export class DynamoLeaseReader implements LeaseReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async current(job: SyncJob): Promise<Lease | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: leaseKey(job), ConsistentRead: true }));
    const item = out.Item;
    if (!item || typeof item.holder !== 'string' || typeof item.token !== 'string') return undefined;
    return { holder: item.holder, token: item.token, until: Number(item.until ?? 0) };
  }
}

export type ResumeResult =
  /** No lease, or its run ended: nothing to resume. */
  | { resumed: false; reason: 'nothing-stopped' }
  /** The lease lapses later than this invocation can wait: the next resume (or the next run of the job) takes it. */
  | { resumed: false; reason: 'no-time'; runId: string }
  | { resumed: true; runId: string; outcomes: Record<string, RunOutcome> };

/** Margin after the lease's end before it is taken (clocks of the writer and of this invocation). */
export const LAPSE_MARGIN_MS = 1_000;

export async function resumeStoppedRun(job: SyncJob, deps: SyncDeps & { leaseReader: LeaseReader }): Promise<ResumeResult> {
  const lease = await deps.leaseReader.current(job);
  if (!lease) return { resumed: false, reason: 'nothing-stopped' };
  const run = await deps.runs.get(lease.holder);
  if (!run || run.job !== job || run.status === 'completed' || run.status === 'failed') return { resumed: false, reason: 'nothing-stopped' };
  const wait = lease.until + LAPSE_MARGIN_MS - deps.now().getTime();
  if (wait > 0) {
    if (deps.remainingMs() - wait < deps.limits.reserveMs) return { resumed: false, reason: 'no-time', runId: run.runId };
    deps.log?.('sync: waiting for the lease of a stopped run to lapse', { runId: run.runId, waitMs: wait });
    await deps.sleep(wait);
  }
  return { resumed: true, runId: run.runId, outcomes: await runSync({ runId: run.runId }, deps) };
}
