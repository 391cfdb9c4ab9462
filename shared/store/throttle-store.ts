/**
 * Per-key request counters: a fixed one-second window per key, in the
 * `throttle` table. Port and DynamoDB adapter.
 *
 * Items: `pk=RATE#<key hash>#<epoch second>`, `n` the requests admitted in
 * that second, `expiresAt` (epoch seconds, DynamoDB TTL) a minute later. One
 * conditional UpdateItem per request both counts and decides: it adds 1 only
 * while `n` is below the limit, so concurrent requests in every execution
 * environment (and on both runtimes) share one count and never exceed it.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** How long a window's counter is kept after its second (TTL deletes it; reads never look back). */
export const WINDOW_TTL_SECONDS = 60;

export interface ThrottleStore {
  /** Counts one request of `keyHash` in the window `second`; false (and nothing counted) when `limit` were already admitted in it. */
  admit(keyHash: string, second: number, limit: number): Promise<boolean>;
}

export class DynamoThrottleStore implements ThrottleStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async admit(keyHash: string, second: number, limit: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `RATE#${keyHash}#${second}` },
          UpdateExpression: 'ADD n :one SET expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expires': second + WINDOW_TTL_SECONDS },
        }),
      );
      return true;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }
}
