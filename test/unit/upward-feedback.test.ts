/**
 * The pure parts of the platforms' feedback (shared/upward/feedback.ts), with an in-memory store of claims: what is
 * kept of an item, the order of items about one record version under concurrency, versions never packaged
 * (unknown). What GET /v1/records/{id} shows of it: test/unit/record-delivery-view.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { feedbackRequestSchema, type FeedbackItem } from '../../contracts/upward.js';
import type { PlatformName } from '../../shared/upward/package-model.js';
import type { StoredFeedback, Transition } from '../../shared/upward/packages-store.js';
import { recordFeedback, storedFeedback } from '../../shared/upward/feedback.js';

const RECEIVED = new Date('2026-05-01T08:00:00.000Z');
const A = 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'pen_bbbbbbbbbbbbbbbbbbbbbbbbbb';

/**
 * Claims by record version (`<record id>#<version>`: the versions packaged), the feedback written to each by
 * platform (`<platform>:<record id>#<version>`); each write waits a little, longer for some records, so that
 * writes overlap.
 */
class MemoryFeedbackStore {
  kept = new Map<string, StoredFeedback[]>();
  inFlight = 0;
  mostInFlight = 0;
  constructor(
    private readonly claimed: Set<string>,
    private readonly delayMs: (recordId: string) => number = () => 1,
  ) {}
  async setFeedback(recordId: string, version: number, platform: PlatformName, feedback: StoredFeedback): Promise<Transition> {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.delayMs(recordId)));
    this.inFlight--;
    if (!this.claimed.has(`${recordId}#${version}`)) return 'lost';
    const key = `${platform}:${recordId}#${version}`;
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
  it('writes different versions at once, the items about one version one after the other in the given order', async () => {
    const claimed = new Set([`${A}#1`, `${B}#1`]);
    // A's writes are slow: written at once, the later item could land first.
    const store = new MemoryFeedbackStore(claimed, (recordId) => (recordId === A ? 20 : 1));
    const items = [item(A, 1, { outcome: 'received' }), item(B, 1), item(A, 1, { outcome: 'rejected', reason: '退回' }), item(A, 1, { outcome: 'applied', measure: '联合惩戒' })];
    const answer = await recordFeedback('national', items, { store, now: () => RECEIVED });
    expect(answer).toEqual({ recorded: 4, unknown: [] });
    expect(store.kept.get(`national:${A}#1`)!.map((f) => f.outcome)).toEqual(['received', 'rejected', 'applied']);
    expect(store.mostInFlight).toBe(2);
  });

  it('keeps at most `concurrency` writes in flight', async () => {
    const claimed = new Set(Array.from({ length: 50 }, (_, i) => `${A}#${i + 1}`));
    const store = new MemoryFeedbackStore(claimed);
    const answer = await recordFeedback('provincial', Array.from({ length: 50 }, (_, i) => item(A, i + 1)), { store, now: () => RECEIVED, concurrency: 4 });
    expect(answer.recorded).toBe(50);
    expect(store.mostInFlight).toBe(4);
    expect(store.kept.size).toBe(50);
    expect([...store.kept.keys()].every((k) => k.startsWith('provincial:'))).toBe(true);
  });

  it('reports the items about a version never packaged (no claim), by index, in order; another version of the same record does not count', async () => {
    const store = new MemoryFeedbackStore(new Set([`${A}#2`, `${B}#2`]));
    const answer = await recordFeedback('national', [item(A, 1), item(B, 2), item(B, 3), item(A, 1), item(A, 2)], { store, now: () => RECEIVED });
    expect(answer).toEqual({
      recorded: 2,
      unknown: [
        { index: 0, recordId: A, version: 1 },
        { index: 2, recordId: B, version: 3 },
        { index: 3, recordId: A, version: 1 },
      ],
    });
    expect([...store.kept.keys()].sort()).toEqual([`national:${A}#2`, `national:${B}#2`]);
  });

  it('passes a request validated by the contract straight through', () => {
    const parsed = feedbackRequestSchema.parse({ items: [{ recordId: A, version: 1, outcome: 'rejected', reason: '  字段缺失  ' }] });
    expect(parsed.items[0]!.reason).toBe('字段缺失');
  });
});
