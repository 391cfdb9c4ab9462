/**
 * The canonical record the hub stores, and the pure rules around it: record
 * identity, content hashing, publication periods, and what a push of a record
 * does to what is already stored (accepted, updated, duplicate).
 */
import { createHash } from 'node:crypto';
import { parseLookupHash } from '../crypto/lookup-hash.js';
import { base32 } from './base32.js';
import { addMonths } from './dates.js';

/**
 * pending-review: to be published once reviewed; approved: on the site while
 * its period runs (shared/domain/publication.ts: isPublishedOn); withheld: the
 * operator decided not to publish it (`decision`); not-published: not to be
 * published (轻微); ended: publication is over before its time (`endReason`,
 * `endedOn`).
 */
export type PublicationState = 'pending-review' | 'approved' | 'withheld' | 'not-published' | 'ended';

/**
 * Why a publication ended before its time: the source removed the record (a court's
 * 失信被执行人 listing), the subject's credit was repaired (信用修复), an objection was
 * upheld as revoked, or its period ran out (the expire job).
 */
export type PublicationEndReason = 'removed' | 'repaired' | 'revoked' | 'expired';

/** Who decided about a publication, when and why (review, withholding, repair, objection outcome). */
export interface PublicationDecision {
  action: 'approve' | 'withhold' | 'auto-approve' | 'repair' | 'revoke' | 'expire';
  /** The key's principal: the operator, or `policy` for approval on arrival. */
  by: string;
  at: string;
  note?: string;
}

export interface Publication {
  state: PublicationState;
  /** 失信等级 code (penalties): 1 轻微, 2 一般, 3 严重. */
  grade?: string;
  /** Publication runs from the decision date (a listing: its publication date). */
  from: string;
  /** Before this date the subject may not apply for credit repair. */
  minUntil?: string;
  /** Publication stops by itself at the end of this date; absent when open-ended. An ended publication keeps the end it would have had. */
  until?: string;
  /** State `ended`: the date (in China) publication ended. */
  endedOn?: string;
  /** State `ended`: why. */
  endReason?: PublicationEndReason;
  /** The decisions taken on this publication, oldest first (who, when, why). */
  decisions?: PublicationDecision[];
}

/** active: in force; removed: the source withdrew it (a 失信被执行人 listing the court removed), and its publication has ended. */
export type RecordStatus = 'active' | 'removed';

/** A natural person's certificate, as stored: never the plaintext number. */
export interface StoredCertificate {
  type: string;
  /** Envelope ciphertext of the number (see shared/crypto/field-cipher.ts). */
  cipher: string;
  /** Keyed hash of the number, for lookups. */
  hash: string;
}

/** The content of one version of a record. */
export interface RecordContent {
  /** Canonical field values in the national field codes, without the certificate number. */
  fields: Record<string, string>;
  certificate?: StoredCertificate;
  contentHash: string;
}

export interface StoredHead extends RecordContent {
  id: string;
  kind: string;
  sourceId: string;
  /** The document or case number that, with the source, identifies the record (XK_WSH, CF_WSH, caseCode). */
  identity: string;
  version: number;
  /** USCC#<uscc>, ORG#<organisation code>, PID#<keyed hash> or CERT#<type>#<keyed hash>: who the record is about (GSI bySubject). */
  subjectKey: string;
  /**
   * Present (true) only when the subject is a government body (a USCC of the
   * establishment offices: shared/domain/government-body.ts), so that the
   * government-integrity work can find them; absent otherwise.
   */
  governmentBody?: true;
  /** The date publication (and lateness, for 双公示) counts from: the decision date, or a listing's publication date. */
  decisionDate: string;
  late: boolean;
  firstReceivedAt: string;
  receivedAt: string;
  status: RecordStatus;
  publication: Publication;
  /**
   * The most recent pushes that changed this record under an Idempotency-Key,
   * newest first (at most APPLIED_REQUESTS_KEPT): a retry of one of them finds
   * its own change here and is not applied again, even when another push
   * changed the record in between.
   */
  appliedRequests?: AppliedRequest[];
  /**
   * Present while at least one objection (异议) about the record is open: the site marks the record
   * 异议处理中 from it (shared/publication/decisions.ts markObjection / clearObjection).
   */
  objection?: ObjectionMark;
  /**
   * The sparse index `publicationQueue` of the records table (shared/publication/decisions.ts queueOf):
   * `review` while pending-review (key: when it began to wait, ISO time), `approved` while approved with an
   * end (key: `until`, for the expire job); absent otherwise.
   */
  publicationQueue?: 'review' | 'approved';
  publicationQueueKey?: string;
}

