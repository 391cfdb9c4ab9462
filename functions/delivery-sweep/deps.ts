/** What the delivery sweep works with, built once per container from its environment (the catalogue's names). */
import { dynamo } from '../../shared/aws/clients.js';
import { sqs } from '../../shared/aws/sqs-client.js';
import { tableName } from '../../shared/config.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { PowertoolsDeliveryMetrics, type DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { SqsDeliveryQueues } from '../../shared/upward/delivery-queues.js';
import type { SweepDeps } from '../../shared/upward/delivery-sweep.js';
import type { ReconcileDeps } from '../../shared/upward/reconcile.js';
import { DynamoHeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { eventSources, exchange } from '../../infra/catalogue.js';
import { deliveryQueueUrls, reconcileSettledAfterMs, requeueAfterMs } from '../../shared/upward/environment.js';

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

let reconcilePorts: Omit<ReconcileDeps, 'remainingMs'> | undefined;

/** The reconciliation's (shared/upward/reconcile.ts): the sweep's ports, the heads of the records table, the catalogue's settings. */
export function reconcileDeps(context: { getRemainingTimeInMillis(): number }, overrides: Partial<ReconcileDeps> = {}): ReconcileDeps {
  reconcilePorts ??= {
    store: new DynamoPackagesStore(dynamo(), tableName('deliveries')),
    queues: new SqsDeliveryQueues(sqs(), deliveryQueueUrls()),
    now: () => new Date(),
    heads: new DynamoHeadsScan(dynamo(), tableName('records')),
    // exchange.reconcile.settledAfterSeconds; HUB_RECONCILE_SETTLED_AFTER_SECONDS in tests and demos only.
    settledAfterMs: reconcileSettledAfterMs(),
    passEveryMs: exchange.reconcile.passEverySeconds * 1000,
    pageItems: exchange.reconcile.pageItems,
    packageVersions: eventSources.recordChanges.batchSize,
    marginMs: exchange.reconcile.marginSeconds * 1000,
  };
  return { ...reconcilePorts, remainingMs: () => context.getRemainingTimeInMillis(), ...overrides } as ReconcileDeps;
}

export function sweepMetrics(): DeliveryMetrics {
  metrics ??= new PowertoolsDeliveryMetrics();
  return metrics;
}
