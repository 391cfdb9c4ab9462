/**
 * The durable truth of what each upward platform is owed, by package (package-model.ts,
 * docs/upward-packages.md): port and DynamoDB adapter of the `deliveries` table. Every write is conditional:
 *
 * - a claim is written once (`attribute_not_exists`): the claim already there is the answer;
 * - a body is opened once, and closed once (open → closed with its claimed refs, never changed again);
 * - a delivery is created once; pending → delivered | failed | split, failed → pending (a redrive) | delivered |
 *   failed, never out of delivered or split; `owedBy` is present exactly while pending (sparse index `owed`),
 *   `failedBy` exactly while failed (sparse index `failed`); `openFor` exactly while a body is open (index `open`).
 *
 * A condition that no longer holds is an answer (`lost`, the item there), not an error: another worker got there
 * first.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '../store/batch-get.js';
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import {
  bodyKey,
  claimKey,
  decodeRefs,
  deliveryKey,
  encodeRefs,
  type DeliveryRef,
  type PackageBody,
  type PackageDelivery,
  type PackageRef,
  type PlatformName,
} from './package-model.js';

export const OWED_INDEX = 'owed';
export const FAILED_INDEX = 'failed';
export const OPEN_INDEX = 'open';
/** The reconciliation's cursor (one item). */
export const RECONCILE_CURSOR_KEY = { pk: 'CURSOR#reconcile', sk: 'CURSOR' } as const;
/** The value of `openFor` on an open body (the `open` index's partition). */
export const OPEN_FOR = 'claims';

/** The outcome of a conditional change: `updated`, or `lost` when the item was not in a state it applies to. */
export type Transition = 'updated' | 'lost';

/** A platform's per-record outcome as kept on the claim (POST /v1/feedback). */
export interface StoredFeedback {
  outcome: 'received' | 'rejected' | 'applied';
  reason?: string;
  measure?: string;
  /** When the platform says it happened (the receive time when it did not say). */
  at: string;
  /** When the hub received it. */
  receivedAt: string;
}

/** Which package carries a record version, and what the platforms said of it. */
export interface Claim {
  recordId: string;
  version: number;
  key: string;
  claimedAt: string;
  feedback: Partial<Record<PlatformName, StoredFeedback>>;
}

/**
 * Where the reconciliation is (reconcile.ts): the pass under way (when it began, where its next page starts in the
 * records table, what it found so far), or the last pass, ended at `endedAt`.
 */
export interface ReconcileCursor {
  passStartedAt: string;
  /** The records table's key where the next page starts; absent once the pass has ended. */
  next?: Record<string, NativeAttributeValue>;
  endedAt?: string;
  heads: number;
  unclaimed: number;
  savedAt: string;
  /** New with every save: a save conditional on the token read keeps one pass at a time. */
  token: string;
}

/** Where a page of an index ended: its key attributes, as DynamoDB gave them. */
export type IndexKey = Record<string, NativeAttributeValue>;

export interface Page<T> {
  items: T[];
  /** Where the next page starts; absent after the last. */
  lastKey?: IndexKey;
}

