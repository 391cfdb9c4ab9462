/**
 * POST /v1/dlq/{platform}/redrive: send again what a platform refused or never took.
 *
 * 1. Every delivery of the platform that failed before the redrive began is made pending again (failed → pending:
 *    owed, counted as queued now, off the `failed` index), page by page through the `failed` index. One that
 *    fails again while the redrive runs is left for the next redrive (it failed after it began).
 * 2. The dead-letter queue's messages go back to the platform's queue, where the connector sends them again:
 *    - `move-task` (AWS): SQS's own StartMessageMoveTask; the answer carries its handle;
 *    - `resend` (HUB_DLQ_REDRIVE=resend: the local emulator has no move task): received in batches, each body
 *      sent to the platform's queue, then deleted — at most as many as the queue held when the move began, and
 *      never one body twice in one redrive (a message refused again at once is back in the dead-letter queue,
 *      and stays there for the next redrive).
 *    A delivery made pending whose message is gone (lost, or never dead-lettered) is queued again by the
 *    delivery sweep once it has waited `exchange.requeueAfterSeconds`.
 *
 * Bounded by the invocation's time: what is left when it runs short is reported (`more: true`), and the same
 * request again goes on (both steps are safe to repeat).
 */
import type { RedriveResponse } from '../../contracts/upward.js';
import type { PlatformName } from './package-model.js';
import type { IndexKey, PackagesStore } from './packages-store.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';

/** The environment variable that selects how messages are moved: `resend` where StartMessageMoveTask is missing. */
export const REDRIVE_MODE_ENV = 'HUB_DLQ_REDRIVE';
export type RedriveMode = 'move-task' | 'resend';

export function redriveMode(env: Readonly<Record<string, string | undefined>> = process.env): RedriveMode {
  const value = env[REDRIVE_MODE_ENV]?.trim();
  if (!value || value === 'move-task') return 'move-task';
  if (value === 'resend') return 'resend';
  throw new Error(`environment variable ${REDRIVE_MODE_ENV} is ${JSON.stringify(value)}, not move-task or resend`);
}

export interface RedriveDeps {
  store: Pick<PackagesStore, 'listFailed' | 'resetToPending'>;
  queue: DeadLetterQueue;
  mode: RedriveMode;
  now: () => Date;
  /** Time left in the invocation. */
  remainingMs: () => number;
  /** Failed deliveries read (and made pending) per page. */
  pageSize?: number;
}

/** Time kept back for the page or the batch in hand, and the answer. */
export const REDRIVE_MARGIN_MS = 5_000;
const DEFAULT_PAGE_SIZE = 25;
/** SQS's most messages per receive. */
const RECEIVE_MAX = 10;

const hasTime = (deps: RedriveDeps) => deps.remainingMs() > REDRIVE_MARGIN_MS;

/** Step 1: failed → pending; how many, and whether every one was reached. */
async function resetFailed(platform: PlatformName, began: string, deps: RedriveDeps): Promise<{ redriven: number; complete: boolean }> {
  let redriven = 0;
  let startKey: IndexKey | undefined;
  do {
    if (!hasTime(deps)) return { redriven, complete: false };
    const page = await deps.store.listFailed(platform, { limit: deps.pageSize ?? DEFAULT_PAGE_SIZE, before: began, ...(startKey ? { startKey } : {}) });
    const outcomes = await Promise.all(page.items.map((d) => deps.store.resetToPending(d, began)));
    // `lost`: no longer failed (delivered meanwhile by a message already on its way, or listed late by the index).
    redriven += outcomes.filter((o) => o === 'updated').length;
    startKey = page.lastKey;
  } while (startKey);
  return { redriven, complete: true };
}

/** Step 2 where the hub moves the messages itself; how many, and whether it got through them. */
async function resendMessages(deps: RedriveDeps): Promise<{ moved: number; complete: boolean }> {
  const held = await deps.queue.depth();
  const sent = new Set<string>();
  let moved = 0;
  while (moved < held) {
    if (!hasTime(deps)) return { moved, complete: false };
    const batch = await deps.queue.receive(Math.min(RECEIVE_MAX, held - moved));
    if (batch.length === 0) break;
    // A body already moved in this redrive is a message refused again at once: it stays (hidden for now) for the next redrive.
    const fresh = batch.filter((m) => !sent.has(m.body));
    if (fresh.length === 0) continue;
    for (const m of fresh) sent.add(m.body);
    await Promise.all(
      fresh.map(async (m) => {
        await deps.queue.sendBack(m.body);
        await deps.queue.delete(m.receiptHandle);
      }),
    );
    moved += fresh.length;
  }
  return { moved, complete: true };
}

export async function redriveDeadLetters(platform: PlatformName, deps: RedriveDeps): Promise<RedriveResponse> {
  const began = deps.now().toISOString();
  const reset = await resetFailed(platform, began, deps);
  if (!reset.complete) return { platform, redriven: reset.redriven, moved: 0, more: true };
  if (deps.mode === 'move-task') {
    if ((await deps.queue.depth()) === 0) return { platform, redriven: reset.redriven, moved: 0 };
    return { platform, redriven: reset.redriven, task: await deps.queue.startMoveTask() };
  }
  const resent = await resendMessages(deps);
  return { platform, redriven: reset.redriven, moved: resent.moved, ...(resent.complete ? {} : { more: true }) };
}
