/**
 * The ingest's Continuer through the real @aws-sdk/client-lambda against the local stack's Lambda Invoke API
 * (infra/local/lambda-api.ts), as the batch-ingest function calls it there: the continuation is queued at once
 * and delivered to the function as its event.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFunctionName } from '../../infra/catalogue.js';
import { asyncInvocations } from '../../infra/local/lambda-async.js';
import { startLambdaApi, type LambdaApi } from '../../infra/local/lambda-api.js';
import type { FunctionInvoker } from '../../infra/local/lambda-runtime.js';
import { awsClientConfig } from '../../shared/aws/client-config.js';
import { LambdaContinuer } from '../../shared/batch/lambda-continuer.js';

const delivered: { fn: string; event: unknown }[] = [];
const invoker: FunctionInvoker = {
  invoke: async (fn, event) => {
    delivered.push({ fn, event });
    return { status: 'ok', result: null };
  },
  close: async () => undefined,
};
const invocations = asyncInvocations({ invoker, retryDelaysMs: [], log: () => undefined });

let api: LambdaApi;
let client: LambdaClient;

beforeAll(async () => {
  api = await startLambdaApi({ invoker, async: invocations, functionNames: ['batchIngest'] });
  client = new LambdaClient(awsClientConfig({ endpoint: api.endpoint, region: 'cn-north-1', credentials: { accessKeyId: 'HUBTESTKEY0000000', secretAccessKey: 'x' } }));
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
  invocations.close();
});

describe('LambdaContinuer against the local Invoke API', () => {
  it('queues the continuation, which the function then receives as its event', async () => {
    await new LambdaContinuer(client, localFunctionName('batchIngest')).continueLater('bat_local');
    await invocations.idle();
    expect(delivered).toEqual([{ fn: 'batchIngest', event: { continueBatch: 'bat_local' } }]);
  });

  it('fails for a function that does not exist', async () => {
    await expect(new LambdaContinuer(client, localFunctionName('nothere')).continueLater('bat_x')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
