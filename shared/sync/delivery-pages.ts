/**
 * The nightly sync's reads of the `deliveries` table's package deliveries (shared/upward/package-model.ts: one
 * per package, or part of one, and platform), one page at a time (bounded memory for any number):
 * - the changes of one China day of the window: the byDay index (`changeDay` = `<platform>#<day>`, sort key
 *   `createdAt`), between the window's bounds;
 * - what the platform still owes from before the window: the sparse `owed` index (pending deliveries only), those
 *   created up to the window's start (the window's own are read by day).
 * Bodies and claims carry no `changeDay` nor `owedBy`: only deliveries are in these indexes.
 * A page's `next` is DynamoDB's LastEvaluatedKey, kept in the run's checkpoint as it is.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PackageDelivery, PlatformName } from '../upward/package-model.js';
import { OWED_INDEX } from '../upward/packages-store.js';

export const BY_DAY_INDEX = 'byDay';

export interface DeliveryPage {
  items: PackageDelivery[];
  next?: Record<string, unknown>;
}

export interface DeliveryPages {
  /** Deliveries of `platform` on `day` (China) created in [from, to] (the caller drops `from` itself), by createdAt. */
  changes(platform: PlatformName, day: string, from: string, to: string, limit: number, startKey?: Record<string, unknown>): Promise<DeliveryPage>;
  /** Deliveries `platform` still owes that were created up to `createdUpTo`, oldest owed first. */
  owed(platform: PlatformName, createdUpTo: string, limit: number, startKey?: Record<string, unknown>): Promise<DeliveryPage>;
}

function strip(item: Record<string, unknown>): PackageDelivery {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as PackageDelivery;
}

export class DynamoDeliveryPages implements DeliveryPages {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async changes(platform: PlatformName, day: string, from: string, to: string, limit: number, startKey?: Record<string, unknown>): Promise<DeliveryPage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: BY_DAY_INDEX,
        KeyConditionExpression: 'changeDay = :day AND createdAt BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':day': `${platform}#${day}`, ':from': from, ':to': to },
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return { items: (out.Items ?? []).map(strip), ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}) };
  }

  async owed(platform: PlatformName, createdUpTo: string, limit: number, startKey?: Record<string, unknown>): Promise<DeliveryPage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: OWED_INDEX,
        KeyConditionExpression: 'owedBy = :platform',
        FilterExpression: 'createdAt <= :upTo',
        ExpressionAttributeValues: { ':platform': platform, ':upTo': createdUpTo },
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return { items: (out.Items ?? []).map(strip), ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}) };
  }
}
