/**
 * The push path applies the publication policy (shared/ingest/submit.ts with shared/publication/policy.ts): read
 * once per push; a new record waits for review (in the review index) unless its kind or source is approved on
 * arrival; a changed record goes back to review; a duplicate changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { submitRecords, type SubmitDeps } from '../../shared/ingest/submit.js';
import { approve } from '../../shared/publication/decisions.js';
import type { PublicationPolicy } from '../../shared/publication/policy.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { license, penalty, SOURCE_USCC } from '../support/fixtures.js';
import { MemoryRecordsStore } from '../support/memory-records-store.js';

const source: KeyPrincipal = { sourceId: 'shi-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license', 'penalty'] };
let root: string;
let deps: Omit<SubmitDeps, 'store'>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-push-policy-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  deps = { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the publication policy on the push path', () => {
  it('without a policy every new record waits for review, in the review index', async () => {
    const store = new MemoryRecordsStore();
    const result = await submitRecords(PUSH_KINDS.penalty, source, [penalty('p-1')], { ...deps, store });
    const head = store.heads.get(result.results[0]!.id!)!;
    expect(head.publication.state).toBe('pending-review');
    expect(head.publicationQueue).toBe('review');
  });

  it('licences approved on arrival: approved by policy; penalties still wait; the policy is read once per push', async () => {
    const store = new MemoryRecordsStore();
    let reads = 0;
    const policy = async (): Promise<PublicationPolicy> => {
      reads++;
      return { approvedOnArrival: { kinds: ['license'], sources: [] } };
    };
    const licences = await submitRecords(PUSH_KINDS.license, source, [license('l-1'), license('l-2')], { ...deps, store, policy });
    expect(reads).toBe(1);
    for (const r of licences.results) {
      const head = store.heads.get(r.id!)!;
      expect(head.publication.state).toBe('approved');
      expect(head.publication.decisions).toEqual([{ action: 'auto-approve', by: 'policy', at: expect.any(String) }]);
      expect(head.publicationQueue).toBe('approved');
    }
    const penalties = await submitRecords(PUSH_KINDS.penalty, source, [penalty('p-2')], { ...deps, store, policy });
    expect(store.heads.get(penalties.results[0]!.id!)!.publication.state).toBe('pending-review');
  });

  it('a changed version of an approved record goes back to review, keeping its decisions; the same content again is a duplicate', async () => {
    const store = new MemoryRecordsStore();
    const first = await submitRecords(PUSH_KINDS.penalty, source, [penalty('p-3')], { ...deps, store });
    const id = first.results[0]!.id!;
    const outcome = approve(store.heads.get(id)!, { by: 'operator', at: new Date().toISOString(), today: store.heads.get(id)!.decisionDate });
    if ('refused' in outcome) throw new Error(outcome.message);
    store.heads.set(id, outcome.head);
    const same = await submitRecords(PUSH_KINDS.penalty, source, [penalty('p-3')], { ...deps, store });
    expect(same.duplicates).toBe(1);
    expect(store.heads.get(id)!.publication.state).toBe('approved');
    const changed = await submitRecords(PUSH_KINDS.penalty, source, [penalty('p-3', { CF_NR: '更正后的处罚内容' })], { ...deps, store });
    expect(changed.updated).toBe(1);
    const head = store.heads.get(id)!;
    expect(head.version).toBe(3);
    expect(head.publication.state).toBe('pending-review');
    expect(head.publication.decisions!.map((d) => d.action)).toEqual(['approve']);
  });
});
