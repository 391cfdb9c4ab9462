/**
 * The delivery sweep (shared/upward/delivery-sweep.ts) on Lambda, fired by its schedule (and locally once at
 * start): queues again what the platforms still owe long after it was queued, and publishes each platform's
 * OldestOwedAgeSeconds. The event is read for one thing: `{"atStart": true}`, the local stack's firing right after
 * it started (catalogue schedules.deliverySweep.localStartInput), queues again everything owed that is not due
 * later (requeue age 0): a message a killed stack had in flight goes out at once rather than 15 minutes later. A
 * duplicate message is harmless (the same Idempotency-Key; the connector skips a delivery no longer pending).
 * Logs counts only.
 */
import type { Context } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import type { DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { sweepDeliveries, type PlatformSweep, type SweepDeps } from '../../shared/upward/delivery-sweep.js';
import type { PlatformName } from '../../shared/upward/delivery-model.js';
import { sweepDeps, sweepMetrics } from './deps.js';

/** Whether the event is the local stack's firing at start (`{"atStart": true}`). */
export function isStartSweep(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { atStart?: unknown }).atStart === true;
}

export function sweepHandler(makeDeps: (context: Context) => SweepDeps, metrics: () => DeliveryMetrics) {
  return async (event: unknown, context: Context): Promise<Record<PlatformName, PlatformSweep>> => {
    const mark = usageMark();
    const deps = makeDeps(context);
    const report = await sweepDeliveries(isStartSweep(event) ? { ...deps, requeueAfterMs: 0 } : deps);
    for (const [platform, sweep] of Object.entries(report) as [PlatformName, PlatformSweep][]) metrics().oldestOwedAge(platform, sweep.oldestOwedAgeSeconds);
    logger.info('delivery sweep', { ...report, ...usageSince(mark) });
    return report;
  };
}

export const handler = sweepHandler(sweepDeps, sweepMetrics);
