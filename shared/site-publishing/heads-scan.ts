/**
 * Every record head, page by page: a Scan of the records table keeping the heads (sk `HEAD`; superseded versions are
 * read and dropped by the filter). A page holds at most `limit` items read, so memory stays bounded however many
 * records there are; `next` is where the next page starts (kept in a publish run's checkpoint).
 *
 * And the one write the publish run makes to the records table, as it walks every head: the review queue's index
 * attributes of a head an older hub wrote without them (setQueue).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredHead } from '../domain/record-model.js';

export type QueueAttributes = Required<Pick<StoredHead, 'publicationQueue' | 'publicationQueueKey'>>;

export interface HeadsPage {
  heads: StoredHead[];
  next?: Record<string, unknown>;
}

export interface HeadsScan {
  scan(start: Record<string, unknown> | undefined, limit: number): Promise<HeadsPage>;
  /**
   * Sets the review queue's index attributes (shared/publication/decisions.ts missingQueueOf) on a head that still
   * has none and is still at `version`: a conditional update of those two attributes and nothing else, not a new
   * version (the stream's MODIFY keeps its version: the fan-out sends nothing upward, shared/upward/fanout.ts
   * newVersionOf, and the site's pages stay the same). False when the head changed or got them meanwhile.
   */
  setQueue(id: string, version: number, queue: QueueAttributes): Promise<boolean>;
}

export class DynamoHeadsScan implements HeadsScan {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async scan(start: Record<string, unknown> | undefined, limit: number): Promise<HeadsPage> {
    const out = await this.db.send(
      new ScanCommand({
        TableName: this.table,
        FilterExpression: 'sk = :head',
        ExpressionAttributeValues: { ':head': 'HEAD' },
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const heads = (out.Items ?? []).map((item) => {
      const { pk: _pk, sk: _sk, ...head } = item;
      return head as StoredHead;
    });
    return { heads, ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}) };
  }

  async setQueue(id: string, version: number, queue: QueueAttributes): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `REC#${id}`, sk: 'HEAD' },
          UpdateExpression: 'SET publicationQueue = :queue, publicationQueueKey = :key',
          ConditionExpression: 'attribute_exists(pk) AND version = :version AND attribute_not_exists(publicationQueue)',
          ExpressionAttributeValues: { ':queue': queue.publicationQueue, ':key': queue.publicationQueueKey, ':version': version },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}
