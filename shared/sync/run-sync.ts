/**
 * A nightly sync run, from its run item to the end (API.md "Jobs"; sync-model.ts describes the package):
 *
 * 1. The job's lease (shared/jobs/job-lease.ts): two runs of a job never overlap. Held by another live invocation:
 *    a run still waiting fails at once with the reason "another run of <job> is in progress (<run id>)" (ask again
 *    later: nothing waits in a queue); a run already started is left alone (whoever holds the lease, or the next
 *    invocation once it lapses, goes on with it). Taken from a run whose invocation died (its lease lapsed with the
 *    run unfinished): that run is resumed first, then this one.
 * 2. Started: the window is (watermark, to] — the watermark read now (for a platform's first run, a lookback:
 *    sync-window.ts), `to` fixed when the run was asked for — kept in the run item with the checkpoint.
 * 3. building: the body is written to S3 segment by segment (build-package.ts): the package deliveries of the
 *    window, then those owed from before it, expanded to their record versions; the checkpoint saved after each.
 * 4. uploaded: the header (record count, SHA-256 of the body) is sealed into the checkpoint, and the package is
 *    POSTed (send-package.ts) — the same bytes and Idempotency-Key (the run id) on every attempt and resume.
 *    Refused (4xx) or unavailable after its attempts: the run fails with the reason; the watermark does not move
 *    (the next run sends the same changes again, and more).
 * 5. sent (2xx): every pending delivery the package carried whole is marked delivered (the platform acknowledged
 *    it; conditional: one delivered, split or refused meanwhile stays so), segment by segment, from each segment's
 *    list in S3; the watermark moves from the value the run started from to `to`; the run is completed with its
 *    counts.
 *
 * Every step is saved before the next begins, and repeating one is harmless: a run stopped anywhere (out of time:
 * it continues itself asynchronously; crashed: the next invocation after its lease lapses) goes on from its
 * checkpoint. Invocations that take a run (its own continuations aside) are counted: past maxAttempts, it fails.
 *
 * Taking a run over: an invocation that takes a running run first saves its checkpoint one step on (every save is
 * conditional on the step it read, so no save of an earlier holder still working goes through after it) and, while
 * building, names itself the writer of the segments from the next one on (sync-model.ts "Writers": its segments
 * under keys of its own, which an earlier holder never writes). Its own continuation is handed the run at the step
 * it stopped at (RunEvent.step) and stays the same writer — unless that step has moved meanwhile (a duplicate or
 * late event): then it takes the run over as any other invocation would, and is counted.
 *
 * Logs counts and ids only: never a record.
 */
import { createInterface } from 'node:readline';
import { redactIdentityNumbers } from '../domain/identity-number-text.js';
import type { JobLeases } from '../jobs/job-lease.js';
import type { JobRun } from '../jobs/run-model.js';
import type { RunsStore } from '../jobs/runs-store.js';
import type { Watermarks } from '../jobs/watermark-store.js';
import type { PlatformName } from '../upward/package-model.js';
import type { PackagesStore } from '../upward/packages-store.js';
import type { Decrypter } from '../upward/record-fields.js';
import type { RecordVersions } from '../upward/record-versions.js';
import { initialCursor, writeNextSegment } from './build-package.js';
import type { DeliveryPages } from './delivery-pages.js';
import { bodyDigest } from './package-body.js';
import { parseCarriedLine } from './package-lines.js';
import type { PackageSegments } from './package-segments.js';
import { sendPackage } from './send-package.js';
import type { SyncLimits } from './sync-limits.js';
import { bodySegmentKey, carriedKey, newBody, segmentKeys, withWriter, ZERO_COUNTS, type SyncCheckpoint, type SyncCounts } from './sync-model.js';
import type { SyncPost } from './sync-post.js';
import { windowStart } from './sync-window.js';

/** What the sync runner is invoked with to run (or go on with) a run; `after`: runs to go on with once it is done. */
export interface RunEvent {
  runId: string;
  after?: string[];
  /** Set on a run's own continuation (not counted as an attempt, the same segment writer)… */
  continued?: boolean;
  /** …handed the run at this step of its checkpoint (the last its previous invocation saved). */
  step?: number;
}

