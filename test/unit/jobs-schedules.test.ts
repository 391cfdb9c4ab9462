/**
 * Daily schedules (`dailyAt`, China time): the EventBridge cron expression in UTC (infra/daily-schedule.ts, used by
 * infra/stack.ts), the next occurrence after an instant, and the local timers (infra/local/schedules.ts) firing at
 * each occurrence with an injected clock — and the nightly syncs in the catalogue.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { functions, schedules, type ScheduleSpec } from '../../infra/catalogue.js';
import { dailyCronExpression, minutesOfDay, nextDailyOccurrence, utcTimeOf } from '../../infra/daily-schedule.js';
import { startSchedules, type ScheduleTimers } from '../../infra/local/schedules.js';

describe('daily times in China as UTC', () => {
  it('02:00 in China is 18:00 UTC the day before; 02:30 is 18:30; 08:00 is midnight; 23:59 is 15:59', () => {
    expect(utcTimeOf('02:00')).toEqual({ hour: 18, minute: 0 });
    expect(utcTimeOf('02:30')).toEqual({ hour: 18, minute: 30 });
    expect(utcTimeOf('08:00')).toEqual({ hour: 0, minute: 0 });
    expect(utcTimeOf('23:59')).toEqual({ hour: 15, minute: 59 });
    expect(utcTimeOf('00:00')).toEqual({ hour: 16, minute: 0 });
  });

  it('as an EventBridge cron expression (minutes hours day-of-month month day-of-week year)', () => {
    expect(dailyCronExpression('02:00')).toBe('cron(0 18 * * ? *)');
    expect(dailyCronExpression('02:30')).toBe('cron(30 18 * * ? *)');
    expect(dailyCronExpression('09:05')).toBe('cron(5 1 * * ? *)');
  });

  it('refuses what is not HH:MM from 00:00 to 23:59', () => {
    for (const bad of ['2:00', '24:00', '02:60', '0200', ' 02:00', '']) expect(() => minutesOfDay(bad), bad).toThrow(/HH:MM/);
  });

  it('the next occurrence is strictly after the instant, on the same or the next day', () => {
    // 2030-03-01T17:59:59Z is 01:59:59 on 2 March in China: 02:00 comes a second later.
    expect(nextDailyOccurrence('02:00', new Date('2030-03-01T17:59:59.000Z')).toISOString()).toBe('2030-03-01T18:00:00.000Z');
    // At 02:00 exactly, the next one is tomorrow's.
    expect(nextDailyOccurrence('02:00', new Date('2030-03-01T18:00:00.000Z')).toISOString()).toBe('2030-03-02T18:00:00.000Z');
    expect(nextDailyOccurrence('02:30', new Date('2030-03-01T18:00:00.000Z')).toISOString()).toBe('2030-03-01T18:30:00.000Z');
    // Across a month and a year end.
    expect(nextDailyOccurrence('02:00', new Date('2030-12-31T20:00:00.000Z')).toISOString()).toBe('2031-01-01T18:00:00.000Z');
    expect(nextDailyOccurrence('08:00', new Date('2030-02-28T23:59:59.999Z')).toISOString()).toBe('2030-03-01T00:00:00.000Z');
  });
});

describe('local daily timers', () => {
  let fired: { fn: string; event: unknown; source: string; at: string }[];
  let timers: ScheduleTimers | undefined;
  const nightly: Record<string, ScheduleSpec> = {
    sync: { function: 'runner', dailyAt: '02:00', input: { job: 'sync-provincial' }, alsoAtLocalStart: false, description: 'test' },
  };

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2030-03-01T12:00:00.000Z') }); // 20:00 in China
    fired = [];
  });
  afterEach(() => {
    timers?.stop();
    vi.useRealTimers();
  });

  const start = (specs: Record<string, ScheduleSpec>) =>
    (timers = startSchedules({
      schedules: specs,
      region: 'cn-north-1',
      hasFunction: () => true,
      fire: (fn, event, source) => fired.push({ fn, event, source, at: new Date().toISOString() }),
    }));

  it('fires at each occurrence (02:00 China = 18:00 UTC), with its input, every day, and never at start', async () => {
    start(nightly);
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(3 * 24 * 3600_000);
    expect(fired.map((f) => f.at)).toEqual(['2030-03-01T18:00:00.000Z', '2030-03-02T18:00:00.000Z', '2030-03-03T18:00:00.000Z']);
    expect(fired.every((f) => f.fn === 'runner' && JSON.stringify(f.event) === '{"job":"sync-provincial"}')).toBe(true);
    expect(fired[0]!.source).toBe('schedule sync (daily at 02:00 China time)');
  });

  it('holds one timer at a time, and none once stopped', async () => {
    start(nightly);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(vi.getTimerCount()).toBe(1);
    timers!.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3 * 24 * 3600_000);
    expect(fired).toHaveLength(1);
  });

  it('a clock that jumped ahead (a laptop asleep) fires the missed occurrence once, then keeps to the clock', async () => {
    start(nightly);
    vi.setSystemTime(new Date('2030-03-05T00:00:00.000Z')); // the timer is now long overdue
    await vi.advanceTimersByTimeAsync(7 * 3600_000);
    expect(fired).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(fired.map((f) => f.at)).toEqual([expect.any(String), '2030-03-05T18:00:00.000Z']);
  });
});

describe('the nightly syncs in the catalogue', () => {
  it('syncProvincial at 02:00 and syncNational at 02:30 China time, each starting the sync runner with its job; at local start only a resume of a stopped run', () => {
    expect(schedules.syncProvincial).toMatchObject({ function: 'syncRunner', dailyAt: '02:00', input: { job: 'sync-provincial' }, alsoAtLocalStart: true, localStartInput: { resumeJob: 'sync-provincial' } });
    expect(schedules.syncNational).toMatchObject({ function: 'syncRunner', dailyAt: '02:30', input: { job: 'sync-national' }, alsoAtLocalStart: true, localStartInput: { resumeJob: 'sync-national' } });
    expect(Object.hasOwn(functions, 'syncRunner')).toBe(true);
  });

  it('every schedule is either a rate or a valid daily time, never both', () => {
    for (const [name, spec] of Object.entries(schedules as Record<string, ScheduleSpec>)) {
      expect([spec.everyMinutes !== undefined, spec.dailyAt !== undefined].filter(Boolean), name).toHaveLength(1);
      if (spec.dailyAt !== undefined) expect(() => minutesOfDay(spec.dailyAt!), name).not.toThrow();
      else expect(Number.isInteger(spec.everyMinutes) && spec.everyMinutes! >= 1, name).toBe(true);
    }
  });
});
