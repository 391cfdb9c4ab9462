/**
 * The records table as the publication decisions use it (adapter):
 *
 * - `getHead`: one record's head (GetItem, strongly consistent);
 * - `commit`: a decision's new head, written only if the head still has the version it was decided on (the push
 *   path's own condition), with the head it replaces kept as a version (`V#<n>`), and any other items of the same
 *   change (an objection) in the same transaction;
 * - `queue`: the sparse index `publicationQueue` (pk `publicationQueue`, sk `publicationQueueKey`): the records
 *   waiting for review, oldest first, and the approved records by end date (the expire job), a page at a time.
 *   The index keeps keys only (every push writes it: one write unit, not one per KB of the head), so a page's
 *   heads are then read by their keys (BatchGetItem); a head that left the queue meanwhile is left out.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { versionOf, type StoredHead } from '../domain/record-model.js';
import { batchGetAll } from '../store/batch-get.js';
import { backoff, StoreBusyError } from '../store/errors.js';
import { isRefusal, type Outcome, type Refusal } from './decisions.js';

export const PUBLICATION_QUEUE_INDEX = 'publicationQueue';

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** Where a page of the queue stopped: the record and its key in the index. */
export interface QueuePosition {
  id: string;
  key: string;
}

export interface QueuePage {
  heads: StoredHead[];
  next?: QueuePosition;
}

export type CommitOutcome = 'written' | 'conflict' | 'other-failed';

export interface DecisionsStore {
  getHead(id: string): Promise<StoredHead | undefined>;
  /** Writes `next` over `previous` (and `others` with it), atomically; `conflict` when the head changed meanwhile, `other-failed` when one of `others` failed its condition. */
  commit(previous: StoredHead, next: StoredHead, others?: readonly TransactItem[]): Promise<CommitOutcome>;
  /** A page of the queue: `review` oldest first; `approved` with an end before `before` (exclusive), earliest first. */
  queue(queue: 'review' | 'approved', limit: number, after?: QueuePosition, before?: string): Promise<QueuePage>;
}

const HEAD = 'HEAD';
const pk = (id: string) => `REC#${id}`;
const versionSk = (version: number) => `V#${String(version).padStart(10, '0')}`;

function strip(item: Record<string, unknown>): StoredHead {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as StoredHead;
}

export class DynamoDecisionsStore implements DecisionsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  async getHead(id: string): Promise<StoredHead | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: pk(id), sk: HEAD }, ConsistentRead: true }));
    return out.Item ? strip(out.Item) : undefined;
  }

  async commit(previous: StoredHead, next: StoredHead, others: readonly TransactItem[] = []): Promise<CommitOutcome> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: { pk: pk(next.id), sk: HEAD, ...next },
          ConditionExpression: 'version = :v AND contentHash = :h',
          ExpressionAttributeValues: { ':v': previous.version, ':h': previous.contentHash },
        },
      },
      { Put: { TableName: this.table, Item: { pk: pk(previous.id), sk: versionSk(previous.version), ...versionOf(previous, next.receivedAt) }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ...others,
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'written';
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      const codes = (e.CancellationReasons ?? []).map((r) => r.Code);
      if (codes.slice(0, 2).includes('ConditionalCheckFailed')) return 'conflict';
      if (codes.includes('ConditionalCheckFailed')) return 'other-failed';
      // Contention with another transaction (TransactionConflict) or throttling: the caller decides again.
      return 'conflict';
    }
  }

  async queue(queue: 'review' | 'approved', limit: number, after?: QueuePosition, before?: string): Promise<QueuePage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: PUBLICATION_QUEUE_INDEX,
        KeyConditionExpression: before === undefined ? 'publicationQueue = :q' : 'publicationQueue = :q AND publicationQueueKey < :before',
        ExpressionAttributeValues: { ':q': queue, ...(before === undefined ? {} : { ':before': before }) },
        Limit: limit,
        ...(after ? { ExclusiveStartKey: { pk: pk(after.id), sk: HEAD, publicationQueue: queue, publicationQueueKey: after.key } } : {}),
      }),
    );
    const heads = (await this.#heads((out.Items ?? []).map((k) => k.pk as string))).filter((h) => h.publicationQueue === queue);
    const last = out.LastEvaluatedKey as { pk?: string; publicationQueueKey?: string } | undefined;
    return { heads, ...(last?.pk && last.publicationQueueKey ? { next: { id: last.pk.slice('REC#'.length), key: last.publicationQueueKey } } : {}) };
  }

  /** The heads of these partition keys, in their order (BatchGetItem, 100 a request, unprocessed keys asked again). */
  async #heads(pks: readonly string[]): Promise<StoredHead[]> {
    const found = new Map<string, StoredHead>();
    const keys = pks.map((p) => ({ pk: p, sk: HEAD }));
    for (const item of await batchGetAll(this.db, this.table, keys, { maxRounds: MAX_ROUNDS + 1, what: 'the records table did not return every head of a queue page' })) found.set(item.pk as string, strip(item));
    return pks.flatMap((p) => found.get(p) ?? []);
  }
}

const MAX_ROUNDS = 5;

export type DecideResult =
  | { status: 'written'; head: StoredHead; previous: StoredHead }
  | { status: 'not-found' }
  | { status: 'refused'; refusal: Refusal }
  | { status: 'other-failed'; head: StoredHead };

/**
 * Reads the head, decides (`decide`), writes the result on the version read; decides again on fresh data when
 * another change got there first. `others`: items written with the head (given the head decided on).
 */
export async function decideOnRecord(
  store: DecisionsStore,
  id: string,
  decide: (head: StoredHead) => Outcome,
  others?: (previous: StoredHead, next: StoredHead) => readonly TransactItem[],
): Promise<DecideResult> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (round > 0) await backoff(round);
    const head = await store.getHead(id);
    if (!head) return { status: 'not-found' };
    const outcome = decide(head);
    if (isRefusal(outcome)) return { status: 'refused', refusal: outcome };
    const written = await store.commit(head, outcome.head, others?.(head, outcome.head));
    if (written === 'written') return { status: 'written', head: outcome.head, previous: head };
    if (written === 'other-failed') return { status: 'other-failed', head };
  }
  throw new StoreBusyError(`record ${id} kept changing while a decision was made`);
}
