/**
 * The `publish` job (API.md "Jobs"): brings the whole public site up to date as of the run's `asOf`, for any number of
 * records in bounded memory, and catches what the change stream cannot see — a period that began or ended by the date
 * alone, a page lost or changed by hand, a renderer that changed (every page is compared by hash).
 *
 * Phases, each saved in the run's checkpoint page by page (publish-run-model.ts):
 * 1. records: the heads, page by page (a Scan): each published record's entries are written (tagged with the run id)
 *    and its page rendered and written where it changed; a head an older hub stored without the review queue's
 *    index attributes gets them (indexForReview: the one write to the records table);
 * 2. partitions: a Scan of the site index; each list, subject and search partition is read once, its members not
 *    written by this run (records no longer published) removed, its page rendered from the rest (or left to the sweep
 *    when none are left), and its month noted (a search shard: its pieces and its list of pieces, the pieces' keys
 *    written to its piece group); group members (days, months, pieces) not written by this run are removed;
 * 3. groups: the months noted, the sections and the index rendered again, their members written (tagged);
 *    the fixed pages (stylesheet, script, search and not-found pages);
 * 4. sweep: a Scan of the page hashes; a page this run did not render is deleted from the bucket and the index.
 *
 * The run holds the site's lease (LOCK#publish: stream-publisher.ts takes it too), renewed after every page, so no
 * change is applied while it works; a run whose invocation stopped (out of time: it continues itself; crashed: Lambda
 * tries the event again, and the next run of the job resumes it first) goes on from its checkpoint, and redoing a page
 * is harmless (every write states the end result).
 *
 * Logs counts and ids only.
 */
import type { StoredHead } from '../domain/record-model.js';
import { missingQueueOf } from '../publication/decisions.js';
import type { JobLeases } from '../jobs/job-lease.js';
import { describeError } from '../sync/run-sync.js';
import type { HeadsScan } from './heads-scan.js';
import { refreshPartitions, type PublishDeps } from './incremental.js';
import { writePages, type RenderedPage, type WriteCounts } from './page-writer.js';
import { PUBLISH_JOB, type PublishCheckpoint, type PublishCounts, type PublishRun, type PublishRuns } from './publish-run-model.js';
import type { MemberWrite, ScannedItem } from './site-index-store.js';
import { SITE_LEASE_JOB, STREAM_HOLDER } from './stream-publisher.js';

export interface PublishRunLimits {
  /** The run's lease lasts this long unrenewed (it is renewed after every page). */
  leaseMs: number;
  /** Heads read per page of the records table's scan. */
  pageSize: number;
  /** Items read per page of the site index's scans (small items: a page of them renders many partitions). */
  indexPageSize: number;
  /** Less than this left in the invocation: the run continues in a new one. */
  reserveMs: number;
  /** Invocations (besides its own continuations) that may take a run before it is given up. */
  maxAttempts: number;
  /** A stream invocation holding the lease is waited for this long (it applies one batch) before the run fails. */
  waitForStreamMs: number;
}

export const publishRunLimits: PublishRunLimits = { leaseMs: 120_000, pageSize: 200, indexPageSize: 1000, reserveMs: 60_000, maxAttempts: 5, waitForStreamMs: 90_000 };

