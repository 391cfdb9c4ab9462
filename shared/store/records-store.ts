/**
 * Records and their versions. Port and DynamoDB adapter.
 *
 * Items (table `records`):
 * - `pk=REC#<id>, sk=HEAD`: the current version, with `subjectKey` for the
 *   `bySubject` index;
 * - `pk=REC#<id>, sk=V#<version, 10 digits>`: each superseded version.
 *
 * Every write is conditional, each change atomic on its own:
 * - a new record is one item, its head, put only if absent: a conditional
 *   PutItem (up to 50 in flight), not a transaction, since on DynamoDB a
 *   transactional write costs twice the write units of a plain one;
 * - an update is two items, the new head put only if the stored head still
 *   has the version and content hash it was decided against, and the old
 *   head saved as a version: a transaction, and the updates are grouped into
 *   transactions of up to 100 items.
 * A change whose condition failed is reported as a conflict (the caller
 * decides again on fresh data); one that met a concurrent transaction on the
 * same item (TransactionConflict), or shared a cancelled transaction with a
 * conflict, is written again in a later round, after a back-off.
 */
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredHead, StoredVersion } from '../domain/record-model.js';
import { batchGetAll } from './batch-get.js';
import { backoff, StoreBusyError } from './errors.js';

export type RecordWrite = { op: 'create'; head: StoredHead } | { op: 'update'; head: StoredHead; previous: StoredHead; version: StoredVersion };

export type WriteOutcome = 'written' | 'conflict';

export interface RecordsStore {
  /**
   * Current heads by id; absent ids are missing from the map. Strongly consistent unless `consistent` is false
   * (eventually consistent: half the read units, and maybe a moment behind; shared/ingest/submit.ts trusts such a
   * read only where a conditional write checks it).
   * `signal` stops the work: no request is started after it fires, and requests in flight are aborted.
   */
  getHeads(ids: readonly string[], signal?: AbortSignal, consistent?: boolean): Promise<Map<string, StoredHead>>;
  /**
   * Writes each change atomically (a create only if the record is absent, an update only if the head is still
   * `previous`); the outcome of each, in order: `conflict` when its condition failed. Changes are independent of
   * each other: when this throws, some may have been written and others not. `signal` as for getHeads; this
   * returns or throws only once the requests it started have ended.
   */
  write(changes: readonly RecordWrite[], signal?: AbortSignal): Promise<WriteOutcome[]>;
  /** A head and all its superseded versions, oldest first. */
  getRecord(id: string): Promise<{ head: StoredHead; versions: StoredVersion[] } | undefined>;
}

const HEAD = 'HEAD';
const pk = (id: string) => `REC#${id}`;
const versionSk = (version: number) => `V#${String(version).padStart(10, '0')}`;
const MAX_ACTIONS = 100;
const MAX_TRANSACTION_BYTES = 3_500_000;
const MAX_ROUNDS = 8;
/** Conditional PutItems of new records in flight at once, per write(). */
export const MAX_PUTS_IN_FLIGHT = 50;

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

type Action = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

type Update = Extract<RecordWrite, { op: 'update' }>;

const headItem = (head: StoredHead) => ({ pk: pk(head.id), sk: HEAD, ...head });

/** An update's two items, for one transaction: the new head (conditional on what it was decided against) and the old head as a version. */
function updateActions(table: string, change: Update): Action[] {
  return [
    {
      Put: {
        TableName: table,
        Item: headItem(change.head),
        ConditionExpression: 'version = :v AND contentHash = :h',
        ExpressionAttributeValues: { ':v': change.previous.version, ':h': change.previous.contentHash },
      },
    },
    { Put: { TableName: table, Item: { pk: pk(change.head.id), sk: versionSk(change.version.version), ...change.version }, ConditionExpression: 'attribute_not_exists(pk)' } },
  ];
}

