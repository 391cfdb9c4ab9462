/**
 * cli/follow-status.ts: the one loop behind `hub batch status --follow` and `hub jobs run --wait`.
 * A scripted status source and clock; no server, no real waiting.
 */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.js';
import { abortableSleep, followStatus, type FollowedStatus } from '../../cli/follow-status.js';
import type { ProgressFactory } from '../../cli/progress.js';

interface Toy {
  state: 'busy' | 'done';
  n: number;
}

function followed(statuses: Toy[], reads: AbortSignal[] = []): FollowedStatus<Toy> {
  let i = 0;
  return {
    read: async (signal) => (signal && reads.push(signal), statuses[Math.min(i++, statuses.length - 1)]!),
    isFinished: (s) => s.state === 'done',
    view: { render: (_state, { status }) => `${status.state} ${status.n}` },
    value: (s) => s.n,
    defaultStallMs: 3 * 60_000,
    stalled: (s, minutes) => `stalled ${minutes} min at ${s.state}`,
  };
}

function recording(): { progress: ProgressFactory; values: number[]; stopped: () => boolean } {
  const values: number[] = [];
  let stopped = false;
  const progress: ProgressFactory = () => ({ update: (v) => void values.push(v), setTotal() {}, note() {}, stop: () => void (stopped = true) });
  return { progress, values, stopped: () => stopped };
}

describe('followStatus', () => {
  it('reads until finished, showing each value, waiting pollMs between reads; the last status; the line is stopped', async () => {
    const { progress, values, stopped } = recording();
    const waits: number[] = [];
    const last = await followStatus(
      followed([
        { state: 'busy', n: 0 },
        { state: 'busy', n: 4 },
        { state: 'done', n: 9 },
      ]),
      { progress, pollMs: 7, sleep: async (ms) => void waits.push(ms) },
    );
    expect(last).toEqual({ state: 'done', n: 9 });
    expect(values).toEqual([4, 9]);
    expect(waits).toEqual([7, 7]);
    expect(stopped()).toBe(true);
  });

  it("gives up with the follower's words after its default stall time without change (rounded to minutes); the line is stopped", async () => {
    const { progress, stopped } = recording();
    let clock = 0;
    const e = await followStatus(followed([{ state: 'busy', n: 1 }]), { progress, now: () => (clock += 30_000), sleep: async () => undefined }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).message).toBe('stalled 3 min at busy');
    expect(stopped()).toBe(true);
  });

  it('a changing status is not a stall; stallMs overrides the default', async () => {
    let clock = 0;
    const statuses = Array.from({ length: 20 }, (_, n) => ({ state: 'busy' as const, n }));
    const last = await followStatus(followed([...statuses, { state: 'done', n: 99 }]), {
      progress: recording().progress,
      stallMs: 25_000,
      now: () => (clock += 10_000),
      sleep: async () => undefined,
    });
    expect(last.n).toBe(99);
  });

  it('passes the signal to each read; an abort ends the wait with its reason', async () => {
    const controller = new AbortController();
    const reads: AbortSignal[] = [];
    const pending = followStatus(followed([{ state: 'busy', n: 1 }], reads), { progress: recording().progress, pollMs: 60_000, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('stopped by the user'));
    await expect(pending).rejects.toThrow('stopped by the user');
    expect(reads).toEqual([controller.signal]);
    await expect(abortableSleep(60_000, controller.signal)).rejects.toThrow('stopped by the user');
  });
});
