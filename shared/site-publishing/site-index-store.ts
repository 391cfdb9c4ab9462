/**
 * The public site's own index, kept by the publisher in the `sitePages` table (infra/catalogue.ts), so that a change
 * re-renders only the pages it touches, from stored entries, without reading the records table:
 *
 * - members of a page's partition: pk `LIST#<list key>` / `SUBJECT#<slug>` (the public entries of a list page or a
 *   subject page, sk the record id), `GROUP#<group key>` (the children of a month page, a kind page or the index, sk the
 *   child's key); attribute `data` (the entry, as JSON-compatible values) and, when a full publish run wrote it, `run`;
 * - the SHA-256 of every page in the site bucket: pk `PAGE#<path>`, sk `PAGE`, attributes `hash`, `contentType`,
 *   and `run` (the full run that last rendered it).
 *
 * Only Query, Scan, BatchGetItem and BatchWriteItem (puts and deletes, unprocessed items sent again).
 */
import { BatchGetCommand, BatchWriteCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const PAGE_SK = 'PAGE';
export const pageKey = (path: string) => ({ pk: `PAGE#${path}`, sk: PAGE_SK });

/** One member of a partition: its sort key and its data. */
export interface Member {
  sk: string;
  data: Record<string, unknown>;
  /** The full publish run that last wrote it (absent: written by an incremental change). */
  run?: string;
}

/** A member to write: where, what, and the full run writing it (absent: an incremental change). */
export interface MemberWrite extends Member {
  pk: string;
}

export interface StoredPage {
  path: string;
  hash: string;
  contentType?: string;
  run?: string;
}

/** An item of the table as a scan meets it (the full run's sweeps). */
export interface ScannedItem {
  pk: string;
  sk: string;
  run?: string;
  /** A member's data (absent on page hashes). */
  data?: Record<string, unknown>;
}

export interface ScanPage {
  items: ScannedItem[];
  next?: Record<string, unknown>;
}

export interface SiteIndex {
  putMembers(members: readonly MemberWrite[]): Promise<void>;
  deleteMembers(keys: readonly { pk: string; sk: string }[]): Promise<void>;
  /** Every member of a partition, in sort-key order (strongly consistent). */
  members(pk: string): Promise<Member[]>;
  /** Whether a partition has any member (strongly consistent). */
  hasMembers(pk: string): Promise<boolean>;
  /**
   * Members of a partition next to `sk` (strongly consistent): those after it in sort-key order (`forward`), or those
   * before it, nearest first (`backward`); `sk` itself too when `inclusive`. At most `limit`: fewer when the partition
   * ends first.
   */
  membersNear(pk: string, sk: string, direction: 'forward' | 'backward', inclusive: boolean, limit: number): Promise<Member[]>;
  /** The stored hashes of these pages (those that have one). */
  pages(paths: readonly string[]): Promise<Map<string, StoredPage>>;
  putPages(pages: readonly StoredPage[]): Promise<void>;
  deletePages(paths: readonly string[]): Promise<void>;
  /** One page of a scan of the whole table (bounded: `limit` items), from `start`. */
  scan(start: Record<string, unknown> | undefined, limit: number): Promise<ScanPage>;
}

/** BatchWriteItem takes 25 requests, BatchGetItem 100 keys. */
const WRITE_BATCH = 25;
const GET_BATCH = 100;
/** BatchWriteItem requests in flight at once (a page of a run writes hundreds of items). */
const WRITES_IN_FLIGHT = 4;
/** How many times unprocessed items are sent again (with a short back-off) before the write fails. */
const UNPROCESSED_ROUNDS = 8;

type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

export class DynamoSiteIndex implements SiteIndex {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  putMembers(members: readonly MemberWrite[]): Promise<void> {
    return this.#write(members.map((m) => ({ PutRequest: { Item: { pk: m.pk, sk: m.sk, data: m.data, ...(m.run !== undefined ? { run: m.run } : {}) } } })));
  }

  deleteMembers(keys: readonly { pk: string; sk: string }[]): Promise<void> {
    return this.#write(keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })));
  }

  async members(pk: string): Promise<Member[]> {
    const out: Member[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ProjectionExpression: 'sk, #data, #run',
          ExpressionAttributeNames: { '#data': 'data', '#run': 'run' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push({ sk: String(item.sk), data: (item.data ?? {}) as Record<string, unknown>, ...(item.run !== undefined ? { run: String(item.run) } : {}) });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async hasMembers(pk: string): Promise<boolean> {
    const page = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'sk', ConsistentRead: true, Limit: 1 }),
    );
    return (page.Items ?? []).length > 0;
  }

  async membersNear(pk: string, sk: string, direction: 'forward' | 'backward', inclusive: boolean, limit: number): Promise<Member[]> {
    const operator = direction === 'forward' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
    const out: Member[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: `pk = :pk AND sk ${operator} :sk`,
          ExpressionAttributeValues: { ':pk': pk, ':sk': sk },
          ProjectionExpression: 'sk, #data, #run',
          ExpressionAttributeNames: { '#data': 'data', '#run': 'run' },
          ScanIndexForward: direction === 'forward',
          Limit: limit - out.length,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push({ sk: String(item.sk), data: (item.data ?? {}) as Record<string, unknown>, ...(item.run !== undefined ? { run: String(item.run) } : {}) });
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async pages(paths: readonly string[]): Promise<Map<string, StoredPage>> {
    const found = new Map<string, StoredPage>();
    const unique = [...new Set(paths)];
    for (let i = 0; i < unique.length; i += GET_BATCH) {
      let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + GET_BATCH).map(pageKey);
      for (let round = 0; keys && keys.length > 0; round++) {
        if (round > UNPROCESSED_ROUNDS) throw new Error(`site index: ${keys.length} page hashes still unread after ${UNPROCESSED_ROUNDS} rounds`);
        if (round > 0) await this.sleep(50 * 2 ** round);
        const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) {
          const path = String(item.pk).slice('PAGE#'.length);
          found.set(path, { path, hash: String(item.hash), ...(item.contentType ? { contentType: String(item.contentType) } : {}), ...(item.run ? { run: String(item.run) } : {}) });
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return found;
  }

  putPages(pages: readonly StoredPage[]): Promise<void> {
    return this.#write(
      pages.map((p) => ({
        PutRequest: { Item: { ...pageKey(p.path), hash: p.hash, ...(p.contentType ? { contentType: p.contentType } : {}), ...(p.run !== undefined ? { run: p.run } : {}) } },
      })),
    );
  }

  deletePages(paths: readonly string[]): Promise<void> {
    return this.#write(paths.map((path) => ({ DeleteRequest: { Key: pageKey(path) } })));
  }

  async scan(start: Record<string, unknown> | undefined, limit: number): Promise<ScanPage> {
    const out = await this.db.send(
      new ScanCommand({
        TableName: this.table,
        ProjectionExpression: 'pk, sk, #run, #data',
        ExpressionAttributeNames: { '#run': 'run', '#data': 'data' },
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return {
      items: (out.Items ?? []).map((item) => ({
        pk: String(item.pk),
        sk: String(item.sk),
        ...(item.run !== undefined ? { run: String(item.run) } : {}),
        ...(item.data !== undefined ? { data: item.data as Record<string, unknown> } : {}),
      })),
      ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}),
    };
  }

  /** Writes in batches of 25, a few in flight (the last of several writes of one key in a call wins: earlier ones are dropped). */
  async #write(requests: readonly WriteRequest[]): Promise<void> {
    const byKey = new Map<string, WriteRequest>();
    for (const r of requests) {
      const key = 'PutRequest' in r ? r.PutRequest.Item : r.DeleteRequest.Key;
      byKey.set(`${String(key.pk)}\u0000${String(key.sk)}`, r);
    }
    const all = [...byKey.values()];
    const batches: WriteRequest[][] = [];
    for (let i = 0; i < all.length; i += WRITE_BATCH) batches.push(all.slice(i, i + WRITE_BATCH));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        let pending: WriteRequest[] | undefined = batches[next++]!;
        for (let round = 0; pending && pending.length > 0; round++) {
          if (round > UNPROCESSED_ROUNDS) throw new Error(`site index: ${pending.length} writes still unprocessed after ${UNPROCESSED_ROUNDS} rounds`);
          if (round > 0) await this.sleep(50 * 2 ** round);
          const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
          pending = out.UnprocessedItems?.[this.table] as WriteRequest[] | undefined;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, batches.length) }, worker));
  }
}
