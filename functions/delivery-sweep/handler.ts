/**
 * The delivery sweep (shared/upward/delivery-sweep.ts) on Lambda, fired by its schedule (and locally once at
 * start): queues again what the platforms still owe long after it was queued, and publishes each platform's
 * OldestOwedAgeSeconds. The event's content is not read. Logs counts only.
 */
import type { Context } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import type { DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { sweepDeliveries, type PlatformSweep, type SweepDeps } from '../../shared/upward/delivery-sweep.js';
import type { PlatformName } from '../../shared/upward/delivery-model.js';
import { sweepDeps, sweepMetrics } from './deps.js';

export function sweepHandler(makeDeps: (context: Context) => SweepDeps, metrics: () => DeliveryMetrics) {
  return async (_event: unknown, context: Context): Promise<Record<PlatformName, PlatformSweep>> => {
    const mark = usageMark();
    const report = await sweepDeliveries(makeDeps(context));
    for (const [platform, sweep] of Object.entries(report) as [PlatformName, PlatformSweep][]) metrics().oldestOwedAge(platform, sweep.oldestOwedAgeSeconds);
    logger.info('delivery sweep', { ...report, ...usageSince(mark) });
    return report;
  };
}

export const handler = sweepHandler(sweepDeps, sweepMetrics);
