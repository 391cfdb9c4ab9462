/**
 * Objections in the `objections` table (adapter): pk `OBJ#<id>`, sk `OBJ`; the sparse index `open` (pk `openQueue`,
 * present only while open; sk `filedAt`). Filing and resolving are written in the same transaction as the record's
 * head (decisions-store.ts commit): these build those items.
 */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ObjectionOutcome } from '../../contracts/publication.js';
import type { Objection } from './objection-model.js';

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

export const OPEN_OBJECTIONS_INDEX = 'open';
const key = (id: string) => ({ pk: `OBJ#${id}`, sk: 'OBJ' });

export interface ObjectionsPage {
  items: Objection[];
  next?: { id: string; filedAt: string };
}

function strip(item: Record<string, unknown>): Objection {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as Objection;
}

export class DynamoObjectionsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  async get(id: string): Promise<Objection | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(id), ConsistentRead: true }));
    return out.Item ? strip(out.Item) : undefined;
  }

  /** The open objections, oldest first (the earliest deadlines: the overdue first). */
  async listOpen(limit: number, after?: { id: string; filedAt: string }): Promise<ObjectionsPage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: OPEN_OBJECTIONS_INDEX,
        KeyConditionExpression: 'openQueue = :open',
        ExpressionAttributeValues: { ':open': 'open' },
        Limit: limit,
        ...(after ? { ExclusiveStartKey: { ...key(after.id), openQueue: 'open', filedAt: after.filedAt } } : {}),
      }),
    );
    const last = out.LastEvaluatedKey as { pk?: string; filedAt?: string } | undefined;
    return { items: (out.Items ?? []).map(strip), ...(last?.pk && last.filedAt ? { next: { id: last.pk.slice('OBJ#'.length), filedAt: last.filedAt } } : {}) };
  }

  /** A new objection (never over another). */
  filing(objection: Objection): TransactItem {
    return { Put: { TableName: this.table, Item: { ...key(objection.id), ...objection }, ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  /** Its resolution, only while it is open. */
  resolution(id: string, outcome: ObjectionOutcome, note: string, by: string, at: string): TransactItem {
    return {
      Update: {
        TableName: this.table,
        Key: key(id),
        UpdateExpression: 'SET #status = :resolved, outcome = :outcome, note = :note, resolvedBy = :by, resolvedAt = :at REMOVE openQueue',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':resolved': 'resolved', ':open': 'open', ':outcome': outcome, ':note': note, ':by': by, ':at': at },
      },
    };
  }
}
