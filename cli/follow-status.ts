/**
 * Following a status on the hub until it ends (a batch, a job run): reads it every `pollMs`, shows it
 * on a progress line, and gives up when neither the status nor its counts have changed for `stallMs`.
 */
import { CliError } from './errors.js';
import type { ProgressFactory, ProgressView } from './progress.js';

export interface FollowOptions {
  progress: ProgressFactory;
  /** Between two status reads. */
  pollMs?: number;
  /** Gives up when neither the status nor the counts have changed for this long. */
  stallMs?: number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** What is followed: how to read it, when it has ended, and how it is shown. */
export interface FollowedStatus<S> {
  read: (signal?: AbortSignal) => Promise<S>;
  isFinished: (status: S) => boolean;
  view: ProgressView<{ status: S; elapsedMs: number }>;
  /** The progress line's value. */
  value: (status: S) => number;
  /** `stallMs` unless the caller gives one. */
  defaultStallMs: number;
  /** The error's text when it has stalled for `minutes`. */
  stalled: (status: S, minutes: number) => string;
}

/** Waits `ms`; rejects with the signal's reason once it aborts. */
export const abortableSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Reads the status until it is finished; the last status read. */
export async function followStatus<S>(followed: FollowedStatus<S>, options: FollowOptions): Promise<S> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const pollMs = options.pollMs ?? 2000;
  const stallMs = options.stallMs ?? followed.defaultStallMs;
  const started = now();
  let status = await followed.read(options.signal);
  const progress = options.progress(followed.view, 0, { status, elapsedMs: 0 });
  let seen = JSON.stringify(status);
  let changedAt = now();
  try {
    while (!followed.isFinished(status)) {
      if (now() - changedAt > stallMs) throw new CliError(followed.stalled(status, Math.round(stallMs / 60_000)));
      await sleep(pollMs, options.signal);
      status = await followed.read(options.signal);
      const text = JSON.stringify(status);
      if (text !== seen) (seen = text), (changedAt = now());
      progress.update(followed.value(status), { status, elapsedMs: now() - started });
    }
  } finally {
    progress.stop();
  }
  return status;
}
