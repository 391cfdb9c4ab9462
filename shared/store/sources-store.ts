/**
 * Sources and their API keys. Port and DynamoDB adapter.
 *
 * Items (table `sources`):
 * - `pk=SOURCES, sk=<id>`: the source, with the hash of its current key;
 * - `pk=KEY#<sha256 of key>, sk=KEY`: the principal a key authenticates,
 *   written and deleted in the same transaction as the source's key hash.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RecordKind, SourceRole } from '../../contracts/roles.js';
import { backoff, StoreBusyError } from './errors.js';

export interface Source {
  id: string;
  name: string;
  uscc: string;
  role: SourceRole;
  kinds: RecordKind[];
  createdAt: string;
  keyRotatedAt: string;
}

/** What a source key authenticates. */
export interface KeyPrincipal {
  sourceId: string;
  name: string;
  uscc: string;
  role: SourceRole;
  kinds: RecordKind[];
}

export class SourceExistsError extends Error {}

export interface SourcesStore {
  create(source: Source, keyHash: string): Promise<void>;
  list(): Promise<Source[]>;
  /** Replaces the source's key; false when the source does not exist. */
  rotateKey(id: string, newKeyHash: string, at: string): Promise<boolean>;
  principalForKey(keyHash: string): Promise<KeyPrincipal | undefined>;
}

const SOURCES = 'SOURCES';
const MAX_ATTEMPTS = 8;
const keyPk = (hash: string) => `KEY#${hash}`;

function toSource(item: Record<string, unknown>): Source {
  const { id, name, uscc, role, kinds, createdAt, keyRotatedAt } = item as unknown as Source;
  return { id, name, uscc, role, kinds: [...(kinds ?? [])], createdAt, keyRotatedAt };
}

function principalItem(source: Source, keyHash: string) {
  return { pk: keyPk(keyHash), sk: 'KEY', sourceId: source.id, name: source.name, uscc: source.uscc, role: source.role, kinds: source.kinds };
}

export class DynamoSourcesStore implements SourcesStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(source: Source, keyHash: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.table, Item: { pk: SOURCES, sk: source.id, ...source, keyHash }, ConditionExpression: 'attribute_not_exists(pk)' } },
              { Put: { TableName: this.table, Item: principalItem(source, keyHash), ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return;
      } catch (e) {
        if (!(e instanceof TransactionCanceledException)) throw e;
        if (e.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') throw new SourceExistsError(`source ${source.id} exists`);
        // TransactionConflict: another write to the same items is under way; try again.
      }
    }
    throw new StoreBusyError(`could not register source ${source.id}: concurrent writes kept conflicting`);
  }

  async list(): Promise<Source[]> {
    const out: Source[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': SOURCES }, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) out.push(toSource(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async rotateKey(id: string, newKeyHash: string, at: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const current = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: SOURCES, sk: id }, ConsistentRead: true }));
      if (!current.Item) return false;
      const source = { ...toSource(current.Item), keyRotatedAt: at };
      const oldHash = current.Item.keyHash as string;
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table,
                  Key: { pk: SOURCES, sk: id },
                  UpdateExpression: 'SET keyHash = :new, keyRotatedAt = :at',
                  ConditionExpression: 'keyHash = :old',
                  ExpressionAttributeValues: { ':new': newKeyHash, ':old': oldHash, ':at': at },
                },
              },
              { Delete: { TableName: this.table, Key: { pk: keyPk(oldHash), sk: 'KEY' } } },
              { Put: { TableName: this.table, Item: principalItem(source, newKeyHash), ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return true;
      } catch (e) {
        // Another rotation won the race: read again and rotate on top of it.
        if (e instanceof TransactionCanceledException) continue;
        throw e;
      }
    }
    throw new StoreBusyError(`could not rotate the key of source ${id}: too many concurrent rotations`);
  }

  async principalForKey(keyHash: string): Promise<KeyPrincipal | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keyPk(keyHash), sk: 'KEY' }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { sourceId, name, uscc, role, kinds } = out.Item as KeyPrincipal;
    return { sourceId, name, uscc, role, kinds: [...(kinds ?? [])] };
  }
}
