/**
 * The publication decisions (shared/publication/decisions.ts, policy.ts, objection-model.ts), pure: state
 * transitions and what each refuses, repair from the grade's minimum period, the sparse review/expiry index, the
 * policy on arrival and on a new version, objection marks and deadlines in Chinese working days, and what each
 * decision means to the upward platforms (a new version: an update, or a delete once publication has ended).
 * Dates come from the calendar and the hub's own rules, never from the day the suite runs.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { addMonths, todayInChina } from '../../shared/domain/dates.js';
import { isPublishedOn } from '../../shared/domain/publication.js';
import { decidePush, dishonestyPublication, GRADE, licencePublication, type StoredHead } from '../../shared/domain/record-model.js';
import { addWorkingDays, isWorkingDay } from '../../shared/domain/workdays.js';
import { approve, clearObjection, expire, isRefusal, markObjection, missingQueueOf, repair, revoke, withhold, type DecisionContext, type Outcome } from '../../shared/publication/decisions.js';
import { objectionDeadlines, overdue } from '../../shared/publication/objection-model.js';
import { DEFAULT_POLICY, onArrival, type PublicationPolicy } from '../../shared/publication/policy.js';
import { newVersionOf } from '../../shared/upward/fanout.js';
import { operationOf } from '../../shared/upward/package-model.js';
import { addDays } from '../support/dates.js';

const DECIDED = '2026-05-11';
const AT = '2026-05-20T02:00:00.000Z';

function penaltyHead(overrides: Partial<StoredHead> = {}, grade: string = GRADE.general): StoredHead {
  return {
    id: 'pen_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    identity: '沪市监罚〔2026〕1号',
    version: 1,
    subjectKey: 'USCC#91310115MA1K3BTP2B',
    decisionDate: DECIDED,
    late: false,
    firstReceivedAt: AT,
    receivedAt: AT,
    status: 'active',
    fields: { CF_XDR_MC: '某公司', CF_WSH: '沪市监罚〔2026〕1号', SXDJ: grade },
    contentHash: 'hash-1',
    publication: dishonestyPublication(grade, DECIDED),
    ...overrides,
  };
}

const ctx = (today: string, at = `${today}T04:00:00.000Z`): DecisionContext => ({ by: 'operator', at, today });

function written(outcome: Outcome): StoredHead {
  if (isRefusal(outcome)) throw new Error(`refused: ${outcome.message}`);
  return outcome.head;
}

/** A head as the push path writes it: the policy applied on arrival. */
function arrived(head: StoredHead, policy: PublicationPolicy = DEFAULT_POLICY, at = AT): StoredHead {
  return onArrival({ status: 'accepted', head }, policy, at).head;
}

describe('review: approve and withhold', () => {
  it('a new record waits for review in the queue (publicationQueue review, keyed by when it began to wait) and is not on the site', () => {
    const head = arrived(penaltyHead());
    expect(head.publication.state).toBe('pending-review');
    expect(head).toMatchObject({ publicationQueue: 'review', publicationQueueKey: AT });
    expect(isPublishedOn(head.publication, DECIDED)).toBe(false);
  });

  it('approve: a new version, approved, on the site within its period, in the expiry queue by its end; who, when and why kept', () => {
    const head = arrived(penaltyHead());
    const approved = written(approve(head, ctx('2026-05-21'), '核实无误'));
    expect(approved.version).toBe(2);
    expect(approved.publication.state).toBe('approved');
    expect(approved.publication.decisions).toEqual([{ action: 'approve', by: 'operator', at: '2026-05-21T04:00:00.000Z', note: '核实无误' }]);
    expect(approved).toMatchObject({ publicationQueue: 'approved', publicationQueueKey: approved.publication.until });
    expect(isPublishedOn(approved.publication, '2026-05-21')).toBe(true);
    expect(isPublishedOn(approved.publication, addDays(approved.publication.until!, 1))).toBe(false);
  });

  it('approve is refused (409 publication_state) for an approved or ended record, and once the period is over', () => {
    const approved = written(approve(arrived(penaltyHead()), ctx('2026-05-21')));
    expect(approve(approved, ctx('2026-05-22'))).toMatchObject({ refused: 'publication_state' });
    const ended = revoke(approved, ctx('2026-05-22'));
    expect(approve(ended, ctx('2026-05-23'))).toMatchObject({ refused: 'publication_state' });
    const pending = arrived(penaltyHead());
    expect(approve(pending, ctx(addDays(pending.publication.until!, 1)))).toMatchObject({ refused: 'publication_state' });
  });

  it('withhold takes an approved record off the site at once and out of the queues; it can be approved again; withholding twice is refused', () => {
    const approved = written(approve(arrived(penaltyHead()), ctx('2026-05-21')));
    const withheld = written(withhold(approved, ctx('2026-05-22'), '信息待核实'));
    expect(withheld.publication.state).toBe('withheld');
    expect(withheld.version).toBe(3);
    expect(withheld.publicationQueue).toBeUndefined();
    expect(withheld.publicationQueueKey).toBeUndefined();
    expect(isPublishedOn(withheld.publication, '2026-05-22')).toBe(false);
    expect(withheld.publication.decisions!.map((d) => [d.action, d.note])).toEqual([
      ['approve', undefined],
      ['withhold', '信息待核实'],
    ]);
    expect(withhold(withheld, ctx('2026-05-23'), 'again')).toMatchObject({ refused: 'publication_state' });
    expect(written(approve(withheld, ctx('2026-05-23'))).publication.state).toBe('approved');
  });

  it('a 轻微 record is not published and not in the queue; the operator may still approve it, for at most 3 months', () => {
    const minor = arrived(penaltyHead({}, GRADE.minor));
    expect(minor.publication.state).toBe('not-published');
    expect(minor.publicationQueue).toBeUndefined();
    const approved = written(approve(minor, ctx('2026-05-21')));
    expect(approved.publication.until).toBe(addMonths(DECIDED, 3));
  });
});

