/**
 * EventBridge schedules on this machine: a timer per catalogue schedule that fires every
 * `everyMinutes`, as a `rate(n minutes)` rule does, with the event EventBridge would send the
 * function — the schedule's constant input, or else a "Scheduled Event" — and, for the schedules
 * marked `alsoAtLocalStart`, once right after the stack has started (what a stopped or killed stack
 * left undone is picked up at once rather than minutes later). The function is invoked
 * asynchronously, as EventBridge invokes Lambda.
 */
import { randomUUID } from 'node:crypto';
import { schedules as catalogueSchedules, type ScheduleSpec } from '../catalogue.js';

export interface SchedulesOptions {
  /** Invokes the function asynchronously with the event (lambda-async.ts); `source` names the schedule. */
  fire: (fn: string, event: unknown, source: string) => void;
  region: string;
  /** The schedules; the catalogue's unless given (tests). */
  schedules?: Readonly<Record<string, ScheduleSpec>>;
  /** Whether a function exists (schedules of others are not wired: the stack says so at start). */
  hasFunction: (fn: string) => boolean;
  /** The clock, for the Scheduled Event's `time`. */
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

export function startSchedules(options: SchedulesOptions): ScheduleTimers {
  const now = options.now ?? (() => new Date());
  const timers: NodeJS.Timeout[] = [];
  const names: string[] = [];
  for (const [name, spec] of Object.entries(options.schedules ?? catalogueSchedules) as [string, ScheduleSpec][]) {
    if (!options.hasFunction(spec.function)) continue;
    names.push(name);
    const fire = (when: string) => options.fire(spec.function, spec.input ? structuredClone(spec.input) : scheduledEvent(name, options.region, now()), `schedule ${name} (${when})`);
    const every = setInterval(() => fire(`every ${spec.everyMinutes} min`), spec.everyMinutes * 60_000);
    every.unref();
    timers.push(every);
    if (spec.alsoAtLocalStart) {
      const once = setTimeout(() => fire('at start'), 0);
      once.unref();
      timers.push(once);
    }
  }
  return {
    names,
    stop() {
      for (const t of timers.splice(0)) clearTimeout(t);
    },
  };
}
