/** What the feedback function works with, built once per container from its environment (the catalogue's names). */
import { dynamo } from '../../shared/aws/clients.js';
import { tableName } from '../../shared/config.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import type { FeedbackDeps } from '../../shared/upward/feedback.js';

let deps: FeedbackDeps | undefined;

export function feedbackDeps(): FeedbackDeps {
  deps ??= { store: new DynamoPackagesStore(dynamo(), tableName('deliveries')), now: () => new Date() };
  return deps;
}
