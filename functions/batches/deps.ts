/** What the batches function works with, built once per container from its environment (the catalogue's names). */
import { batchLimits, buckets, environment } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { tableName } from '../../shared/config.js';
import { DynamoBatchesStore } from '../../shared/store/batches-store.js';

let store: DynamoBatchesStore | undefined;

export function batchesStore(): DynamoBatchesStore {
  store ??= new DynamoBatchesStore(dynamo(), tableName('batches'));
  return store;
}

/** The batch bucket's name (HUB_BATCH_BUCKET). */
export function batchBucket(): string {
  const name = process.env[buckets.batches.envVar];
  if (!name) throw new Error(`environment variable ${buckets.batches.envVar} is not set`);
  return name;
}

/** S3 keeps a presigned URL working for at most 7 days. */
const MAX_URL_SECONDS = 7 * 24 * 3600;

/**
 * How long an upload URL works: HUB_BATCH_UPLOAD_SECONDS when set (a whole number of seconds, 1 to 7 days),
 * else the catalogue's. A value that is not one is a fault of the deployment, never silently ignored.
 */
export function uploadUrlSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[environment.batchUploadSeconds];
  if (raw === undefined || raw === '') return batchLimits.uploadUrlSeconds;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || seconds < 1 || seconds > MAX_URL_SECONDS) {
    throw new Error(`${environment.batchUploadSeconds} must be a whole number of seconds from 1 to ${MAX_URL_SECONDS}, not "${raw}"`);
  }
  return seconds;
}
