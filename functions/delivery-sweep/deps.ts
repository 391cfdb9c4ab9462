/** What the delivery sweep works with, built once per container from its environment (the catalogue's names). */
import { dynamo } from '../../shared/aws/clients.js';
import { sqs } from '../../shared/aws/sqs-client.js';
import { tableName } from '../../shared/config.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { PowertoolsDeliveryMetrics, type DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { SqsDeliveryQueues } from '../../shared/upward/delivery-queues.js';
import type { SweepDeps } from '../../shared/upward/delivery-sweep.js';
import { exchange } from '../../infra/catalogue.js';
import { deliveryQueueUrls, requeueAfterMs } from '../../shared/upward/environment.js';

type Ports = Omit<SweepDeps, 'remainingMs'>;
let ports: Ports | undefined;
let metrics: DeliveryMetrics | undefined;

function sweepPorts(): Ports {
  ports ??= {
    store: new DynamoPackagesStore(dynamo(), tableName('deliveries')),
    queues: new SqsDeliveryQueues(sqs(), deliveryQueueUrls()),
    // exchange.requeueAfterSeconds; HUB_REQUEUE_AFTER_SECONDS in tests and demos only.
    requeueAfterMs: requeueAfterMs(),
    settleOpenAfterMs: exchange.settleOpenAfterSeconds * 1000,
    now: () => new Date(),
  };
  return ports;
}

export function sweepDeps(context: { getRemainingTimeInMillis(): number }, overrides: Partial<SweepDeps> = {}): SweepDeps {
  return { ...sweepPorts(), remainingMs: () => context.getRemainingTimeInMillis(), ...overrides };
}

export function sweepMetrics(): DeliveryMetrics {
  metrics ??= new PowertoolsDeliveryMetrics();
  return metrics;
}
