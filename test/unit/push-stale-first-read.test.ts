/**
 * The push reads the stored heads eventually consistent first (shared/ingest/submit.ts): half the read units,
 * maybe a moment behind. What it decides on such a read is only trusted where a conditional write checks it; a
 * decision not to write (a duplicate, a change already applied) is made again on a strongly consistent read. Here
 * the store answers eventually consistent reads with the heads as they were before the last writes (the worst a
 * replica can lag), and the outcomes must be those of a push on fresh data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { submitRecords, type SubmitDeps } from '../../shared/ingest/submit.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { license, SOURCE_USCC } from '../support/fixtures.js';
import { MemoryRecordsStore } from '../support/memory-records-store.js';

const source: KeyPrincipal = { sourceId: 'shi-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] };
let root: string;
let deps: Omit<SubmitDeps, 'store'>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-push-stale-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  deps = { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A store whose eventually consistent reads answer from a snapshot taken by `lag()` (a replica behind). */
class LaggingStore extends MemoryRecordsStore {
  #replica = new Map<string, StoredHead>();
  readonly reads: boolean[] = [];
  lag(): void {
    this.#replica = new Map([...this.heads].map(([id, head]) => [id, structuredClone(head)]));
  }
  override async getHeads(ids: readonly string[], signal?: AbortSignal, consistent = true): Promise<Map<string, StoredHead>> {
    this.reads.push(consistent);
    if (consistent) return super.getHeads(ids, signal, true);
    const found = new Map<string, StoredHead>();
    for (const id of ids) {
      const head = this.#replica.get(id);
      if (head) found.set(id, structuredClone(head));
    }
    return found;
  }
}

const push = (store: MemoryRecordsStore, records: unknown[], requestKey?: string) =>
  submitRecords(PUSH_KINDS.license, source, records, { ...deps, store, ...(requestKey ? { requestKey } : {}) });

describe('a push whose first read is eventually consistent', () => {
  it('new records: one eventually consistent read, written on it', async () => {
    const store = new LaggingStore();
    const result = await push(store, [license('a'), license('b')]);
    expect(result).toMatchObject({ accepted: 2, updated: 0, duplicates: 0 });
    expect(store.reads).toEqual([false]);
  });

  it('a record the replica does not have yet: the create conflicts, and is decided again on fresh data', async () => {
    const store = new LaggingStore();
    store.lag();
    await push(store, [license('a', { XK_NR: '第一版' })]);
    store.reads.length = 0;
    expect(await push(store, [license('a', { XK_NR: '第一版' })])).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await push(store, [license('a', { XK_NR: '第二版' })])).toMatchObject({ accepted: 0, updated: 1 });
    expect([...store.heads.values()].map((h) => [h.version, h.fields.XK_NR])).toEqual([[2, '第二版']]);
  });

  it('content the replica shows as stored but was changed since: not a duplicate, an update back to it', async () => {
    const store = new LaggingStore();
    await push(store, [license('a', { XK_NR: '甲' })]);
    store.lag();
    await push(store, [license('a', { XK_NR: '乙' })]);
    store.reads.length = 0;
    // The replica still shows 甲: a duplicate there; the head is 乙, so 甲 again is a change.
    expect(await push(store, [license('a', { XK_NR: '甲' })])).toMatchObject({ duplicates: 0, updated: 1 });
    expect(store.reads).toEqual([false, true]);
    const head = [...store.heads.values()][0]!;
    expect([head.version, head.fields.XK_NR]).toEqual([3, '甲']);
  });

  it('a real duplicate: confirmed on a strongly consistent read, nothing written', async () => {
    const store = new LaggingStore();
    await push(store, [license('a')]);
    store.lag();
    const writes = store.writes;
    store.reads.length = 0;
    expect(await push(store, [license('a')])).toMatchObject({ duplicates: 1, accepted: 0, updated: 0 });
    expect(store.reads).toEqual([false, true]);
    expect(store.writes).toBe(writes);
  });

  it('an update on a stale head: the conditional write refuses it, and it is applied once on the fresh one', async () => {
    const store = new LaggingStore();
    await push(store, [license('a', { XK_NR: '甲' })]);
    store.lag();
    await push(store, [license('a', { XK_NR: '乙' })]);
    expect(await push(store, [license('a', { XK_NR: '丙' })])).toMatchObject({ updated: 1 });
    const head = [...store.heads.values()][0]!;
    expect([head.version, head.fields.XK_NR]).toEqual([3, '丙']);
    expect(store.versions.get(head.id)!.map((v) => v.version)).toEqual([1, 2]);
  });

  it('a retry under the same Idempotency-Key after another push changed the record: applied already, not again', async () => {
    const store = new LaggingStore();
    await push(store, [license('a', { XK_NR: '甲' })]);
    await push(store, [license('a', { XK_NR: '乙' })], 'key-1');
    await push(store, [license('a', { XK_NR: '丙' })]);
    store.lag();
    const retry = await push(store, [license('a', { XK_NR: '乙' })], 'key-1');
    expect(retry).toMatchObject({ updated: 1, accepted: 0, duplicates: 0 });
    const head = [...store.heads.values()][0]!;
    expect([head.version, head.fields.XK_NR]).toEqual([3, '丙']);
  });
});
