/**
 * What GET /v1/records/{id} shows of the upward platforms (`delivery`): per platform, the delivery of the record's
 * current version, read from the `deliveries` table (the durable truth, docs/upward-packages.md): the version's
 * claim names its package, and the package's delivery to the platform — the part that carries the version, after a
 * split — gives the state. A version the fan-out has not reached yet has no claim: it is `pending` all the same.
 * The platform's feedback on that version (kept on the claim) comes with it, so that the source that pushed the
 * record and the operator see a rejection.
 */
import type { PlatformDeliveryView } from '../../contracts/upward.js';
import { leafFor, PLATFORM_NAMES, type PackageBody, type PackageDelivery, type PlatformName } from './package-model.js';
import type { Claim, PackagesStore, StoredFeedback } from './packages-store.js';

const OUTCOMES = new Set(['received', 'rejected', 'applied']);

/** The feedback kept on a claim, if it is one (a hand-edited or older item shows none rather than garbage). */
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

/** What the view is made from: the version's claim, its package's body and deliveries (absent before the fan-out). */
export interface VersionDeliveries {
  claim?: Claim;
  body?: PackageBody;
  deliveries: readonly PackageDelivery[];
}

export function platformDeliveryView(version: number, delivery: PackageDelivery | undefined, feedbackValue: unknown): PlatformDeliveryView {
  const feedback = feedbackOf(feedbackValue);
  if (!delivery) return { state: 'pending', version, ...(feedback ? { feedback } : {}) };
  // A part split further is not where the version is: leafFor picks the part that carries it.
  const state = delivery.state === 'split' ? 'pending' : delivery.state;
  return {
    state,
    version,
    ...(state === 'delivered' && delivery.deliveredAt ? { deliveredAt: delivery.deliveredAt } : {}),
    ...(state === 'failed' && delivery.failedAt ? { failedAt: delivery.failedAt } : {}),
    ...(state === 'failed' && delivery.failedReason ? { reason: delivery.failedReason } : {}),
    ...(delivery.attempts ? { attempts: delivery.attempts } : {}),
    ...(feedback ? { feedback } : {}),
  };
}

/** Per platform, the delivery of `recordId`'s `version`. */
export function recordDeliveryView(recordId: string, version: number, found: VersionDeliveries): Record<PlatformName, PlatformDeliveryView> {
  const index = found.body?.refs.findIndex((r) => r.recordId === recordId && r.version === version) ?? -1;
  const of = (platform: PlatformName) => (index < 0 ? undefined : leafFor(found.deliveries.filter((d) => d.platform === platform), index));
  return Object.fromEntries(PLATFORM_NAMES.map((p) => [p, platformDeliveryView(version, of(p), found.claim?.feedback[p])])) as Record<PlatformName, PlatformDeliveryView>;
}

/** Reads what recordDeliveryView needs: the claim, then (when there is one) the package's body and deliveries. */
export async function readVersionDeliveries(store: Pick<PackagesStore, 'getClaim' | 'getBody' | 'listDeliveries'>, recordId: string, version: number): Promise<VersionDeliveries> {
  const claim = await store.getClaim(recordId, version);
  if (!claim) return { deliveries: [] };
  const [body, deliveries] = await Promise.all([store.getBody(claim.key), store.listDeliveries(claim.key)]);
  return { claim, ...(body ? { body } : {}), deliveries };
}
