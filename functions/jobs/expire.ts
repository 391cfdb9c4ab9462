/**
 * POST /v1/jobs/expire and the view of its runs, for the jobs function: the run is made waiting in the jobs table
 * and started on the expire runner (functions/expire-runner), asynchronously; a run that could not be started is
 * failed, and the answer is 503 (ask again).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startJobSchema } from '../../contracts/jobs.js';
import { functionNameEnvVar } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { tableName } from '../../shared/config.js';
import { bodyText, jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, unavailable } from '../../shared/http/errors.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { logger } from '../../shared/logger.js';
import { DynamoExpireRunsStore, failExpireRun, newExpireRun, type ExpireRunsStore } from '../../shared/publication/expire-run.js';
import { requiredEnv } from '../../shared/upward/environment.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { startExpireRun } from '../../shared/publication/expire-starter.js';

const MAX_BODY = 4 * 1024;

let runs: ExpireRunsStore | undefined;
export function expireRunsStore(): ExpireRunsStore {
  runs ??= new DynamoExpireRunsStore(dynamo(), tableName('jobs'));
  return runs;
}

export async function startExpire(event: APIGatewayProxyEventV2, now: Date = new Date()) {
  const body = bodyText(event, MAX_BODY).trim() === '' ? {} : jsonObjectBody(event, MAX_BODY);
  const parsed = startJobSchema.safeParse(body);
  if (!parsed.success) throw badRequest('任务参数有误 (invalid job request)', fieldErrors(parsed.error), 'invalid_body');
  const run = newExpireRun({ ...(parsed.data.asOf ? { asOf: parsed.data.asOf } : {}), requestedBy: 'operator', now });
  await expireRunsStore().create(run);
  logger.appendKeys({ runId: run.runId, job: run.job });
  try {
    await startExpireRun(lambda(), requiredEnv(functionNameEnvVar('expireRunner')), run.runId);
  } catch (e) {
    logger.error('jobs: the expire run could not be started', { runId: run.runId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    await failExpireRun(expireRunsStore(), run, 'the run could not be started (the expire runner was not reached)', new Date());
    throw unavailable('任务未能启动，请重试 (the run could not be started: ask again)');
  }
  return json(202, { runId: run.runId });
}
