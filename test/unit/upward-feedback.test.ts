/**
 * The pure parts of the platforms' feedback (shared/upward/feedback.ts) and of a record's delivery view
 * (shared/upward/delivery-view.ts), with an in-memory deliveries store: what is kept of an item, the order of
 * items about one delivery under concurrency, unknown deliveries, and what GET /v1/records/{id} shows.
 */
import { describe, expect, it } from 'vitest';
import { feedbackRequestSchema, type FeedbackItem } from '../../contracts/upward.js';
import { newDelivery, type Delivery, type DeliveryRef } from '../../shared/upward/delivery-model.js';
import type { StoredFeedback, Transition } from '../../shared/upward/deliveries-store.js';
import { platformDeliveryView, recordDeliveryView } from '../../shared/upward/delivery-view.js';
import { recordFeedback, storedFeedback } from '../../shared/upward/feedback.js';

const RECEIVED = new Date('2026-05-01T08:00:00.000Z');
const A = 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'pen_bbbbbbbbbbbbbbbbbbbbbbbbbb';

/** Deliveries by key; each write waits a little, longer for some records, so that writes overlap. */
class MemoryFeedbackStore {
  kept = new Map<string, StoredFeedback[]>();
  inFlight = 0;
  mostInFlight = 0;
  constructor(
    private readonly known: Set<string>,
    private readonly delayMs: (ref: DeliveryRef) => number = () => 1,
  ) {}
  async setFeedback(ref: DeliveryRef, feedback: StoredFeedback): Promise<Transition> {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.delayMs(ref)));
    this.inFlight--;
    const key = `${ref.platform}:${ref.recordId}#${ref.version}`;
    if (!this.known.has(key)) return 'lost';
    this.kept.set(key, [...(this.kept.get(key) ?? []), feedback]);
    return 'updated';
  }
}

const item = (recordId: string, version: number, over: Partial<FeedbackItem> = {}): FeedbackItem => ({ recordId, version, outcome: 'received', ...over });

describe('storedFeedback', () => {
  it('keeps the outcome, the platform’s words and time (in UTC), and the receive time', () => {
    expect(storedFeedback(item(A, 1, { outcome: 'applied', measure: '限制高消费', at: '2026-05-01T12:30:00+08:00' }), RECEIVED)).toEqual({
      outcome: 'applied',
      measure: '限制高消费',
      at: '2026-05-01T04:30:00.000Z',
      receivedAt: '2026-05-01T08:00:00.000Z',
    });
    expect(storedFeedback(item(A, 1), RECEIVED)).toEqual({ outcome: 'received', at: '2026-05-01T08:00:00.000Z', receivedAt: '2026-05-01T08:00:00.000Z' });
  });

  it('redacts identity numbers in a reason or a measure', () => {
    const kept = storedFeedback(item(A, 1, { outcome: 'rejected', reason: '证件号码 110102199101010078 有误' }), RECEIVED);
    expect(kept.reason).not.toContain('110102199101010078');
    expect(kept.reason).toMatch(/^证件号码 .+ 有误$/);
  });
});