describe('repair (信用修复)', () => {
  it.each([
    ['一般', GRADE.general, 3],
    ['严重', GRADE.serious, 12],
  ])('%s: refused (repair_too_early) the day before the minimum period ends, allowed on its last day: ended, repaired, off the site', (_name, grade, months) => {
    const approved = written(approve(arrived(penaltyHead({}, grade)), ctx('2026-05-21')));
    const minUntil = addMonths(DECIDED, months);
    expect(approved.publication.minUntil).toBe(minUntil);
    expect(repair(approved, ctx(addDays(minUntil, -1)), '已整改')).toMatchObject({ refused: 'repair_too_early' });
    const repaired = written(repair(approved, ctx(minUntil), '已整改'));
    expect(repaired.publication).toMatchObject({ state: 'ended', endReason: 'repaired', endedOn: minUntil });
    expect(repaired.publication.decisions!.at(-1)).toMatchObject({ action: 'repair', note: '已整改' });
    expect(isPublishedOn(repaired.publication, minUntil)).toBe(false);
    expect(repaired.publicationQueue).toBeUndefined();
  });

  it('refused for a record without a minimum period (a licence), a 轻微 one, and one already ended', () => {
    const licence = arrived(penaltyHead({ kind: 'license', publication: licencePublication(DECIDED, '2030-01-01') }));
    expect(repair(licence, ctx('2027-01-01'), 'x')).toMatchObject({ refused: 'publication_state' });
    expect(repair(arrived(penaltyHead({}, GRADE.minor)), ctx('2027-01-01'), 'x')).toMatchObject({ refused: 'publication_state' });
    const repaired = written(repair(arrived(penaltyHead()), ctx('2027-01-01'), 'x'));
    expect(repair(repaired, ctx('2027-01-02'), 'x')).toMatchObject({ refused: 'publication_state' });
  });
});

describe('expire', () => {
  it('ends an approved publication whose end is before asOf (expired, endedOn asOf); not one that ends on asOf, nor a pending one', () => {
    const approved = written(approve(arrived(penaltyHead()), ctx('2026-05-21')));
    const until = approved.publication.until!;
    expect(expire(approved, ctx(until), until)).toBeUndefined();
    const next = addDays(until, 1);
    const expired = expire(approved, ctx(next), next)!;
    expect(expired.publication).toMatchObject({ state: 'ended', endReason: 'expired', endedOn: next });
    expect(expired.version).toBe(approved.version + 1);
    expect(expired.publicationQueue).toBeUndefined();
    expect(expire(arrived(penaltyHead()), ctx(next), next)).toBeUndefined();
  });
});

