/**
 * The publication policy (API.md "Review, objections, repair"): by default every record waits for review; the
 * operator can make a kind or a source approved on arrival (licences, say). Pure: what a push does to the
 * publication of the records it accepts or updates (applied by the push path, shared/ingest/submit.ts).
 *
 * - A new record due for review (pending-review) is approved on arrival when its kind or its source is in the
 *   policy (a decision by `policy`), and otherwise waits in the review queue.
 * - A changed record (a new version pushed by its source) is reviewed again: it leaves the site until approved
 *   again, unless the policy approves it on arrival. Its decisions (who, when, why) are kept, and a record still
 *   waiting keeps its place in the queue.
 * - A record whose publication the credit office ended (repaired, revoked, expired) stays ended whatever is pushed;
 *   a 轻微 record stays not published and a removed listing ends as the push says (its rule, shared/ingest/prepare.ts).
 * - An open objection's mark stays on the record.
 */
import type { RecordKind } from '../../contracts/kinds.js';
import type { PublicationDecision, PushDecision, StoredHead } from '../domain/record-model.js';
import { withDecision, withQueue } from './decisions.js';

export interface PublicationPolicy {
  approvedOnArrival: { kinds: RecordKind[]; sources: string[] };
  /** Who set it and when (absent: the default, never set). */
  updatedBy?: string;
  updatedAt?: string;
}

/** Nothing is approved on arrival: every record waits for review. */
export const DEFAULT_POLICY: PublicationPolicy = { approvedOnArrival: { kinds: [], sources: [] } };

/** Who decides when the policy approves a record on arrival (PublicationDecision.by). */
export const POLICY_PRINCIPAL = 'policy';

export function approvesOnArrival(policy: PublicationPolicy, head: Pick<StoredHead, 'kind' | 'sourceId'>): boolean {
  return (policy.approvedOnArrival.kinds as string[]).includes(head.kind) || policy.approvedOnArrival.sources.includes(head.sourceId);
}

const ENDED_BY_OFFICE = new Set(['repaired', 'revoked', 'expired']);

/** The head a push writes, with the policy applied (`at`: the push's time, ISO). Duplicates and retries are as they were. */
export function onArrival(decision: PushDecision, policy: PublicationPolicy, at: string): PushDecision {
  if (decision.status !== 'accepted' && decision.status !== 'updated') return decision;
  const incoming = decision.head;
  const previous = decision.status === 'updated' ? decision.previous : undefined;
  const before = previous?.publication;
  const decisions = before?.decisions;
  let publication = { ...incoming.publication, ...(decisions ? { decisions } : {}) };
  if (before?.state === 'ended' && before.endReason && ENDED_BY_OFFICE.has(before.endReason)) {
    publication = { ...publication, state: 'ended', endReason: before.endReason, ...(before.endedOn ? { endedOn: before.endedOn } : {}) };
  } else if (publication.state === 'pending-review' && approvesOnArrival(policy, incoming)) {
    const approval: PublicationDecision = { action: 'auto-approve', by: POLICY_PRINCIPAL, at };
    publication = { ...publication, state: 'approved', decisions: withDecision(decisions, approval) };
  }
  const { objection: _o, publicationQueue: _q, publicationQueueKey: _k, ...rest } = incoming;
  const head: StoredHead = {
    ...rest,
    publication,
    ...(previous?.objection ? { objection: previous.objection } : {}),
    // A record already waiting keeps its place in the queue (queueOf).
    ...(previous?.publicationQueue === 'review' && previous.publicationQueueKey ? { publicationQueue: 'review' as const, publicationQueueKey: previous.publicationQueueKey } : {}),
  };
  return { ...decision, head: withQueue(head, at) };
}
