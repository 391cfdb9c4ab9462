/**
 * What any BatchStore (shared/batch/ports.ts) must do, run against the
 * in-memory one (test/unit) and the DynamoDB one (test/integration), so that
 * the ingest's tests with the fake hold for the real store too.
 */
import { describe, expect, it } from 'vitest';
import type { Batch, Checkpoint } from '../../shared/batch/batch-model.js';
import type { BatchStore } from '../../shared/batch/ports.js';
import { COURT } from './batch-harness.js';

export interface ContractStore {
  store: BatchStore;
  /** Stores a new (waiting) batch. */
  add(batch: Batch): Promise<void>;
}

let n = 0;
const NOW = 1_800_000_000_000;
const object = { etag: '"abc"', size: 1234 };
const start: Checkpoint = { offset: 0, line: 1, counts: { total: 0, accepted: 0, updated: 0, duplicates: 0, rejected: 0 }, rejectParts: [] };
const after = (offset: number, total: number): Checkpoint => ({ offset, line: total + 1, counts: { total, accepted: total, updated: 0, duplicates: 0, rejected: 0 }, rejectParts: [0], header: ['iname', 'cardNum'] });

export function describeBatchStoreContract(name: string, make: () => ContractStore | Promise<ContractStore>) {
  async function fresh(overrides: Partial<Batch> = {}) {
    const { store, add } = await make();
    const id = `contract-${++n}-${Date.now()}`;
    const batch: Batch = {
      id,
      kind: 'dishonest-debtor',
      format: 'csv',
      encoding: 'gb18030',
      source: COURT,
      objectKey: `uploads/${id}`,
      status: 'waiting',
      createdAt: new Date(NOW).toISOString(),
      expiresAt: new Date(NOW + 3_600_000).toISOString(),
      ...overrides,
    };
    await add(batch);
    return { store, id, batch };
  }

  /** A batch taken by `owner` and begun. */
  async function begun() {
    const f = await fresh();
    await f.store.takeLease(f.id, 'w1', NOW + 1000, NOW);
    expect(await f.store.begin(f.id, 'w1', object, start)).toBe('ok');
    return f;
  }

  describe(`BatchStore contract: ${name}`, () => {
    it('gets a batch as stored; an unknown one is undefined', async () => {
      const { store, id, batch } = await fresh();
      expect(await store.get(id)).toEqual(batch);
      expect(await store.get(`${id}-nope`)).toBeUndefined();
    });

    it('a lease is taken when free, refused while another holds it, taken again once expired or by its owner', async () => {
      const { store, id } = await fresh();
      expect(await store.takeLease(id, 'w1', NOW + 1000, NOW)).toMatchObject({ id, lease: { owner: 'w1', until: NOW + 1000 } });
      expect(await store.takeLease(id, 'w2', NOW + 2000, NOW + 999)).toBeUndefined();
      expect(await store.takeLease(id, 'w1', NOW + 3000, NOW + 999)).toMatchObject({ lease: { owner: 'w1', until: NOW + 3000 } });
      expect(await store.takeLease(id, 'w2', NOW + 9000, NOW + 3001)).toMatchObject({ lease: { owner: 'w2', until: NOW + 9000 } });
      expect(await store.takeLease(`${id}-nope`, 'w1', NOW, NOW)).toBeUndefined();
    });

    it('begin: waiting → processing, by the lease holder only, once', async () => {
      const { store, id } = await fresh();
      await store.takeLease(id, 'w1', NOW + 1000, NOW);
      expect(await store.begin(id, 'w2', object, start)).toBe('lost');
      expect(await store.begin(id, 'w1', object, start)).toBe('ok');
      expect(await store.begin(id, 'w1', object, start)).toBe('lost');
      expect(await store.get(id)).toMatchObject({ status: 'processing', object, checkpoint: start });
    });

    it('a checkpoint is saved only over the previous offset and by the lease holder; it renews or releases the lease', async () => {
      const { store, id } = await begun();
      expect(await store.saveCheckpoint(id, 'w1', 0, after(100, 5), NOW + 5000)).toBe('ok');
      expect(await store.get(id)).toMatchObject({ checkpoint: after(100, 5), lease: { owner: 'w1', until: NOW + 5000 } });
      // A replay of the same step (previous offset 0 again) or a step from elsewhere: refused.
      expect(await store.saveCheckpoint(id, 'w1', 0, after(100, 5), NOW + 5000)).toBe('lost');
      expect(await store.saveCheckpoint(id, 'w1', 50, after(200, 9), NOW + 5000)).toBe('lost');
      expect(await store.saveCheckpoint(id, 'w2', 100, after(200, 9), NOW + 5000)).toBe('lost');
      expect(await store.saveCheckpoint(id, 'w1', 100, after(200, 9), undefined)).toBe('ok');
      const saved = await store.get(id);
      expect(saved).toMatchObject({ checkpoint: after(200, 9) });
      expect(saved!.lease).toBeUndefined();
      // Released: anyone may take it at once.
      expect(await store.takeLease(id, 'w2', NOW + 10, NOW)).toMatchObject({ lease: { owner: 'w2' } });
    });

    it('releaseLease lets go of the owner’s lease only', async () => {
      const { store, id } = await begun();
      await store.releaseLease(id, 'w2');
      expect((await store.get(id))!.lease).toMatchObject({ owner: 'w1' });
      await store.releaseLease(id, 'w1');
      expect((await store.get(id))!.lease).toBeUndefined();
    });

    it('complete: by the lease holder, with the final counts and the rejects key; the lease ends; it is no longer unfinished', async () => {
      const { store, id } = await begun();
      const counts = { total: 9, accepted: 5, updated: 1, duplicates: 1, rejected: 2 };
      expect(await store.complete(id, 'w2', counts, 'rejects/x.ndjson', '2027-01-01T00:00:00.000Z')).toBe('lost');
      expect(await store.complete(id, 'w1', counts, 'rejects/x.ndjson', '2027-01-01T00:00:00.000Z')).toBe('ok');
      const done = await store.get(id);
      expect(done).toMatchObject({ status: 'completed', checkpoint: { counts }, rejectsKey: 'rejects/x.ndjson', finishedAt: '2027-01-01T00:00:00.000Z' });
      expect(done!.lease).toBeUndefined();
      expect(await store.takeLease(id, 'w3', NOW + 10, NOW)).toBeUndefined();
      expect(await store.complete(id, 'w1', counts, undefined, '2027-01-01T00:00:00.000Z')).toBe('lost');
      const unfinished: string[] = [];
      for await (const b of store.listUnfinished()) unfinished.push(b.id);
      expect(unfinished).not.toContain(id);
    });

    it('fail: by the lease holder; or, without an owner, only a waiting batch with no live lease', async () => {
      const a = await begun();
      expect(await a.store.fail(a.id, undefined, 'no upload', new Date(NOW).toISOString())).toBe('lost');
      expect(await a.store.fail(a.id, 'w1', '文件为空 (empty file)', new Date(NOW).toISOString())).toBe('ok');
      expect(await a.store.get(a.id)).toMatchObject({ status: 'failed', reason: '文件为空 (empty file)' });
      expect(await a.store.fail(a.id, 'w1', 'again', new Date(NOW).toISOString())).toBe('lost');

      const b = await fresh();
      await b.store.takeLease(b.id, 'w1', NOW + 1000, NOW);
      expect(await b.store.fail(b.id, undefined, 'expired', new Date(NOW + 500).toISOString())).toBe('lost');
      expect(await b.store.fail(b.id, undefined, 'expired', new Date(NOW + 1001).toISOString())).toBe('ok');
      expect(await b.store.get(b.id)).toMatchObject({ status: 'failed', reason: 'expired' });
    });

    it('lists the waiting and processing batches, not the finished ones', async () => {
      const waiting = await fresh();
      const processing = await begun();
      const done = await begun();
      await done.store.fail(done.id, 'w1', 'x', new Date(NOW).toISOString());
      const listed = new Map<string, Batch>();
      for await (const b of waiting.store.listUnfinished()) listed.set(b.id, b);
      expect(listed.get(waiting.id)).toMatchObject({ status: 'waiting' });
      expect(listed.get(processing.id)).toMatchObject({ status: 'processing', lease: { owner: 'w1' } });
      expect(listed.has(done.id)).toBe(false);
    });
  });
}