describe('objections: mark and deadlines', () => {
  it('each objection is a new version; the mark counts the open ones and goes with the last', () => {
    const approved = written(approve(arrived(penaltyHead()), ctx('2026-05-21')));
    const one = markObjection(approved, '2026-05-22T01:00:00.000Z');
    expect(one.objection).toEqual({ openSince: '2026-05-22T01:00:00.000Z', count: 1 });
    const two = markObjection(one, '2026-05-23T01:00:00.000Z');
    expect(two.objection).toEqual({ openSince: '2026-05-22T01:00:00.000Z', count: 2 });
    expect(clearObjection(two, '2026-05-24T01:00:00.000Z').objection).toEqual({ openSince: '2026-05-22T01:00:00.000Z', count: 1 });
    const cleared = clearObjection(clearObjection(two, '2026-05-24T01:00:00.000Z'), '2026-05-25T01:00:00.000Z');
    expect(cleared.objection).toBeUndefined();
    expect(cleared.version).toBe(approved.version + 4);
    // The mark does not change what is published.
    expect(cleared.publication.state).toBe('approved');
  });

  it('deadlines: 2 and 10 Chinese working days after the filing day, skipping the National Day holiday and counting its adjusted working weekend', () => {
    // Filed on 2026-09-30: 1–7 October are off, and the calendar's adjusted days are working days.
    const { acceptBy, answerBy } = objectionDeadlines('2026-09-30');
    expect(acceptBy).toBe(addWorkingDays('2026-09-30', 2));
    expect(isWorkingDay(acceptBy)).toBe(true);
    expect(acceptBy > '2026-10-07').toBe(true);
    let day = '2026-09-30';
    let counted = 0;
    while (counted < 10) {
      day = addDays(day, 1);
      if (isWorkingDay(day)) counted++;
    }
    expect(answerBy).toBe(day);
    expect(overdue({ status: 'open', acceptBy, answerBy }, answerBy)).toEqual({ overdue: false, acceptanceOverdue: true });
    expect(overdue({ status: 'open', acceptBy, answerBy }, addDays(answerBy, 1))).toEqual({ overdue: true, acceptanceOverdue: true });
    expect(overdue({ status: 'resolved', acceptBy, answerBy }, addDays(answerBy, 1))).toEqual({ overdue: false, acceptanceOverdue: false });
  });
});

describe('the policy on arrival', () => {
  const licences: PublicationPolicy = { approvedOnArrival: { kinds: ['license'], sources: [] } };
  const bySource: PublicationPolicy = { approvedOnArrival: { kinds: [], sources: ['shi-scjgj'] } };

  it('a kind or a source in the policy is approved on arrival by `policy` (and in the expiry queue); others wait', () => {
    const licence = arrived(penaltyHead({ kind: 'license', publication: licencePublication(DECIDED, '2030-01-01') }), licences);
    expect(licence.publication.state).toBe('approved');
    expect(licence.publication.decisions).toEqual([{ action: 'auto-approve', by: 'policy', at: AT }]);
    expect(licence).toMatchObject({ publicationQueue: 'approved', publicationQueueKey: '2030-01-01' });
    expect(arrived(penaltyHead(), licences).publication.state).toBe('pending-review');
    expect(arrived(penaltyHead(), bySource).publication.state).toBe('approved');
    expect(arrived(penaltyHead({ sourceId: 'qu-scjgj' }), bySource).publication.state).toBe('pending-review');
  });

  it('a new version of an approved record is reviewed again (off the site), keeping its decisions and its objection mark', () => {
    const approved = markObjection(written(approve(arrived(penaltyHead()), ctx('2026-05-21'))), '2026-05-22T00:00:00.000Z');
    const changed = penaltyHead({ contentHash: 'hash-2', fields: { ...approved.fields, CF_NR: '更正' } });
    const push = decidePush(approved, changed, () => false);
    const head = onArrival(push, DEFAULT_POLICY, '2026-06-01T00:00:00.000Z').head;
    expect(head.version).toBe(approved.version + 1);
    expect(head.publication.state).toBe('pending-review');
    expect(head).toMatchObject({ publicationQueue: 'review', publicationQueueKey: '2026-06-01T00:00:00.000Z' });
    expect(head.publication.decisions).toEqual(approved.publication.decisions);
    expect(head.objection).toEqual(approved.objection);
    // With the policy approving its source, it stays approved (a decision by policy added).
    const again = onArrival(push, bySource, '2026-06-01T00:00:00.000Z').head;
    expect(again.publication.state).toBe('approved');
    expect(again.publication.decisions!.map((d) => d.action)).toEqual(['approve', 'auto-approve']);
  });

  it('a record still waiting keeps its place in the queue when a new version arrives', () => {
    const waiting = arrived(penaltyHead());
    const push = decidePush(waiting, penaltyHead({ contentHash: 'hash-2' }), () => false);
    expect(onArrival(push, DEFAULT_POLICY, '2026-06-01T00:00:00.000Z').head.publicationQueueKey).toBe(AT);
  });

  it('a record the office ended (repaired, revoked, expired) stays ended whatever is pushed; a duplicate changes nothing', () => {
    const repaired = written(repair(written(approve(arrived(penaltyHead()), ctx('2026-05-21'))), ctx('2026-09-01'), '已整改'));
    const push = decidePush(repaired, penaltyHead({ contentHash: 'hash-2' }), () => false);
    const head = onArrival(push, bySource, '2026-09-02T00:00:00.000Z').head;
    expect(head.publication).toMatchObject({ state: 'ended', endReason: 'repaired', endedOn: '2026-09-01' });
    expect(head.publicationQueue).toBeUndefined();
    const duplicate = decidePush(repaired, penaltyHead({ contentHash: repaired.contentHash }), () => false);
    expect(onArrival(duplicate, bySource, AT)).toBe(duplicate);
  });
});

