/** The Lambda client of the batch ingest (its own continuation), created once per container (see clients.ts). */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { awsClientConfig } from './client-config.js';
import { meterRequests } from './request-meter.js';

let lambdaClient: LambdaClient | undefined;

/**
 * The Lambda client, created once, for asynchronous invocations (InvokeCommand with InvocationType `Event`,
 * answered at once); its endpoint comes from AWS_ENDPOINT_URL_LAMBDA where set. The request timeout of
 * client-config.ts applies: a synchronous invocation of a function that runs longer needs a client of its own.
 */
export function lambda(): LambdaClient {
  lambdaClient ??= meterRequests(new LambdaClient(awsClientConfig()));
  return lambdaClient;
}
