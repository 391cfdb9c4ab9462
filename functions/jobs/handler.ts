/**
 * POST /v1/jobs/{name} (start a run: 202 {"runId"}) and GET /v1/jobs/runs/{runId} (its status and counts), for the
 * operator (API.md "Jobs"). A run is made waiting here and started on the sync runner (shared/sync/run-sync.ts),
 * asynchronously; a run that could not be started is failed, and the answer is 503 (ask again).
 */
import { isSyncJob, JOB_NAMES, RUN_ID_PATTERN, startJobSchema } from '../../contracts/jobs.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { authDeps } from '../../shared/deps.js';
import { shorten } from '../../shared/domain/text.js';
import { newRun, newRunId, runView } from '../../shared/jobs/run-model.js';
import { bodyText, jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, notFound, unavailable } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { logger } from '../../shared/logger.js';
import { runsStore, runStarter } from './deps.js';
import { EXPIRE_JOB, expireRunView, isExpireRun } from '../../shared/publication/expire-run.js';
import { startExpire } from './expire.js';
import { isPublishRun, PUBLISH_JOB, publishRunView } from '../../shared/site-publishing/publish-run-model.js';
import { startPublish } from './publish.js';

const MAX_BODY = 4 * 1024;
/** How much of a requested name or id an error message quotes back. */
const QUOTED_MAX = 64;

export const handler = httpHandler(async (event) => {
  requireRole(await authenticate(event, authDeps()), ['operator']);
  switch (event.routeKey) {
    case 'POST /v1/jobs/{name}': {
      const name = event.pathParameters?.name ?? '';
      if (name === EXPIRE_JOB) return startExpire(event);
      if (name === PUBLISH_JOB) return startPublish(event);
      if (!isSyncJob(name)) throw notFound(`没有任务${shorten(name, QUOTED_MAX)} (no such job; available: ${JOB_NAMES.join(', ')})`);
      // No body at all is the same as {}.
      const body = bodyText(event, MAX_BODY).trim() === '' ? {} : jsonObjectBody(event, MAX_BODY);
      const parsed = startJobSchema.safeParse(body);
      if (!parsed.success) throw badRequest('任务参数有误 (invalid job request)', fieldErrors(parsed.error), 'invalid_body');
      const run = newRun({ runId: newRunId(), job: name, ...(parsed.data.asOf ? { asOf: parsed.data.asOf } : {}), requestedBy: 'operator', now: new Date() });
      await runsStore().create(run);
      logger.appendKeys({ runId: run.runId, job: run.job });
      try {
        await runStarter().start({ runId: run.runId });
      } catch (e) {
        logger.error('jobs: the run could not be started', { runId: run.runId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        await runsStore().replaceWaiting({ ...run, status: 'failed', reason: 'the run could not be started (the sync runner was not reached)', finishedAt: new Date().toISOString() });
        throw unavailable('任务未能启动，请重试 (the run could not be started: ask again)');
      }
      return json(202, { runId: run.runId });
    }
    case 'GET /v1/jobs/runs/{runId}': {
      const id = event.pathParameters?.runId ?? '';
      const run = RUN_ID_PATTERN.test(id) ? await runsStore().get(id) : undefined;
      if (!run) throw notFound(`没有运行记录${shorten(id, QUOTED_MAX)} (unknown run id)`);
      if (isExpireRun(run)) return json(200, expireRunView(run));
      if (isPublishRun(run)) return json(200, publishRunView(run));
      logger.appendKeys({ runId: id, status: run.status });
      return json(200, runView(run));
    }
    default:
      throw notFound(`没有这个接口 (no route ${event.routeKey})`, 'no_route');
  }
});
