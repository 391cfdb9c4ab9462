/**
 * Daily schedules (`dailyAt: 'HH:MM'` in infra/catalogue.ts): a time of day in China (UTC+8, no daylight
 * saving), turned into what each runtime needs — the minute and hour of an EventBridge cron expression in UTC
 * (infra/stack.ts) and the next moment it falls on after a given instant (infra/local/schedules.ts). Pure.
 */

/** China's offset from UTC, in minutes: UTC+8 all year (no daylight saving since 1991). */
export const CHINA_OFFSET_MINUTES = 8 * 60;
const DAY_MS = 24 * 3600_000;

const DAILY_AT = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight, China time, of 'HH:MM' (00:00 to 23:59); throws naming the value otherwise. */
export function minutesOfDay(dailyAt: string): number {
  const match = DAILY_AT.exec(dailyAt);
  if (!match) throw new Error(`dailyAt must be HH:MM from 00:00 to 23:59 (China time), not ${JSON.stringify(dailyAt)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** The UTC hour and minute of 'HH:MM' China time (02:00 → 18:00 UTC, the day before). */
export function utcTimeOf(dailyAt: string): { hour: number; minute: number } {
  const utc = (minutesOfDay(dailyAt) - CHINA_OFFSET_MINUTES + 24 * 60) % (24 * 60);
  return { hour: Math.floor(utc / 60), minute: utc % 60 };
}

/** The EventBridge schedule expression firing every day at 'HH:MM' China time: `cron(0 18 * * ? *)` for 02:00. */
export function dailyCronExpression(dailyAt: string): string {
  const { hour, minute } = utcTimeOf(dailyAt);
  return `cron(${minute} ${hour} * * ? *)`;
}

/** The first moment strictly after `after` that is 'HH:MM' in China. */
export function nextDailyOccurrence(dailyAt: string, after: Date): Date {
  const { hour, minute } = utcTimeOf(dailyAt);
  const t = after.getTime();
  const startOfUtcDay = t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
  let next = startOfUtcDay + (hour * 60 + minute) * 60_000;
  while (next <= t) next += DAY_MS;
  return new Date(next);
}
