/**
 * The audit of reads that disclosed identity numbers in full. Port and
 * DynamoDB adapter.
 *
 * Items (table `audit`, append-only: entries are only ever added, with a
 * condition that refuses to overwrite one; no function may update or delete
 * them):
 * - `pk=READ#<record id>, sk=<ISO time>#<request id>`: one read, with `day`
 *   (its date in China, YYYY-MM-DD) for the `byDay` index (`day`, `sk`).
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRead } from '../../contracts/audit.js';
import { tables } from '../../infra/catalogue.js';
import { todayInChina } from '../domain/dates.js';

export type { AuditRead };

/** Where a page of a query ended (DynamoDB's LastEvaluatedKey): string attributes only. */
export type AuditKey = Record<string, string>;

export interface AuditPage {
  /** Newest first. */
  items: AuditRead[];
  /** Present when the query may have more: pass it back as `startKey`. */
  lastKey?: AuditKey;
}

/** Instants bounding the reads of a record: `from` inclusive, `until` exclusive (ISO 8601, UTC). */
export interface TimeRange {
  from?: string;
  until?: string;
}

export interface AuditStore {
  /** Adds one read; throws when it cannot be written (the read must then fail). */
  recordRead(read: AuditRead): Promise<void>;
  readsOfRecord(recordId: string, range: TimeRange, limit: number, startKey?: AuditKey): Promise<AuditPage>;
  /** The reads of one day in China (YYYY-MM-DD), of every record. */
  readsOnDay(day: string, limit: number, startKey?: AuditKey): Promise<AuditPage>;
}

const BY_DAY = tables.audit.globalIndexes[0].name;
const readPk = (recordId: string) => `READ#${recordId}`;

function toRead(item: Record<string, unknown>): AuditRead {
  const { recordId, reader, readerRole, at, route, sourceIp, userAgent, requestId } = item as unknown as AuditRead;
  return { recordId, reader, readerRole, at, route, sourceIp, userAgent, requestId };
}

const page = (out: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }): AuditPage => ({
  items: (out.Items ?? []).map(toRead),
  ...(out.LastEvaluatedKey ? { lastKey: out.LastEvaluatedKey as AuditKey } : {}),
});

export class DynamoAuditStore implements AuditStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordRead(read: AuditRead): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: readPk(read.recordId), sk: `${read.at}#${read.requestId}`, day: todayInChina(new Date(read.at)), ...read },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async readsOfRecord(recordId: string, range: TimeRange, limit: number, startKey?: AuditKey): Promise<AuditPage> {
    // sk is `<ISO time>#<request id>`: a read at `from` sorts after `from` itself, one at `until` after `until`.
    const sk = range.from && range.until ? ' AND sk BETWEEN :from AND :until' : range.from ? ' AND sk >= :from' : range.until ? ' AND sk < :until' : '';
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: `pk = :pk${sk}`,
        ExpressionAttributeValues: {
          ':pk': readPk(recordId),
          ...(range.from ? { ':from': range.from } : {}),
          ...(range.until ? { ':until': range.until } : {}),
        },
        ScanIndexForward: false,
        Limit: limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    return page(out);
  }

  async readsOnDay(day: string, limit: number, startKey?: AuditKey): Promise<AuditPage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: BY_DAY,
        KeyConditionExpression: '#day = :day',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': day },
        ScanIndexForward: false,
        Limit: limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    return page(out);
  }
}