describe('every decision reaches the upward platforms', () => {
  /** The records stream's MODIFY of a head from `before` to `after`. */
  const modify = (before: StoredHead, after: StoredHead): DynamoDBRecord => ({
    eventName: 'MODIFY',
    dynamodb: {
      OldImage: marshall({ pk: `REC#${before.id}`, sk: 'HEAD', ...before }, { removeUndefinedValues: true }) as never,
      NewImage: marshall({ pk: `REC#${after.id}`, sk: 'HEAD', ...after }, { removeUndefinedValues: true }) as never,
      SequenceNumber: '1',
    },
  });

  it('approve, withhold and objection marks: a new version sent as an update; repair, revoke and expire: a new version sent as a delete', () => {
    const today = todayInChina(new Date(AT));
    const pending = arrived(penaltyHead());
    const approved = written(approve(pending, ctx(today)));
    const withheld = written(withhold(approved, ctx(today), 'r'));
    const marked = markObjection(approved, AT);
    const repaired = written(repair(approved, ctx(approved.publication.minUntil!), 'r'));
    const revoked = revoke(marked, ctx(today));
    const next = addDays(approved.publication.until!, 1);
    const expired = expire(approved, ctx(next), next)!;
    const cases: [StoredHead, StoredHead, 'upsert' | 'delete'][] = [
      [pending, approved, 'upsert'],
      [approved, withheld, 'upsert'],
      [approved, marked, 'upsert'],
      [approved, repaired, 'delete'],
      [marked, revoked, 'delete'],
      [approved, expired, 'delete'],
    ];
    for (const [before, after, operation] of cases) {
      const version = newVersionOf(modify(before, after));
      expect(version, after.publication.state).toMatchObject({ recordId: after.id, version: before.version + 1, operation });
      expect(operationOf(after)).toBe(operation);
    }
  });
});

describe('heads an older hub stored without the review queue attributes', () => {
  const bare = (head: StoredHead): StoredHead => {
    const { publicationQueue: _q, publicationQueueKey: _k, ...rest } = head;
    return rest;
  };

  it('belong where a decision would have put them: waiting since they first arrived (never decided on), approved by their end', () => {
    const later = '2026-06-02T03:00:00.000Z';
    expect(missingQueueOf(penaltyHead({ receivedAt: later, version: 3 }))).toEqual({ publicationQueue: 'review', publicationQueueKey: AT });
    const approvedHead = bare(written(approve(arrived(penaltyHead()), ctx('2026-05-21'))));
    expect(missingQueueOf(approvedHead)).toEqual({ publicationQueue: 'approved', publicationQueueKey: approvedHead.publication.until });
    // Decided on before, and back in review since a new version arrived: waiting at least since that version.
    const back = bare({ ...approvedHead, publication: { ...approvedHead.publication, state: 'pending-review' }, receivedAt: later });
    expect(missingQueueOf(back)).toEqual({ publicationQueue: 'review', publicationQueueKey: later });
  });

  it('are left alone when they have their place already, or belong in neither queue', () => {
    expect(missingQueueOf(arrived(penaltyHead()))).toBeUndefined();
    expect(missingQueueOf(bare(written(withhold(arrived(penaltyHead()), ctx('2026-05-21'), '核实中'))))).toBeUndefined();
    expect(missingQueueOf(penaltyHead({}, GRADE.minor))).toBeUndefined();
    expect(missingQueueOf(bare(penaltyHead({ publication: { ...licencePublication(DECIDED), state: 'approved' } })))).toBeUndefined();
  });
});
