/**
 * The redrive's rules (shared/upward/redrive.ts) against in-memory ports: the failed index read page by page up to
 * the moment the redrive began, the messages moved at most as many as the queue held and never one body twice in a
 * redrive (a message refused again at once stays for the next one), `more` when time runs short, and the mode read
 * from HUB_DLQ_REDRIVE.
 */
import { describe, expect, it } from 'vitest';
import type { DeadLetterMessage, DeadLetterQueue } from '../../../shared/upward/dead-letter-queue.js';
import { deliveryKey, messageBody, newDelivery, packageKeyOf, type DeliveryRef, type PackageDelivery, type PartPath, type PlatformName } from '../../../shared/upward/package-model.js';
import type { IndexKey, Page, Transition } from '../../../shared/upward/packages-store.js';
import { redriveDeadLetters, redriveMode, REDRIVE_MARGIN_MS, type RedriveDeps } from '../../../shared/upward/redrive.js';
import { MemoryPackagesStore } from '../../support/memory-packages-store.js';

const NOW = new Date('2026-05-01T08:00:00.000Z');

class MemoryFailedStore {
  calls: { platform: PlatformName; limit: number; before?: string; startKey?: IndexKey }[] = [];
  reset: { ref: DeliveryRef; at: string }[] = [];
  constructor(public failed: PackageDelivery[]) {}
  async listFailed(platform: PlatformName, options: { limit: number; before?: string; startKey?: IndexKey }): Promise<Page<PackageDelivery>> {
    this.calls.push({ platform, ...options });
    const all = this.failed.filter((d) => d.platform === platform && (options.before === undefined || d.failedAt! < options.before)).sort((a, b) => a.failedAt!.localeCompare(b.failedAt!));
    const from = options.startKey ? all.findIndex((d) => deliveryKey(d).pk === options.startKey!.pk && deliveryKey(d).sk === options.startKey!.sk) + 1 : 0;
    const items = all.slice(from, from + options.limit);
    const more = from + options.limit < all.length;
    return { items, ...(more ? { lastKey: { failedBy: platform, failedAt: items.at(-1)!.failedAt!, ...deliveryKey(items.at(-1)!) } } : {}) };
  }
  async resetToPending(ref: DeliveryRef, at: string): Promise<Transition> {
    this.reset.push({ ref, at });
    return 'updated';
  }
}

/** A dead-letter queue: messages visible or hidden after a receive; `onSendBack` may put one back at once (refused again). */
class MemoryDeadLetterQueue implements DeadLetterQueue {
  visible: DeadLetterMessage[] = [];
  sentBack: string[] = [];
  deleted: string[] = [];
  receives = 0;
  #n = 0;
  constructor(
    bodies: string[],
    private readonly onSendBack: (body: string, queue: MemoryDeadLetterQueue) => void = () => undefined,
    private readonly reportedDepth?: number,
  ) {
    for (const b of bodies) this.add(b);
  }
  add(body: string) {
    this.visible.push({ body, receiptHandle: `rh-${++this.#n}` });
  }
  async depth() {
    return this.reportedDepth ?? this.visible.length;
  }
  async startMoveTask(): Promise<string> {
    throw new Error('not on this stack');
  }
  async receive(max: number) {
    this.receives++;
    return this.visible.splice(0, max);
  }
  async sendBack(body: string) {
    this.sentBack.push(body);
    this.onSendBack(body, this);
  }
  async delete(handle: string) {
    this.deleted.push(handle);
  }
}

/** Package n's key. */
const keyOf = (n: number) => packageKeyOf({ sequenceNumber: String(5_000_000 + n), recordId: `pen_${n}`, version: 1 });
/** A failed part of one record version of package n (by default its second half of two: path '1'). */
const failedDelivery = (n: number, failedAt: string, platform: PlatformName = 'national', path: PartPath = '1'): PackageDelivery => ({
  ...newDelivery(keyOf(n), 2, platform, path, NOW),
  state: 'failed',
  failedAt,
});

function deps(store: RedriveDeps['store'], queue: DeadLetterQueue, over: Partial<RedriveDeps> = {}): RedriveDeps {
  return { store, queue, mode: 'resend', now: () => NOW, remainingMs: () => 20_000, pageSize: 2, ...over };
}

