/**
 * POST /v1/feedback: a platform's per-record outcomes (received, rejected with a reason, applied with the 联合奖惩
 * measure), each kept on the claim of that record version (packages-store.ts `setFeedback`: a conditional update,
 * so an outcome about a version the hub never packaged for the platforms stores nothing and is reported
 * `unknown`), one attribute per platform. A later feedback on the same version replaces the earlier one — within
 * one request too: items about the same version are written in the order given. The platform's words are shown to
 * the source that pushed the record and to the operator: identity numbers in them are redacted before they are kept.
 *
 * Which platform is speaking is the key's: a platform source's id is the platform's name (contracts/sources.ts).
 */
import type { FeedbackItem, FeedbackResponse } from '../../contracts/upward.js';
import { redactIdentityNumbers } from '../domain/identity-number-text.js';
import type { PlatformName } from './package-model.js';
import type { PackagesStore, StoredFeedback } from './packages-store.js';

export interface FeedbackDeps {
  store: Pick<PackagesStore, 'setFeedback'>;
  now: () => Date;
  /** Claims written at once (distinct record versions; the items about one version go one after the other). */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 16;

/** What is kept of one item: the platform's time normalised to UTC (its own when given, else the receive time). */
export function storedFeedback(item: FeedbackItem, receivedAt: Date): StoredFeedback {
  return {
    outcome: item.outcome,
    ...(item.reason !== undefined ? { reason: redactIdentityNumbers(item.reason) } : {}),
    ...(item.measure !== undefined ? { measure: redactIdentityNumbers(item.measure) } : {}),
    at: item.at !== undefined ? new Date(item.at).toISOString() : receivedAt.toISOString(),
    receivedAt: receivedAt.toISOString(),
  };
}

/** Keeps each item on its version's claim; how many were kept, and those about a version never packaged (no claim). */
export async function recordFeedback(platform: PlatformName, items: readonly FeedbackItem[], deps: FeedbackDeps): Promise<FeedbackResponse> {
  const receivedAt = deps.now();
  // Items about the same version, in the order given (a later one replaces an earlier one).
  const byDelivery = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = `${item.recordId}#${item.version}`;
    byDelivery.set(key, [...(byDelivery.get(key) ?? []), index]);
  });
  const unknown: FeedbackResponse['unknown'] = [];
  let recorded = 0;
  const groups = [...byDelivery.values()];
  const writeGroup = async (indexes: number[]) => {
    for (const index of indexes) {
      const item = items[index]!;
      const outcome = await deps.store.setFeedback(item.recordId, item.version, platform, storedFeedback(item, receivedAt));
      if (outcome === 'updated') recorded++;
      else unknown.push({ index, recordId: item.recordId, version: item.version });
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < groups.length) await writeGroup(groups[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? DEFAULT_CONCURRENCY, groups.length) }, worker));
  unknown.sort((a, b) => a.index - b.index);
  return { recorded, unknown };
}
