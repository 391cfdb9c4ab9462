/**
 * The window of a nightly sync (pure): the changes it sends are the deliveries created in (from, to], `from` being
 * the platform's watermark when the run started and `to` fixed when the run was asked for. Days are China's
 * (UTC+8, no daylight saving), as in the deliveries' `changeDay` (`<platform>#<YYYY-MM-DD>`, the byDay index).
 */
import { todayInChina } from '../domain/dates.js';

const DAY_MS = 24 * 3600_000;
const CHINA_OFFSET_MS = 8 * 3600_000;

/**
 * A platform's first run (no watermark yet) sends the changes of this many days before its `to`, and everything
 * still owed however old: older changes were acknowledged in real time, or are still owed.
 */
export const FIRST_RUN_LOOKBACK_DAYS = 366;

/** The China day of an ISO instant. */
export function chinaDayOf(iso: string): string {
  return todayInChina(new Date(iso));
}

/** The day after `day` (YYYY-MM-DD). */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS).toISOString().slice(0, 10);
}

/** The last millisecond of `day` in China, as an ISO instant (2026-03-01 → 2026-03-01T15:59:59.999Z). */
export function endOfChinaDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS - CHINA_OFFSET_MS - 1).toISOString();
}

/**
 * A run's day and upper bound: as of today (no asOf, or asOf today) it ends at `now`; as of an earlier day, at the
 * end of that day in China. An asOf after today is refused by the contract (contracts/jobs.ts) before this.
 */
export function runBounds(asOf: string | undefined, now: Date): { asOf: string; to: string } {
  const today = todayInChina(now);
  const day = asOf ?? today;
  if (day > today) throw new RangeError(`asOf ${day} is after today (${today})`);
  return { asOf: day, to: day === today ? now.toISOString() : endOfChinaDay(day) };
}

/** Where a run's window starts: the watermark, or for a platform's first run FIRST_RUN_LOOKBACK_DAYS before `to`. */
export function windowStart(watermark: string | undefined, to: string): string {
  return watermark ?? new Date(Date.parse(to) - FIRST_RUN_LOOKBACK_DAYS * DAY_MS).toISOString();
}

/** The China days (oldest first) a window (from, to] touches; none when it is empty. */
export function windowDays(from: string, to: string): string[] {
  if (to <= from) return [];
  const days: string[] = [];
  const last = chinaDayOf(to);
  for (let day = chinaDayOf(from); day <= last; day = nextDay(day)) days.push(day);
  return days;
}

/** The `changeDay` partition of a delivery created at `createdAt` for `platform`. */
export function changeDayOf(platform: string, createdAt: string): string {
  return `${platform}#${chinaDayOf(createdAt)}`;
}
