/**
 * The durable truth of what each upward platform is owed: port and DynamoDB adapter of the `deliveries` table
 * (infra/catalogue.ts). One item per record version and platform, pk `REC#<record id>`, sk
 * `<platform>#<version, 10 digits>` (delivery-model.ts), written only conditionally:
 *
 * - created once (a stream record read twice writes once);
 * - pending → delivered | superseded | failed, and failed → delivered | failed (a message the operator redrove
 *   from the dead-letter queue is tried again); never out of delivered or superseded;
 * - `owedBy` (= the platform) is present exactly while pending: the sparse index `owed` (owedBy, owedSince) lists
 *   what each platform still owes, oldest first, however many deliveries were made;
 * - `failedBy` (= the platform) is present exactly while failed: the sparse index `failed` (failedBy, failedAt) is
 *   the operator's dead-letter list; a redrive makes a failed delivery pending again (failed → pending);
 * - a platform's feedback (POST /v1/feedback) is kept on the delivery it is about, whatever its state.
 *
 * A condition that no longer holds is an answer (`false`, `lost`), not an error: another worker got there first.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { deliveryKey, type Delivery, type DeliveryRef, type PlatformName } from './delivery-model.js';

export const OWED_INDEX = 'owed';
export const FAILED_INDEX = 'failed';

/** The outcome of a conditional change: `updated`, or `lost` when the delivery was not in a state it applies to. */
export type Transition = 'updated' | 'lost';

export interface OwedPage {
  items: Delivery[];
  /** Where the next page starts; absent after the last. */
  cursor?: string;
}

/** Where a page of the `failed` index ended: its key attributes (failedBy, failedAt, pk, sk). */
export type FailedKey = Record<string, string>;

export interface FailedPage {
  items: Delivery[];
  /** Where the next page starts; absent after the last. */
  lastKey?: FailedKey;
}

/** A platform's per-record outcome as kept on the delivery (POST /v1/feedback). */
export interface StoredFeedback {
  outcome: 'received' | 'rejected' | 'applied';
  reason?: string;
  measure?: string;
  /** When the platform says it happened (the receive time when it did not say). */
  at: string;
  /** When the hub received it. */
  receivedAt: string;
}

export interface DeliveriesStore {
  /** Writes `delivery` unless it exists: `created`, or the delivery already there (when the store says). */
  createIfAbsent(delivery: Delivery): Promise<{ created: true } | { created: false; existing?: Delivery }>;
  get(ref: DeliveryRef): Promise<Delivery | undefined>;
  /** Every delivery of a record (both platforms, every version), oldest version first. */
  listForRecord(recordId: string): Promise<Delivery[]>;
  /** The deliveries of one version of a record (one per platform at most): one Query of its partition. */
  listForVersion(recordId: string, version: number): Promise<Delivery[]>;
  /** pending | failed → delivered: no longer owed. `attemptsAdded`: the POSTs of this receive that failed first. */
  markDelivered(ref: DeliveryRef, at: string, attemptsAdded: number): Promise<Transition>;
  /** pending | failed → superseded (a newer version carries the record's whole state): no longer owed. */
  markSuperseded(ref: DeliveryRef, at: string): Promise<Transition>;
  /** pending | failed → failed with `reason`: no longer owed (its message is in the dead-letter queue); listed by the `failed` index. */
  markFailed(ref: DeliveryRef, reason: string, at: string, attemptsAdded: number): Promise<Transition>;
  /**
   * `platform`'s failed deliveries that failed before `before`, oldest first, `limit` per page (the `failed` index,
   * eventually consistent: a delivery that left `failed` a moment ago may still be listed).
   */
  listFailed(platform: PlatformName, options: { limit: number; before?: string; startKey?: FailedKey }): Promise<FailedPage>;
  /** failed → pending (a redrive): owed again from `at` and counted as queued at `at`; no longer listed as failed. */
  resetToPending(ref: DeliveryRef, at: string): Promise<Transition>;
  /** Keeps the platform's feedback on the delivery, replacing an earlier one; `lost` when there is no such delivery. */
  setFeedback(ref: DeliveryRef, feedback: StoredFeedback): Promise<Transition>;
  /**
   * Counts POSTs that failed without settling the delivery (it is tried again later), and sets lastQueuedAt to
   * `dueAt` (when its message is due again): the sweep's age counts from there, not from the first queueing.
   */
  recordAttempt(ref: DeliveryRef, attemptsAdded: number, dueAt: string): Promise<Transition>;
  /**
   * Deliveries `platform` still owes that were owed before `olderThan` and last queued before it, oldest first,
   * `limit` read per page (a page may hold fewer: those queued again since are skipped).
   */
  listOwed(platform: PlatformName, olderThan: string, limit: number, cursor?: string): Promise<OwedPage>;
  /** The oldest delivery `platform` still owes, if any. */
  oldestOwed(platform: PlatformName): Promise<Delivery | undefined>;
  /** Sets lastQueuedAt to `at` if the delivery is still pending and was last queued at `previous` (one sweep requeues it once). */
  markRequeued(ref: DeliveryRef, previous: string, at: string): Promise<Transition>;
}

