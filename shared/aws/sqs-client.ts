/** The SQS client of the fan-out, the connectors and the delivery sweep, created once per container (see clients.ts). */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { awsClientConfig } from './client-config.js';
import { meterRequests } from './request-meter.js';

let sqsClient: SQSClient | undefined;

/**
 * How the hub's SQS clients are configured (exported for tests and for one-off clients of the local stack):
 * requests go to the client's endpoint, never to the host of the queue URL (`useQueueUrlAsEndpoint: false`).
 * On AWS both are `sqs.<region>.amazonaws.com`; the local emulator (fauxqs) hands out queue URLs on
 * `sqs.<region>.localhost`, which does not resolve, while it listens on 127.0.0.1 (AWS_ENDPOINT_URL_SQS).
 */
export function sqsClientConfig(overrides: Partial<SQSClientConfig> = {}): SQSClientConfig {
  return awsClientConfig({ useQueueUrlAsEndpoint: false, ...overrides });
}

/** The SQS client, created once; its endpoint comes from AWS_ENDPOINT_URL_SQS where set (the local stack). */
export function sqs(): SQSClient {
  sqsClient ??= meterRequests(new SQSClient(sqsClientConfig()));
  return sqsClient;
}
