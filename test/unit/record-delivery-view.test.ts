/**
 * What GET /v1/records/{id} shows of the upward platforms (shared/upward/delivery-view.ts): per platform, the
 * state of the part of the package that carries the record's current version (after splits, the part not split
 * further), the platform's feedback from the version's claim, and pending for a version the fan-out has not claimed
 * yet. Pure: from the claim, body and deliveries as the packages store gives them (the in-memory store, through the
 * same transitions the connector makes).
 */
import { describe, expect, it } from 'vitest';
import { newDelivery, packageKeyOf, type PackageDelivery, type PackageRef, type PlatformName } from '../../shared/upward/package-model.js';
import type { StoredFeedback } from '../../shared/upward/packages-store.js';
import { platformDeliveryView, readVersionDeliveries, recordDeliveryView } from '../../shared/upward/delivery-view.js';
import { MemoryPackagesStore } from '../support/memory-packages-store.js';

const OPENED = new Date('2026-05-01T08:00:00.000Z');
const at = (seconds: number) => new Date(OPENED.getTime() + seconds * 1000).toISOString();
const A = 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'pen_bbbbbbbbbbbbbbbbbbbbbbbbbb';
const C = 'pen_cccccccccccccccccccccccccc';
const KEY = packageKeyOf({ sequenceNumber: '49666000000000000000000000000000000000000000000001', recordId: B, version: 1 });
/** The package: B v1, A v2 (the record looked at), C v5 (a delete). */
const REFS: PackageRef[] = [
  { recordId: B, version: 1, operation: 'upsert' },
  { recordId: A, version: 2, operation: 'upsert' },
  { recordId: C, version: 5, operation: 'delete' },
];
const rejected: StoredFeedback = { outcome: 'rejected', reason: '统一社会信用代码不存在', at: at(600), receivedAt: at(601) };

/** The store with the package closed (A v2, B v1, C v5 claimed for it) and a pending delivery per platform. */
async function packaged(): Promise<MemoryPackagesStore> {
  const store = new MemoryPackagesStore();
  await store.openBody(KEY, REFS, OPENED.toISOString());
  for (const r of REFS) await store.claim(r.recordId, r.version, KEY, OPENED.toISOString());
  await store.closeBody(KEY, REFS);
  for (const platform of ['provincial', 'national'] as const) await store.createDelivery(newDelivery(KEY, REFS.length, platform, '', OPENED));
  return store;
}
const part = (platform: PlatformName, path: string) => ({ key: KEY, platform, path });
const viewOf = async (store: MemoryPackagesStore, recordId = A, version = 2) => recordDeliveryView(recordId, version, await readVersionDeliveries(store, recordId, version));