export interface PackagesStore {
  /** Opens body `key` with its candidates unless it exists: the body there (just opened, or found open or closed). */
  openBody(key: string, candidates: readonly PackageRef[], openedAt: string): Promise<PackageBody>;
  getBody(key: string): Promise<PackageBody | undefined>;
  /** open → closed with `refs` (those claimed for it); the body as it is after (closed by another first: theirs). */
  closeBody(key: string, refs: readonly PackageRef[]): Promise<PackageBody>;
  /** Bodies open since before `olderThan` (their claims were not settled: a fan-out stopped), oldest first. */
  listOpen(olderThan: string, limit: number, startKey?: IndexKey): Promise<Page<string>>;
  /** Claims `recordId` version `version` for package `key` unless claimed: the key of the package that has it. */
  claim(recordId: string, version: number, key: string, at: string): Promise<string>;
  getClaim(recordId: string, version: number): Promise<Claim | undefined>;
  /** Which of these record versions are claimed (`<record id>#<version>`), eventually consistent: the reconciliation's check. */
  findClaimed(refs: readonly { recordId: string; version: number }[]): Promise<Set<string>>;
  /** The reconciliation's place in its pass over the records (reconcile.ts); undefined before the first. */
  getReconcileCursor(): Promise<ReconcileCursor | undefined>;
  /** Saves the cursor if it is still `previous` (as read: undefined for none): `lost` when another pass moved it. */
  saveReconcileCursor(cursor: ReconcileCursor, previous: ReconcileCursor | undefined): Promise<Transition>;
  /** Keeps a platform's feedback on the claim, replacing an earlier one; `lost` when the version was never claimed. */
  setFeedback(recordId: string, version: number, platform: PlatformName, feedback: StoredFeedback): Promise<Transition>;
  /** Writes `delivery` unless it exists: `created`, or the delivery already there. */
  createDelivery(delivery: PackageDelivery): Promise<{ created: true } | { created: false; existing: PackageDelivery }>;
  getDelivery(ref: DeliveryRef): Promise<PackageDelivery | undefined>;
  /** Every delivery of a package (each platform, each part). */
  listDeliveries(key: string): Promise<PackageDelivery[]>;
  /** pending | failed → delivered. `attemptsAdded`: the POSTs of this receive that failed first. */
  markDelivered(ref: DeliveryRef, at: string, attemptsAdded: number): Promise<Transition>;
  /** pending | failed → failed with `reason` (its message is in the dead-letter queue); listed by the `failed` index. */
  markFailed(ref: DeliveryRef, reason: string, at: string, attemptsAdded: number): Promise<Transition>;
  /** pending → split, and its parts created pending (one transaction): the parts carry its records from now on. */
  split(ref: DeliveryRef, parts: readonly PackageDelivery[], at: string, attemptsAdded: number): Promise<Transition>;
  /** failed → pending (a redrive): owed again from `at` and counted as queued at `at`; no longer listed as failed. */
  resetToPending(ref: DeliveryRef, at: string): Promise<Transition>;
  /** Counts POSTs that failed without settling, and sets lastQueuedAt to `dueAt` (when its message is due again). */
  recordAttempt(ref: DeliveryRef, attemptsAdded: number, dueAt: string): Promise<Transition>;
  /** Sets lastQueuedAt to `at` if still pending and last queued at `previous` (one sweep requeues it once). */
  markRequeued(ref: DeliveryRef, previous: string, at: string): Promise<Transition>;
  /** Deliveries `platform` owes since before `olderThan` and last queued before it, oldest first (a page may hold fewer). */
  listOwed(platform: PlatformName, olderThan: string, limit: number, startKey?: IndexKey): Promise<Page<PackageDelivery>>;
  /** The oldest delivery `platform` still owes, if any. */
  oldestOwed(platform: PlatformName): Promise<PackageDelivery | undefined>;
  /** `platform`'s failed deliveries that failed before `before`, oldest first (eventually consistent). */
  listFailed(platform: PlatformName, options: { limit: number; before?: string; startKey?: IndexKey }): Promise<Page<PackageDelivery>>;
}

/** DynamoDB reserves `state`. */
const NAMES = { '#state': 'state' };
const SETTLEABLE = '#state IN (:pending, :failed)';

function toBody(item: Record<string, unknown>): PackageBody {
  return { key: String(item.key), openedAt: String(item.openedAt), refs: decodeRefs(String(item.refs ?? '')), open: item.openFor === OPEN_FOR };
}

function toDelivery(item: Record<string, unknown>): PackageDelivery {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as PackageDelivery;
}

function feedbackAttribute(platform: PlatformName): string {
  return `feedback_${platform}`;
}

function toClaim(item: Record<string, unknown>): Claim {
  const feedback: Partial<Record<PlatformName, StoredFeedback>> = {};
  for (const [name, value] of Object.entries(item)) if (name.startsWith('feedback_')) feedback[name.slice('feedback_'.length) as PlatformName] = value as StoredFeedback;
  return { recordId: String(item.recordId), version: Number(item.version), key: String(item.key), claimedAt: String(item.claimedAt), feedback };
}

/** The item a refused conditional write returns comes in DynamoDB's attribute-value form: the document client translates results, not errors. */
function oldItem(e: unknown): Record<string, unknown> | undefined {
  const item = (e as { Item?: Record<string, unknown> }).Item;
  return item ? unmarshall(item as Parameters<typeof unmarshall>[0]) : undefined;
}

