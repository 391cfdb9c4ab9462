/**
 * The local stand-in for EventBridge schedules (infra/local/schedules.ts): each catalogue schedule
 * fires its function every `everyMinutes` with the schedule's input, the `alsoAtLocalStart` ones once
 * right after start, and nothing fires once stopped.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { schedules as catalogueSchedules, type ScheduleSpec } from '../../infra/catalogue.js';
import { scheduledEvent, startSchedules, type ScheduleTimers } from '../../infra/local/schedules.js';

const testSchedules: Record<string, ScheduleSpec> = {
  sweep: { function: 'ingest', everyMinutes: 5, input: { sweep: true }, alsoAtLocalStart: true, description: 'test' },
  report: { function: 'reporter', everyMinutes: 60, alsoAtLocalStart: false, description: 'test' },
  orphan: { function: 'notYetThere', everyMinutes: 1, input: { x: 1 }, alsoAtLocalStart: true, description: 'test' },
};

let fired: { fn: string; event: unknown; source: string; at: number }[];
let timers: ScheduleTimers | undefined;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2030-03-01T00:00:00Z') });
  fired = [];
});

afterEach(() => {
  timers?.stop();
  vi.useRealTimers();
});

const start = (schedules: Record<string, ScheduleSpec> = testSchedules) =>
  (timers = startSchedules({
    schedules,
    region: 'cn-north-1',
    hasFunction: (fn) => fn !== 'notYetThere',
    fire: (fn, event, source) => fired.push({ fn, event, source, at: Date.now() }),
  }));

describe('local schedules', () => {
  it('fires the start-up schedules once, right after start, with their input', async () => {
    start();
    expect(fired).toEqual([]); // not inside start itself
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual([{ fn: 'ingest', event: { sweep: true }, source: 'schedule sweep (at start)', at: Date.parse('2030-03-01T00:00:00Z') }]);
    await vi.advanceTimersByTimeAsync(4 * 60_000 + 59_999);
    expect(fired).toHaveLength(1);
  });

  it('fires every schedule at its rate, each time with its input, as EventBridge would', async () => {
    start();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    const sweeps = fired.filter((f) => f.fn === 'ingest' && f.source === 'schedule sweep (every 5 min)');
    expect(sweeps.map((f) => (f.at - Date.parse('2030-03-01T00:00:00Z')) / 60_000)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    expect(sweeps.every((f) => JSON.stringify(f.event) === '{"sweep":true}')).toBe(true);
    // Each event is a fresh object: a handler that changes its event changes no later one.
    expect(sweeps[0]!.event).not.toBe(sweeps[1]!.event);
  });

  it('sends EventBridge’s Scheduled Event to a schedule without input', async () => {
    start();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    const reports = fired.filter((f) => f.fn === 'reporter');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.event).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      region: 'cn-north-1',
      time: '2030-03-01T01:00:00Z',
      resources: ['arn:aws-cn:events:cn-north-1:000000000000:rule/report'],
      detail: {},
    });
  });

  it('wires no schedule whose function does not exist, and names the ones it runs', async () => {
    expect(start().names).toEqual(['sweep', 'report']);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(fired.some((f) => f.fn === 'notYetThere')).toBe(false);
  });

  it('fires nothing once stopped, not even a start-up firing still due', async () => {
    start().stop();
    await vi.advanceTimersByTimeAsync(2 * 60 * 60_000);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops every timer it started', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(2); // the two rates; the start-up firing is done
    timers!.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fires a start-up schedule with its localStartInput at start, and with its input (or the Scheduled Event) at its rate', async () => {
    start({
      drain: { function: 'ingest', everyMinutes: 5, alsoAtLocalStart: true, localStartInput: { atStart: true }, description: 'test' },
      sweep: { function: 'ingest', everyMinutes: 5, input: { sweep: true }, alsoAtLocalStart: true, localStartInput: { sweep: true, atStart: true }, description: 'test' },
    });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(fired.filter((f) => f.source.endsWith('(at start)')).map((f) => f.event)).toEqual([{ atStart: true }, { sweep: true, atStart: true }]);
    const rated = fired.filter((f) => f.source.endsWith('(every 5 min)'));
    expect(rated.map((f) => (f.event as { 'detail-type'?: string })['detail-type'] ?? f.event)).toEqual(['Scheduled Event', { sweep: true }]);
  });

  it('runs the catalogue’s schedules by default: the batch sweep at its period and once at start, the delivery sweep once at start', async () => {
    timers = startSchedules({ region: 'cn-north-1', hasFunction: () => true, fire: (fn, event, source) => fired.push({ fn, event, source, at: Date.now() }) });
    expect(timers.names).toEqual(Object.keys(catalogueSchedules));
    await vi.advanceTimersByTimeAsync(catalogueSchedules.batchSweep.everyMinutes * 60_000);
    const batchSweeps = fired.filter((f) => f.fn === catalogueSchedules.batchSweep.function);
    expect(batchSweeps.map((f) => f.event)).toEqual([{ sweep: true }, { sweep: true }]);
    // Within the batch sweep's first minute, the delivery sweep (every 5 minutes) has fired only at start: with
    // {atStart: true}, which queues again everything owed at once.
    // The reconciliation (the same function, its own schedule, hourly) once at start too.
    expect(fired.filter((f) => f.fn === catalogueSchedules.deliverySweep.function).map((f) => f.event)).toEqual([{ atStart: true }, { reconcile: true, atStart: true }]);
  });
});

describe('scheduledEvent', () => {
  it('is EventBridge’s shape, with the time to the second and the aws partition outside China', () => {
    const event = scheduledEvent('nightly', 'eu-west-1', new Date('2031-07-04T05:06:07.890Z'));
    expect(event).toMatchObject({ version: '0', account: '000000000000', time: '2031-07-04T05:06:07Z', resources: ['arn:aws:events:eu-west-1:000000000000:rule/nightly'] });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
