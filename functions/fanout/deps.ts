/** What the fan-out works with, built once per container from its environment (the catalogue's names). */
import { dynamo } from '../../shared/aws/clients.js';
import { sqs } from '../../shared/aws/sqs-client.js';
import { tableName } from '../../shared/config.js';
import { SqsDeliveryQueues } from '../../shared/upward/delivery-queues.js';
import { deliveryQueueUrls } from '../../shared/upward/environment.js';
import type { FanoutDeps } from '../../shared/upward/fanout.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';

let deps: FanoutDeps | undefined;

export function fanoutDeps(): FanoutDeps {
  deps ??= { store: new DynamoPackagesStore(dynamo(), tableName('deliveries')), queues: new SqsDeliveryQueues(sqs(), deliveryQueueUrls()) };
  return deps;
}
