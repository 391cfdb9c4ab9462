import { describe, expect, it } from 'vitest';
import { addMonths, isIsoDate, parseIsoDate, todayInChina } from '../../shared/domain/dates.js';
import { DOUBLE_PUBLICITY_WORKING_DAYS, addWorkingDays, isLate } from '../../shared/domain/workdays.js';

describe('parseIsoDate / isIsoDate', () => {
  it('parses a real date into numbers', () => {
    expect(parseIsoDate('2026-09-28')).toStrictEqual({ y: 2026, m: 9, d: 28 });
    expect(parseIsoDate('2028-02-29')).toStrictEqual({ y: 2028, m: 2, d: 29 });
  });

  it.each(['2026-02-30', '2026-02-29', '2100-02-29', '2026-13-01', '2026-00-01', '2026-06-31', '2026-01-00'])('rejects the impossible date %s', (value) => {
    expect(parseIsoDate(value)).toBeNull();
    expect(isIsoDate(value)).toBe(false);
  });

  it.each(['2026/11/01', '2026-1-01', '2026-01-1', '20260101', ' 2026-01-01', '2026-01-01 ', '2026-01-01T00:00', '２０２６-01-01', ''])('rejects the format %j', (value) => {
    expect(isIsoDate(value)).toBe(false);
  });

  it('accepts leap days of leap years, including 2000', () => {
    expect(isIsoDate('2000-02-29')).toBe(true);
    expect(isIsoDate('2024-02-29')).toBe(true);
  });
});

describe('addMonths', () => {
  it.each([
    ['2026-01-15', 1, '2026-02-15'],
    ['2026-01-31', 1, '2026-02-28'],
    ['2028-01-31', 1, '2028-02-29'],
    ['2026-03-31', 1, '2026-04-30'],
    ['2026-08-31', 3, '2026-11-30'],
    ['2026-11-30', 3, '2027-02-28'],
    ['2026-12-15', 1, '2027-01-15'],
    ['2026-10-31', 2, '2026-12-31'],
    ['2026-04-15', 12, '2027-04-15'],
    ['2028-02-29', 12, '2029-02-28'],
    ['2028-02-29', 48, '2032-02-29'],
    ['2026-04-15', 36, '2029-04-15'],
    ['2026-04-15', 0, '2026-04-15'],
    ['2026-03-31', -1, '2026-02-28'],
    ['2026-01-15', -1, '2025-12-15'],
  ])('%s + %i months = %s', (date, months, expected) => {
    expect(addMonths(date, months)).toBe(expected);
  });

  it('throws a RangeError on a non-date', () => {
    expect(() => addMonths('2026-02-30', 1)).toThrow(RangeError);
    expect(() => addMonths('2026/01/01', 1)).toThrow(/not a date/);
  });
});

describe('todayInChina (UTC+8)', () => {
  it.each([
    ['2026-11-23T00:00:00Z', '2026-11-23'],
    ['2026-11-23T15:59:59.999Z', '2026-11-23'],
    ['2026-11-23T16:00:00Z', '2026-11-24'],
    ['2026-12-31T16:00:00Z', '2027-01-01'],
    ['2026-11-22T23:30:00-05:00', '2026-11-23'],
  ])('%s is %s in Beijing', (instant, date) => {
    expect(todayInChina(new Date(instant))).toBe(date);
  });

  it('defaults to now', () => {
    const before = todayInChina(new Date());
    const today = todayInChina();
    const after = todayInChina(new Date());
    expect([before, after]).toContain(today);
  });
});

describe('addWorkingDays (chinese-days calendar)', () => {
  it('2026-09-28 + 7 working days = 2026-10-13 (National Day holiday, working Saturday 2026-10-10)', () => {
    expect(addWorkingDays('2026-09-28', 7)).toBe('2026-10-13');
  });

  it.each([
    // An ordinary week: Monday + 1 = Tuesday, Friday + 1 = Monday.
    ['2026-11-23', 1, '2026-11-24'],
    ['2026-11-20', 1, '2026-11-23'],
    ['2026-11-20', 7, '2026-12-01'],
    // The adjusted working Sunday before National Day (2026-09-20).
    ['2026-09-18', 1, '2026-09-20'],
    // Mid-Autumn Festival 2026-09-25..27.
    ['2026-09-24', 1, '2026-09-28'],
    // National Day 2026-10-01..07, then the working Saturday 2026-10-10.
    ['2026-09-30', 1, '2026-10-08'],
    ['2026-10-09', 1, '2026-10-10'],
    ['2026-10-10', 1, '2026-10-12'],
    ['2026-10-01', 7, '2026-10-15'],
    // From a Saturday that is not worked.
    ['2026-09-26', 7, '2026-10-12'],
    // New Year 2026-01-01..03, working Sunday 2026-01-04.
    ['2025-12-31', 1, '2026-01-04'],
    // Spring Festival 2026-02-15..23, working Saturday 2026-02-14.
    ['2026-02-13', 1, '2026-02-14'],
    ['2026-02-14', 1, '2026-02-24'],
    // Labour Day 2026-05-01..05.
    ['2026-04-30', 1, '2026-05-06'],
  ])('%s + %i = %s', (date, n, expected) => {
    expect(addWorkingDays(date, n)).toBe(expected);
  });

  it('does not count the starting date itself', () => {
    expect(addWorkingDays('2026-11-24', 1)).toBe('2026-11-25');
  });
});

describe('isLate (双公示: within 7 working days)', () => {
  it('uses 7 working days', () => {
    expect(DOUBLE_PUBLICITY_WORKING_DAYS).toBe(7);
  });

  it('is not late on the 7th working day, late on the next calendar day', () => {
    expect(isLate('2026-09-28', '2026-10-13')).toBe(false);
    expect(isLate('2026-09-28', '2026-10-14')).toBe(true);
  });

  it('is not late on the decision day or any working day in between', () => {
    expect(isLate('2026-09-28', '2026-09-28')).toBe(false);
    expect(isLate('2026-09-28', '2026-10-05')).toBe(false);
    expect(isLate('2026-09-28', '2026-10-10')).toBe(false);
  });

  it('would be late on 2026-10-08 if the holiday counted as working days (it does not)', () => {
    // Counting 2026-10-01..07 weekdays as working days, the 7th would be 2026-10-07.
    expect(isLate('2026-09-28', '2026-10-08')).toBe(false);
  });

  it('skips weekends: from Friday 2026-11-20 the deadline is Tuesday 2026-12-01', () => {
    expect(isLate('2026-11-20', '2026-12-01')).toBe(false);
    expect(isLate('2026-11-20', '2026-12-02')).toBe(true);
  });

  it('takes another number of working days', () => {
    expect(isLate('2026-11-23', '2026-11-26', 3)).toBe(false);
    expect(isLate('2026-11-23', '2026-11-27', 3)).toBe(true);
  });
});
