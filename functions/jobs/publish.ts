/**
 * POST /v1/jobs/publish and the view of its runs, for the jobs function: the run is made waiting in the jobs table
 * and started on the site publisher (functions/site-publisher), asynchronously; a run that could not be started is
 * failed, and the answer is 503 (ask again).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startJobSchema } from '../../contracts/jobs.js';
import { functionNameEnvVar } from '../../infra/catalogue.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { bodyText, jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, unavailable } from '../../shared/http/errors.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { newRunId, type JobRun } from '../../shared/jobs/run-model.js';
import { LambdaRunStarter, type RunStarter } from '../../shared/jobs/run-starter.js';
import { logger } from '../../shared/logger.js';
import { newPublishRun, type PublishRun } from '../../shared/site-publishing/publish-run-model.js';
import { requiredEnv } from '../../shared/upward/environment.js';
import { runsStore } from './deps.js';

const MAX_BODY = 4 * 1024;

let starter: RunStarter | undefined;

/** The site publisher, invoked asynchronously with `{"runId"}` (HUB_FUNCTION_SITE_PUBLISHER). */
export function publisherStarter(): RunStarter {
  starter ??= new LambdaRunStarter(lambda(), requiredEnv(functionNameEnvVar('sitePublisher')));
  return starter;
}

export async function startPublish(event: APIGatewayProxyEventV2, now: Date = new Date(), start: RunStarter = publisherStarter()) {
  const body = bodyText(event, MAX_BODY).trim() === '' ? {} : jsonObjectBody(event, MAX_BODY);
  const parsed = startJobSchema.safeParse(body);
  if (!parsed.success) throw badRequest('任务参数有误 (invalid job request)', fieldErrors(parsed.error), 'invalid_body');
  const run = newPublishRun({ runId: newRunId(), ...(parsed.data.asOf ? { asOf: parsed.data.asOf } : {}), requestedBy: 'operator', now });
  // The runs store writes any run's item (its shapes are the sync run's only in its types).
  const asStored = (r: PublishRun) => r as unknown as JobRun;
  await runsStore().create(asStored(run));
  logger.appendKeys({ runId: run.runId, job: run.job });
  try {
    await start.start({ runId: run.runId });
  } catch (e) {
    logger.error('jobs: the publish run could not be started', { runId: run.runId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    await runsStore().replaceWaiting(asStored({ ...run, status: 'failed', reason: 'the run could not be started (the site publisher was not reached)', finishedAt: new Date().toISOString() }));
    throw unavailable('任务未能启动，请重试 (the run could not be started: ask again)');
  }
  return json(202, { runId: run.runId });
}
