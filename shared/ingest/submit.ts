/**
 * 信息报送: a batch of pushed records, each standing alone. Valid records are
 * compared with what is stored and written conditionally; a record that
 * lost a race is decided again on fresh data. The same record twice in one
 * batch is handled in order, as if pushed one after the other.
 *
 * The first read of the stored heads is eventually consistent (half the read
 * units: most pushed records are new). A write decided on it is safe, since
 * every write is conditional on what it was decided against (a stale read
 * ends in a conflict, decided again); a decision not to write (a duplicate,
 * a change already applied) has no such check, so it is made again on a
 * strongly consistent read, as is every decision after a conflict.
 */
import type { PushKindSpec } from '../../contracts/kinds.js';
import { todayInChina } from '../domain/dates.js';
import { decidePush, versionOf, type PushDecision, type PushOccurrence, type StoredHead } from '../domain/record-model.js';
import { isLate } from '../domain/workdays.js';
import type { FieldError } from '../http/errors.js';
import { StoreBusyError } from '../store/errors.js';
import type { RecordsStore, RecordWrite } from '../store/records-store.js';
import type { KeyPrincipal } from '../store/sources-store.js';
import { DEFAULT_POLICY, onArrival, type PublicationPolicy } from '../publication/policy.js';
import { prepareRecord, type PrepareDeps, type Prepared } from './prepare.js';

export type ResultStatus = 'accepted' | 'updated' | 'duplicate' | 'rejected';

export interface RecordResult {
  index: number;
  status: ResultStatus;
  id?: string;
  late?: true;
  errors?: FieldError[];
}

export interface SubmissionResult {
  accepted: number;
  updated: number;
  duplicates: number;
  rejected: number;
  results: RecordResult[];
}

export interface SubmitDeps extends PrepareDeps {
  store: RecordsStore;
  now?: () => Date;
  /**
   * Fires when the request runs out of time (shared/http/deadline.ts): no read
   * or write is started after it, and the push ends with the signal's reason.
   */
  signal?: AbortSignal;
  /**
   * Identifies this push when it carries an Idempotency-Key (a hash of the
   * caller and the key): a retry of it is not applied again to a record it
   * already changed (see StoredHead.appliedRequests).
   */
  requestKey?: string;
  /**
   * The publication policy (shared/publication/policy.ts), read once per push: what is approved on arrival.
   * Without it every new or changed record waits for review.
   */
  policy?: () => Promise<PublicationPolicy>;
}

const MAX_DECISION_ROUNDS = 5;
const MAX_DECISION_ROUNDS_WITH_DEADLINE = 100;

/**
 * A push made ready to decide: its records validated and built as heads (prepare.ts), and maybe the
 * stored heads of their first occurrences, read ahead (eventually consistent) by `readAhead`.
 */
export interface PreparedSubmission {
  receivedAt: Date;
  prepared: readonly Prepared[];
  firstRead?: ReadonlyMap<string, StoredHead>;
}

/**
 * `rejectedBefore` holds records already found wrong by index (a key repeated
 * in the record's JSON, say): they are rejected with those errors, unread.
 */
export async function submitRecords(
  spec: PushKindSpec,
  source: KeyPrincipal,
  records: readonly unknown[],
  deps: SubmitDeps,
  rejectedBefore: ReadonlyMap<number, FieldError[]> = new Map(),
): Promise<SubmissionResult> {
  return applySubmission(spec, await prepareSubmission(spec, source, records, deps, rejectedBefore), deps);
}

/** The part of a push that writes nothing: validation and heads (CPU only). */
export async function prepareSubmission(
  spec: PushKindSpec,
  source: KeyPrincipal,
  records: readonly unknown[],
  deps: PrepareDeps & { now?: () => Date },
  rejectedBefore: ReadonlyMap<number, FieldError[]> = new Map(),
): Promise<PreparedSubmission> {
  const receivedAt = (deps.now ?? (() => new Date()))();
  const prepared = await Promise.all(
    records.map((raw, index): Promise<Prepared> | Prepared => {
      const errors = rejectedBefore.get(index);
      return errors ? { ok: false, errors } : prepareRecord(spec, source, raw, receivedAt, deps);
    }),
  );
  return { receivedAt, prepared };
}

/**
 * Reads ahead what the push's first decisions read: the stored heads of its records, eventually consistent. A
 * court batch does it for its next chunk while the current one is written (shared/batch/ingest-batch.ts). Safe
 * however stale: a write decided on it is conditional, a decision not to write is made again (see above).
 */
