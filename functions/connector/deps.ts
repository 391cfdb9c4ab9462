/**
 * What a connector works with, built once per container from its environment: HUB_PLATFORM (the catalogue sets
 * it per function) names the platform; its base URL, its queue's and dead-letter queue's URLs and the redrive
 * policy follow from the catalogue (`platforms`, `queues`).
 */
import type { Context } from 'aws-lambda';
import { exchange, platforms, queues } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { sqs } from '../../shared/aws/sqs-client.js';
import { fieldCipher, tableName } from '../../shared/config.js';
import type { ConnectorDeps } from '../../shared/upward/connector.js';
import { PowertoolsDeliveryMetrics, type DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { SqsDeadLetters, SqsDeliveryQueues, SqsRedelivery } from '../../shared/upward/delivery-queues.js';
import { connectorPlatform, platformRequestTimeoutMs, redeliveryBaseSeconds, requiredEnv } from '../../shared/upward/environment.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { fetchPost } from '../../shared/upward/platform-client.js';
import { DynamoRecordVersions } from '../../shared/upward/record-versions.js';
import { senderUscc } from '../../shared/upward/sender.js';

type Ports = Omit<ConnectorDeps, 'remainingMs'>;
let ports: Ports | undefined;
let sender: string | undefined;

function connectorPorts(): Ports {
  if (!ports) {
    const platform = connectorPlatform();
    const spec = platforms[platform];
    ports = {
      platform,
      baseUrl: requiredEnv(spec.urlEnvVar),
      // Checked when the first package is built: a missing sender fails every delivery, clearly, until it is set.
      sender: () => (sender ??= senderUscc()),
      packages: new DynamoPackagesStore(dynamo(), tableName('deliveries')),
      versions: new DynamoRecordVersions(dynamo(), tableName('records')),
      queues: new SqsDeliveryQueues(sqs(), { [platform]: requiredEnv(queues[spec.queue].envVar) }),
      cipher: fieldCipher,
      post: fetchPost,
      deadLetters: new SqsDeadLetters(sqs(), requiredEnv(queues[spec.deadLetterQueue].envVar)),
      redelivery: new SqsRedelivery(sqs(), requiredEnv(queues[spec.queue].envVar)),
      // retry-policy.ts REDELIVERY_BASE_SECONDS; HUB_REDELIVERY_BASE_SECONDS in tests and demos only.
      redeliveryBaseSeconds: redeliveryBaseSeconds(),
      maxReceiveCount: queues[spec.queue].deadLetter.maxReceiveCount,
      attemptsPerInvocation: exchange.attemptsPerInvocation,
      // exchange.requestTimeoutSeconds; HUB_PLATFORM_TIMEOUT_SECONDS in tests and demos only.
      requestTimeoutMs: platformRequestTimeoutMs(),
      now: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
    };
  }
  return ports;
}

/** The connector's dependencies for one invocation; `overrides` replace ports (tests: the POST, the clock, the sleep). */
export function connectorDeps(context: Pick<Context, 'getRemainingTimeInMillis'>, overrides: Partial<ConnectorDeps> = {}): ConnectorDeps {
  return { ...connectorPorts(), remainingMs: () => context.getRemainingTimeInMillis(), ...overrides };
}

let metrics: DeliveryMetrics | undefined;

export function connectorMetrics(): DeliveryMetrics {
  metrics ??= new PowertoolsDeliveryMetrics();
  return metrics;
}
