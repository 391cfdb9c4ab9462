/**
 * The decisions about a record's publication (API.md "Review, objections, repair"; DOMAIN.md "Publication periods
 * and repair"), as pure functions from a head to the next head. Pure: the handlers read the head, call one of these
 * and write the result conditionally on the version they read (decisions-store.ts).
 *
 * Every decision is a new version of the record (`version` + 1, the head before it kept as a version): the records
 * stream carries it, and the fan-out (shared/upward/fanout.ts), which delivers one version per platform, sends it
 * upward as an update, or as a delete when publication has ended (repaired, revoked, expired: "repaired or expired
 * information stops being shared"). A withheld record is still in force and is still shared (an update): withholding
 * keeps it off the public site only.
 *
 * States (shared/domain/record-model.ts): pending-review → approved | withheld; approved ⇄ withheld; any of those →
 * ended (repaired, revoked, expired); not-published (轻微) → approved | ended (revoked). An ended publication stays
 * ended.
 */
import type { PublicationDecision, PublicationEndReason, PublicationState, StoredHead } from '../domain/record-model.js';

/** How many decisions a record keeps (the most recent): a record approved on arrival at every update stays small. */
export const DECISIONS_KEPT = 100;

export type RefusalCode = 'publication_state' | 'repair_too_early';

/** A decision the record's state does not allow (409). */
export interface Refusal {
  refused: RefusalCode;
  message: string;
}

export type Outcome = { head: StoredHead } | Refusal;

export function isRefusal(outcome: Outcome): outcome is Refusal {
  return 'refused' in outcome;
}

/** Who decides, when (ISO time) and the day it is in China (YYYY-MM-DD). */
export interface DecisionContext {
  by: string;
  at: string;
  today: string;
}

const STATE_NAMES: Record<PublicationState, string> = {
  'pending-review': '待审核 (pending review)',
  approved: '已批准公示 (approved)',
  withheld: '已暂缓公示 (withheld)',
  'not-published': '不予公示 (not published: 轻微)',
  ended: '公示已结束 (ended)',
};

function refuse(head: StoredHead, action: string): Refusal {
  const reason = head.publication.endReason ? `: ${head.publication.endReason}` : '';
  return { refused: 'publication_state', message: `记录${STATE_NAMES[head.publication.state]}${reason}，不能${action}` };
}

/**
 * Where the record sits in the sparse index `publicationQueue`: `review` (oldest first) while it waits for review,
 * `approved` by its end date while it is approved and has one (what the expire job reads); nowhere otherwise.
 * A record that stays in review keeps its place (`since`, the time it began to wait).
 */
export function queueOf(head: StoredHead, since: string): Pick<StoredHead, 'publicationQueue' | 'publicationQueueKey'> {
  const p = head.publication;
  if (p.state === 'pending-review') return { publicationQueue: 'review', publicationQueueKey: head.publicationQueue === 'review' && head.publicationQueueKey ? head.publicationQueueKey : since };
  if (p.state === 'approved' && p.until !== undefined) return { publicationQueue: 'approved', publicationQueueKey: p.until };
  return {};
}

/**
 * A head written before the review queue existed (by an older hub: no `publicationQueue` attribute) that belongs in
 * it: its index attributes, or undefined when it has them already or belongs nowhere (withheld, not published, ended,
 * approved with no end). A record never decided on has waited since it first arrived; one decided on before has
 * waited at least since its current version arrived (the best the head tells).
 */
export function missingQueueOf(head: StoredHead): Required<Pick<StoredHead, 'publicationQueue' | 'publicationQueueKey'>> | undefined {
  if (head.publicationQueue !== undefined || !head.publication) return undefined;
  const since = (head.publication.decisions ?? []).length === 0 ? (head.firstReceivedAt ?? head.receivedAt) : head.receivedAt;
  const { publicationQueue, publicationQueueKey } = queueOf(head, since);
  return publicationQueue !== undefined && publicationQueueKey !== undefined ? { publicationQueue, publicationQueueKey } : undefined;
}

/** `head` with its index attributes set from its publication (and none left over from an earlier state). */
export function withQueue(head: StoredHead, since: string): StoredHead {
  const { publicationQueue: _q, publicationQueueKey: _k, ...rest } = head;
  return { ...rest, ...queueOf(head, since) };
}

export function withDecision(decisions: readonly PublicationDecision[] | undefined, decision: PublicationDecision): PublicationDecision[] {
  return [...(decisions ?? []), decision].slice(-DECISIONS_KEPT);
}