/** An open objection about a record: since when the first one still open was filed, and how many are open. */
export interface ObjectionMark {
  openSince: string;
  count: number;
}

export interface AppliedRequest {
  /** Hash of the caller, its Idempotency-Key and the record's occurrence in the request. */
  key: string;
  status: 'accepted' | 'updated';
}

export const APPLIED_REQUESTS_KEPT = 16;

/** One record's place in a push made under an Idempotency-Key: the request's hash and the how-manieth time the record is in it (0 first). */
export interface PushOccurrence {
  requestKey: string;
  occurrence: number;
}

/** The ledger key of an occurrence (AppliedRequest.key). */
export const appliedKey = ({ requestKey, occurrence }: PushOccurrence): string => `${requestKey}#${occurrence}`;

export interface StoredVersion extends RecordContent {
  id: string;
  version: number;
  receivedAt: string;
  supersededAt: string;
}

/** Stable record id from kind, source and the identifying document number (130 bits of SHA-256). */
export function recordId(idPrefix: string, kind: string, sourceId: string, identity: string): string {
  const digest = createHash('sha256').update(`${kind}\u0000${sourceId}\u0000${identity}`).digest();
  return `${idPrefix}_${base32(digest, 26)}`;
}

/**
 * Hash of a record's content: canonical fields (sorted) and the certificate
 * type and keyed hash (not its ciphertext, which differs at every encryption).
 * The keyed hash counts by its digest, without its version prefix: a hash
 * written before versions (`<digest>`) and the same one written as
 * `v1#<digest>` are the same content. A new lookup-key version gives new
 * digests; its migration re-derives every stored hash and contentHash together.
 */
export function contentHash(kind: string, fields: Record<string, string>, certificate?: { type: string; hash: string }): string {
  const certificatePart = certificate ? [certificate.type, parseLookupHash(certificate.hash).digest] : null;
  const canonical = JSON.stringify([kind, Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), certificatePart]);
  return createHash('sha256').update(canonical).digest('base64url');
}

export const GRADE = { minor: '1', general: '2', serious: '3' } as const;

/**
 * Publication period of a dishonesty record by grade (national rules from
 * 2026-04-01), counted from the decision date:
 * 轻微 in principle not published, at most 3 months; 一般 3 months to 1 year;
 * 严重 1 to 3 years. A department's proposed end (公示截止期) is kept within
 * those bounds.
 */
export function dishonestyPublication(grade: string, decisionDate: string, proposedEnd?: string): Publication {
  const bounds: Record<string, { min: number; max: number }> = {
    [GRADE.minor]: { min: 0, max: 3 },
    [GRADE.general]: { min: 3, max: 12 },
    [GRADE.serious]: { min: 12, max: 36 },
  };
  const { min, max } = bounds[grade] ?? bounds[GRADE.general]!;
  const minUntil = addMonths(decisionDate, min);
  const maxUntil = addMonths(decisionDate, max);
  let until = maxUntil;
  if (proposedEnd) until = proposedEnd < minUntil ? minUntil : proposedEnd > maxUntil ? maxUntil : proposedEnd;
  return {
    state: grade === GRADE.minor ? 'not-published' : 'pending-review',
    grade,
    from: decisionDate,
    ...(grade === GRADE.minor ? {} : { minUntil }),
    until,
  };
}

