/**
 * Incremental publishing (shared/site-publishing/incremental.ts) and the full publish run (publish-run.ts) with the real
 * renderer and in-memory stand-ins of the site index and bucket. The oracle is shared/site/full-site.ts: after any
 * sequence of changes, the bucket holds exactly the pages a full render of the public records gives — written only
 * where they changed, deleted where they must go; a change applied again (a retry) writes nothing; a change that
 * crashed half way converges when retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { newRunId } from '../../shared/jobs/run-model.js';
import { renderFullSite } from '../../shared/site/full-site.js';
import { listKeysFor, listPagePath, recordPath, subjectPath } from '../../shared/site/paths.js';
import { toPublicRecord, type PublicRecord } from '../../shared/site/public-record.js';
import { staticAssets } from '../../shared/site/render.js';
import { publishChange, type PublishDeps } from '../../shared/site-publishing/incremental.js';
import { runPublish, type PublishRunDeps } from '../../shared/site-publishing/publish-run.js';
import { newPublishRun } from '../../shared/site-publishing/publish-run-model.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { addDays } from '../support/dates.js';
import { MemoryLeases, MemoryPublishRuns, MemorySiteBucket, MemorySiteIndex, pagesByPath } from '../support/memory-site.js';
import { seededRandom } from '../support/seeded-random.js';
import { approved, companyUscc, daysAgo, debtor, debtorRaw, governmentUscc, headFactory, licence, licenceRaw, penalty, penaltyRaw, type HeadFactory } from '../support/site-heads.js';

let factory: HeadFactory;
beforeAll(() => {
  factory = headFactory();
});
afterAll(() => factory.dispose());

const AS_OF = daysAgo(0);
const OTHER_USCC = companyUscc(seededRandom(77));
const FIXED = new Set(staticAssets().map((p) => p.path));

function emptySite() {
  const index = new MemorySiteIndex();
  const bucket = new MemorySiteBucket();
  const deps: PublishDeps = { index, bucket, model: siteModel };
  return { index, bucket, deps };
}

/** A site as deployed: a publish run over no records wrote the index, the (empty) section pages and the fixed pages. */
async function site() {
  const h = runHarness([]);
  expect(await runPublish({ runId: await startRun(h) }, h.deps)).toBe('completed');
  h.index.failWriteAt = 0;
  return { index: h.index, bucket: h.bucket, deps: h.deps as PublishDeps };
}

/** What a full render of these heads gives. */
function expected(heads: Iterable<StoredHead>, asOf = AS_OF): Record<string, string> {
  const records = [...heads].map((h) => toPublicRecord(h, asOf)).filter((r): r is PublicRecord => r !== undefined);
  return pagesByPath(renderFullSite(records));
}

const withheld = (head: StoredHead): StoredHead => ({ ...head, publication: { ...head.publication, state: 'withheld' } });