export class DynamoRecordsStore implements RecordsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getHeads(ids: readonly string[], signal?: AbortSignal, consistent = true): Promise<Map<string, StoredHead>> {
    const found = new Map<string, StoredHead>();
    const keys = [...new Set(ids)].map((id) => ({ pk: pk(id), sk: HEAD }));
    for (const item of await batchGetAll(this.db, this.table, keys, { consistent, signal, maxRounds: MAX_ROUNDS })) {
      const head = strip<StoredHead>(item);
      found.set(head.id, head);
    }
    return found;
  }

  async write(changes: readonly RecordWrite[], signal?: AbortSignal): Promise<WriteOutcome[]> {
    const outcomes: (WriteOutcome | undefined)[] = new Array(changes.length);
    let pending = changes.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new StoreBusyError(`could not write ${pending.length} records after ${MAX_ROUNDS} rounds of transaction conflicts`);
      if (round > 0) await backoff(round, undefined, undefined, signal);
      const retry: number[] = [];
      await this.#create(pending.filter((i) => changes[i]!.op === 'create'), changes, outcomes, retry, signal);
      await this.#update(pending.filter((i) => changes[i]!.op === 'update'), changes, outcomes, retry, signal);
      pending = retry.sort((a, b) => a - b);
    }
    return outcomes as WriteOutcome[];
  }

  /**
   * New records: one conditional PutItem each, up to MAX_PUTS_IN_FLIGHT at once. Once one fails for another
   * reason, or `signal` fires, no PutItem is started; this throws the first such error once those in flight
   * have ended (aborted with the signal), so nothing is left writing behind the caller.
   */
  async #create(indexes: number[], changes: readonly RecordWrite[], outcomes: (WriteOutcome | undefined)[], retry: number[], signal: AbortSignal | undefined): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (!failure && next < indexes.length) {
        const i = indexes[next++]!;
        try {
          // Never start a write once the deadline has fired: the caller is about to answer.
          signal?.throwIfAborted();
          await this.db.send(new PutCommand({ TableName: this.table, Item: headItem(changes[i]!.head), ConditionExpression: 'attribute_not_exists(pk)' }), { abortSignal: signal });
          outcomes[i] = 'written';
        } catch (e) {
          if (e instanceof ConditionalCheckFailedException) outcomes[i] = 'conflict';
          // A transaction on the same item was under way (a concurrent update of a record created meanwhile).
          else if (e instanceof TransactionConflictException) retry.push(i);
          else failure ??= { error: e };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_PUTS_IN_FLIGHT, indexes.length) }, worker));
    if (failure) throw failure.error;
  }

  /** Updates: transactions of up to 100 items, one after the other. */
  async #update(indexes: number[], changes: readonly RecordWrite[], outcomes: (WriteOutcome | undefined)[], retry: number[], signal: AbortSignal | undefined): Promise<void> {
    for (const chunk of this.#chunks(indexes, changes)) {
      const actions = chunk.flatMap((i) => updateActions(this.table, changes[i] as Update));
      try {
        // Never start a write once the deadline has fired: the caller is about to answer.
        signal?.throwIfAborted();
        await this.db.send(new TransactWriteCommand({ TransactItems: actions }), { abortSignal: signal });
        for (const i of chunk) outcomes[i] = 'written';
      } catch (e) {
        if (!(e instanceof TransactionCanceledException)) throw e;
        // Two reasons per update, in the order of the actions.
        const reasons = e.CancellationReasons ?? [];
        chunk.forEach((i, n) => {
          const codes = reasons.slice(2 * n, 2 * n + 2).map((r) => r.Code);
          if (codes.includes('ConditionalCheckFailed')) outcomes[i] = 'conflict';
          else retry.push(i);
        });
      }
    }
  }

  *#chunks(indexes: number[], changes: readonly RecordWrite[]): Generator<number[]> {
    let chunk: number[] = [];
    let actions = 0;
    let bytes = 0;
    for (const i of indexes) {
      const change = changes[i]!;
      const size = Buffer.byteLength(JSON.stringify(change.head)) * 2;
      if (chunk.length > 0 && (actions + 2 > MAX_ACTIONS || bytes + size > MAX_TRANSACTION_BYTES)) {
        yield chunk;
        chunk = [];
        actions = 0;
        bytes = 0;
      }
      chunk.push(i);
      actions += 2;
      bytes += size;
    }
    if (chunk.length > 0) yield chunk;
  }

  /**
   * The current version of one record (strongly consistent), with a single GetItem: what a connector sends
   * (shared/upward/connector.ts), which may read the records table with GetItem only. Not in the port:
   * the push path reads heads in batches.
   */
  async getHead(id: string): Promise<StoredHead | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: pk(id), sk: HEAD }, ConsistentRead: true }));
    return out.Item ? strip<StoredHead>(out.Item) : undefined;
  }

  async getRecord(id: string): Promise<{ head: StoredHead; versions: StoredVersion[] } | undefined> {
    let head: StoredHead | undefined;
    const versions: StoredVersion[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk(id) }, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        if (item.sk === HEAD) head = strip<StoredHead>(item);
        else versions.push(strip<StoredVersion>(item));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    if (!head) return undefined;
    versions.sort((a, b) => a.version - b.version);
    return { head, versions };
  }
}
