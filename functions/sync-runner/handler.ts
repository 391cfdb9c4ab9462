/**
 * The nightly sync runner (shared/sync/run-sync.ts) on Lambda, started three ways (events.ts): by the jobs
 * function (`POST /v1/jobs/{name}`), by its own continuation when an invocation runs short of time, and by the
 * schedules `syncProvincial` / `syncNational` (a run of their own, requested by "schedule"); and, on the local
 * stack right after it started, by the same schedules' localStartInput (resume the job's stopped run, if any).
 *
 * It throws only when AWS fails it (a table or the bucket unreachable, throttled, timing out), having released the
 * job's lease: Lambda then tries the event again (asynchronous invocations are tried three times), and that try
 * resumes the run from its checkpoint; so does any later invocation of the job once the lease has lapsed.
 */
import type { Context } from 'aws-lambda';
import { newRun, newRunId } from '../../shared/jobs/run-model.js';
import { logger } from '../../shared/logger.js';
import { resumeStoppedRun, type LeaseReader, type ResumeResult } from '../../shared/sync/resume-run.js';
import { runSync, type RunOutcome, type SyncDeps } from '../../shared/sync/run-sync.js';
import { leaseReader, syncDeps } from './deps.js';
import { runnerRequest } from './events.js';

export interface RunnerReport {
  outcomes?: Record<string, RunOutcome>;
  /** The run a schedule made. */
  created?: string;
  /** What a resume at local start found and did. */
  resume?: ResumeResult;
}

export function syncRunnerHandler(makeDeps: (context: Context) => SyncDeps, leases: () => LeaseReader = leaseReader) {
  return async (event: unknown, context: Context): Promise<RunnerReport> => {
    const request = runnerRequest(event);
    switch (request.kind) {
      case 'run': {
        const outcomes = await runSync(request.event, makeDeps(context));
        logger.info('sync runner', { outcomes });
        return { outcomes };
      }
      case 'schedule': {
        const deps = makeDeps(context);
        const run = newRun({ runId: newRunId(), job: request.job, requestedBy: 'schedule', now: deps.now() });
        await deps.runs.create(run);
        const outcomes = await runSync({ runId: run.runId }, deps);
        logger.info('sync runner: scheduled run', { runId: run.runId, job: run.job, outcomes });
        return { created: run.runId, outcomes };
      }
      case 'resume': {
        const resume = await resumeStoppedRun(request.job, { ...makeDeps(context), leaseReader: leases() });
        logger.info('sync runner: resume at start', { job: request.job, ...resume });
        return { resume, ...(resume.resumed ? { outcomes: resume.outcomes } : {}) };
      }
      case 'unknown':
        // Sending it again would not help: logged (its shape only), not thrown.
        logger.error('sync runner: an event it does not take', { keys: typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 10) : typeof event });
        return {};
    }
  };
}

export const handler = syncRunnerHandler((context) => syncDeps(context));