describe('publishing one change', () => {
  it('approval publishes the record: its page, subject page, day list, search shard, and the month, section and index above', async () => {
    const { bucket, deps } = await site();
    const pending = await penalty(factory.deps, penaltyRaw(1, daysAgo(10)));
    const report = await publishChange(pending, approved(pending), AS_OF, deps);
    expect(report).toMatchObject({ before: false, after: true, deleted: 0 });
    expect(bucket.contents()).toEqual(expected([approved(pending)]));
    const record = toPublicRecord(approved(pending), AS_OF)!;
    expect(Object.keys(bucket.contents())).toEqual(expect.arrayContaining([recordPath(record.id), subjectPath(record.subjectSlug), listPagePath(listKeysFor(record)[0]!), 'index.html']));
  });

  it('a record that is not on the site before or after (waiting for review, withheld) touches nothing', async () => {
    const { bucket, index, deps } = await site();
    const requests = bucket.requests();
    const items = index.items.size;
    const pending = await penalty(factory.deps, penaltyRaw(2, daysAgo(10)));
    const report = await publishChange(undefined, pending, AS_OF, deps);
    expect(report).toEqual({ before: false, after: false, written: 0, unchanged: 0, deleted: 0 });
    await publishChange(pending, withheld(pending), AS_OF, deps);
    expect(bucket.requests()).toEqual(requests);
    expect(index.items.size).toBe(items);
  });

  it('a second record on the same day writes at most 5 objects: month, section and index are unchanged and skipped', async () => {
    const { bucket, deps } = await site();
    const day = daysAgo(10);
    const first = approved(await penalty(factory.deps, penaltyRaw(3, day)));
    await publishChange(undefined, first, AS_OF, deps);
    const before = bucket.requests();
    const second = approved(await penalty(factory.deps, penaltyRaw(4, day, { CF_XDR_MC: '另一家公司', CF_XDR_SHXYM: OTHER_USCC })));
    const report = await publishChange(undefined, second, AS_OF, deps);
    // Its record page, its subject page, the day list, its search shard (the same shard as the first: a shared name prefix or not).
    expect(report.written).toBeLessThanOrEqual(5);
    expect(report.written).toBeGreaterThanOrEqual(4);
    expect(report.unchanged).toBeGreaterThanOrEqual(3); // month, section, index rendered the same
    expect(bucket.puts - before.puts).toBe(report.written);
    expect(bucket.contents()).toEqual(expected([first, second]));
  });

  it('the same change again (a retry) writes nothing and deletes nothing', async () => {
    const { bucket, deps } = await site();
    const head = await licence(factory.deps, licenceRaw(5, daysAgo(3)));
    await publishChange(head, approved(head), AS_OF, deps);
    const before = bucket.requests();
    const again = await publishChange(head, approved(head), AS_OF, deps);
    expect(again).toMatchObject({ written: 0, deleted: 0 });
    expect(again.unchanged).toBeGreaterThan(0);
    expect(bucket.requests()).toEqual(before);
  });

  it('withholding takes the record page down, and the pages left empty with it; the index and section pages stay', async () => {
    const { bucket, deps } = await site();
    const head = approved(await penalty(factory.deps, penaltyRaw(6, daysAgo(10))));
    await publishChange(undefined, head, AS_OF, deps);
    const report = await publishChange(head, withheld(head), AS_OF, deps);
    expect(report).toMatchObject({ before: true, after: false });
    const record = toPublicRecord(head, AS_OF)!;
    const left = bucket.contents();
    expect(left[recordPath(record.id)]).toBeUndefined();
    expect(left[subjectPath(record.subjectSlug)]).toBeUndefined();
    expect(left[listPagePath(listKeysFor(record)[0]!)]).toBeUndefined();
    // Record, subject, day list, month pages and the search shard's two files (its list of pieces, its one piece):
    // gone. The index and the (empty) section pages remain.
    expect(report.deleted).toBe(6);
    expect(left).toEqual(expected([]));
    expect(Object.keys(left).filter((path) => !FIXED.has(path))).toEqual(['index.html', 'lists/dishonest-debtor/index.html', 'lists/gov/index.html', 'lists/license/index.html', 'lists/penalty/index.html']);
  });

  it('a corrected decision date moves the record from one day page to another', async () => {
    const { bucket, deps } = await site();
    const oldDay = daysAgo(40);
    const newDay = addDays(oldDay, 2);
    const neighbour = approved(await penalty(factory.deps, penaltyRaw(7, oldDay, { CF_XDR_MC: '邻居公司', CF_XDR_SHXYM: OTHER_USCC })));
    const head = approved(await penalty(factory.deps, penaltyRaw(8, oldDay)));
    await publishChange(undefined, neighbour, AS_OF, deps);
    await publishChange(undefined, head, AS_OF, deps);
    const moved = approved(await penalty(factory.deps, penaltyRaw(8, newDay)));
    expect(moved.id).toBe(head.id);
    await publishChange(head, moved, AS_OF, deps);
    const pages = bucket.contents();
    expect(pages[listPagePath(listKeysFor(toPublicRecord(moved, AS_OF)!)[0]!)]).toContain(toPublicRecord(moved, AS_OF)!.title);
    expect(pages[listPagePath(listKeysFor(toPublicRecord(head, AS_OF)!)[0]!)]).not.toContain(toPublicRecord(head, AS_OF)!.title);
    expect(pages).toEqual(expected([neighbour, moved]));
  });

  it('a change cut short anywhere (a failed S3 or index write) converges when it is applied again', async () => {
    const heads = [
      approved(await penalty(factory.deps, penaltyRaw(9, daysAgo(5)))),
      approved(await penalty(factory.deps, penaltyRaw(10, daysAgo(5), { CF_XDR_MC: '第二公司', CF_XDR_SHXYM: OTHER_USCC }))),
    ];
    for (let failAt = 1; failAt <= 12; failAt++) {
      for (const where of ['bucket', 'index'] as const) {
        const { bucket, index, deps } = await site();
        await publishChange(undefined, heads[0], AS_OF, deps);
        if (where === 'bucket') bucket.failAt = failAt;
        else index.failWriteAt = failAt;
        // Enter the second record, then withhold the first: either may be cut short.
        const changes: [StoredHead | undefined, StoredHead][] = [
          [undefined, heads[1]!],
          [heads[0], withheld(heads[0]!)],
        ];
        for (const [before, after] of changes) {
          try {
            await publishChange(before, after, AS_OF, deps);
          } catch {
            await publishChange(before, after, AS_OF, deps);
          }
        }
        expect(bucket.contents(), `${where} failing at write ${failAt}`).toEqual(expected([heads[1]!]));
      }
    }
  });

  it('any sequence of changes leaves exactly what a full render gives (government column, people, several days)', async () => {
    const random = seededRandom(9);
    const days = [daysAgo(3), daysAgo(3), daysAgo(35), daysAgo(70)];
    const candidates: StoredHead[] = [];
    for (let n = 0; n < 10; n++) {
      const day = random.pick(days);
      const kind = n % 3;
      candidates.push(
        kind === 0
          ? await penalty(factory.deps, penaltyRaw(`S${n}`, day, { CF_XDR_MC: `公司${n % 4}`, CF_XDR_SHXYM: n % 4 === 0 ? OTHER_USCC : '91310115MA1K3BTP2B' }))
          : kind === 1
            ? await licence(factory.deps, licenceRaw(`S${n}`, day))
            : await debtor(factory.deps, debtorRaw(`S${n}`, day, governmentUscc(random), { iname: '某县某局', businessEntity: '赵六' })),
      );
    }
    const { bucket, deps } = await site();
    const current = new Map<string, StoredHead>();
    for (let step = 0; step < 40; step++) {
      const base = random.pick(candidates);
      const before = current.get(base.id);
      const roll = random.int(0, 3);
      const after =
        roll === 0
          ? withheld(base)
          : roll === 1
            ? approved({ ...base, fields: { ...base.fields, BZ: `更正${step}` } })
            : roll === 2 && before
              ? { ...before, objection: { openSince: `${AS_OF}T01:00:00Z`, count: 1 } }
              : approved(base);
      await publishChange(before, after, AS_OF, deps);
      current.set(base.id, after);
      expect(bucket.contents(), `after step ${step}`).toEqual(expected(current.values()));
    }
  });
});