/** Publication of a licence: from its decision until the end of its validity (open-ended without one). */
export function licencePublication(decisionDate: string, validUntil?: string): Publication {
  return { state: 'pending-review', from: decisionDate, ...(validUntil ? { until: validUntil } : {}) };
}

export type PushDecision =
  | { status: 'accepted'; head: StoredHead }
  | { status: 'duplicate'; head: StoredHead }
  | { status: 'updated'; head: StoredHead; previous: StoredHead }
  /** This very push (same Idempotency-Key) was applied already: nothing to write, its first status stands. */
  | { status: 'applied'; head: StoredHead; applied: AppliedRequest['status'] | 'duplicate' };

/**
 * What pushing `incoming` (a head built as if new) does, given what is stored.
 * A retry of a push that already changed the record (this occurrence is in the
 * record's applied requests): nothing, with the status it had. A retry of a
 * push whose later occurrence of the record is there, but not this one: this
 * one was decided before that (a push applies a record's occurrences in order)
 * and wrote nothing, so it was a duplicate, whatever the record holds now. Same content:
 * duplicate, nothing changes. Changed content: a new version that keeps the
 * first arrival time (and, when publication had already ended and still does,
 * the date it ended); the old head becomes a version.
 */
export function decidePush(
  existing: StoredHead | undefined,
  incoming: StoredHead,
  isLateFor: (firstReceivedAt: string) => boolean,
  request?: PushOccurrence,
): PushDecision {
  const key = request && appliedKey(request);
  // The ledger of applied requests travels with the record, whoever changes it.
  const record = (head: StoredHead, status: AppliedRequest['status']): StoredHead => {
    const { appliedRequests: _none, ...rest } = head;
    const ledger = key ? [{ key, status }, ...(existing?.appliedRequests ?? [])].slice(0, APPLIED_REQUESTS_KEPT) : existing?.appliedRequests;
    return ledger?.length ? { ...rest, appliedRequests: ledger } : rest;
  };
  const earlier = key ? existing?.appliedRequests?.find((r) => r.key === key) : undefined;
  if (existing && earlier) return { status: 'applied', head: existing, applied: earlier.status };
  if (existing && request && laterOccurrenceApplied(existing, request)) return { status: 'applied', head: existing, applied: 'duplicate' };
  if (!existing) return { status: 'accepted', head: record(incoming, 'accepted') };
  if (existing.contentHash === incoming.contentHash) return { status: 'duplicate', head: existing };
  const head: StoredHead = {
    ...incoming,
    version: existing.version + 1,
    firstReceivedAt: existing.firstReceivedAt,
    late: isLateFor(existing.firstReceivedAt),
    publication: keepEnd(existing.publication, incoming.publication),
  };
  return { status: 'updated', head: record(head, 'updated'), previous: existing };
}

/** Whether the record's ledger holds an occurrence of the same request after this one. */
function laterOccurrenceApplied(existing: StoredHead, { requestKey, occurrence }: PushOccurrence): boolean {
  const prefix = `${requestKey}#`;
  return (existing.appliedRequests ?? []).some((r) => r.key.startsWith(prefix) && Number(r.key.slice(prefix.length)) > occurrence);
}

/** A publication that had already ended, and still ends, ended when it first did (a corrected removal row does not move the date). */
function keepEnd(existing: Publication, incoming: Publication): Publication {
  if (existing.state !== 'ended' || incoming.state !== 'ended' || existing.endedOn === undefined) return incoming;
  return { ...incoming, endedOn: existing.endedOn };
}

/** The superseded head, as a version item. */
export function versionOf(previous: StoredHead, supersededAt: string): StoredVersion {
  return {
    id: previous.id,
    version: previous.version,
    fields: previous.fields,
    ...(previous.certificate ? { certificate: previous.certificate } : {}),
    contentHash: previous.contentHash,
    receivedAt: previous.receivedAt,
    supersededAt,
  };
}
