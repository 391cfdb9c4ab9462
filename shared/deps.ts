/** The adapters a handler works with, built once per container from its environment. */
import { operatorKeyHash } from './auth/operator-key.js';
import type { AuthDeps } from './auth/authenticate.js';
import { dynamo } from './aws/clients.js';
import { tableName } from './config.js';
import { DynamoRecordsStore } from './store/records-store.js';
import { DynamoSourcesStore } from './store/sources-store.js';

let sources: DynamoSourcesStore | undefined;
let records: DynamoRecordsStore | undefined;

export function sourcesStore(): DynamoSourcesStore {
  sources ??= new DynamoSourcesStore(dynamo(), tableName('sources'));
  return sources;
}

export function recordsStore(): DynamoRecordsStore {
  records ??= new DynamoRecordsStore(dynamo(), tableName('records'));
  return records;
}

export function authDeps(): AuthDeps {
  return { sources: sourcesStore(), operatorKeyHash };
}
