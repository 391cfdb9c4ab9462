/**
 * What starts the sync runner: a run to (go on with) run — `{"runId", "after"?, "continued"?, "step"?}` from the jobs
 * function or its own continuation — a schedule's `{"job": "sync-provincial"}` (infra/catalogue.ts
 * schedules), which makes a run of its own, or the local stack's firing at start `{"resumeJob": "sync-provincial"}`
 * (the schedule's localStartInput), which resumes the job's run a killed stack left unfinished (resume-run.ts).
 */
import { isSyncJob, RUN_ID_PATTERN, type SyncJob } from '../../contracts/jobs.js';
import type { RunEvent } from '../../shared/sync/run-sync.js';

export type RunnerRequest = { kind: 'run'; event: RunEvent } | { kind: 'schedule'; job: SyncJob } | { kind: 'resume'; job: SyncJob } | { kind: 'unknown' };

export function runnerRequest(event: unknown): RunnerRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { kind: 'unknown' };
  const e = event as Record<string, unknown>;
  if (typeof e.runId === 'string' && RUN_ID_PATTERN.test(e.runId)) {
    const after = Array.isArray(e.after) ? e.after.filter((id): id is string => typeof id === 'string' && RUN_ID_PATTERN.test(id)) : [];
    const step = e.continued === true && Number.isSafeInteger(e.step) && (e.step as number) >= 0 ? (e.step as number) : undefined;
    return { kind: 'run', event: { runId: e.runId, ...(after.length > 0 ? { after } : {}), ...(e.continued === true ? { continued: true } : {}), ...(step !== undefined ? { step } : {}) } };
  }
  if (isSyncJob(e.job)) return { kind: 'schedule', job: e.job };
  if (isSyncJob(e.resumeJob)) return { kind: 'resume', job: e.resumeJob };
  return { kind: 'unknown' };
}
