/**
 * Dates for test fixtures, taken from the clock and the working-day calendar
 * the hub itself uses (todayInChina, isLate), so that no outcome
 * depends on the day the suite runs. Fixed dates stay fine wherever the
 * outcome is a calendar fact (2026-02-30 does not exist) rather than
 * "is this late / in the future today".
 */
import { addMonths, parseIsoDate, todayInChina } from '../../shared/domain/dates.js';
import { isLate } from '../../shared/domain/workdays.js';

/** `date` plus `days` calendar days (negative goes back). */
export function addDays(date: string, days: number): string {
  const p = parseIsoDate(date);
  if (!p) throw new RangeError(`not a date: ${date}`);
  return new Date(Date.UTC(p.y, p.m - 1, p.d + days)).toISOString().slice(0, 10);
}

/**
 * A decision that is neither late nor in the future when pushed now: today in
 * China. If a run crosses midnight in Beijing, pushes on the next day find it
 * one working day old at most, far from late.
 */
export function recentDecisionDate(now: Date = new Date()): string {
  return todayInChina(now);
}

/**
 * A decision well over 7 working days ago (three months: longer than any run
 * of holidays), checked against the hub's own rule.
 */
export function lateDecisionDate(now: Date = new Date()): string {
  const today = todayInChina(now);
  const decided = addMonths(today, -3);
  if (!isLate(decided, today)) throw new Error(`${decided} is not late on ${today}: the fixture is wrong`);
  return decided;
}

/** The digits of `value` in full width (２０２６-１１-１６), as some systems send them. */
export function fullWidthDigits(value: string): string {
  return value.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
}

/** The publication period of a 严重 (serious) penalty decided on `decided` (DOMAIN.md): 1 to 3 years. */
export function seriousPenaltyPublication(decided: string) {
  return { grade: '3', from: decided, minUntil: addMonths(decided, 12), until: addMonths(decided, 36) };
}
