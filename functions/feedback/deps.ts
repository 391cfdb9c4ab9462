/** What the feedback function works with, built once per container from its environment (the catalogue's names). */
import { dynamo } from '../../shared/aws/clients.js';
import { tableName } from '../../shared/config.js';
import { DynamoDeliveriesStore } from '../../shared/upward/deliveries-store.js';
import type { FeedbackDeps } from '../../shared/upward/feedback.js';

let deps: FeedbackDeps | undefined;

export function feedbackDeps(): FeedbackDeps {
  deps ??= { store: new DynamoDeliveriesStore(dynamo(), tableName('deliveries')), now: () => new Date() };
  return deps;
}