describe('the delivery view of a record version', () => {
  it('is pending with the version for both platforms when the version has no claim (the fan-out has not reached it), and reads nothing more', async () => {
    const store = await packaged();
    let reads = 0;
    const counting = {
      getClaim: store.getClaim.bind(store),
      getBody: async (key: string) => (reads++, store.getBody(key)),
      listDeliveries: async (key: string) => (reads++, store.listDeliveries(key)),
    };
    // Version 3 of A was stored after the package: not claimed yet.
    const found = await readVersionDeliveries(counting, A, 3);
    expect(found).toEqual({ deliveries: [] });
    expect(reads).toBe(0);
    expect(recordDeliveryView(A, 3, found)).toEqual({ provincial: { state: 'pending', version: 3 }, national: { state: 'pending', version: 3 } });
  });

  it('is pending while the claim’s package has no deliveries yet (its fan-out is settling it)', async () => {
    const store = new MemoryPackagesStore();
    await store.openBody(KEY, REFS, OPENED.toISOString());
    await store.claim(A, 2, KEY, OPENED.toISOString());
    expect(await viewOf(store)).toEqual({ provincial: { state: 'pending', version: 2 }, national: { state: 'pending', version: 2 } });
  });

  it('shows a platform’s delivery of the whole package: delivered with its time and attempts; the other platform still pending', async () => {
    const store = await packaged();
    await store.markDelivered(part('national', ''), at(5), 2);
    expect(await viewOf(store)).toEqual({
      provincial: { state: 'pending', version: 2 },
      national: { state: 'delivered', version: 2, deliveredAt: at(5), attempts: 2 },
    });
  });

  it('after a split, shows the part that carries the version: failed with the platform’s reason, while the other platform is delivered', async () => {
    const store = await packaged();
    await store.markDelivered(part('national', ''), at(5), 0);
    // The provincial platform refused the package: split in '0' (B, A) and '1' (C); '0' refused again: split in
    // '00' (B, delivered) and '01' (A alone, refused: failed with the reason and dead-lettered).
    expect(await store.split(part('provincial', ''), ['0', '1'].map((p) => newDelivery(KEY, 3, 'provincial', p, new Date(at(1)))), at(1), 1)).toBe('updated');
    expect(await store.split(part('provincial', '0'), ['00', '01'].map((p) => newDelivery(KEY, 3, 'provincial', p, new Date(at(2)))), at(2), 1)).toBe('updated');
    await store.markDelivered(part('provincial', '00'), at(3), 0);
    await store.markFailed(part('provincial', '01'), 'HTTP 400: XK_XDR_MC 缺失', at(3), 1);
    await store.markDelivered(part('provincial', '1'), at(4), 0);

    expect(await viewOf(store)).toEqual({
      provincial: { state: 'failed', version: 2, failedAt: at(3), reason: 'HTTP 400: XK_XDR_MC 缺失', attempts: 1 },
      national: { state: 'delivered', version: 2, deliveredAt: at(5) },
    });
    // The other records of the package, each by its own part.
    expect((await viewOf(store, B, 1)).provincial).toEqual({ state: 'delivered', version: 1, deliveredAt: at(3) });
    expect((await viewOf(store, C, 5)).provincial).toEqual({ state: 'delivered', version: 5, deliveredAt: at(4) });
  });

  it('is pending where the version’s part is split but its own part not settled yet (never the split part’s state)', async () => {
    const store = await packaged();
    await store.split(part('national', ''), ['0', '1'].map((p) => newDelivery(KEY, 3, 'national', p, new Date(at(1)))), at(1), 1);
    await store.markDelivered(part('national', '1'), at(2), 0);
    const view = await viewOf(store);
    expect(view.national).toEqual({ state: 'pending', version: 2 });
    expect((await viewOf(store, C, 5)).national).toEqual({ state: 'delivered', version: 5, deliveredAt: at(2) });
  });

  it('shows each platform’s feedback from the claim, with the state or while still pending', async () => {
    const store = await packaged();
    await store.markDelivered(part('national', ''), at(5), 0);
    await store.setFeedback(A, 2, 'national', rejected);
    const received: StoredFeedback = { outcome: 'received', at: at(700), receivedAt: at(700) };
    await store.setFeedback(A, 2, 'provincial', received);
    expect(await viewOf(store)).toEqual({
      provincial: { state: 'pending', version: 2, feedback: received },
      national: { state: 'delivered', version: 2, deliveredAt: at(5), feedback: rejected },
    });
    // Another version's feedback is not this one's.
    expect((await viewOf(store, B, 1)).national).not.toHaveProperty('feedback');
  });

  it('is pending, never another record’s state, when the body does not list the version', () => {
    const delivered: PackageDelivery = { ...newDelivery(KEY, 3, 'national', '', OPENED), state: 'delivered', deliveredAt: at(5) };
    const claim = { recordId: A, version: 9, key: KEY, claimedAt: OPENED.toISOString(), feedback: {} };
    expect(recordDeliveryView(A, 9, { claim, body: { key: KEY, openedAt: OPENED.toISOString(), refs: REFS, open: false }, deliveries: [delivered] }).national).toEqual({
      state: 'pending',
      version: 9,
    });
  });
});

describe('platformDeliveryView', () => {
  const delivery = (over: Partial<PackageDelivery>): PackageDelivery => ({ ...newDelivery(KEY, 3, 'national', '', OPENED), ...over });

  it('shows deliveredAt only when delivered, failedAt and the reason only when failed (an earlier failure of a pending one is history)', () => {
    expect(platformDeliveryView(2, delivery({ state: 'pending', failedAt: 'earlier', failedReason: 'HTTP 400', attempts: 3 }), undefined)).toEqual({ state: 'pending', version: 2, attempts: 3 });
    expect(platformDeliveryView(2, delivery({ state: 'delivered', deliveredAt: '2026-05-01T08:01:00.000Z' }), undefined)).toEqual({
      state: 'delivered',
      version: 2,
      deliveredAt: '2026-05-01T08:01:00.000Z',
    });
    expect(platformDeliveryView(2, delivery({ state: 'failed', failedAt: '2026-05-01T08:02:00.000Z', failedReason: 'HTTP 422: no', attempts: 1 }), undefined)).toEqual({
      state: 'failed',
      version: 2,
      failedAt: '2026-05-01T08:02:00.000Z',
      reason: 'HTTP 422: no',
      attempts: 1,
    });
  });

  it('shows a split part as pending (its records are carried by its parts)', () => {
    expect(platformDeliveryView(2, delivery({ state: 'split', splitAt: 'x', attempts: 1 }), undefined)).toEqual({ state: 'pending', version: 2, attempts: 1 });
  });

  it('shows the platform’s feedback when it is one, and nothing for a value that is not', () => {
    expect(platformDeliveryView(2, delivery({ state: 'delivered', deliveredAt: 'd' }), rejected).feedback).toEqual(rejected);
    expect(platformDeliveryView(2, undefined, rejected)).toEqual({ state: 'pending', version: 2, feedback: rejected });
    expect(platformDeliveryView(2, delivery({}), { outcome: 'maybe', at: 'x', receivedAt: 'y' })).not.toHaveProperty('feedback');
    expect(platformDeliveryView(2, delivery({}), 'received')).not.toHaveProperty('feedback');
    // Kept fields only: nothing else a hand-edited item may carry.
    expect(platformDeliveryView(2, delivery({}), { ...rejected, note: 'x' }).feedback).toEqual(rejected);
  });
});