export interface SyncDeps {
  runs: RunsStore;
  leases: JobLeases;
  watermarks: Watermarks;
  pages: DeliveryPages;
  /** The packages' bodies (their record versions), and the deliveries marked delivered once acknowledged. */
  packages: Pick<PackagesStore, 'getBody' | 'markDelivered'>;
  versions: RecordVersions;
  cipher: () => Promise<Decrypter>;
  segments: PackageSegments;
  post: SyncPost;
  /** Invokes the runner again, asynchronously, with `event`. */
  continueLater: (event: RunEvent) => Promise<void>;
  baseUrl: (platform: PlatformName) => string;
  /** The sender's USCC (shared/upward/sender.ts). */
  sender: () => string;
  limits: SyncLimits;
  now: () => Date;
  remainingMs: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** A random token naming this invocation in the lease. */
  newToken: () => string;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * completed / failed: the run ended so now; continued: it goes on in a new invocation; elsewhere: another live
 * invocation holds its job's lease (the run goes on there, or later); finished: it had ended before; unknown: no
 * such run; lease-lost: this invocation lost the lease while working (another took over).
 */
export type RunOutcome = 'completed' | 'failed' | 'continued' | 'elsewhere' | 'finished' | 'unknown' | 'lease-lost';

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

const finished = (run: JobRun) => run.status === 'completed' || run.status === 'failed';

/** An error as kept on the run: its kind and message, identity numbers redacted, shortened. */
export function describeError(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return redactIdentityNumbers(text).slice(0, 300);
}

/** Runs `event.runId` (and then `event.after`) as far as this invocation goes; the outcome of each run touched. */
export async function runSync(event: RunEvent, deps: SyncDeps): Promise<Record<string, RunOutcome>> {
  const token = deps.newToken();
  const outcomes: Record<string, RunOutcome> = {};
  const queue = [event.runId, ...(event.after ?? [])];
  // The step the run was handed over at, if this is its own continuation.
  let handover = event.continued === true ? event.step : undefined;
  let held: string | undefined; // the job whose lease this invocation holds
  try {
    while (queue.length > 0) {
      const runId = queue[0]!;
      const run = await deps.runs.get(runId);
      if (!run || finished(run)) {
        outcomes[runId] = run ? 'finished' : 'unknown';
        queue.shift();
        handover = undefined;
        continue;
      }
      const nowMs = deps.now().getTime();
      const take = await deps.leases.take(run.job, runId, token, nowMs + deps.limits.leaseMs, nowMs);
      if (!take.taken) {
        const holder = take.current?.holder;
        if (run.status === 'waiting' && holder !== runId) {
          const reason = `another run of ${run.job} is in progress (${holder ?? 'unknown'})`;
          outcomes[runId] = (await deps.runs.fail(runId, reason, deps.now().toISOString(), ['waiting'])) === 'ok' ? 'failed' : 'elsewhere';
        } else outcomes[runId] = 'elsewhere';
        queue.shift();
        handover = undefined;
        continue;
      }
      held = run.job;
      // A run whose invocation died holds the job still: it goes first (its window comes before this one's).
      const previous = take.previous?.holder;
      if (previous !== undefined && previous !== runId && !queue.includes(previous)) {
        const stalled = await deps.runs.get(previous);
        if (stalled && !finished(stalled) && stalled.job === run.job) {
          queue.unshift(previous);
          handover = undefined;
          if ((await deps.leases.hold(run.job, previous, token, deps.now().getTime() + deps.limits.leaseMs)) === 'lost') throw new LeaseLostError(`lease of ${run.job} lost`);
          deps.log?.('sync: resuming a run whose invocation stopped', { runId: previous, before: runId });
          continue;
        }
      }
      const progress: Progress = {};
      const outcome = await withHeartbeat(run.job, token, deps, (signal) => processRun(run, handover, token, progress, deps, signal));
      outcomes[runId] = outcome;
      if (outcome === 'continued') {
        const step = progress.step;
        await deps.continueLater({ runId, ...(queue.length > 1 ? { after: queue.slice(1) } : {}), continued: true, ...(step !== undefined ? { step } : {}) });
        break;
      }
      if (outcome === 'lease-lost') {
        held = undefined;
        break;
      }
      queue.shift();
      handover = undefined;
    }
  } catch (e) {
    if (e instanceof LeaseLostError) {
      outcomes[queue[0] ?? event.runId] = 'lease-lost';
      return outcomes;
    }
    if (queue[0]) await deps.runs.noteError(queue[0], describeError(e)).catch(() => undefined);
    // Let go at once: Lambda tries the event again (an asynchronous invocation), and that try takes over.
    if (held) await deps.leases.release(held, token).catch(() => undefined);
    throw e;
  }
  if (held) await deps.leases.release(held, token);
  return outcomes;
}

/** Renews the lease every heartbeatMs while `work` runs; a lease lost aborts the work's signal. */
async function withHeartbeat<T>(job: string, token: string, deps: SyncDeps, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  if (deps.limits.heartbeatMs > 0) {
    timer = setInterval(() => {
      deps.leases.renew(job, token, deps.now().getTime() + deps.limits.leaseMs).then(
        (r) => r === 'lost' && controller.abort(new LeaseLostError(`lease of ${job} lost`)),
        () => undefined, // a renewal that failed is tried again at the next beat; the lease outlasts several
      );
    }, deps.limits.heartbeatMs);
    timer.unref();
  }
  try {
    return await work(controller.signal);
  } catch (e) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw e;
  } finally {
    clearInterval(timer);
  }
}