/** The next version of `head`: same content, publication or objection changed, as of `at`. */
export function revise(head: StoredHead, change: { publication?: StoredHead['publication']; objection?: StoredHead['objection'] | null }, at: string): StoredHead {
  const { objection: _o, ...rest } = head;
  const objection = change.objection === null ? undefined : (change.objection ?? head.objection);
  const next: StoredHead = {
    ...rest,
    ...(change.publication ? { publication: change.publication } : {}),
    ...(objection ? { objection } : {}),
    version: head.version + 1,
    receivedAt: at,
  };
  // A record that stays in review keeps its place (`next` still has it); one that comes back to review takes its place now.
  return withQueue(next, at);
}

/** 批准公示: pending-review, withheld or not-published (轻微, at most 3 months) → approved; refused once its period is over. */
export function approve(head: StoredHead, ctx: DecisionContext, note?: string): Outcome {
  const p = head.publication;
  if (p.state !== 'pending-review' && p.state !== 'withheld' && p.state !== 'not-published') return refuse(head, '批准 (cannot approve)');
  if (p.until !== undefined && ctx.today > p.until) return { refused: 'publication_state', message: `公示期已于${p.until}届满，不能批准 (the publication period ended on ${p.until})` };
  const decision: PublicationDecision = { action: 'approve', by: ctx.by, at: ctx.at, ...(note ? { note } : {}) };
  return { head: revise(head, { publication: { ...p, state: 'approved', decisions: withDecision(p.decisions, decision) } }, ctx.at) };
}

/** 暂缓公示: pending-review or approved → withheld (an approved record leaves the site at once). */
export function withhold(head: StoredHead, ctx: DecisionContext, reason: string): Outcome {
  const p = head.publication;
  if (p.state !== 'pending-review' && p.state !== 'approved') return refuse(head, '暂缓公示 (cannot withhold)');
  const decision: PublicationDecision = { action: 'withhold', by: ctx.by, at: ctx.at, note: reason };
  return { head: revise(head, { publication: { ...p, state: 'withheld', decisions: withDecision(p.decisions, decision) } }, ctx.at) };
}

function end(head: StoredHead, ctx: DecisionContext, reason: PublicationEndReason, action: PublicationDecision['action'], note: string | undefined, endedOn: string): StoredHead {
  const p = head.publication;
  const decision: PublicationDecision = { action, by: ctx.by, at: ctx.at, ...(note ? { note } : {}) };
  return revise(head, { publication: { ...p, state: 'ended', endReason: reason, endedOn, decisions: withDecision(p.decisions, decision) } }, ctx.at);
}

/**
 * 信用修复: publication ends (endReason repaired). Only for a record with a minimum period (a graded dishonesty
 * record: publication.minUntil), from that date on (today in China, inclusive); refused for an ended or
 * not-published one.
 */
export function repair(head: StoredHead, ctx: DecisionContext, reason: string): Outcome {
  const p = head.publication;
  if (p.state === 'ended' || p.state === 'not-published') return refuse(head, '信用修复 (cannot repair)');
  if (p.minUntil === undefined) {
    return { refused: 'publication_state', message: '此类记录没有最短公示期，不适用信用修复 (this record has no minimum publication period: repair does not apply to it)' };
  }
  if (ctx.today < p.minUntil) {
    return { refused: 'repair_too_early', message: `最短公示期至${p.minUntil}，此前不能信用修复 (repair is possible from ${p.minUntil}, the end of the grade's minimum period)` };
  }
  return { head: end(head, ctx, 'repaired', 'repair', reason, ctx.today) };
}

/** An objection upheld as wrong (撤销): publication ends (endReason revoked). An ended publication stays as it was. */
export function revoke(head: StoredHead, ctx: DecisionContext, note?: string): StoredHead {
  if (head.publication.state === 'ended') return head;
  return end(head, ctx, 'revoked', 'revoke', note, ctx.today);
}

/**
 * The expire job as of `asOf`: an approved publication whose end (`until`, inclusive) is before `asOf` ends
 * (endReason expired, endedOn asOf); anything else is not for it (undefined).
 */
export function expire(head: StoredHead, ctx: DecisionContext, asOf: string): StoredHead | undefined {
  const p = head.publication;
  if (p.state !== 'approved' || p.until === undefined || p.until >= asOf) return undefined;
  return end(head, ctx, 'expired', 'expire', `公示期${p.until}届满 (the period ended on ${p.until})`, asOf);
}

/** One more open objection: the record is marked 异议处理中 (`objection`). */
export function markObjection(head: StoredHead, filedAt: string): StoredHead {
  const mark = head.objection ? { openSince: head.objection.openSince, count: head.objection.count + 1 } : { openSince: filedAt, count: 1 };
  return revise(head, { objection: mark }, filedAt);
}

/** One objection fewer open: the mark goes with the last one. */
export function clearObjection(head: StoredHead, at: string): StoredHead {
  const count = (head.objection?.count ?? 1) - 1;
  return revise(head, { objection: count > 0 ? { openSince: head.objection!.openSince, count } : null }, at);
}
