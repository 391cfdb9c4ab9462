/**
 * The packages store (shared/upward/packages-store.ts) in memory, for unit tests of what builds on it (fan-out,
 * connector): the same conditional transitions as the DynamoDB adapter (test/integration/packages-store.test.ts
 * proves those against DynamoDB Local), every answer a copy (a caller cannot change what is stored). The indexes
 * are paged as DynamoDB pages a Query, by key: a page's `lastKey` is its last item's key, and the next page starts
 * after it in the index's order, wherever the items before it went meanwhile. Pages are cut after the filter
 * (DynamoDB cuts before it): a page here is never short. With a recording fake of the platforms' queues.
 */
import { bodyKey, deliveryKey, type DeliveryRef, type PackageBody, type PackageDelivery, type PackageRef, type PlatformName } from '../../shared/upward/package-model.js';
import type { DeliveryQueues } from '../../shared/upward/delivery-queues.js';
import { OPEN_FOR, type Claim, type IndexKey, type PackagesStore, type Page, type ReconcileCursor, type StoredFeedback, type Transition } from '../../shared/upward/packages-store.js';

const claimId = (recordId: string, version: number) => `${recordId}#${version}`;
const deliveryId = (ref: DeliveryRef) => `${ref.key}|${ref.platform}|${ref.path}`;
const copy = <T>(value: T): T => structuredClone(value);

/** An item of an index and its key as DynamoDB gives it in LastEvaluatedKey: the index's partition and sort keys, and the table's. */
interface Indexed<T> {
  item: T;
  key: IndexKey;
}

