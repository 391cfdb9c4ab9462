/**
 * Can the stack reach its store? The health check's question, answered
 * cheaply: one eventually consistent GetItem of a fixed key on the sources
 * table (the item need not exist; no scan, half a read unit). A success is
 * remembered for OK_TTL_MS so that a burst of probes (load balancers,
 * monitors, a client polling) reads the table at most once per interval;
 * probes that arrive while one is under way share its answer. A failure is
 * not remembered: the next probe asks again.
 *
 * The AWS SDK is imported on the first probe, not at init: the health
 * function also answers every unmatched route (404, 405), and those never
 * need it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClientConfig } from '../aws/client-config.js';
import { tableName } from '../config.js';

/** How long a successful probe stands for the store being reachable. */
export const OK_TTL_MS = 2_000;
/** The probe's own limits: it must answer well within the health function's timeout (5 s). */
export const PROBE_ATTEMPTS = 2;
/** Per attempt, connecting included. */
export const PROBE_REQUEST_TIMEOUT_MS = 1_000;
/** The key read: the sources table's items are `SOURCES`/`KEY#…`, so this one never exists. */
export const PROBE_KEY = { pk: { S: 'HEALTH' }, sk: { S: 'PROBE' } } as const;

export type StoreState = { reachable: true } | { reachable: false; error: unknown };

/** Wraps a probe that throws when the store cannot be reached: successes cached for `okTtlMs`, concurrent calls sharing one probe. */
export function cachedProbe(probe: () => Promise<void>, options: { okTtlMs?: number; now?: () => number } = {}): () => Promise<StoreState> {
  const okTtlMs = options.okTtlMs ?? OK_TTL_MS;
  const now = options.now ?? (() => Date.now());
  let okAt: number | undefined;
  let inFlight: Promise<StoreState> | undefined;
  return () => {
    if (okAt !== undefined && now() - okAt < okTtlMs) return Promise.resolve({ reachable: true });
    inFlight ??= probe()
      .then((): StoreState => {
        okAt = now();
        return { reachable: true };
      })
      .catch((error: unknown): StoreState => {
        okAt = undefined;
        return { reachable: false, error };
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

let client: DynamoDBClient | undefined;

/** One GetItem of PROBE_KEY on the sources table; throws what the SDK throws. */
export async function probeSourcesTable(): Promise<void> {
  const { DynamoDBClient, GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  client ??= new DynamoDBClient(dynamoClientConfig({ maxAttempts: PROBE_ATTEMPTS }));
  await client.send(new GetItemCommand({ TableName: tableName('sources'), Key: PROBE_KEY, ProjectionExpression: 'pk' }), {
    requestTimeout: PROBE_REQUEST_TIMEOUT_MS,
  });
}

/** Whether the store can be reached now (cached as above). */
export const storeState = cachedProbe(probeSourcesTable);
