/**
 * A push cut short part-way (the stack killed, the deadline come) and sent again with its Idempotency-Key
 * (shared/ingest/submit.ts, decidePush's ledger of applied requests): whatever the cut left written, the retry
 * answers what the push would have answered in one go, and leaves the records as that push would have. The
 * request pushes records more than once, unchanged and changed, so that a record's occurrences are decided in
 * several waves; it is cut after every number of writes it makes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { submitRecords, type SubmitDeps } from '../../shared/ingest/submit.js';
import type { RecordWrite, WriteOutcome } from '../../shared/store/records-store.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { license, SOURCE_USCC } from '../support/fixtures.js';
import { MemoryRecordsStore } from '../support/memory-records-store.js';

const source: KeyPrincipal = { sourceId: 'shi-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] };
let root: string;
let deps: Omit<SubmitDeps, 'store'>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-push-retry-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  deps = { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

class Killed extends Error {}

/** A store that takes `budget` record writes, then fails as a killed process would: what it took stays written. */
class CutStore extends MemoryRecordsStore {
  constructor(public budget = Infinity) {
    super();
  }
  override async write(changes: readonly RecordWrite[], signal?: AbortSignal): Promise<WriteOutcome[]> {
    const taken = changes.slice(0, Math.max(0, this.budget));
    this.budget -= taken.length;
    const outcomes = await super.write(taken, signal);
    if (taken.length < changes.length) throw new Killed(`cut after ${outcomes.length} of ${changes.length} writes`);
    return outcomes;
  }
}

const push = (store: MemoryRecordsStore, records: unknown[], requestKey: string) =>
  submitRecords(PUSH_KINDS.license, source, records, { ...deps, store, requestKey });

const contents = (store: MemoryRecordsStore) => [...store.heads.values()].map((h) => [h.id, h.version, h.fields.XK_NR]).sort();

/** a new, b new, a again, a changed, b again, a as first pushed (a change back), c new, c again. */
const REQUEST = [
  license('a', { XK_NR: '甲' }),
  license('b', { XK_NR: '乙' }),
  license('a', { XK_NR: '甲' }),
  license('a', { XK_NR: '甲二' }),
  license('b', { XK_NR: '乙' }),
  license('a', { XK_NR: '甲' }),
  license('c', { XK_NR: '丙' }),
  license('c', { XK_NR: '丙' }),
];

describe('a push cut short and sent again with its Idempotency-Key', () => {
  it('answers and stores as the push in one go, wherever it was cut', async () => {
    const whole = new CutStore();
    const expected = await push(whole, REQUEST, 'request-1');
    expect(expected.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'duplicate', 'updated', 'duplicate', 'updated', 'accepted', 'duplicate']);
    const writes = 5;
    for (let cut = 0; cut < writes; cut++) {
      const store = new CutStore(cut);
      await expect(push(store, REQUEST, 'request-1'), `cut after ${cut} writes`).rejects.toBeInstanceOf(Killed);
      store.budget = Infinity;
      const retried = await push(store, REQUEST, 'request-1');
      expect(retried.results, `cut after ${cut} writes`).toEqual(expected.results);
      expect(contents(store), `cut after ${cut} writes`).toEqual(contents(whole));
      // And a third sending changes nothing more.
      expect((await push(store, REQUEST, 'request-1')).results).toEqual(expected.results);
      expect(contents(store)).toEqual(contents(whole));
    }
  });
});
