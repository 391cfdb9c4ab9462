/**
 * The records store port (shared/store/records-store.ts) in memory, with the
 * DynamoDB adapter's conditional semantics: a create is written only if the
 * record is absent, an update only if the stored head still has the version
 * and content hash it was decided against (and the old head becomes a
 * version); otherwise the outcome is `conflict`. Items are copied in and out,
 * as a database would, so a caller's objects never alias the stored ones.
 */
import type { StoredHead, StoredVersion } from '../../shared/domain/record-model.js';
import type { RecordsStore, RecordWrite, WriteOutcome } from '../../shared/store/records-store.js';

export class MemoryRecordsStore implements RecordsStore {
  readonly heads = new Map<string, StoredHead>();
  readonly versions = new Map<string, StoredVersion[]>();
  /** Every write that was applied, in order (for tests that count them). */
  writes = 0;

  async getHeads(ids: readonly string[], signal?: AbortSignal, _consistent?: boolean): Promise<Map<string, StoredHead>> {
    signal?.throwIfAborted();
    const found = new Map<string, StoredHead>();
    for (const id of ids) {
      const head = this.heads.get(id);
      if (head) found.set(id, structuredClone(head));
    }
    return found;
  }

  async write(changes: readonly RecordWrite[], signal?: AbortSignal): Promise<WriteOutcome[]> {
    signal?.throwIfAborted();
    return changes.map((change) => {
      const stored = this.heads.get(change.head.id);
      if (change.op === 'create') {
        if (stored) return 'conflict';
      } else {
        if (!stored || stored.version !== change.previous.version || stored.contentHash !== change.previous.contentHash) return 'conflict';
        const versions = this.versions.get(change.head.id) ?? [];
        if (versions.some((v) => v.version === change.version.version)) return 'conflict';
        versions.push(structuredClone(change.version));
        this.versions.set(change.head.id, versions);
      }
      this.heads.set(change.head.id, structuredClone(change.head));
      this.writes++;
      return 'written';
    });
  }

  async getRecord(id: string): Promise<{ head: StoredHead; versions: StoredVersion[] } | undefined> {
    const head = this.heads.get(id);
    if (!head) return undefined;
    return { head: structuredClone(head), versions: structuredClone(this.versions.get(id) ?? []).sort((a, b) => a.version - b.version) };
  }
}
