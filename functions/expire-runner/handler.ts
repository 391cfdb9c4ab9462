/**
 * The expire job's runner (shared/publication/expire-run.ts) on Lambda, started three ways: by the jobs function
 * (`POST /v1/jobs/expire` → `{"runId"}`), by its own continuation when an invocation runs short of time, and daily
 * by the schedule `expire` (`{"job":"expire"}`: a run of its own, as of today in China, requested by "schedule").
 * Logs counts only.
 */
import type { Context } from 'aws-lambda';
import { RUN_ID_PATTERN } from '../../contracts/jobs.js';
import { functionNameEnvVar } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { tableName } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { DynamoDecisionsStore } from '../../shared/publication/decisions-store.js';
import { startExpireRun } from '../../shared/publication/expire-starter.js';
import { DynamoExpireRunsStore, EXPIRE_JOB, newExpireRun, runExpire, type ExpireDeps } from '../../shared/publication/expire-run.js';
import { requiredEnv } from '../../shared/upward/environment.js';

export type ExpireRequest = { kind: 'run'; runId: string } | { kind: 'schedule' } | { kind: 'unknown' };

export function expireRequest(event: unknown): ExpireRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { kind: 'unknown' };
  const e = event as Record<string, unknown>;
  if (typeof e.runId === 'string' && RUN_ID_PATTERN.test(e.runId)) return { kind: 'run', runId: e.runId };
  if (e.job === EXPIRE_JOB) return { kind: 'schedule' };
  return { kind: 'unknown' };
}

let stores: { runs: DynamoExpireRunsStore; decisions: DynamoDecisionsStore } | undefined;
function expireDeps(context: Context): ExpireDeps {
  stores ??= { runs: new DynamoExpireRunsStore(dynamo(), tableName('jobs')), decisions: new DynamoDecisionsStore(dynamo(), tableName('records')) };
  return {
    ...stores,
    now: () => new Date(),
    remainingMs: () => context.getRemainingTimeInMillis(),
    continueLater: (runId) => startExpireRun(lambda(), requiredEnv(functionNameEnvVar('expireRunner')), runId),
  };
}

export function expireRunnerHandler(makeDeps: (context: Context) => ExpireDeps) {
  return async (event: unknown, context: Context): Promise<{ runId?: string; outcome?: string }> => {
    const request = expireRequest(event);
    switch (request.kind) {
      case 'run': {
        const outcome = await runExpire(request.runId, makeDeps(context));
        logger.info('expire runner', { runId: request.runId, outcome });
        return { runId: request.runId, outcome };
      }
      case 'schedule': {
        const deps = makeDeps(context);
        const run = newExpireRun({ requestedBy: 'schedule', now: deps.now() });
        await deps.runs.create(run);
        const outcome = await runExpire(run.runId, deps);
        logger.info('expire runner: scheduled run', { runId: run.runId, outcome });
        return { runId: run.runId, outcome };
      }
      case 'unknown':
        logger.error('expire runner: an event it does not take', { keys: typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 10) : typeof event });
        return {};
    }
  };
}

export const handler = expireRunnerHandler(expireDeps);
