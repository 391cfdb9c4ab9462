/**
 * The delivery sweep: what a platform still owes long after it was last queued (a message lost, expired, or
 * stuck behind a crash of the local stack) is queued again, and the age of the oldest owed delivery is measured
 * (the delivery-lag alarm's metric).
 *
 * Each delivery is queued again at most once per sweep and by one sweep only: `markRequeued` moves its
 * lastQueuedAt on, on condition that nobody did since it was read; the message is sent after. A send that fails
 * leaves it for the next sweep. Both platforms are swept page by page in turn, so that one platform's backlog does
 * not use up the time of the other's; the sweep stops while it still has time to finish the page it is on.
 *
 * First, package bodies left open (a fan-out stopped between opening a package and closing it, and the stream
 * batch was never read again with the same first version: docs/upward-packages.md) are settled as the fan-out
 * would have: their candidates claimed, closed, their deliveries created and queued (settleOpenPackages).
 */
import type { DeliveryQueues } from './delivery-queues.js';
import { settlePackage, type SettleDeps, type SettleReport } from './fanout.js';
import { PLATFORM_NAMES, type PackageDelivery, type PlatformName } from './package-model.js';
import type { IndexKey, PackagesStore } from './packages-store.js';

export interface SweepDeps {
  store: Pick<PackagesStore, 'listOwed' | 'oldestOwed' | 'markRequeued' | 'listOpen'> & SettleDeps['store'];
  queues: DeliveryQueues;
  platforms?: readonly PlatformName[];
  /** A delivery last queued longer ago than this is queued again. */
  requeueAfterMs: number;
  /** A package body open longer than this (its fan-out stopped half way) is settled. */
  settleOpenAfterMs: number;
  now: () => Date;
  remainingMs: () => number;
  /** Deliveries read per page of the owed index. */
  pageSize?: number;
}

export interface PlatformSweep {
  /** Queued again. */
  requeued: number;
  /** Found owed and stale, but queued again by someone else first or no longer owed. */
  skipped: number;
  /** Marked, but the send failed: left for the next sweep. */
  failed: number;
  /** Whether every stale delivery was seen (false when the sweep ran out of time). */
  complete: boolean;
  /** Seconds since the oldest delivery still owed became owed; 0 when none is. */
  oldestOwedAgeSeconds: number;
}

/** Time kept back for the page in hand and the age queries. */
export const SWEEP_MARGIN_MS = 15_000;
const DEFAULT_PAGE_SIZE = 100;

async function requeuePage(items: PackageDelivery[], deps: SweepDeps, report: PlatformSweep): Promise<void> {
  const at = deps.now().toISOString();
  const marked = await Promise.all(items.map((d) => deps.store.markRequeued(d, d.lastQueuedAt, at)));
  const toSend = items.filter((_, i) => marked[i] === 'updated');
  report.skipped += items.length - toSend.length;
  if (toSend.length === 0) return;
  const notQueued = await deps.queues.send(toSend);
  report.failed += notQueued.size;
  report.requeued += toSend.length - notQueued.size;
}

export interface OpenSweep {
  /** Open bodies settled (closed, their deliveries created and queued). */
  settled: number;
  /** Versions among their candidates found claimed by another package. */
  claimedElsewhere: number;
  /**
   * Open bodies whose settling failed (DynamoDB, or their messages not queued): left for the next sweep — still
   * open (settled again), or closed with their deliveries pending (queued again by the owed sweep).
   */
  failed: number;
  /** Whether every open body old enough was reached. */
  complete: boolean;
}

/**
 * Settles the package bodies open for longer than settleOpenAfterMs, oldest first, while time allows. A body that
 * cannot be settled now is counted and left for the next sweep: it does not stop the others, nor the owed sweep and
 * the lag metric after it.
 */
export async function settleOpenPackages(deps: SweepDeps): Promise<OpenSweep> {
  const olderThan = new Date(deps.now().getTime() - deps.settleOpenAfterMs).toISOString();
  const report: SettleReport = { closed: 0, created: 0, queued: 0, claimedElsewhere: 0 };
  let failed = 0;
  const result = (complete: boolean): OpenSweep => ({ settled: report.closed, claimedElsewhere: report.claimedElsewhere, failed, complete });
  let startKey: IndexKey | undefined;
  do {
    if (deps.remainingMs() <= SWEEP_MARGIN_MS) return result(false);
    const page = await deps.store.listOpen(olderThan, deps.pageSize ?? DEFAULT_PAGE_SIZE, startKey);
    for (const key of page.items) {
      try {
        const body = await deps.store.getBody(key);
        // Closed since the index was read (eventually consistent): nothing to settle.
        if (body?.open) await settlePackage(body, { store: deps.store, queues: deps.queues, ...(deps.platforms ? { platforms: deps.platforms } : {}), now: deps.now }, report);
      } catch {
        failed++;
      }
    }
    startKey = page.lastKey;
  } while (startKey);
  return result(true);
}

export async function sweepDeliveries(deps: SweepDeps): Promise<Record<PlatformName, PlatformSweep>> {
  const platforms = deps.platforms ?? PLATFORM_NAMES;
  const olderThan = new Date(deps.now().getTime() - deps.requeueAfterMs).toISOString();
  const reports = Object.fromEntries(platforms.map((p) => [p, { requeued: 0, skipped: 0, failed: 0, complete: false, oldestOwedAgeSeconds: 0 }])) as Record<PlatformName, PlatformSweep>;
  const cursors = new Map<PlatformName, IndexKey | undefined>(platforms.map((p) => [p, undefined]));
  while (cursors.size > 0 && deps.remainingMs() > SWEEP_MARGIN_MS) {
    for (const [platform, cursor] of [...cursors]) {
      if (deps.remainingMs() <= SWEEP_MARGIN_MS) break;
      const page = await deps.store.listOwed(platform, olderThan, deps.pageSize ?? DEFAULT_PAGE_SIZE, cursor);
      await requeuePage(page.items, deps, reports[platform]);
      if (page.lastKey === undefined) {
        reports[platform].complete = true;
        cursors.delete(platform);
      } else cursors.set(platform, page.lastKey);
    }
  }
  const now = deps.now().getTime();
  for (const platform of platforms) {
    const oldest = await deps.store.oldestOwed(platform);
    reports[platform].oldestOwedAgeSeconds = oldest ? Math.max(0, Math.floor((now - Date.parse(oldest.owedSince)) / 1000)) : 0;
  }
  return reports;
}
