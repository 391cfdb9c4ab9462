/**
 * Records and their versions. Port and DynamoDB adapter.
 *
 * Items (table `records`):
 * - `pk=REC#<id>, sk=HEAD`: the current version, with `subjectKey` for the
 *   `bySubject` index;
 * - `pk=REC#<id>, sk=V#<version, 10 digits>`: each superseded version.
 *
 * Writes are conditional and grouped into transactions of up to 100 items:
 * a new record is put only if absent, an update only if the head still has
 * the version it was decided against (and its old head is saved as a version
 * in the same transaction). When a transaction is cancelled, the records
 * whose condition failed are reported as conflicts (the caller decides
 * again on fresh data) and the others are simply written again.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredHead, StoredVersion } from '../domain/record-model.js';
import { backoff, StoreBusyError } from './errors.js';

export type RecordWrite = { op: 'create'; head: StoredHead } | { op: 'update'; head: StoredHead; previous: StoredHead; version: StoredVersion };

export type WriteOutcome = 'written' | 'conflict';

export interface RecordsStore {
  /**
   * Current heads by id (strongly consistent); absent ids are missing from the map.
   * `signal` stops the work: no request is started after it fires, and requests in flight are aborted.
   */
  getHeads(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, StoredHead>>;
  /** Writes each change atomically; the outcome of each, in order. `signal` as for getHeads. */
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

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

type Action = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

function actionsFor(table: string, change: RecordWrite): Action[] {
  const headItem = { pk: pk(change.head.id), sk: HEAD, ...change.head };
  if (change.op === 'create') {
    return [{ Put: { TableName: table, Item: headItem, ConditionExpression: 'attribute_not_exists(pk)' } }];
  }
  return [
    {
      Put: {
        TableName: table,
        Item: headItem,
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

  async getHeads(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, StoredHead>> {
    const found = new Map<string, StoredHead>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map((id) => ({ pk: pk(id), sk: HEAD }));
      for (let round = 0; keys && keys.length > 0; round++) {
        if (round > 0) await backoff(round, undefined, undefined, signal);
        if (round >= MAX_ROUNDS) throw new StoreBusyError('DynamoDB kept returning unprocessed keys');
        signal?.throwIfAborted();
        const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }), { abortSignal: signal });
        for (const item of out.Responses?.[this.table] ?? []) {
          const head = strip<StoredHead>(item);
          found.set(head.id, head);
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined;
      }
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
      for (const chunk of this.#chunks(pending, changes)) {
        const actions = chunk.flatMap((i) => actionsFor(this.table, changes[i]!));
        try {
          // Never start a write once the deadline has fired: the caller is about to answer.
          signal?.throwIfAborted();
          await this.db.send(new TransactWriteCommand({ TransactItems: actions }), { abortSignal: signal });
          for (const i of chunk) outcomes[i] = 'written';
        } catch (e) {
          if (!(e instanceof TransactionCanceledException)) throw e;
          const reasons = e.CancellationReasons ?? [];
          let a = 0;
          for (const i of chunk) {
            const n = changes[i]!.op === 'create' ? 1 : 2;
            const codes = reasons.slice(a, a + n).map((r) => r.Code);
            a += n;
            if (codes.includes('ConditionalCheckFailed')) outcomes[i] = 'conflict';
            else retry.push(i);
          }
        }
      }
      pending = retry;
    }
    return outcomes as WriteOutcome[];
  }

  *#chunks(indexes: number[], changes: readonly RecordWrite[]): Generator<number[]> {
    let chunk: number[] = [];
    let actions = 0;
    let bytes = 0;
    for (const i of indexes) {
      const change = changes[i]!;
      const n = change.op === 'create' ? 1 : 2;
      const size = Buffer.byteLength(JSON.stringify(change.head)) * n;
      if (chunk.length > 0 && (actions + n > MAX_ACTIONS || bytes + size > MAX_TRANSACTION_BYTES)) {
        yield chunk;
        chunk = [];
        actions = 0;
        bytes = 0;
      }
      chunk.push(i);
      actions += n;
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
