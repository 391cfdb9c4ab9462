/**
 * Every record head, page by page: a Scan of the records table keeping the heads (sk `HEAD`; superseded versions are
 * read and dropped by the filter). A page holds at most `limit` items read, so memory stays bounded however many
 * records there are; `next` is where the next page starts (kept in a publish run's checkpoint).
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredHead } from '../domain/record-model.js';

export interface HeadsPage {
  heads: StoredHead[];
  next?: Record<string, unknown>;
}

export interface HeadsScan {
  scan(start: Record<string, unknown> | undefined, limit: number): Promise<HeadsPage>;
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
}
