/** What the dead-letter function works with, built once per container from its environment (the catalogue's names). */
import { platforms, queues } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { sqs } from '../../shared/aws/sqs-client.js';
import { tableName } from '../../shared/config.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { SqsDeadLetterQueue, type DeadLetterQueue } from '../../shared/upward/dead-letter-queue.js';
import type { PlatformName } from '../../shared/upward/package-model.js';
import { requiredEnv } from '../../shared/upward/environment.js';
import { redriveMode, type RedriveMode } from '../../shared/upward/redrive.js';

let store: DynamoPackagesStore | undefined;
const deadLetterQueues = new Map<PlatformName, DeadLetterQueue>();

export function deliveriesStore(): DynamoPackagesStore {
  store ??= new DynamoPackagesStore(dynamo(), tableName('deliveries'));
  return store;
}

/** The platform's dead-letter queue, with its delivery queue (where a redrive sends the messages back). */
export function deadLetterQueue(platform: PlatformName): DeadLetterQueue {
  let queue = deadLetterQueues.get(platform);
  if (!queue) {
    const spec = platforms[platform];
    const destination = queues[spec.queue];
    // The queue's ARN: the move task's destination, set by the CDK stack (locally the redrive resends: not needed).
    const queueArn = process.env[destination.arnEnvVar];
    queue = new SqsDeadLetterQueue(sqs(), {
      deadLetter: requiredEnv(queues[spec.deadLetterQueue].envVar),
      queue: requiredEnv(destination.envVar),
      ...(queueArn ? { queueArn } : {}),
    });
    deadLetterQueues.set(platform, queue);
  }
  return queue;
}

export function currentRedriveMode(): RedriveMode {
  return redriveMode();
}
