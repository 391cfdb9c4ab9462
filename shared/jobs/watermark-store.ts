/**
 * The nightly sync's watermark per platform (`WATERMARK#<platform>`, sk `WATERMARK` in the `jobs` table): the end
 * of the last window the platform acknowledged. It only moves forward, from the value a run started from, to that
 * run's `to` (a conditional update): a run that finds it moved by someone else changes nothing.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PlatformName } from '../upward/package-model.js';

export const watermarkKey = (platform: string) => ({ pk: `WATERMARK#${platform}`, sk: 'WATERMARK' });

export interface Watermark {
  /** ISO instant: every change created up to it was sent and acknowledged. */
  at: string;
  /** The run that moved it there. */
  runId: string;
  movedAt: string;
}

/** moved: now at `next`; already: it was at `next` by this run before (a resumed run); lost: it is somewhere else. */
export type Advance = 'moved' | 'already' | 'lost';

export interface Watermarks {
  get(platform: PlatformName): Promise<Watermark | undefined>;
  /** Moves the watermark from `previous` (undefined: none yet) to `next`, for `runId`. */
  advance(platform: PlatformName, previous: string | undefined, next: string, runId: string, at: string): Promise<Advance>;
}

export class DynamoWatermarks implements Watermarks {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(platform: PlatformName): Promise<Watermark | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: watermarkKey(platform), ConsistentRead: true }));
    if (!out.Item) return undefined;
    return { at: String(out.Item.at), runId: String(out.Item.runId), movedAt: String(out.Item.movedAt) };
  }

  async advance(platform: PlatformName, previous: string | undefined, next: string, runId: string, at: string): Promise<Advance> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: watermarkKey(platform),
          UpdateExpression: 'SET #at = :next, runId = :run, movedAt = :movedAt',
          ConditionExpression: previous === undefined ? 'attribute_not_exists(#at)' : '#at = :previous',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':next': next, ':run': runId, ':movedAt': at, ...(previous === undefined ? {} : { ':previous': previous }) },
        }),
      );
      return 'moved';
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const now = await this.get(platform);
      return now?.at === next && now.runId === runId ? 'already' : 'lost';
    }
  }
}
