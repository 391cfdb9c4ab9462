/**
 * Court batches: the DynamoDB adapter of the batch ingest's BatchStore port
 * (shared/batch/ports.ts), and what the batch endpoints need (create, get).
 *
 * Items (table `batches` of infra/catalogue.ts):
 * - `pk=BATCH#<id>, sk=BATCH`: the batch (shared/batch/batch-model.ts) with
 *   its lease (`lease.owner`, `lease.until` in epoch ms) and its checkpoint
 *   (`checkpoint.offset`, `.line`, `.counts`, `.rejectParts`, `.header`);
 * - `unfinished` = `Y` while the batch is waiting or processing, removed when
 *   it completes or fails: the sparse index `unfinished` (partition key
 *   `unfinished`, sort key `createdAt`) lists exactly the batches the sweep
 *   may have to continue.
 *
 * Every change is one conditional UpdateItem: the lease is taken only when
 * free or expired, and everything else is written only by the lease's owner
 * (a checkpoint only over the previous offset). A failed condition is
 * `lost`, never an error.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Batch, BatchCounts, BatchObject, Checkpoint } from '../batch/batch-model.js';
import type { BatchStore, Conditional } from '../batch/ports.js';

const SK = 'BATCH';
const key = (id: string) => ({ pk: `BATCH#${id}`, sk: SK });
export const UNFINISHED_INDEX = 'unfinished';
const UNFINISHED = 'Y';

/** The condition names used by every update (DynamoDB reserves `status`, `owner`, `until`, `offset`, `object`). */
const NAMES = { '#status': 'status', '#lease': 'lease', '#owner': 'owner', '#until': 'until', '#checkpoint': 'checkpoint', '#offset': 'offset' };
const HELD = '#lease.#owner = :owner';

class ConditionFailed extends Error {}

function strip(item: Record<string, unknown>): Batch {
  const { pk: _pk, sk: _sk, unfinished: _u, ...batch } = item;
  return batch as unknown as Batch;
}

export class DynamoBatchesStore implements BatchStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** A new batch (waiting); refuses an id already taken. */
  async create(batch: Batch): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { ...key(batch.id), ...batch, unfinished: UNFINISHED }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async get(batchId: string): Promise<Batch | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(batchId), ConsistentRead: true }));
    return out.Item ? strip(out.Item) : undefined;
  }

  async takeLease(batchId: string, owner: string, until: number, now: number): Promise<Batch | undefined> {
    try {
      const out = await this.#update(batchId, {
        UpdateExpression: 'SET #lease = :lease',
        ConditionExpression: `attribute_exists(pk) AND #status IN (:waiting, :processing) AND (attribute_not_exists(#lease) OR ${HELD} OR #lease.#until < :now)`,
        ExpressionAttributeValues: { ':lease': { owner, until }, ':owner': owner, ':now': now, ':waiting': 'waiting', ':processing': 'processing' },
        ReturnValues: 'ALL_NEW',
      });
      return strip(out.Attributes!);
    } catch (e) {
      if (e instanceof ConditionFailed) return undefined;
      throw e;
    }
  }

  begin(batchId: string, owner: string, object: BatchObject, checkpoint: Checkpoint): Promise<Conditional> {
    return this.#conditional(batchId, {
      UpdateExpression: 'SET #status = :processing, #object = :object, #checkpoint = :checkpoint',
      ConditionExpression: `${HELD} AND #status = :waiting`,
      ExpressionAttributeNames: { '#object': 'object' },
      ExpressionAttributeValues: { ':owner': owner, ':processing': 'processing', ':waiting': 'waiting', ':object': object, ':checkpoint': checkpoint },
    });
  }

  saveCheckpoint(batchId: string, owner: string, previousOffset: number, next: Checkpoint, leaseUntil: number | undefined): Promise<Conditional> {
    return this.#conditional(batchId, {
      UpdateExpression: leaseUntil === undefined ? 'SET #checkpoint = :next REMOVE #lease' : 'SET #checkpoint = :next, #lease = :lease',
      ConditionExpression: `${HELD} AND #status = :processing AND #checkpoint.#offset = :previous`,
      ExpressionAttributeValues: {
        ':owner': owner,
        ':processing': 'processing',
        ':previous': previousOffset,
        ':next': next,
        ...(leaseUntil === undefined ? {} : { ':lease': { owner, until: leaseUntil } }),
      },
    });
  }

  async releaseLease(batchId: string, owner: string): Promise<void> {
    await this.#conditional(batchId, { UpdateExpression: 'REMOVE #lease', ConditionExpression: HELD, ExpressionAttributeValues: { ':owner': owner } });
  }

  complete(batchId: string, owner: string, counts: BatchCounts, rejectsKey: string | undefined, at: string): Promise<Conditional> {
    return this.#conditional(batchId, {
      UpdateExpression: `SET #status = :completed, #checkpoint.#counts = :counts, #finishedAt = :at${rejectsKey ? ', #rejectsKey = :rejectsKey' : ''} REMOVE #lease, #unfinished`,
      ConditionExpression: `${HELD} AND #status = :processing`,
      ExpressionAttributeNames: { '#counts': 'counts', '#finishedAt': 'finishedAt', '#unfinished': 'unfinished', ...(rejectsKey ? { '#rejectsKey': 'rejectsKey' } : {}) },
      ExpressionAttributeValues: { ':owner': owner, ':processing': 'processing', ':completed': 'completed', ':counts': counts, ':at': at, ...(rejectsKey ? { ':rejectsKey': rejectsKey } : {}) },
    });
  }

  fail(batchId: string, owner: string | undefined, reason: string, at: string): Promise<Conditional> {
    const condition =
      owner === undefined
        ? 'attribute_exists(pk) AND #status = :waiting AND (attribute_not_exists(#lease) OR #lease.#until < :now)'
        : `${HELD} AND #status IN (:waiting, :processing)`;
    return this.#conditional(batchId, {
      UpdateExpression: 'SET #status = :failed, #reason = :reason, #finishedAt = :at REMOVE #lease, #unfinished',
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#reason': 'reason', '#finishedAt': 'finishedAt', '#unfinished': 'unfinished' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':reason': reason,
        ':at': at,
        ':waiting': 'waiting',
        ...(owner === undefined ? { ':now': Date.parse(at) } : { ':owner': owner, ':processing': 'processing' }),
      },
    });
  }

  async *listUnfinished(): AsyncIterable<Batch> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: UNFINISHED_INDEX,
          KeyConditionExpression: 'unfinished = :y',
          ExpressionAttributeValues: { ':y': UNFINISHED },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) yield strip(item);
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async #conditional(batchId: string, update: Update): Promise<Conditional> {
    try {
      await this.#update(batchId, update);
      return 'ok';
    } catch (e) {
      if (e instanceof ConditionFailed) return 'lost';
      throw e;
    }
  }

  async #update(batchId: string, update: Update) {
    // Only the names an expression uses may be given.
    const expressions = `${update.UpdateExpression} ${update.ConditionExpression}`;
    const names = Object.fromEntries(Object.entries({ ...NAMES, ...update.ExpressionAttributeNames }).filter(([name]) => expressions.includes(name)));
    try {
      return await this.db.send(new UpdateCommand({ TableName: this.table, Key: key(batchId), ...update, ExpressionAttributeNames: names }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') throw new ConditionFailed();
      throw e;
    }
  }
}

type Update = {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
  ReturnValues?: 'ALL_NEW';
};