function runHarness(heads: StoredHead[], options: { pageSize?: number; invocationBudget?: number } = {}) {
  const { index, bucket } = emptySite();
  const runs = new MemoryPublishRuns();
  const leases = new MemoryLeases();
  const continued: string[] = [];
  const queueWrites: { id: string; publicationQueue: string; publicationQueueKey: string }[] = [];
  let calls = 0;
  let records = heads;
  const deps: PublishRunDeps = {
    index,
    bucket,
    model: siteModel,
    runs,
    leases,
    heads: {
      scan: async (start, limit) => {
        const from = start ? Number(start.at) : 0;
        const page = records.slice(from, from + limit);
        return { heads: page, ...(from + limit < records.length ? { next: { at: from + limit } } : {}) };
      },
      // As DynamoDB does it: on condition that the head is still at that version and has no queue attributes yet.
      setQueue: async (id, version, queue) => {
        const at = records.findIndex((h) => h.id === id);
        const head = records[at];
        if (!head || head.version !== version || head.publicationQueue !== undefined) return false;
        records = records.map((h, i) => (i === at ? { ...h, ...queue } : h));
        queueWrites.push({ id, ...queue });
        return true;
      },
    },
    continueLater: async (event) => {
      // A continuation may start at once: the lease must be free by then.
      expect(leases.leases.get('publish')?.until).toBe(0);
      continued.push(event.runId);
    },
    limits: { leaseMs: 60_000, pageSize: options.pageSize ?? 100, indexPageSize: options.pageSize ?? 100, reserveMs: 10, maxAttempts: 5, waitForStreamMs: 0 },
    now: () => new Date(),
    // Each check of the time left costs a "second": an invocation budget of N checks.
    remainingMs: () => (options.invocationBudget !== undefined && ++calls > options.invocationBudget ? 0 : 60_000),
    sleep: async () => undefined,
    newToken: () => `token-${Math.random()}`,
  };
  return {
    index,
    bucket,
    runs,
    continued,
    deps,
    queueWrites,
    records: () => records,
    setRecords: (next: StoredHead[]) => (records = next),
    resetBudget: () => (calls = 0),
  };
}

