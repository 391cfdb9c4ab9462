/**
 * The stored content of given record versions, for the packages that carry them (connector.ts, the nightly sync):
 * port and DynamoDB adapter over the records table (shared/store/records-store.ts describes its items).
 *
 * The heads are read first, in BatchGetItem requests of 100, eventually consistent (half the read units): a head
 * at the version asked for gives it; a head past it means the version is kept as a `V#` item (written in the same
 * transaction as the newer head), read next; a head missing or behind it (the read was stale) is read again
 * strongly consistent. A version whose head is still behind is an error (tried again later); one whose record is
 * not stored at all is undefined.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RecordContent, StoredHead } from '../domain/record-model.js';
import { batchGetAll } from '../store/batch-get.js';

/** What a package needs of a record version. */
export interface VersionContent extends Pick<RecordContent, 'fields' | 'certificate'> {
  id: string;
  kind: string;
  sourceId: string;
  version: number;
}

export interface RecordVersions {
  /** The content of each version asked for, in order; undefined where the record is not stored. */
  read(refs: readonly { recordId: string; version: number }[]): Promise<(VersionContent | undefined)[]>;
}

const pk = (id: string) => `REC#${id}`;
const versionSk = (version: number) => `V#${String(version).padStart(10, '0')}`;

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

export class DynamoRecordVersions implements RecordVersions {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async read(refs: readonly { recordId: string; version: number }[]): Promise<(VersionContent | undefined)[]> {
    const ids = [...new Set(refs.map((r) => r.recordId))];
    const heads = await this.#get(ids.map((id) => ({ pk: pk(id), sk: 'HEAD' })), false);
    const stale = ids.filter((id) => {
      const head = heads.get(`${pk(id)}|HEAD`) as StoredHead | undefined;
      return !head || refs.some((r) => r.recordId === id && head.version < r.version);
    });
    if (stale.length > 0) for (const [k, v] of await this.#get(stale.map((id) => ({ pk: pk(id), sk: 'HEAD' })), true)) heads.set(k, v);
    const headOf = (id: string) => heads.get(`${pk(id)}|HEAD`) as StoredHead | undefined;
    const older = refs.filter((r) => {
      const head = headOf(r.recordId);
      return head !== undefined && head.version > r.version;
    });
    const versions = older.length > 0 ? await this.#get(older.map((r) => ({ pk: pk(r.recordId), sk: versionSk(r.version) })), true) : new Map<string, Item>();
    return refs.map((r) => {
      const head = headOf(r.recordId);
      if (!head) return undefined;
      if (head.version < r.version) throw new Error(`record ${r.recordId}: version ${r.version} is owed but its head is at version ${head.version}`);
      const content = head.version === r.version ? head : (versions.get(`${pk(r.recordId)}|${versionSk(r.version)}`) as RecordContent | undefined);
      if (!content) throw new Error(`record ${r.recordId}: version ${r.version} is not stored`);
      return { id: head.id, kind: head.kind, sourceId: head.sourceId, version: r.version, fields: content.fields, ...(content.certificate ? { certificate: content.certificate } : {}) };
    });
  }

  /** The items of `keys` (absent ones missing), by `<pk>|<sk>`. */
  async #get(keys: readonly Key[], consistent: boolean): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (const item of await batchGetAll(this.db, this.table, keys, { consistent })) found.set(`${String(item.pk)}|${String(item.sk)}`, item as Item);
    return found;
  }
}
