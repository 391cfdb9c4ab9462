/** The hub's working-day arithmetic against the `chinese-days` package's own functions, day by day. */
import chineseDays from 'chinese-days';
import { describe, expect, it } from 'vitest';
import { addWorkingDays, CALENDAR_LAST_YEAR, isWorkingDay, isLate } from '../../shared/domain/workdays.js';

function* days(from: string, to: string): Generator<string> {
  const d = new Date(`${from}T00:00:00Z`);
  while (d.toISOString().slice(0, 10) <= to) {
    yield d.toISOString().slice(0, 10);
    d.setUTCDate(d.getUTCDate() + 1);
  }
}

describe('Chinese working-day calendar', () => {
  it('knows the official holidays up to at least 2026', () => {
    expect(CALENDAR_LAST_YEAR).toBeGreaterThanOrEqual(2026);
  });

  it('agrees with chinese-days isWorkday on every day from 2004 to the end of its calendar', () => {
    const disagreements: string[] = [];
    for (const day of days('2004-01-01', `${CALENDAR_LAST_YEAR}-12-31`)) if (isWorkingDay(day) !== chineseDays.isWorkday(day)) disagreements.push(day);
    expect(disagreements).toEqual([]);
  });

  it('agrees with chinese-days findWorkday(7, d) on every day of 2024 to 2026', () => {
    const disagreements: string[] = [];
    for (const day of days('2024-01-01', '2026-12-31')) if (addWorkingDays(day, 7) !== chineseDays.findWorkday(7, day)) disagreements.push(day);
    expect(disagreements).toEqual([]);
  });

  it('counts the National Day week and its adjusted Saturday (2026-09-28 + 7 = 2026-10-13)', () => {
    expect(addWorkingDays('2026-09-28', 7)).toBe('2026-10-13');
    expect(isWorkingDay('2026-10-10')).toBe(true);
    expect(isWorkingDay('2026-10-05')).toBe(false);
    expect(isLate('2026-09-28', '2026-10-13')).toBe(false);
    expect(isLate('2026-09-28', '2026-10-14')).toBe(true);
  });
});
