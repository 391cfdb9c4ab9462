/**
 * Chinese working days (weekends and public holidays off, adjusted working
 * weekends on), from the `chinese-days` calendar.
 */
import chineseDays from 'chinese-days';

/** The date `n` working days after `date` (the date itself does not count). */
export function addWorkingDays(date: string, n: number): string {
  return chineseDays.findWorkday(n, date);
}

/**
 * 双公示 timeliness: a decision must reach the platform within 7 working days.
 * Late when the push date is after the 7th working day following the decision date.
 */
export const DOUBLE_PUBLICITY_WORKING_DAYS = 7;

export function isLate(decisionDate: string, pushDate: string, workingDays = DOUBLE_PUBLICITY_WORKING_DAYS): boolean {
  return pushDate > addWorkingDays(decisionDate, workingDays);
}
