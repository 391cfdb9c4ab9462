/**
 * Every stored item of `keys` in one table, by BatchGetItem: 100 keys a request, the keys DynamoDB leaves
 * unprocessed asked again with back-off, StoreBusyError after `maxRounds` rounds. Absent keys have no item; the
 * items come in no particular order.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backoff, StoreBusyError } from './errors.js';

const KEYS_PER_REQUEST = 100;

export interface BatchGetOptions {
  /** Strongly consistent reads (eventually consistent by default, as DynamoDB's). */
  consistent?: boolean;
  projection?: string;
  /** No request is started after it fires, and requests in flight are aborted. */
  signal?: AbortSignal;
  maxRounds?: number;
  /** What StoreBusyError says when keys stay unprocessed. */
  what?: string;
}

export async function batchGetAll(db: DynamoDBDocumentClient, table: string, keys: readonly Record<string, unknown>[], options: BatchGetOptions = {}): Promise<Record<string, unknown>[]> {
  const { consistent, projection, signal, maxRounds = 8, what = 'DynamoDB kept returning unprocessed keys' } = options;
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + KEYS_PER_REQUEST);
    for (let round = 0; pending && pending.length > 0; round++) {
      if (round >= maxRounds) throw new StoreBusyError(what);
      if (round > 0) await backoff(round, undefined, undefined, signal);
      signal?.throwIfAborted();
      const request = { Keys: pending, ...(consistent !== undefined ? { ConsistentRead: consistent } : {}), ...(projection ? { ProjectionExpression: projection } : {}) };
      const out = await db.send(new BatchGetCommand({ RequestItems: { [table]: request } }), { abortSignal: signal });
      items.push(...(out.Responses?.[table] ?? []));
      pending = out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return items;
}