export class DynamoPackagesStore implements PackagesStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async openBody(key: string, candidates: readonly PackageRef[], openedAt: string): Promise<PackageBody> {
    const item = { ...bodyKey(key), key, openedAt, refs: encodeRefs(candidates), openFor: OPEN_FOR };
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { key, openedAt, refs: [...candidates], open: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const old = oldItem(e);
      if (old) return toBody(old);
      const body = await this.getBody(key);
      if (!body) throw new Error(`package ${key}: its body exists and cannot be read`);
      return body;
    }
  }

  async getBody(key: string): Promise<PackageBody | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: bodyKey(key), ConsistentRead: true }));
    return out.Item ? toBody(out.Item) : undefined;
  }

  async closeBody(key: string, refs: readonly PackageRef[]): Promise<PackageBody> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: bodyKey(key),
          UpdateExpression: 'SET refs = :refs REMOVE openFor',
          ConditionExpression: 'openFor = :open',
          ExpressionAttributeValues: { ':refs': encodeRefs(refs), ':open': OPEN_FOR },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toBody(out.Attributes!);
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const body = await this.getBody(key);
      if (!body) throw new Error(`package ${key} has no body to close`);
      return body;
    }
  }

  async listOpen(olderThan: string, limit: number, startKey?: IndexKey): Promise<Page<string>> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: OPEN_INDEX,
        KeyConditionExpression: 'openFor = :open AND openedAt < :before',
        ExpressionAttributeValues: { ':open': OPEN_FOR, ':before': olderThan },
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return { items: (out.Items ?? []).map((i) => String(i.pk).slice('PKG#'.length)), ...(out.LastEvaluatedKey ? { lastKey: out.LastEvaluatedKey } : {}) };
  }

  async claim(recordId: string, version: number, key: string, at: string): Promise<string> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...claimKey(recordId, version), recordId, version, key, claimedAt: at },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return key;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const old = oldItem(e) ?? (await this.db.send(new GetCommand({ TableName: this.table, Key: claimKey(recordId, version), ConsistentRead: true }))).Item;
      if (!old || typeof old.key !== 'string') throw new Error(`record ${recordId} version ${version}: its claim exists and cannot be read`);
      return old.key;
    }
  }

  async getClaim(recordId: string, version: number): Promise<Claim | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: claimKey(recordId, version) }));
    return out.Item ? toClaim(out.Item) : undefined;
  }

  async findClaimed(refs: readonly { recordId: string; version: number }[]): Promise<Set<string>> {
    const claimed = new Set<string>();
    const keys = [...new Map(refs.map((r) => [`${r.recordId}#${r.version}`, claimKey(r.recordId, r.version)])).values()];
    for (const item of await batchGetAll(this.db, this.table, keys, { projection: 'recordId, version' })) claimed.add(`${String(item.recordId)}#${Number(item.version)}`);
    return claimed;
  }

  async getReconcileCursor(): Promise<ReconcileCursor | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: RECONCILE_CURSOR_KEY, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...cursor } = out.Item;
    return cursor as ReconcileCursor;
  }

  async saveReconcileCursor(cursor: ReconcileCursor, previous: ReconcileCursor | undefined): Promise<Transition> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...RECONCILE_CURSOR_KEY, ...cursor },
          ...(previous
            ? { ConditionExpression: '#token = :previous', ExpressionAttributeNames: { '#token': 'token' }, ExpressionAttributeValues: { ':previous': previous.token } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return 'updated';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'lost';
      throw e;
    }
  }

  setFeedback(recordId: string, version: number, platform: PlatformName, feedback: StoredFeedback): Promise<Transition> {
    return this.#update(claimKey(recordId, version), {
      UpdateExpression: 'SET #feedback = :feedback',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#feedback': feedbackAttribute(platform) },
      ExpressionAttributeValues: { ':feedback': feedback },
    });
  }

  async createDelivery(delivery: PackageDelivery): Promise<{ created: true } | { created: false; existing: PackageDelivery }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...deliveryKey(delivery), ...delivery },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const existing = oldItem(e) ?? (await this.db.send(new GetCommand({ TableName: this.table, Key: deliveryKey(delivery), ConsistentRead: true }))).Item;
      if (!existing) throw new Error(`package ${delivery.key}: its delivery to ${delivery.platform} exists and cannot be read`);
      return { created: false, existing: toDelivery(existing) };
    }
  }

  async getDelivery(ref: DeliveryRef): Promise<PackageDelivery | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: deliveryKey(ref), ConsistentRead: true }));
    return out.Item ? toDelivery(out.Item) : undefined;
  }

  async listDeliveries(key: string): Promise<PackageDelivery[]> {
    const found: PackageDelivery[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': bodyKey(key).pk },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) if (item.sk !== 'BODY') found.push(toDelivery(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  markDelivered(ref: DeliveryRef, at: string, attemptsAdded: number): Promise<Transition> {
    return this.#update(deliveryKey(ref), {
      UpdateExpression: 'SET #state = :delivered, deliveredAt = :at ADD attempts :n REMOVE owedBy, failedBy',
      ConditionExpression: SETTLEABLE,
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':delivered': 'delivered', ':at': at, ':n': attemptsAdded, ':pending': 'pending', ':failed': 'failed' },
    });
  }

  markFailed(ref: DeliveryRef, reason: string, at: string, attemptsAdded: number): Promise<Transition> {
    return this.#update(deliveryKey(ref), {
      UpdateExpression: 'SET #state = :failedState, failedReason = :reason, failedAt = :at, failedBy = :platform ADD attempts :n REMOVE owedBy',
      ConditionExpression: SETTLEABLE,
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':failedState': 'failed', ':reason': reason, ':at': at, ':platform': ref.platform, ':n': attemptsAdded, ':pending': 'pending', ':failed': 'failed' },
    });
  }

  async split(ref: DeliveryRef, parts: readonly PackageDelivery[], at: string, attemptsAdded: number): Promise<Transition> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: deliveryKey(ref),
                UpdateExpression: 'SET #state = :split, splitAt = :at ADD attempts :n REMOVE owedBy',
                ConditionExpression: '#state = :pending',
                ExpressionAttributeNames: NAMES,
                ExpressionAttributeValues: { ':split': 'split', ':at': at, ':n': attemptsAdded, ':pending': 'pending' },
              },
            },
            ...parts.map((part) => ({ Put: { TableName: this.table, Item: { ...deliveryKey(part), ...part }, ConditionExpression: 'attribute_not_exists(pk)' } })),
          ],
        }),
      );
      return 'updated';
    } catch (e) {
      if (e instanceof TransactionCanceledException && (e.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')) return 'lost';
      throw e;
    }
  }

  resetToPending(ref: DeliveryRef, at: string): Promise<Transition> {
    return this.#update(deliveryKey(ref), {
      // The last failure's reason and time stay as history; `failedBy` goes, so the delivery leaves the failed index.
      UpdateExpression: 'SET #state = :pending, owedBy = :platform, owedSince = :at, lastQueuedAt = :at REMOVE failedBy',
      ConditionExpression: '#state = :failed',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':pending': 'pending', ':failed': 'failed', ':platform': ref.platform, ':at': at },
    });
  }

  recordAttempt(ref: DeliveryRef, attemptsAdded: number, dueAt: string): Promise<Transition> {
    return this.#update(deliveryKey(ref), {
      UpdateExpression: 'SET lastQueuedAt = :due ADD attempts :n',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':n': attemptsAdded, ':due': dueAt },
    });
  }

  markRequeued(ref: DeliveryRef, previous: string, at: string): Promise<Transition> {
    return this.#update(deliveryKey(ref), {
      UpdateExpression: 'SET lastQueuedAt = :at',
      ConditionExpression: '#state = :pending AND lastQueuedAt = :previous',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':at': at, ':previous': previous, ':pending': 'pending' },
    });
  }

  async listOwed(platform: PlatformName, olderThan: string, limit: number, startKey?: IndexKey): Promise<Page<PackageDelivery>> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: OWED_INDEX,
        KeyConditionExpression: 'owedBy = :platform AND owedSince < :before',
        FilterExpression: 'lastQueuedAt < :before',
        ExpressionAttributeValues: { ':platform': platform, ':before': olderThan },
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return { items: (out.Items ?? []).map(toDelivery), ...(out.LastEvaluatedKey ? { lastKey: out.LastEvaluatedKey } : {}) };
  }

  async oldestOwed(platform: PlatformName): Promise<PackageDelivery | undefined> {
    const out = await this.db.send(
      new QueryCommand({ TableName: this.table, IndexName: OWED_INDEX, KeyConditionExpression: 'owedBy = :platform', ExpressionAttributeValues: { ':platform': platform }, Limit: 1 }),
    );
    const item = out.Items?.[0];
    return item ? toDelivery(item) : undefined;
  }

  async listFailed(platform: PlatformName, options: { limit: number; before?: string; startKey?: IndexKey }): Promise<Page<PackageDelivery>> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: FAILED_INDEX,
        KeyConditionExpression: options.before === undefined ? 'failedBy = :platform' : 'failedBy = :platform AND failedAt < :before',
        ExpressionAttributeValues: { ':platform': platform, ...(options.before === undefined ? {} : { ':before': options.before }) },
        Limit: options.limit,
        ExclusiveStartKey: options.startKey,
      }),
    );
    return { items: (out.Items ?? []).map(toDelivery), ...(out.LastEvaluatedKey ? { lastKey: out.LastEvaluatedKey } : {}) };
  }

  async #update(
    key: { pk: string; sk: string },
    update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues: Record<string, NativeAttributeValue> },
  ): Promise<Transition> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.table, Key: key, ...update }));
      return 'updated';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'lost';
      throw e;
    }
  }
}