export interface PublishRunDeps extends PublishDeps {
  runs: PublishRuns;
  leases: JobLeases;
  heads: HeadsScan;
  /** Invokes the publisher again, asynchronously, with the run. */
  continueLater: (event: { runId: string; continued: true }) => Promise<void>;
  limits: PublishRunLimits;
  now: () => Date;
  remainingMs: () => number;
  sleep: (ms: number) => Promise<void>;
  newToken: () => string;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export type PublishOutcome = 'completed' | 'failed' | 'continued' | 'finished' | 'unknown' | 'lease-lost';

class LeaseLost extends Error {
  override name = 'LeaseLostError';
}

const finished = (run: PublishRun) => run.status === 'completed' || run.status === 'failed';
const isLeaf = (pk: string) => pk.startsWith('LIST#') || pk.startsWith('SUBJECT#') || pk.startsWith('SEARCH#');
const isPage = (pk: string) => pk.startsWith('PAGE#');

/** Runs (or goes on with) a publish run as far as this invocation goes. */
export async function runPublish(event: { runId: string; continued?: boolean }, deps: PublishRunDeps): Promise<PublishOutcome> {
  let run = await deps.runs.get(event.runId);
  if (!run) return 'unknown';
  if (finished(run)) return 'finished';
  const token = deps.newToken();
  const waitUntil = deps.now().getTime() + deps.limits.waitForStreamMs;
  for (;;) {
    const nowMs = deps.now().getTime();
    const take = await deps.leases.take(SITE_LEASE_JOB, run.runId, token, nowMs + deps.limits.leaseMs, nowMs);
    if (take.taken) {
      const previous = take.previous?.holder;
      if (previous && previous !== run.runId && previous !== STREAM_HOLDER) {
        // A run whose invocation died: it goes first (it was asked for earlier).
        const stalled = await deps.runs.get(previous);
        if (stalled && !finished(stalled)) {
          if ((await deps.leases.hold(SITE_LEASE_JOB, previous, token, deps.now().getTime() + deps.limits.leaseMs)) === 'lost') return 'lease-lost';
          deps.log?.('publish: resuming a run whose invocation stopped', { runId: previous, before: run.runId });
          const first = await work(stalled, false, token, deps);
          if (first !== 'completed' && first !== 'failed' && first !== 'finished') {
            // Not done in this invocation: this run waits for the next one (it was counted as asked, not begun).
            return first;
          }
          if ((await deps.leases.hold(SITE_LEASE_JOB, run.runId, token, deps.now().getTime() + deps.limits.leaseMs)) === 'lost') return 'lease-lost';
          run = (await deps.runs.get(run.runId)) ?? run;
        }
      }
      break;
    }
    const holder = take.current?.holder;
    // A stream invocation applies one batch and lets go: wait for it. Another run: this one is refused.
    if (holder === STREAM_HOLDER && deps.now().getTime() < waitUntil) {
      await deps.sleep(1_000);
      continue;
    }
    if (run.status === 'waiting') {
      const reason = holder === STREAM_HOLDER ? 'the site stayed busy with changes: ask again' : `another run of ${PUBLISH_JOB} is in progress (${holder ?? 'unknown'})`;
      return (await deps.runs.fail(run.runId, reason, deps.now().toISOString(), ['waiting'])) === 'ok' ? 'failed' : 'finished';
    }
    return 'finished';
  }
  return work(run, event.continued === true, token, deps);
}

/** One run, its lease held by `token`: as far as this invocation goes; the lease is let go at the end. */
async function work(run: PublishRun, continued: boolean, token: string, deps: PublishRunDeps): Promise<PublishOutcome> {
  try {
    const outcome = await processRun(run, continued, token, deps);
    if (outcome !== 'lease-lost') await deps.leases.release(SITE_LEASE_JOB, token);
    // Let go first: the continuation takes the lease as soon as it starts.
    if (outcome === 'continued') await deps.continueLater({ runId: run.runId, continued: true });
    return outcome;
  } catch (e) {
    if (e instanceof LeaseLost) return 'lease-lost';
    await deps.runs.noteError(run.runId, describeError(e)).catch(() => undefined);
    // Let go at once: Lambda tries the event again, and that try goes on from the checkpoint.
    await deps.leases.release(SITE_LEASE_JOB, token).catch(() => undefined);
    throw e;
  }
}

async function processRun(stored: PublishRun, continued: boolean, token: string, deps: PublishRunDeps): Promise<PublishOutcome> {
  const at = () => deps.now().toISOString();
  const runId = stored.runId;
  const lost = () => new LeaseLost(`run ${runId}: its checkpoint moved (another invocation has it)`);
  if (!continued) {
    const attempts = await deps.runs.countAttempt(runId);
    if (attempts === undefined) return 'finished';
    if (attempts > deps.limits.maxAttempts) {
      await deps.runs.fail(runId, `gave up after ${deps.limits.maxAttempts} attempts${stored.lastError ? ` (last error: ${stored.lastError})` : ''}`, at(), ['waiting', 'running']);
      return 'failed';
    }
  }
  let checkpoint: PublishCheckpoint;
  if (stored.status === 'waiting') {
    checkpoint = { phase: 'records', step: 0 };
    if ((await deps.runs.begin(runId, stored.asOf, at(), checkpoint)) === 'lost') throw lost();
    deps.log?.('publish: run started', { runId, asOf: stored.asOf });
  } else checkpoint = stored.checkpoint ?? { phase: 'records', step: 0 };
  let counts: PublishCounts = { ...stored.counts };
  const asOf = stored.asOf;

  const save = async (next: Omit<PublishCheckpoint, 'step'>, written: WriteCounts, extra: Partial<PublishCounts> = {}) => {
    const saved: PublishCheckpoint = { ...next, step: checkpoint.step + 1 };
    const nextCounts: PublishCounts = {
      records: counts.records + (extra.records ?? 0),
      published: counts.published + (extra.published ?? 0),
      pagesWritten: counts.pagesWritten + written.written,
      pagesUnchanged: counts.pagesUnchanged + written.unchanged,
      pagesDeleted: counts.pagesDeleted + written.deleted,
    };
    if ((await deps.runs.save(runId, checkpoint.step, saved, nextCounts)) === 'lost') throw lost();
    checkpoint = saved;
    counts = nextCounts;
    if ((await deps.leases.renew(SITE_LEASE_JOB, token, deps.now().getTime() + deps.limits.leaseMs)) === 'lost') throw new LeaseLost(`lease of ${PUBLISH_JOB} lost`);
  };
  const timeLeft = () => deps.remainingMs() > deps.limits.reserveMs;

  // 1. The records.
  while (checkpoint.phase === 'records') {
    if (!timeLeft()) return 'continued';
    const page = await deps.heads.scan(checkpoint.cursor, deps.limits.pageSize);
    const { written, published } = await publishHeads(page.heads, asOf, runId, deps);
    await save(page.next ? { phase: 'records', cursor: page.next } : { phase: 'partitions' }, written, { records: page.heads.length, published });
  }

  // 2. The partitions.
  while (checkpoint.phase === 'partitions') {
    if (!timeLeft()) return 'continued';
    const page = await deps.index.scan(checkpoint.cursor, deps.limits.indexPageSize);
    const months = new Set(checkpoint.months ?? []);
    let lastPk = checkpoint.lastPk;
    const pages: RenderedPage[] = [];
    const staleMembers: { pk: string; sk: string }[] = [];
    const parentPuts = new Map<string, MemberWrite>();
    // The items of a partition come together in a scan: grouped, each partition is done once.
    const groups: { pk: string; items: ScannedItem[] }[] = [];
    for (const item of page.items) {
      if (isPage(item.pk)) continue;
      if (!isLeaf(item.pk)) {
        // A day, month or section listed by an earlier run or a change: listed again below if it still has records.
        if (item.run !== runId) staleMembers.push({ pk: item.pk, sk: item.sk });
        continue;
      }
      const group = groups.at(-1);
      if (group?.pk === item.pk) group.items.push(item);
      else groups.push({ pk: item.pk, items: [item] });
    }
    for (const [i, group] of groups.entries()) {
      // Begun on the previous page of the scan: done there, whole.
      if (group.pk === lastPk) continue;
      lastPk = group.pk;
      // The last partition of a page may go on in the next one: it is read whole.
      const members = i === groups.length - 1 && page.next ? await deps.index.members(group.pk) : group.items.map((m) => ({ sk: m.sk, data: m.data ?? {}, ...(m.run !== undefined ? { run: m.run } : {}) }));
      for (const m of members) if (m.run !== runId) staleMembers.push({ pk: group.pk, sk: m.sk });
      const fresh = members.filter((m) => m.run === runId);
      if (fresh.length === 0) continue; // its page is not rendered: the sweep deletes it
      if (deps.model.piecewise?.owns(group.pk)) {
        // A search shard: its pieces and its list of them; the pieces' keys are its group's members (tagged).
        const all = deps.model.piecewise.renderAll(group.pk, fresh);
        pages.push(...all.pages);
        for (const m of all.groupMembers) parentPuts.set(`${m.pk}\u0000${m.sk}`, { pk: m.pk, sk: m.sk, data: {}, run: runId });
        continue;
      }
      pages.push(deps.model.partitionPage(group.pk, fresh, asOf));
      for (const p of deps.model.parentsOf(group.pk)) {
        months.add(p.pk);
        parentPuts.set(`${p.pk}\u0000${p.sk}`, { pk: p.pk, sk: p.sk, data: {}, run: runId });
      }
    }
    // Group members written on this page are not stale, even when the scan read them before (untagged).
    const stale = staleMembers.filter((m) => !parentPuts.has(`${m.pk}\u0000${m.sk}`));
    if (stale.length > 0) await deps.index.deleteMembers(stale);
    if (parentPuts.size > 0) await deps.index.putMembers([...parentPuts.values()]);
    const written = await writePages(pages, [], deps, runId);
    const sorted = [...months].sort();
    await save(page.next ? { phase: 'partitions', cursor: page.next, ...(lastPk ? { lastPk } : {}), months: sorted } : { phase: 'groups', months: sorted }, written);
  }

  // 3. Months, sections, the index; the fixed pages.
  if (checkpoint.phase === 'groups') {
    if (!timeLeft()) return 'continued';
    const { pages, deletions } = await refreshPartitions(new Set([...(checkpoint.months ?? []), ...deps.model.permanent]), asOf, deps, runId);
    const written = await writePages([...pages, ...deps.model.fixedPages()], deletions, deps, runId);
    await save({ phase: 'sweep' }, written);
  }

  // 4. The sweep.
  while (checkpoint.phase === 'sweep') {
    if (!timeLeft()) return 'continued';
    const page = await deps.index.scan(checkpoint.cursor, deps.limits.indexPageSize);
    const gone = page.items.filter((item) => isPage(item.pk) && item.run !== runId).map((item) => item.pk.slice('PAGE#'.length));
    const written = await writePages([], gone, deps);
    if (!page.next) {
      const final: PublishCounts = { ...counts, pagesDeleted: counts.pagesDeleted + written.deleted };
      if ((await deps.runs.complete(runId, checkpoint.step, final, at())) === 'lost') throw lost();
      deps.log?.('publish: run completed', { runId, ...final });
      return 'completed';
    }
    await save({ phase: 'sweep', cursor: page.next }, written);
  }
  return 'finished';
}

/** Heads given their place in the review queue at once (conditional updates of one item each). */
const QUEUE_UPDATES_IN_FLIGHT = 8;

/**
 * Heads an older hub wrote without the review queue's index attributes (no `publicationQueue`): those that belong in
 * it (waiting for review; approved with an end, for the expire job) get them, by a conditional update that changes
 * nothing else and makes no new version. Without it such a record would never be listed by GET /v1/reviews, nor
 * ended by the expire job. A head that has them is not written: a second run writes nothing.
 */
async function indexForReview(heads: readonly StoredHead[], deps: PublishRunDeps): Promise<number> {
  const missing = heads.flatMap((head) => {
    const queue = missingQueueOf(head);
    return queue ? [{ head, queue }] : [];
  });
  let set = 0;
  for (let i = 0; i < missing.length; i += QUEUE_UPDATES_IN_FLIGHT) {
    const done = await Promise.all(missing.slice(i, i + QUEUE_UPDATES_IN_FLIGHT).map(({ head, queue }) => deps.heads.setQueue(head.id, head.version, queue)));
    set += done.filter(Boolean).length;
  }
  return set;
}

/** One page of heads: the entries of those published on asOf (tagged with the run), their pages written where changed. */
async function publishHeads(heads: readonly StoredHead[], asOf: string, runId: string, deps: PublishRunDeps): Promise<{ written: WriteCounts; published: number }> {
  const indexed = await indexForReview(heads, deps);
  if (indexed > 0) deps.log?.('publish: heads an older hub stored put in the review queue index', { runId, heads: indexed });
  const members: MemberWrite[] = [];
  const pages: RenderedPage[] = [];
  for (const head of heads) {
    const record = deps.model.publicRecord(head, asOf);
    if (record === undefined) continue;
    const id = deps.model.recordId(record);
    for (const place of deps.model.placements(record)) members.push({ pk: place.pk, sk: place.sk ?? id, data: place.data, run: runId });
    pages.push(deps.model.recordPage(record, asOf));
  }
  if (members.length > 0) await deps.index.putMembers(members);
  return { written: await writePages(pages, [], deps, runId), published: pages.length };
}