describe('recordFeedback', () => {
  it('writes different deliveries at once, the items about one delivery one after the other in the given order', async () => {
    const known = new Set([`national:${A}#1`, `national:${B}#1`]);
    // A's writes are slow: written at once, the later item could land first.
    const store = new MemoryFeedbackStore(known, (ref) => (ref.recordId === A ? 20 : 1));
    const items = [item(A, 1, { outcome: 'received' }), item(B, 1), item(A, 1, { outcome: 'rejected', reason: '退回' }), item(A, 1, { outcome: 'applied', measure: '联合惩戒' })];
    const answer = await recordFeedback('national', items, { store, now: () => RECEIVED });
    expect(answer).toEqual({ recorded: 4, unknown: [] });
    expect(store.kept.get(`national:${A}#1`)!.map((f) => f.outcome)).toEqual(['received', 'rejected', 'applied']);
    expect(store.mostInFlight).toBe(2);
  });

  it('keeps at most `concurrency` writes in flight', async () => {
    const known = new Set(Array.from({ length: 50 }, (_, i) => `provincial:${A}#${i + 1}`));
    const store = new MemoryFeedbackStore(known);
    const answer = await recordFeedback('provincial', Array.from({ length: 50 }, (_, i) => item(A, i + 1)), { store, now: () => RECEIVED, concurrency: 4 });
    expect(answer.recorded).toBe(50);
    expect(store.mostInFlight).toBe(4);
  });

  it('reports the items about no delivery to this platform, by index, in order (a delivery to the other platform does not count)', async () => {
    const store = new MemoryFeedbackStore(new Set([`provincial:${A}#1`, `national:${B}#2`]));
    const answer = await recordFeedback('national', [item(A, 1), item(B, 2), item(B, 3), item(A, 1)], { store, now: () => RECEIVED });
    expect(answer).toEqual({
      recorded: 1,
      unknown: [
        { index: 0, recordId: A, version: 1 },
        { index: 2, recordId: B, version: 3 },
        { index: 3, recordId: A, version: 1 },
      ],
    });
  });

  it('passes a request validated by the contract straight through', () => {
    const parsed = feedbackRequestSchema.parse({ items: [{ recordId: A, version: 1, outcome: 'rejected', reason: '  字段缺失  ' }] });
    expect(parsed.items[0]!.reason).toBe('字段缺失');
  });
});

describe('the delivery view of a record', () => {
  const head = { id: A, version: 2, status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };
  const delivery = (platform: 'provincial' | 'national', version: number, over: Partial<Delivery> = {}): Delivery => ({ ...newDelivery({ ...head, version }, platform, RECEIVED), ...over });

  it('is pending with the version for each platform without a delivery of the current version', () => {
    expect(recordDeliveryView(2, [delivery('national', 1, { state: 'delivered', deliveredAt: 'x' })])).toEqual({
      provincial: { state: 'pending', version: 2 },
      national: { state: 'pending', version: 2 },
    });
  });

  it('shows deliveredAt only when delivered, failedAt and the reason only when failed (an earlier failure of a pending one is history)', () => {
    expect(platformDeliveryView(2, delivery('national', 2, { state: 'pending', failedAt: 'earlier', failedReason: 'HTTP 400', attempts: 3 }))).toEqual({ state: 'pending', version: 2, attempts: 3 });
    expect(platformDeliveryView(2, delivery('national', 2, { state: 'delivered', deliveredAt: '2026-05-01T08:01:00.000Z' }))).toEqual({
      state: 'delivered',
      version: 2,
      deliveredAt: '2026-05-01T08:01:00.000Z',
    });
    expect(platformDeliveryView(2, delivery('national', 2, { state: 'failed', failedAt: '2026-05-01T08:02:00.000Z', failedReason: 'HTTP 422: no', attempts: 1 }))).toEqual({
      state: 'failed',
      version: 2,
      failedAt: '2026-05-01T08:02:00.000Z',
      reason: 'HTTP 422: no',
      attempts: 1,
    });
  });

  it('shows the platform’s feedback when it is one, and nothing for an item that is not', () => {
    const feedback = { outcome: 'rejected', reason: '退回', at: '2026-05-01T09:00:00.000Z', receivedAt: '2026-05-01T09:00:01.000Z' };
    expect(platformDeliveryView(2, delivery('provincial', 2, { state: 'delivered', deliveredAt: 'd', feedback })).feedback).toEqual(feedback);
    expect(platformDeliveryView(2, delivery('provincial', 2, { feedback: { outcome: 'maybe', at: 'x', receivedAt: 'y' } }))).not.toHaveProperty('feedback');
    expect(platformDeliveryView(2, delivery('provincial', 2, { feedback: 'received' }))).not.toHaveProperty('feedback');
  });
});