/** Where an invocation left a run: the step of the checkpoint it last saved (what its continuation is handed). */
interface Progress {
  step?: number;
}

/** Saves of a checkpoint tried to take a run over, when a holder still working saves meanwhile. */
const TAKE_OVER_TRIES = 3;

/**
 * One run, held by this invocation (`writer`: its lease token, the id of the segments it writes), as far as this
 * invocation goes; `handover`: the step its own previous invocation handed it over at.
 */
async function processRun(stored: JobRun, handover: number | undefined, writer: string, progress: Progress, deps: SyncDeps, signal: AbortSignal): Promise<RunOutcome> {
  let run = stored;
  const at = () => deps.now().toISOString();
  const lost = () => new LeaseLostError(`run ${run.runId}: its checkpoint moved (another invocation has it)`);
  // The run's own continuation, the run still at the step it was handed over at: not counted, the same writer.
  const handedOver = () => handover !== undefined && run.status === 'running' && run.checkpoint?.step === handover;
  let counted = false;
  /** Counts this invocation as an attempt at the run: the outcome if it is not to go on. */
  const count = async (): Promise<RunOutcome | undefined> => {
    counted = true;
    const attempts = await deps.runs.countAttempt(run.runId);
    if (attempts === undefined) return 'finished';
    if (attempts > deps.limits.maxAttempts) {
      const reason = `gave up after ${deps.limits.maxAttempts} attempts${run.lastError ? ` (last error: ${run.lastError})` : ''}`;
      await deps.runs.fail(run.runId, reason, at(), ['waiting', 'running']);
      deps.log?.('sync: run given up', { runId: run.runId, job: run.job });
      return 'failed';
    }
    return undefined;
  };
  if (!handedOver()) {
    const stop = await count();
    if (stop) return stop;
  }
  if (run.status === 'waiting') {
    const watermark = (await deps.watermarks.get(run.platform))?.at;
    const from = windowStart(watermark, run.to);
    const checkpoint: SyncCheckpoint = { phase: 'building', step: 0, cursor: initialCursor(from, run.to), body: newBody(writer) };
    const begun = await deps.runs.begin(run.runId, { from, ...(watermark !== undefined ? { watermark } : {}), startedAt: at(), checkpoint });
    if (begun === 'lost') throw lost();
    run = { ...run, status: 'running', from, ...(watermark !== undefined ? { watermark } : {}), startedAt: at(), checkpoint };
    deps.log?.('sync: run started', { runId: run.runId, job: run.job, from, to: run.to });
  } else {
    // Taken over (or handed over): the checkpoint one step on, so that no save of an earlier holder still working
    // goes through; while building, this invocation writes the next segments, under its own keys.
    for (let tries = 1; ; tries++) {
      const current = run.checkpoint!;
      const next: SyncCheckpoint = { ...current, step: current.step + 1, ...(current.phase === 'building' && !handedOver() ? { body: withWriter(current.body, writer) } : {}) };
      if ((await deps.runs.save(run.runId, current.step, next, { ...ZERO_COUNTS, ...run.counts })) === 'ok') {
        run = { ...run, checkpoint: next };
        break;
      }
      // An earlier holder still working saved meanwhile (its next save fails), or another invocation took the run.
      if (tries >= TAKE_OVER_TRIES) throw lost();
      const again = await deps.runs.get(run.runId);
      if (!again || finished(again)) return 'finished';
      run = again;
      if (!counted && !handedOver()) {
        const stop = await count();
        if (stop) return stop;
      }
    }
  }
  const from = run.from!;
  let checkpoint = run.checkpoint!;
  let counts: SyncCounts = { ...run.counts };
  progress.step = checkpoint.step;
  const save = async (next: SyncCheckpoint, nextCounts: SyncCounts) => {
    const saved = { ...next, step: checkpoint.step + 1 };
    if ((await deps.runs.save(run.runId, checkpoint.step, saved, nextCounts)) === 'lost') throw lost();
    checkpoint = saved;
    counts = nextCounts;
    progress.step = saved.step;
  };
  const timeLeft = () => deps.remainingMs() > deps.limits.reserveMs;

  // 3. Building.
  while (checkpoint.phase === 'building') {
    signal.throwIfAborted();
    if (checkpoint.cursor.pass === 'done') {
      const digest = await bodyDigest(checkpoint.body, segmentKeys(run.platform, run.runId, checkpoint.body), deps.segments);
      const header = {
        packageId: run.runId,
        sender: deps.sender(),
        platform: run.platform,
        createdAt: at(),
        from,
        to: run.to,
        recordCount: digest.records,
        bodySha256: digest.sha256,
      };
      await save({ ...checkpoint, phase: 'uploaded', header }, counts);
      break;
    }
    if (!timeLeft()) return 'continued';
    const state = await writeNextSegment(
      { platform: run.platform, runId: run.runId, from, to: run.to },
      { cursor: checkpoint.cursor, body: checkpoint.body, counts },
      { ...deps.limits, pages: deps.pages, bodies: deps.packages, versions: deps.versions, cipher: deps.cipher, segments: deps.segments, timeLeft, signal },
    );
    await save({ ...checkpoint, cursor: state.cursor, body: state.body }, state.counts);
  }

  // 4. Sending.
  if (checkpoint.phase === 'uploaded') {
    const keys = segmentKeys(run.platform, run.runId, checkpoint.body);
    const sent = await sendPackage(deps.baseUrl(run.platform), checkpoint.header!, keys, checkpoint.sendAttempts ?? 0, {
      post: deps.post,
      segments: deps.segments,
      limits: deps.limits,
      remainingMs: deps.remainingMs,
      now: deps.now,
      sleep: deps.sleep,
      random: deps.random,
      signal,
      attempting: (attempt) => save({ ...checkpoint, sendAttempts: attempt }, counts),
    });
    switch (sent.kind) {
      case 'later':
        return 'continued';
      case 'refused':
      case 'unavailable':
        if ((await deps.runs.fail(run.runId, `${sent.kind === 'refused' ? 'the platform refused the package' : 'platform unavailable'}: ${sent.reason}`, at(), ['running'])) === 'lost') throw lost();
        deps.log?.('sync: run failed', { runId: run.runId, job: run.job, outcome: sent.kind, attempts: sent.attempts });
        return 'failed';
      case 'delivered':
        await save({ ...checkpoint, phase: 'sent', marked: 0 }, { ...counts, bytes: sent.bytes });
    }
  }

  // 5. Acknowledged: the deliveries it carried are delivered, the watermark moves, the run is completed.
  while ((checkpoint.marked ?? 0) < checkpoint.body.segments) {
    signal.throwIfAborted();
    if (!timeLeft()) return 'continued';
    const index = checkpoint.marked ?? 0;
    await markSegment(bodySegmentKey(run.platform, run.runId, checkpoint.body, index + 1), run.platform, deps);
    await save({ ...checkpoint, marked: index + 1 }, counts);
  }
  if (run.to > from) {
    const moved = await deps.watermarks.advance(run.platform, run.watermark, run.to, run.runId, at());
    if (moved === 'lost') {
      await deps.runs.fail(run.runId, 'the watermark was moved by another run meanwhile: nothing of this run is lost (its versions were acknowledged); the next run goes on from there', at(), ['running']);
      return 'failed';
    }
  }
  if ((await deps.runs.complete(run.runId, checkpoint.step, counts, at())) === 'lost') throw lost();
  deps.log?.('sync: run completed', { runId: run.runId, job: run.job, ...counts });
  return 'completed';
}

/**
 * Marks the deliveries one segment carried delivered (its list beside it in S3), a few at once; conditional: a
 * delivery no longer pending or failed (delivered in real time meanwhile, split) stays as it is, and marking one
 * again after a resume changes nothing.
 */
async function markSegment(key: string, platform: PlatformName, deps: SyncDeps): Promise<void> {
  const at = deps.now().toISOString();
  const lines = createInterface({ input: await deps.segments.open(carriedKey(key)), crlfDelay: Infinity });
  let batch: { key: string; path: string }[] = [];
  const flush = async () => {
    await Promise.all(batch.map((ref) => deps.packages.markDelivered({ key: ref.key, path: ref.path, platform }, at, 0)));
    batch = [];
  };
  for await (const line of lines) {
    if (line === '') continue;
    batch.push(parseCarriedLine(line));
    if (batch.length >= deps.limits.markConcurrency) await flush();
  }
  await flush();
}
