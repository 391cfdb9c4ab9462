/**
 * Sources and their API keys. Port and DynamoDB adapter.
 *
 * Items (table `sources`):
 * - `pk=SOURCES, sk=<id>`: the source, with the hash of its current key;
 * - `pk=KEY#<sha256 of key>, sk=KEY`: the principal a key authenticates (a
 *   source's, or `role: operator` for the credit office's key), written and
 *   deleted in the same transaction as the pointer to the current key hash;
 * - `pk=OPERATOR, sk=CURRENT`: which key hash is the operator's (`keyHash`,
 *   `rotatedAt`).
 *
 * No key is ever stored, only its SHA-256; a replaced key's item is deleted
 * in the transaction that adds the new one, and nothing caches principals,
 * so a replaced key stops working with the next request.
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

/** What the operator's (the credit office's) key authenticates. */
export interface OperatorPrincipal {
  role: 'operator';
}

/** What a key authenticates. */
export type Principal = OperatorPrincipal | KeyPrincipal;

/** What setting the operator key did: the first operator key, a replacement, or nothing (that key already was the operator's). */
export type OperatorKeyChange = 'created' | 'replaced' | 'unchanged';

export class SourceExistsError extends Error {}

/** The key hash to make the operator's already authenticates something else (a source). */
export class KeyInUseError extends Error {
  override name = 'KeyInUseError';
}

export interface SourcesStore {
  create(source: Source, keyHash: string): Promise<void>;
  list(): Promise<Source[]>;
  /** Replaces the source's key; false when the source does not exist. */
  rotateKey(id: string, newKeyHash: string, at: string): Promise<boolean>;
  /** Makes `keyHash` the operator's, in one transaction that also removes the previous operator key. */
  setOperatorKey(keyHash: string, at: string): Promise<OperatorKeyChange>;
  principalForKey(keyHash: string): Promise<Principal | undefined>;
}

const SOURCES = 'SOURCES';
const OPERATOR_POINTER = { pk: 'OPERATOR', sk: 'CURRENT' } as const;
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

  async setOperatorKey(keyHash: string, at: string): Promise<OperatorKeyChange> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const pointer = await this.db.send(new GetCommand({ TableName: this.table, Key: OPERATOR_POINTER, ConsistentRead: true }));
      const oldHash = pointer.Item?.keyHash as string | undefined;
      if (oldHash === keyHash) return 'unchanged';
      const operatorItem = { pk: keyPk(keyHash), sk: 'KEY', role: 'operator', rotatedAt: at };
      const newKey = { Put: { TableName: this.table, Item: operatorItem, ConditionExpression: 'attribute_not_exists(pk)' } };
      const TransactItems = oldHash
        ? [
            newKey,
            {
              Delete: {
                TableName: this.table,
                Key: { pk: keyPk(oldHash), sk: 'KEY' },
                // Only an operator item (or none): a pointer that named a source's key must not delete it.
                ConditionExpression: 'attribute_not_exists(pk) OR #role = :operator',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':operator': 'operator' },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: OPERATOR_POINTER,
                UpdateExpression: 'SET keyHash = :new, rotatedAt = :at',
                ConditionExpression: 'keyHash = :old',
                ExpressionAttributeValues: { ':new': keyHash, ':old': oldHash, ':at': at },
              },
            },
          ]
        : [newKey, { Put: { TableName: this.table, Item: { ...OPERATOR_POINTER, keyHash, rotatedAt: at }, ConditionExpression: 'attribute_not_exists(pk)' } }];
      try {
        await this.db.send(new TransactWriteCommand({ TransactItems }));
        return oldHash ? 'replaced' : 'created';
      } catch (e) {
        if (!(e instanceof TransactionCanceledException)) throw e;
        const reasons = e.CancellationReasons ?? [];
        // The new key's item exists already: a concurrent call installing this very key (the next read sees it), or another principal's.
        if (reasons[0]?.Code === 'ConditionalCheckFailed' && (await this.principalForKey(keyHash))?.role !== 'operator') {
          throw new KeyInUseError('this key already authenticates a source');
        }
        if (oldHash && reasons[1]?.Code === 'ConditionalCheckFailed') {
          throw new Error('the operator pointer names the key item of a source: the sources table needs repair');
        }
        // Another rotation changed the pointer meanwhile, or a conflicting transaction: read again.
      }
    }
    throw new StoreBusyError('could not set the operator key: concurrent changes kept conflicting');
  }

  async principalForKey(keyHash: string): Promise<Principal | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keyPk(keyHash), sk: 'KEY' }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    if (out.Item.role === 'operator') return { role: 'operator' };
    const { sourceId, name, uscc, role, kinds } = out.Item as KeyPrincipal;
    return { sourceId, name, uscc, role, kinds: [...(kinds ?? [])] };
  }
}