describe('redriveDeadLetters', () => {
  it('makes pending every delivery of the platform that failed before the redrive began, page by page', async () => {
    const store = new MemoryFailedStore([
      failedDelivery(1, '2026-05-01T07:00:00.000Z'),
      failedDelivery(2, '2026-05-01T07:01:00.000Z'),
      // A package the hub could not send at all (`internal: …`): the whole of it failed.
      failedDelivery(3, '2026-05-01T07:02:00.000Z', 'national', ''),
      failedDelivery(4, '2026-05-01T07:03:00.000Z', 'provincial'),
      // Failed again while the redrive runs: left for the next redrive.
      failedDelivery(5, '2026-05-01T08:00:01.000Z'),
    ]);
    const answer = await redriveDeadLetters('national', deps(store, new MemoryDeadLetterQueue([])));
    expect(answer).toEqual({ platform: 'national', redriven: 3, moved: 0 });
    // Each failed delivery by its package, platform and part.
    expect(store.reset.map((r) => [r.ref.key, r.ref.platform, r.ref.path, r.at])).toEqual([
      [keyOf(1), 'national', '1', NOW.toISOString()],
      [keyOf(2), 'national', '1', NOW.toISOString()],
      [keyOf(3), 'national', '', NOW.toISOString()],
    ]);
    expect(store.calls.map((c) => [c.before, c.limit, c.startKey?.pk])).toEqual([
      [NOW.toISOString(), 2, undefined],
      [NOW.toISOString(), 2, `PKG#${keyOf(2)}`],
    ]);
  });

  it('reaches every failed delivery though each one reset leaves the failed index before the next page is read', async () => {
    // The in-memory packages store: resetToPending takes a delivery out of the failed index, as DynamoDB's does.
    const store = new MemoryPackagesStore();
    const failed = Array.from({ length: 5 }, (_, i) => newDelivery(keyOf(i), 2, 'national', '1', NOW));
    for (const [i, d] of failed.entries()) {
      await store.createDelivery(d);
      expect(await store.markFailed(d, 'HTTP 400', `2026-05-01T07:0${i}:00.000Z`, 1)).toBe('updated');
    }
    const answer = await redriveDeadLetters('national', deps(store, new MemoryDeadLetterQueue([])));
    expect(answer).toEqual({ platform: 'national', redriven: 5, moved: 0 });
    for (const d of failed) expect(await store.getDelivery(d)).toMatchObject({ state: 'pending', owedBy: 'national', owedSince: NOW.toISOString() });
  });

  it('moves every message the queue held, ten to a receive, each sent back before it is deleted', async () => {
    const bodies = Array.from({ length: 23 }, (_, i) => messageBody(failedDelivery(i, NOW.toISOString())));
    const queue = new MemoryDeadLetterQueue(bodies);
    const answer = await redriveDeadLetters('national', deps(new MemoryFailedStore([]), queue));
    expect(answer).toEqual({ platform: 'national', redriven: 0, moved: 23 });
    expect(queue.sentBack).toEqual(bodies);
    expect(queue.deleted).toHaveLength(23);
    expect(queue.receives).toBe(3);
  });

  it('never moves one body twice in a redrive: a message refused again at once stays in the dead-letter queue', async () => {
    const poison = messageBody(failedDelivery(1, NOW.toISOString()));
    // The connector refuses the poison at once: it is back in the dead-letter queue before the redrive ends.
    const queue = new MemoryDeadLetterQueue([poison, messageBody(failedDelivery(2, NOW.toISOString()))], (body, q) => {
      if (body === poison) q.add(poison);
    }, 3);
    const answer = await redriveDeadLetters('national', deps(new MemoryFailedStore([]), queue));
    expect(answer).toEqual({ platform: 'national', redriven: 0, moved: 2 });
    expect(queue.sentBack.filter((b) => b === poison)).toHaveLength(1);
  });

  it('stops at the number of messages the queue held when it began, and when a receive finds none', async () => {
    const queue = new MemoryDeadLetterQueue(['a', 'b', 'c'], (body, q) => q.add(`${body}-new`), 3);
    expect((await redriveDeadLetters('national', deps(new MemoryFailedStore([]), queue))).moved).toBe(3);
    const overstated = new MemoryDeadLetterQueue(['a'], undefined, 5);
    expect((await redriveDeadLetters('national', deps(new MemoryFailedStore([]), overstated))).moved).toBe(1);
  });

  it('says `more` when time runs short while resetting or while moving, with what it did so far', async () => {
    const store = new MemoryFailedStore([failedDelivery(1, '2026-05-01T07:00:00.000Z'), failedDelivery(2, '2026-05-01T07:01:00.000Z'), failedDelivery(3, '2026-05-01T07:02:00.000Z')]);
    const left = [REDRIVE_MARGIN_MS + 1, REDRIVE_MARGIN_MS];
    expect(await redriveDeadLetters('national', deps(store, new MemoryDeadLetterQueue(['m']), { remainingMs: () => left.shift() ?? 0 }))).toEqual({
      platform: 'national',
      redriven: 2,
      moved: 0,
      more: true,
    });
    // Resetting done; time runs out after one receive of ten.
    const queue = new MemoryDeadLetterQueue(Array.from({ length: 15 }, (_, i) => `m${i}`));
    let calls = 0;
    const answer = await redriveDeadLetters('national', deps(new MemoryFailedStore([]), queue, { remainingMs: () => (++calls <= 2 ? 20_000 : 1_000) }));
    expect(answer).toEqual({ platform: 'national', redriven: 0, moved: 10, more: true });
  });
});

describe('redriveMode', () => {
  it('is move-task unless HUB_DLQ_REDRIVE says resend; anything else is a fault of the deployment', () => {
    expect(redriveMode({})).toBe('move-task');
    expect(redriveMode({ HUB_DLQ_REDRIVE: 'move-task' })).toBe('move-task');
    expect(redriveMode({ HUB_DLQ_REDRIVE: ' resend ' })).toBe('resend');
    expect(() => redriveMode({ HUB_DLQ_REDRIVE: 'receive' })).toThrow(/HUB_DLQ_REDRIVE/);
  });
});
