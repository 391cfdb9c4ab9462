/**
 * What GET /v1/records/{id} shows of the upward platforms (`delivery`): per platform, the delivery of the record's
 * current version, read from the `deliveries` table (the durable truth). A version the fan-out has not reached yet
 * has no delivery: it is `pending` all the same. The platform's feedback on that version comes with it, so that
 * the source that pushed the record and the operator see a rejection.
 */
import type { PlatformDeliveryView } from '../../contracts/upward.js';
import { PLATFORM_NAMES, type Delivery, type PlatformName } from './delivery-model.js';
import type { StoredFeedback } from './deliveries-store.js';

const OUTCOMES = new Set(['received', 'rejected', 'applied']);

/** The feedback kept on a delivery, if it is one (a hand-edited or older item shows none rather than garbage). */
function feedbackOf(value: unknown): StoredFeedback | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Partial<StoredFeedback>;
  if (!OUTCOMES.has(f.outcome as string) || typeof f.at !== 'string' || typeof f.receivedAt !== 'string') return undefined;
  return {
    outcome: f.outcome!,
    ...(typeof f.reason === 'string' ? { reason: f.reason } : {}),
    ...(typeof f.measure === 'string' ? { measure: f.measure } : {}),
    at: f.at,
    receivedAt: f.receivedAt,
  };
}

export function platformDeliveryView(version: number, delivery: Delivery | undefined): PlatformDeliveryView {
  if (!delivery) return { state: 'pending', version };
  const feedback = feedbackOf(delivery.feedback);
  return {
    state: delivery.state,
    version,
    ...(delivery.state === 'delivered' && delivery.deliveredAt ? { deliveredAt: delivery.deliveredAt } : {}),
    ...(delivery.state === 'failed' && delivery.failedAt ? { failedAt: delivery.failedAt } : {}),
    ...(delivery.state === 'failed' && delivery.failedReason ? { reason: delivery.failedReason } : {}),
    ...(delivery.attempts ? { attempts: delivery.attempts } : {}),
    ...(feedback ? { feedback } : {}),
  };
}

/** Per platform, the delivery of `version` among `deliveries` (items of the record's partition; others are ignored). */
export function recordDeliveryView(version: number, deliveries: readonly Delivery[]): Record<PlatformName, PlatformDeliveryView> {
  const of = (platform: PlatformName) => deliveries.find((d) => d.platform === platform && d.version === version);
  return Object.fromEntries(PLATFORM_NAMES.map((p) => [p, platformDeliveryView(version, of(p))])) as Record<PlatformName, PlatformDeliveryView>;
}
