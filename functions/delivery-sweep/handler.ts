/**
 * The delivery sweep (shared/upward/delivery-sweep.ts) on Lambda, fired by its schedule (and locally once at
 * start): queues again what the platforms still owe long after it was queued, and publishes each platform's
 * OldestOwedAgeSeconds. The event is read for one thing: `{"atStart": true}`, the local stack's firing right after
 * it started (catalogue schedules.deliverySweep.localStartInput), queues again everything owed that is not due
 * later (requeue age 0): a message a killed stack had in flight goes out at once rather than 15 minutes later. A
 * duplicate message is harmless (the same Idempotency-Key; the connector skips a delivery no longer pending).
 * Package bodies a stopped fan-out left open are settled first (at start, at once).
 * `{"reconcile": true}` (its hourly schedule, catalogue schedules.deliveryReconcile) runs the reconciliation instead
 * (shared/upward/reconcile.ts): record versions no package carries long after they were written are packaged; with
 * `"atStart": true` (the local stack's firing at start) a new pass begins even when the last one ended recently.
 * Logs counts only.
 */
import type { Context } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import type { DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { settleOpenPackages, sweepDeliveries, type PlatformSweep, type SweepDeps } from '../../shared/upward/delivery-sweep.js';
import type { PlatformName } from '../../shared/upward/package-model.js';
import { reconcileDeps, sweepDeps, sweepMetrics } from './deps.js';
import { reconcileUnclaimed, type ReconcileDeps, type ReconcileReport } from '../../shared/upward/reconcile.js';

/** Whether the event is the local stack's firing at start (`{"atStart": true}`). */
export function isStartSweep(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { atStart?: unknown }).atStart === true;
}

/** Whether the event is the reconciliation's schedule (`{"reconcile": true}`). */
export function isReconcile(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { reconcile?: unknown }).reconcile === true;
}

export function sweepHandler(makeDeps: (context: Context) => SweepDeps, metrics: () => DeliveryMetrics, makeReconcileDeps: (context: Context) => ReconcileDeps) {
  return async (event: unknown, context: Context): Promise<Record<PlatformName, PlatformSweep> | ReconcileReport> => {
    const mark = usageMark();
    if (isReconcile(event)) {
      // At local start (`{"reconcile": true, "atStart": true}`), a new pass whenever the last one has ended.
      const deps = makeReconcileDeps(context);
      const reconciled = await reconcileUnclaimed(isStartSweep(event) ? { ...deps, passEveryMs: 0 } : deps);
      // Versions found owed to no one are a fault upstream (the fan-out's stream records were given up): a warning.
      if (reconciled.failed > 0) logger.error('delivery reconcile: versions whose packaging failed, left for the next pass', { ...reconciled, ...usageSince(mark) });
      else if (reconciled.unclaimed > 0) logger.warn('delivery reconcile: versions no package carried, packaged now', { ...reconciled, ...usageSince(mark) });
      else logger.info('delivery reconcile', { ...reconciled, ...usageSince(mark) });
      return reconciled;
    }
    const deps = makeDeps(context);
    const sweep = isStartSweep(event) ? { ...deps, requeueAfterMs: 0, settleOpenAfterMs: 0 } : deps;
    // Packages a stopped fan-out left open first: their deliveries are created (and queued) before the owed ones are read.
    const open = await settleOpenPackages(sweep);
    const report = await sweepDeliveries(sweep);
    for (const [platform, platformSweep] of Object.entries(report) as [PlatformName, PlatformSweep][]) metrics().oldestOwedAge(platform, platformSweep.oldestOwedAgeSeconds);
    // Counts only: what could not be settled now is settled by a later sweep (or queued again by one).
    if (open.failed > 0) logger.warn('delivery sweep: open packages not settled', { open });
    logger.info('delivery sweep', { ...report, open, ...usageSince(mark) });
    return report;
  };
}

export const handler = sweepHandler(sweepDeps, sweepMetrics, reconcileDeps);
