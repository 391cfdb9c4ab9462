/**
 * What starts the sync runner: a run to (go on with) run — `{"runId", "after"?, "continued"?}` from the jobs
 * function or its own continuation — or a schedule's `{"job": "sync-provincial"}` (infra/catalogue.ts
 * schedules), which makes a run of its own.
 */
import { isSyncJob, RUN_ID_PATTERN, type SyncJob } from '../../contracts/jobs.js';
import type { RunEvent } from '../../shared/sync/run-sync.js';

export type RunnerRequest = { kind: 'run'; event: RunEvent } | { kind: 'schedule'; job: SyncJob } | { kind: 'unknown' };

export function runnerRequest(event: unknown): RunnerRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { kind: 'unknown' };
  const e = event as Record<string, unknown>;
  if (typeof e.runId === 'string' && RUN_ID_PATTERN.test(e.runId)) {
    const after = Array.isArray(e.after) ? e.after.filter((id): id is string => typeof id === 'string' && RUN_ID_PATTERN.test(id)) : [];
    return { kind: 'run', event: { runId: e.runId, ...(after.length > 0 ? { after } : {}), ...(e.continued === true ? { continued: true } : {}) } };
  }
  if (isSyncJob(e.job)) return { kind: 'schedule', job: e.job };
  return { kind: 'unknown' };
}