async function startRun(h: ReturnType<typeof runHarness>, asOf = AS_OF): Promise<string> {
  const run = newPublishRun({ runId: newRunId(), asOf, requestedBy: 'operator', now: new Date() });
  await h.runs.create(run);
  return run.runId;
}

describe('the publish run', () => {
  let heads: StoredHead[];
  beforeAll(async () => {
    heads = [];
    const random = seededRandom(4);
    for (let n = 0; n < 14; n++) {
      const day = daysAgo(random.pick([2, 9, 40, 75]));
      const head = n % 2 === 0 ? await penalty(factory.deps, penaltyRaw(`R${n}`, day, { CF_XDR_MC: `单位${n % 5}` })) : await licence(factory.deps, licenceRaw(`R${n}`, day));
      heads.push(n % 7 === 3 ? head : approved(head)); // some still waiting for review
    }
  });

  it('builds the whole site: every page a full render gives, the fixed pages too', async () => {
    const h = runHarness(heads, { pageSize: 5 });
    const runId = await startRun(h);
    expect(await runPublish({ runId }, h.deps)).toBe('completed');
    expect(h.bucket.contents()).toEqual(expected(heads));
    const run = h.runs.runs.get(runId)!;
    expect(run.counts).toMatchObject({ records: heads.length, published: heads.filter((x) => toPublicRecord(x, AS_OF)).length, pagesDeleted: 0 });
    expect(run.counts.pagesWritten).toBe(Object.keys(h.bucket.contents()).length);
    // A second run finds nothing to write.
    const again = await startRun(h);
    expect(await runPublish({ runId: again }, h.deps)).toBe('completed');
    expect(h.runs.runs.get(again)!.counts).toMatchObject({ pagesWritten: 0, pagesDeleted: 0 });
  });

  it('puts heads an older hub stored without the review queue attributes in the queue, once, changing nothing else', async () => {
    const bare = (head: StoredHead): StoredHead => {
      const { publicationQueue: _q, publicationQueueKey: _k, ...rest } = head;
      return rest;
    };
    const waiting = bare(await penalty(factory.deps, penaltyRaw('Q1', daysAgo(9))));
    const ending = bare(approved(await penalty(factory.deps, penaltyRaw('Q2', daysAgo(9)))));
    const stopped = bare(withheld(await penalty(factory.deps, penaltyRaw('Q3', daysAgo(9)))));
    const indexed = { ...approved(await penalty(factory.deps, penaltyRaw('Q4', daysAgo(9)))), publicationQueue: 'approved' as const, publicationQueueKey: '2099-01-01' };
    expect(waiting.publication.state).toBe('pending-review');
    expect(ending.publication.until).toBeDefined();
    const h = runHarness([waiting, ending, stopped, indexed], { pageSize: 3 });
    expect(await runPublish({ runId: await startRun(h) }, h.deps)).toBe('completed');
    // Waiting since it arrived (never decided on); approved: by its end, for the expire job. Withheld: nowhere.
    expect(h.queueWrites).toEqual([
      { id: waiting.id, publicationQueue: 'review', publicationQueueKey: waiting.firstReceivedAt },
      { id: ending.id, publicationQueue: 'approved', publicationQueueKey: ending.publication.until },
    ]);
    const after = new Map(h.records().map((x) => [x.id, x]));
    expect(after.get(waiting.id)).toEqual({ ...waiting, publicationQueue: 'review', publicationQueueKey: waiting.firstReceivedAt });
    expect(after.get(stopped.id)).toEqual(stopped);
    expect(after.get(indexed.id)).toEqual(indexed);
    // The site is the same as without them: the attributes are not on any page.
    expect(h.bucket.contents()).toEqual(expected([waiting, ending, stopped, indexed]));
    expect(await runPublish({ runId: await startRun(h) }, h.deps)).toBe('completed');
    expect(h.queueWrites).toHaveLength(2);
  });

  it('takes down what is no longer published (withheld, or its period over by the date alone) and what changed', async () => {
    const h = runHarness(heads, { pageSize: 4 });
    expect(await runPublish({ runId: await startRun(h) }, h.deps)).toBe('completed');
    const changed = heads.map((x, i) => (i === 0 ? withheld(x) : i === 2 ? { ...x, fields: { ...x.fields, BZ: '更正' } } : i === 4 ? { ...x, publication: { ...x.publication, until: daysAgo(1) } } : x));
    h.setRecords(changed);
    const runId = await startRun(h);
    expect(await runPublish({ runId }, h.deps)).toBe('completed');
    expect(h.bucket.contents()).toEqual(expected(changed));
    expect(h.runs.runs.get(runId)!.counts.pagesDeleted).toBeGreaterThan(0);
  });

  it('a run out of time continues itself from its checkpoint, and ends with the same site', async () => {
    const h = runHarness(heads, { pageSize: 3, invocationBudget: 2 });
    const runId = await startRun(h);
    let outcome = await runPublish({ runId }, h.deps);
    let invocations = 1;
    while (outcome === 'continued') {
      expect(h.continued.at(-1)).toBe(runId);
      h.resetBudget();
      outcome = await runPublish({ runId, continued: true }, h.deps);
      invocations++;
    }
    expect(outcome).toBe('completed');
    expect(invocations).toBeGreaterThan(3);
    expect(h.bucket.contents()).toEqual(expected(heads));
  });

  it('after incremental changes, a run writes nothing (both give the same site)', async () => {
    const h = runHarness(heads);
    expect(await runPublish({ runId: await startRun(h) }, h.deps)).toBe('completed');
    h.setRecords([]);
    expect(await runPublish({ runId: await startRun(h) }, h.deps)).toBe('completed');
    for (const head of heads) await publishChange(undefined, head, AS_OF, h.deps);
    h.setRecords(heads);
    const runId = await startRun(h);
    expect(await runPublish({ runId }, h.deps)).toBe('completed');
    expect(h.runs.runs.get(runId)!.counts).toMatchObject({ pagesWritten: 0, pagesDeleted: 0 });
    expect(h.bucket.contents()).toEqual(expected(heads));
    // And the index the run left behind serves the next change as well.
    const next = approved(await penalty(factory.deps, penaltyRaw('after-run', daysAgo(9))));
    await publishChange(undefined, next, AS_OF, h.deps);
    expect(h.bucket.contents()).toEqual(expected([...heads, next]));
  });

  it('a run asked for while another holds the site fails at once, saying so', async () => {
    const h = runHarness(heads);
    const first = await startRun(h);
    await h.deps.leases.take('publish', first, 'other-invocation', Date.now() + 60_000, Date.now());
    const second = await startRun(h);
    expect(await runPublish({ runId: second }, h.deps)).toBe('failed');
    expect(h.runs.runs.get(second)!.reason).toBe(`another run of publish is in progress (${first})`);
  });
});
