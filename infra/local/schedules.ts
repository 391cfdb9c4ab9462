/**
 * EventBridge schedules on this machine: a timer per catalogue schedule that fires every
 * `everyMinutes`, as a `rate(n minutes)` rule does, or every day at `dailyAt` (China time), as a
 * cron rule does — a timer set to the next occurrence, set again after each firing — with the event
 * EventBridge would send the function — the schedule's constant input, or else a "Scheduled Event" —
 * and, for the schedules marked `alsoAtLocalStart`, once right after the stack has started (what a
 * stopped or killed stack left undone is picked up at once rather than minutes later), with the
 * schedule's `localStartInput` when it has one (else the same event). The function
 * is invoked asynchronously, as EventBridge invokes Lambda.
 */
import { randomUUID } from 'node:crypto';
import { schedules as catalogueSchedules, type ScheduleSpec } from '../catalogue.js';
import { nextDailyOccurrence } from '../daily-schedule.js';

export interface SchedulesOptions {
  /** Invokes the function asynchronously with the event (lambda-async.ts); `source` names the schedule. */
  fire: (fn: string, event: unknown, source: string) => void;
  region: string;
  /** The schedules; the catalogue's unless given (tests). */
  schedules?: Readonly<Record<string, ScheduleSpec>>;
  /** Whether a function exists (schedules of others are not wired: the stack says so at start). */
  hasFunction: (fn: string) => boolean;
  /** The clock, for the Scheduled Event's `time` and the next occurrence of a daily schedule. */
  now?: () => Date;
}

export interface ScheduleTimers {
  /** The schedules that run. */
  readonly names: readonly string[];
  stop(): void;
}

/** What EventBridge sends a target that has no input of its own. */
export function scheduledEvent(name: string, region: string, time: Date): Record<string, unknown> {
  const partition = region.startsWith('cn-') ? 'aws-cn' : 'aws';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:${partition}:events:${region}:000000000000:rule/${name}`],
    detail: {},
  };
}

/** The longest delay a Node timer takes (about 24.8 days); a daily occurrence is always nearer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function startSchedules(options: SchedulesOptions): ScheduleTimers {
  const now = options.now ?? (() => new Date());
  const timers = new Set<NodeJS.Timeout>();
  const names: string[] = [];
  let stopped = false;
  for (const [name, spec] of Object.entries(options.schedules ?? catalogueSchedules) as [string, ScheduleSpec][]) {
    if (!options.hasFunction(spec.function)) continue;
    names.push(name);
    const fire = (when: string, input = spec.input) => options.fire(spec.function, input ? structuredClone(input) : scheduledEvent(name, options.region, now()), `schedule ${name} (${when})`);
    if (spec.dailyAt !== undefined) {
      const dailyAt = spec.dailyAt;
      // One timer at a time, to the next occurrence as the clock says then (a sleeping laptop fires late, once).
      // `after`: the occurrence just fired, so that a timer firing a little early never fires the same one twice.
      const arm = (after: number) => {
        if (stopped) return;
        const at = nextDailyOccurrence(dailyAt, new Date(Math.max(after, now().getTime()))).getTime();
        const timer = setTimeout(() => {
          timers.delete(timer);
          fire(`daily at ${dailyAt} China time`);
          arm(at);
        }, Math.min(MAX_TIMER_MS, Math.max(0, at - now().getTime())));
        timer.unref();
        timers.add(timer);
      };
      arm(now().getTime());
    } else {
      const every = setInterval(() => fire(`every ${spec.everyMinutes} min`), spec.everyMinutes * 60_000);
      every.unref();
      timers.add(every);
    }
    if (spec.alsoAtLocalStart) {
      const once = setTimeout(() => {
        timers.delete(once);
        fire('at start', spec.localStartInput ?? spec.input);
      }, 0);
      once.unref();
      timers.add(once);
    }
  }
  return {
    names,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