export async function readAhead(submission: PreparedSubmission, store: RecordsStore): Promise<PreparedSubmission> {
  const ids = [...new Set(submission.prepared.flatMap((p) => (p.ok ? [p.head.id] : [])))];
  return { ...submission, firstRead: ids.length > 0 ? await store.getHeads(ids, undefined, false) : new Map() };
}

/** Decides and writes a prepared push. */
export async function applySubmission(spec: PushKindSpec, submission: PreparedSubmission, deps: SubmitDeps): Promise<SubmissionResult> {
  const { receivedAt, prepared } = submission;
  const policy = deps.policy ? await deps.policy() : DEFAULT_POLICY;
  const results: RecordResult[] = new Array(prepared.length);

  // Waves: the n-th occurrence of an id goes in wave n, so repeats are applied in order.
  const waves: { index: number; head: StoredHead; occurrence: number }[][] = [];
  const seen = new Map<string, number>();
  prepared.forEach((p, index) => {
    if (!p.ok) {
      results[index] = { index, status: 'rejected', errors: p.errors };
      return;
    }
    const n = seen.get(p.head.id) ?? 0;
    seen.set(p.head.id, n + 1);
    (waves[n] ??= []).push({ index, head: p.head, occurrence: n });
  });

  for (const wave of waves) {
    let pending = wave;
    for (let round = 0; pending.length > 0; round++) {
      // With a deadline, conflicting pushes keep deciding again until it comes; without one, a few rounds.
      if (round >= (deps.signal ? MAX_DECISION_ROUNDS_WITH_DEADLINE : MAX_DECISION_ROUNDS)) throw new StoreBusyError(`records kept conflicting with concurrent pushes: ${pending.length} left`);
      deps.signal?.throwIfAborted();
      const stored = wave === waves[0] && round === 0 && submission.firstRead ? submission.firstRead : await deps.store.getHeads(pending.map((p) => p.head.id), deps.signal, round > 0);
      const decided = pending.map((p) => ({
        ...p,
        decision: onArrival(
          decide(spec, stored.get(p.head.id), p.head, deps.requestKey === undefined ? undefined : { requestKey: deps.requestKey, occurrence: p.occurrence }),
          policy,
          receivedAt.toISOString(),
        ),
      }));
      const writes = decided.filter((d) => d.decision.status !== 'duplicate' && d.decision.status !== 'applied');
      const outcomes = await deps.store.write(writes.map((d) => toWrite(d.decision, receivedAt)), deps.signal);
      // Decided again on a strongly consistent read: a write that lost a race, and (after the first, eventually
      // consistent read) a decision not to write.
      const conflicts = new Set(writes.filter((_, i) => outcomes[i] === 'conflict').map((d) => d.index));
      if (round === 0) {
        const writing = new Set(writes);
        for (const d of decided) if (!writing.has(d)) conflicts.add(d.index);
      }
      for (const d of decided) {
        if (conflicts.has(d.index)) continue;
        const status = d.decision.status === 'applied' ? d.decision.applied : d.decision.status;
        results[d.index] = { index: d.index, status, id: d.head.id, ...(d.decision.head.late ? { late: true as const } : {}) };
      }
      pending = decided.filter((d) => conflicts.has(d.index)).map(({ index, head, occurrence }) => ({ index, head, occurrence }));
    }
  }

  const count = (s: ResultStatus) => results.filter((r) => r.status === s).length;
  return { accepted: count('accepted'), updated: count('updated'), duplicates: count('duplicate'), rejected: count('rejected'), results };
}

function decide(spec: PushKindSpec, existing: StoredHead | undefined, incoming: StoredHead, request: PushOccurrence | undefined): PushDecision {
  // Only 双公示 kinds can be late (a court's listing has no deadline to push within).
  return decidePush(existing, incoming, (first) => spec.doublePublicity && isLate(incoming.decisionDate, todayInChina(new Date(first))), request);
}

function toWrite(decision: PushDecision, at: Date): RecordWrite {
  if (decision.status === 'accepted') return { op: 'create', head: decision.head };
  if (decision.status === 'updated') {
    return { op: 'update', head: decision.head, previous: decision.previous, version: versionOf(decision.previous, at.toISOString()) };
  }
  throw new Error('a duplicate is not written');
}