/** A key's place in its index: by the index's sort key `sortBy`, then by the table's key (as DynamoDB tells apart equal sort keys). */
function compareAt(sortBy: string) {
  const place = (key: IndexKey) => [String(key[sortBy]), String(key.pk), String(key.sk)];
  return (a: IndexKey, b: IndexKey): number => {
    const [x, y] = [place(a), place(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  };
}

/**
 * The page of `entries` (an index's items, in any order) after `startKey`: the first `limit` in the index's order
 * (`sortBy`) that come after it, whether or not the item it was the key of is still there; `lastKey` while more
 * follow.
 */
function page<T>(entries: readonly Indexed<T>[], sortBy: string, limit: number, startKey: IndexKey | undefined): Page<T> {
  const compare = compareAt(sortBy);
  const after = entries.filter((e) => startKey === undefined || compare(e.key, startKey) > 0).sort((a, b) => compare(a.key, b.key));
  const items = after.slice(0, limit);
  const values = items.map((e) => copy(e.item));
  return after.length > limit ? { items: values, lastKey: copy(items.at(-1)!.key) } : { items: values };
}

export class MemoryPackagesStore implements PackagesStore {
  readonly bodies = new Map<string, PackageBody>();
  readonly claims = new Map<string, Claim>();
  readonly deliveries = new Map<string, PackageDelivery>();

  async openBody(key: string, candidates: readonly PackageRef[], openedAt: string): Promise<PackageBody> {
    if (!this.bodies.has(key)) this.bodies.set(key, { key, openedAt, refs: copy([...candidates]), open: true });
    return copy(this.bodies.get(key)!);
  }

  async getBody(key: string): Promise<PackageBody | undefined> {
    const body = this.bodies.get(key);
    return body && copy(body);
  }

  async closeBody(key: string, refs: readonly PackageRef[]): Promise<PackageBody> {
    const body = this.bodies.get(key);
    if (!body) throw new Error(`package ${key} has no body to close`);
    if (body.open) this.bodies.set(key, { ...body, refs: copy([...refs]), open: false });
    return copy(this.bodies.get(key)!);
  }

  async listOpen(olderThan: string, limit: number, startKey?: IndexKey): Promise<Page<string>> {
    const open = [...this.bodies.values()].filter((b) => b.open && b.openedAt < olderThan);
    return page(
      open.map((b) => ({ item: b.key, key: { openFor: OPEN_FOR, openedAt: b.openedAt, ...bodyKey(b.key) } })),
      'openedAt',
      limit,
      startKey,
    );
  }

  async claim(recordId: string, version: number, key: string, at: string): Promise<string> {
    const id = claimId(recordId, version);
    if (!this.claims.has(id)) this.claims.set(id, { recordId, version, key, claimedAt: at, feedback: {} });
    return this.claims.get(id)!.key;
  }

  async getClaim(recordId: string, version: number): Promise<Claim | undefined> {
    const claim = this.claims.get(claimId(recordId, version));
    return claim && copy(claim);
  }

  async findClaimed(refs: readonly { recordId: string; version: number }[]): Promise<Set<string>> {
    return new Set(refs.filter((r) => this.claims.has(claimId(r.recordId, r.version))).map((r) => claimId(r.recordId, r.version)));
  }

  reconcileCursor: ReconcileCursor | undefined;

  async getReconcileCursor(): Promise<ReconcileCursor | undefined> {
    return this.reconcileCursor && copy(this.reconcileCursor);
  }

  async saveReconcileCursor(cursor: ReconcileCursor, previous: ReconcileCursor | undefined): Promise<Transition> {
    if (this.reconcileCursor?.token !== previous?.token) return 'lost';
    this.reconcileCursor = copy(cursor);
    return 'updated';
  }

  async setFeedback(recordId: string, version: number, platform: PlatformName, feedback: StoredFeedback): Promise<Transition> {
    const claim = this.claims.get(claimId(recordId, version));
    if (!claim) return 'lost';
    claim.feedback[platform] = copy(feedback);
    return 'updated';
  }

  async createDelivery(delivery: PackageDelivery): Promise<{ created: true } | { created: false; existing: PackageDelivery }> {
    const existing = this.deliveries.get(deliveryId(delivery));
    if (existing) return { created: false, existing: copy(existing) };
    this.deliveries.set(deliveryId(delivery), copy(delivery));
    return { created: true };
  }

  async getDelivery(ref: DeliveryRef): Promise<PackageDelivery | undefined> {
    const delivery = this.deliveries.get(deliveryId(ref));
    return delivery && copy(delivery);
  }

  async listDeliveries(key: string): Promise<PackageDelivery[]> {
    return [...this.deliveries.values()].filter((d) => d.key === key).map(copy);
  }

  async markDelivered(ref: DeliveryRef, at: string, attemptsAdded: number): Promise<Transition> {
    return this.#change(ref, (d) => d.state === 'pending' || d.state === 'failed', (d) => {
      d.state = 'delivered';
      d.deliveredAt = at;
      d.attempts = (d.attempts ?? 0) + attemptsAdded;
      delete d.owedBy;
      delete d.failedBy;
    });
  }

  async markFailed(ref: DeliveryRef, reason: string, at: string, attemptsAdded: number): Promise<Transition> {
    return this.#change(ref, (d) => d.state === 'pending' || d.state === 'failed', (d) => {
      d.state = 'failed';
      d.failedReason = reason;
      d.failedAt = at;
      d.failedBy = ref.platform;
      d.attempts = (d.attempts ?? 0) + attemptsAdded;
      delete d.owedBy;
    });
  }

  async split(ref: DeliveryRef, parts: readonly PackageDelivery[], at: string, attemptsAdded: number): Promise<Transition> {
    const d = this.deliveries.get(deliveryId(ref));
    // One transaction: the delivery pending and none of its parts there, or nothing changes.
    if (!d || d.state !== 'pending' || parts.some((p) => this.deliveries.has(deliveryId(p)))) return 'lost';
    d.state = 'split';
    d.splitAt = at;
    d.attempts = (d.attempts ?? 0) + attemptsAdded;
    delete d.owedBy;
    for (const part of parts) this.deliveries.set(deliveryId(part), copy(part));
    return 'updated';
  }

  async resetToPending(ref: DeliveryRef, at: string): Promise<Transition> {
    return this.#change(ref, (d) => d.state === 'failed', (d) => {
      d.state = 'pending';
      d.owedBy = ref.platform;
      d.owedSince = at;
      d.lastQueuedAt = at;
      delete d.failedBy;
    });
  }

  async recordAttempt(ref: DeliveryRef, attemptsAdded: number, dueAt: string): Promise<Transition> {
    return this.#change(ref, () => true, (d) => {
      d.lastQueuedAt = dueAt;
      d.attempts = (d.attempts ?? 0) + attemptsAdded;
    });
  }

  async markRequeued(ref: DeliveryRef, previous: string, at: string): Promise<Transition> {
    return this.#change(ref, (d) => d.state === 'pending' && d.lastQueuedAt === previous, (d) => {
      d.lastQueuedAt = at;
    });
  }

  async listOwed(platform: PlatformName, olderThan: string, limit: number, startKey?: IndexKey): Promise<Page<PackageDelivery>> {
    const owed = this.#owed(platform).filter((e) => e.item.owedSince < olderThan && e.item.lastQueuedAt < olderThan);
    return page(owed, 'owedSince', limit, startKey);
  }

  async oldestOwed(platform: PlatformName): Promise<PackageDelivery | undefined> {
    const oldest = this.#owed(platform)[0];
    return oldest && copy(oldest.item);
  }

  async listFailed(platform: PlatformName, options: { limit: number; before?: string; startKey?: IndexKey }): Promise<Page<PackageDelivery>> {
    const failed = [...this.deliveries.values()].filter((d) => d.failedBy === platform && d.failedAt !== undefined && (options.before === undefined || d.failedAt < options.before));
    return page(
      failed.map((d) => ({ item: d, key: { failedBy: d.failedBy, failedAt: d.failedAt, ...deliveryKey(d) } })),
      'failedAt',
      options.limit,
      options.startKey,
    );
  }

  /** The `owed` index's items of `platform`, in its order (oldest first). */
  #owed(platform: PlatformName): Indexed<PackageDelivery>[] {
    const compare = compareAt('owedSince');
    return [...this.deliveries.values()]
      .filter((d) => d.owedBy === platform)
      .map((d) => ({ item: d, key: { owedBy: d.owedBy, owedSince: d.owedSince, ...deliveryKey(d) } }))
      .sort((a, b) => compare(a.key, b.key));
  }

  #change(ref: DeliveryRef, when: (d: PackageDelivery) => boolean, change: (d: PackageDelivery) => void): Transition {
    const d = this.deliveries.get(deliveryId(ref));
    if (!d || !when(d)) return 'lost';
    change(d);
    return 'updated';
  }
}

/** The platforms' queues, recording every message they take; `refuse` says which they do not take. */
export class RecordingQueues implements DeliveryQueues {
  readonly sent: DeliveryRef[] = [];
  constructor(public refuse: (ref: DeliveryRef) => boolean = () => false) {}

  async send(refs: readonly DeliveryRef[]): Promise<Set<number>> {
    const failed = new Set<number>();
    refs.forEach((ref, i) => {
      if (this.refuse(ref)) failed.add(i);
      else this.sent.push({ key: ref.key, platform: ref.platform, path: ref.path });
    });
    return failed;
  }
}
