/** What the jobs function works with, built once per container from its environment (the catalogue's names). */
import { functionNameEnvVar } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { tableName } from '../../shared/config.js';
import { LambdaRunStarter, type RunStarter } from '../../shared/jobs/run-starter.js';
import { DynamoRunsStore, type RunsStore } from '../../shared/jobs/runs-store.js';
import { requiredEnv } from '../../shared/upward/environment.js';

let runs: RunsStore | undefined;
let starter: RunStarter | undefined;

export function runsStore(): RunsStore {
  runs ??= new DynamoRunsStore(dynamo(), tableName('jobs'));
  return runs;
}

/** The sync runner, invoked asynchronously (HUB_FUNCTION_SYNC_RUNNER). */
export function runStarter(): RunStarter {
  starter ??= new LambdaRunStarter(lambda(), requiredEnv(functionNameEnvVar('syncRunner')));
  return starter;
}
