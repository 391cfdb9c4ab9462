/**
 * Chinese working days: weekends and public holidays off, adjusted working
 * weekends (调休) on. The calendar is the one the `chinese-days` package
 * publishes (State Council holiday notices, 2004 onwards); only its data file
 * is loaded, because the package's date library costs ~18 ms of Lambda
 * module init (measured by `npm run bench`) for a lookup this simple. A
 * test checks the result against the package's own `findWorkday` day by day.
 */
import calendar from 'chinese-days/dist/chinese-days.json' with { type: 'json' };

const holidays: Record<string, string> = calendar.holidays;
const adjustedWorkdays: Record<string, string> = calendar.workdays;

/** The last year the calendar has official holidays for; later years count weekends only. */
export const CALENDAR_LAST_YEAR = Math.max(...Object.keys(holidays).map((d) => Number(d.slice(0, 4))));

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export function isWorkingDay(date: string): boolean {
  if (Object.hasOwn(adjustedWorkdays, date)) return true;
  if (Object.hasOwn(holidays, date)) return false;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** The date `n` working days after `date` (the date itself does not count). */
export function addWorkingDays(date: string, n: number): string {
  let day = date;
  for (let left = n; left > 0; ) {
    day = nextDay(day);
    if (isWorkingDay(day)) left--;
  }
  return day;
}

/**
 * 双公示 timeliness: a decision must reach the platform within 7 working days.
 * Late when the push date is after the 7th working day following the decision date.
 */
export const DOUBLE_PUBLICITY_WORKING_DAYS = 7;

export function isLate(decisionDate: string, pushDate: string, workingDays = DOUBLE_PUBLICITY_WORKING_DAYS): boolean {
  return pushDate > addWorkingDays(decisionDate, workingDays);
}
