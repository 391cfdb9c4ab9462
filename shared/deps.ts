/** The adapters a handler works with, built once per container from its environment. */
import type { AuthDeps } from './auth/authenticate.js';
import { dynamo } from './aws/clients.js';
import { tableName } from './config.js';
import { DynamoAuditStore } from './store/audit-store.js';
import { DynamoRecordsStore } from './store/records-store.js';
import { DynamoSourcesStore } from './store/sources-store.js';
import { DynamoThrottleStore } from './store/throttle-store.js';
import { DynamoPolicyStore } from './publication/policy-store.js';

let sources: DynamoSourcesStore | undefined;
let records: DynamoRecordsStore | undefined;
let throttle: DynamoThrottleStore | undefined;
let audit: DynamoAuditStore | undefined;
let policy: DynamoPolicyStore | undefined;

export function sourcesStore(): DynamoSourcesStore {
  sources ??= new DynamoSourcesStore(dynamo(), tableName('sources'));
  return sources;
}

export function recordsStore(): DynamoRecordsStore {
  records ??= new DynamoRecordsStore(dynamo(), tableName('records'));
  return records;
}

/** The per-key request counters (every function that authenticates). */
export function throttleStore(): DynamoThrottleStore {
  throttle ??= new DynamoThrottleStore(dynamo(), tableName('throttle'));
  return throttle;
}

/** The append-only audit of reads of personal data. */
export function auditStore(): DynamoAuditStore {
  audit ??= new DynamoAuditStore(dynamo(), tableName('audit'));
  return audit;
}

export function authDeps(): AuthDeps {
  return { sources: sourcesStore(), throttle: throttleStore() };
}

/** The publication policy (one item of the sources table): read by the push path, set by the operator. */
export function policyStore(): DynamoPolicyStore {
  policy ??= new DynamoPolicyStore(dynamo(), tableName('sources'));
  return policy;
}