function strip(item: Record<string, unknown>): Delivery {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as Delivery;
}

function encodeCursor(key: Record<string, NativeAttributeValue> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

function decodeCursor(cursor: string | undefined): Record<string, NativeAttributeValue> | undefined {
  if (cursor === undefined) return undefined;
  const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new Error('not a cursor of the owed index');
  return key as Record<string, NativeAttributeValue>;
}

/** DynamoDB reserves `state`. */
const NAMES = { '#state': 'state' };
const SETTLEABLE = '#state IN (:pending, :failed)';

export class DynamoDeliveriesStore implements DeliveriesStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createIfAbsent(delivery: Delivery): Promise<{ created: true } | { created: false; existing?: Delivery }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...deliveryKey(delivery), ...delivery },
          ConditionExpression: 'attribute_not_exists(pk)',
          // The item already there comes back with the refusal: no second read to learn its state.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const old = (e as ConditionalCheckFailedException & { Item?: Record<string, unknown> }).Item;
      return old ? { created: false, existing: strip(unmarshalled(old)) } : { created: false };
    }
  }

  async get(ref: DeliveryRef): Promise<Delivery | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: deliveryKey(ref), ConsistentRead: true }));
    return out.Item ? strip(out.Item) : undefined;
  }

  async listForRecord(recordId: string): Promise<Delivery[]> {
    const found: Delivery[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `REC#${recordId}` }, ExclusiveStartKey: start }),
      );
      found.push(...(page.Items ?? []).map(strip));
      start = page.LastEvaluatedKey;
    } while (start);
    return found.sort((a, b) => a.version - b.version || (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0));
  }

  async listForVersion(recordId: string, version: number): Promise<Delivery[]> {
    const found: Delivery[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          // Only this version's items come back, however many versions the record has had.
          FilterExpression: 'version = :version',
          ExpressionAttributeValues: { ':pk': `REC#${recordId}`, ':version': version },
          ExclusiveStartKey: start,
        }),
      );
      found.push(...(page.Items ?? []).map(strip));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  markDelivered(ref: DeliveryRef, at: string, attemptsAdded: number): Promise<Transition> {
    return this.#transition(ref, {
      UpdateExpression: 'SET #state = :delivered, deliveredAt = :at ADD attempts :n REMOVE owedBy, failedBy, failedReason, failedAt',
      ConditionExpression: SETTLEABLE,
      ExpressionAttributeValues: { ':delivered': 'delivered', ':at': at, ':n': attemptsAdded, ':pending': 'pending', ':failed': 'failed' },
    });
  }

  markSuperseded(ref: DeliveryRef, at: string): Promise<Transition> {
    return this.#transition(ref, {
      UpdateExpression: 'SET #state = :superseded, supersededAt = :at REMOVE owedBy, failedBy',
      ConditionExpression: SETTLEABLE,
      ExpressionAttributeValues: { ':superseded': 'superseded', ':at': at, ':pending': 'pending', ':failed': 'failed' },
    });
  }

  markFailed(ref: DeliveryRef, reason: string, at: string, attemptsAdded: number): Promise<Transition> {
    return this.#transition(ref, {
      UpdateExpression: 'SET #state = :failedState, failedReason = :reason, failedAt = :at, failedBy = :platform ADD attempts :n REMOVE owedBy',
      ConditionExpression: SETTLEABLE,
      ExpressionAttributeValues: {
        ':failedState': 'failed',
        ':reason': reason,
        ':at': at,
        ':platform': ref.platform,
        ':n': attemptsAdded,
        ':pending': 'pending',
        ':failed': 'failed',
      },
    });
  }

  async listFailed(platform: PlatformName, options: { limit: number; before?: string; startKey?: FailedKey }): Promise<FailedPage> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: FAILED_INDEX,
        KeyConditionExpression: options.before === undefined ? 'failedBy = :platform' : 'failedBy = :platform AND failedAt < :before',
        ExpressionAttributeValues: { ':platform': platform, ...(options.before === undefined ? {} : { ':before': options.before }) },
        Limit: options.limit,
        ExclusiveStartKey: options.startKey,
      }),
    );
    const lastKey = page.LastEvaluatedKey as FailedKey | undefined;
    return { items: (page.Items ?? []).map(strip), ...(lastKey ? { lastKey } : {}) };
  }

  resetToPending(ref: DeliveryRef, at: string): Promise<Transition> {
    return this.#transition(ref, {
      // The last failure's reason and time stay as history; `failedBy` goes, so the delivery leaves the failed index.
      UpdateExpression: 'SET #state = :pending, owedBy = :platform, owedSince = :at, lastQueuedAt = :at REMOVE failedBy',
      ConditionExpression: '#state = :failed',
      ExpressionAttributeValues: { ':pending': 'pending', ':failed': 'failed', ':platform': ref.platform, ':at': at },
    });
  }

  setFeedback(ref: DeliveryRef, feedback: StoredFeedback): Promise<Transition> {
    return this.#transition(ref, {
      UpdateExpression: 'SET feedback = :feedback',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':feedback': feedback },
    });
  }

  recordAttempt(ref: DeliveryRef, attemptsAdded: number, dueAt: string): Promise<Transition> {
    return this.#transition(ref, {
      UpdateExpression: 'SET lastQueuedAt = :due ADD attempts :n',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':n': attemptsAdded, ':due': dueAt },
    });
  }

  async listOwed(platform: PlatformName, olderThan: string, limit: number, cursor?: string): Promise<OwedPage> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: OWED_INDEX,
        KeyConditionExpression: 'owedBy = :platform AND owedSince < :before',
        FilterExpression: 'lastQueuedAt < :before',
        ExpressionAttributeValues: { ':platform': platform, ':before': olderThan },
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor),
      }),
    );
    const next = encodeCursor(page.LastEvaluatedKey);
    return { items: (page.Items ?? []).map(strip), ...(next ? { cursor: next } : {}) };
  }

  async oldestOwed(platform: PlatformName): Promise<Delivery | undefined> {
    const page = await this.db.send(
      new QueryCommand({ TableName: this.table, IndexName: OWED_INDEX, KeyConditionExpression: 'owedBy = :platform', ExpressionAttributeValues: { ':platform': platform }, Limit: 1 }),
    );
    const item = page.Items?.[0];
    return item ? strip(item) : undefined;
  }

  markRequeued(ref: DeliveryRef, previous: string, at: string): Promise<Transition> {
    return this.#transition(ref, {
      UpdateExpression: 'SET lastQueuedAt = :at',
      ConditionExpression: '#state = :pending AND lastQueuedAt = :previous',
      ExpressionAttributeValues: { ':at': at, ':previous': previous, ':pending': 'pending' },
    });
  }

  async #transition(
    ref: DeliveryRef,
    update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, NativeAttributeValue> },
  ): Promise<Transition> {
    const usesState = update.ConditionExpression.includes('#state') || update.UpdateExpression.includes('#state');
    try {
      await this.db.send(new UpdateCommand({ TableName: this.table, Key: deliveryKey(ref), ...update, ...(usesState ? { ExpressionAttributeNames: NAMES } : {}) }));
      return 'updated';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'lost';
      throw e;
    }
  }
}

/** The item a refused conditional Put returns comes in DynamoDB's attribute-value form: the document client translates results, not errors. */
function unmarshalled(item: Record<string, unknown>): Record<string, unknown> {
  return unmarshall(item as Parameters<typeof unmarshall>[0]);
}
