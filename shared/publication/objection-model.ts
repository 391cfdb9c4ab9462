/**
 * An objection (异议) to a published record, filed by anyone without a key (API.md): its item in the `objections`
 * table, its deadlines in Chinese working days (DOMAIN.md: the platform says within about 2 working days whether it
 * accepts it, the providing department answers within about 10), and what the operator sees of it. Pure.
 *
 * The contact is kept only as field ciphertext bound to the objection (`contactCipher`, context
 * `<objection id>:contact`): unreadable in the table without the field key, shown to the operator only, never
 * logged, never on a page. Open objections carry `openQueue` (the sparse index `open`, by filing time: the oldest
 * first, which is also the earliest deadline, so the overdue come first).
 */
import { randomBytes } from 'node:crypto';
import { OBJECTION_ACCEPT_WORKING_DAYS, OBJECTION_ANSWER_WORKING_DAYS, type ObjectionOutcome } from '../../contracts/publication.js';
import { base32 } from '../domain/base32.js';
import { todayInChina } from '../domain/dates.js';
import { addWorkingDays } from '../domain/workdays.js';

export interface Objection {
  id: string;
  recordId: string;
  reason: string;
  contactCipher: string;
  status: 'open' | 'resolved';
  filedAt: string;
  /** The China day it was filed. */
  filedOn: string;
  acceptBy: string;
  answerBy: string;
  /** `open` while open: the sparse index `open` (sort key filedAt). */
  openQueue?: 'open';
  outcome?: ObjectionOutcome;
  note?: string;
  resolvedBy?: string;
  resolvedAt?: string;
}

export function newObjectionId(random: (n: number) => Buffer = randomBytes): string {
  return `obj_${base32(random(17), 26)}`;
}

/** The context the contact's ciphertext is bound to: it decrypts for this objection only. */
export function contactContext(objectionId: string): string {
  return `${objectionId}:contact`;
}

/** Its deadlines, from the China day it was filed (the filing day does not count). */
export function objectionDeadlines(filedOn: string): { acceptBy: string; answerBy: string } {
  return { acceptBy: addWorkingDays(filedOn, OBJECTION_ACCEPT_WORKING_DAYS), answerBy: addWorkingDays(filedOn, OBJECTION_ANSWER_WORKING_DAYS) };
}

export function newObjection(input: { id: string; recordId: string; reason: string; contactCipher: string; now: Date }): Objection {
  const filedOn = todayInChina(input.now);
  return {
    id: input.id,
    recordId: input.recordId,
    reason: input.reason,
    contactCipher: input.contactCipher,
    status: 'open',
    filedAt: input.now.toISOString(),
    filedOn,
    ...objectionDeadlines(filedOn),
    openQueue: 'open',
  };
}

/** Whether an open objection is past a deadline on `today` (China). */
export function overdue(objection: Pick<Objection, 'status' | 'acceptBy' | 'answerBy'>, today: string): { overdue: boolean; acceptanceOverdue: boolean } {
  const open = objection.status === 'open';
  return { overdue: open && today > objection.answerBy, acceptanceOverdue: open && today > objection.acceptBy };
}

/** What the operator sees: everything, the contact decrypted. */
export function objectionView(objection: Objection, contact: string, today: string) {
  return {
    id: objection.id,
    recordId: objection.recordId,
    reason: objection.reason,
    contact,
    status: objection.status,
    filedAt: objection.filedAt,
    acceptBy: objection.acceptBy,
    answerBy: objection.answerBy,
    ...overdue(objection, today),
  };
}
