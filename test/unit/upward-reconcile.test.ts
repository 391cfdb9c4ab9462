/**
 * The reconciliation (shared/upward/reconcile.ts) with in-memory ports: a record's current version that no package
 * carries, once older than the settling time, is packaged for both platforms, once, whoever else packages it; young
 * and claimed versions are left to the stream; a pass goes on from its cursor when its invocation runs out of time,
 * begins again only when due, and two invocations at once never both move it. Times are taken from an injected
 * clock, relative to now.
 */
import type { HeadsPage, HeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { describe, expect, it } from 'vitest';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { fanOut } from '../../shared/upward/fanout.js';
import { PLATFORM_NAMES } from '../../shared/upward/package-model.js';
import { reconcileUnclaimed, type ReconcileDeps } from '../../shared/upward/reconcile.js';
import { MemoryPackagesStore, RecordingQueues } from '../support/memory-packages-store.js';
import { headImage, newVersionRecord, streamEvent } from '../support/record-stream.js';

const HOUR = 3_600_000;
const SETTLED_AFTER = 25 * HOUR;
const PASS_EVERY = 24 * HOUR;

/** The records table's heads, a page of `limit` at a time. */
class MemoryHeads implements Pick<HeadsScan, 'scan'> {
  readonly starts: (number | undefined)[] = [];
  constructor(readonly heads: StoredHead[]) {}
  async scan(start: Record<string, unknown> | undefined, limit: number): Promise<HeadsPage> {
    const at = (start?.at as number | undefined) ?? 0;
    this.starts.push(start ? at : undefined);
    const end = at + limit;
    return { heads: structuredClone(this.heads.slice(at, end)), ...(end < this.heads.length ? { next: { at: end } } : {}) };
  }
}

/** A head written `ageMs` before `now`. */
function head(id: string, version: number, now: number, ageMs: number, overrides: Record<string, unknown> = {}): StoredHead {
  const { pk: _pk, sk: _sk, ...rest } = headImage(id, version, { receivedAt: new Date(now - ageMs).toISOString(), ...overrides });
  return rest as unknown as StoredHead;
}

function setUp(heads: (now: number) => StoredHead[], options: { pageItems?: number; remainingMs?: () => number; packageVersions?: number } = {}) {
  let clock = Date.now();
  const store = new MemoryPackagesStore();
  const queues = new RecordingQueues();
  const scan = new MemoryHeads(heads(clock));
  const deps: ReconcileDeps = {
    store,
    queues,
    heads: scan,
    now: () => new Date(clock),
    remainingMs: options.remainingMs ?? (() => 250_000),
    settledAfterMs: SETTLED_AFTER,
    passEveryMs: PASS_EVERY,
    pageItems: options.pageItems ?? 500,
    packageVersions: options.packageVersions ?? 100,
    marginMs: 60_000,
  };
  /** The packages that carry each record version (by their claims), and the messages queued for each package and platform. */
  const carried = () => new Map([...store.claims.values()].map((c) => [`${c.recordId}#${c.version}`, c.key]));
  const messages = () => queues.sent.map((m) => `${m.key}|${m.platform}`);
  return { store, queues, scan, deps, carried, messages, advance: (ms: number) => (clock += ms) };
}

describe('reconciliation of versions no package carries', () => {
  it('packages the old unclaimed versions for both platforms, and leaves claimed and young ones to the stream', async () => {
    const { store, deps, carried, messages } = setUp((now) => [
      head('pen_a', 1, now, SETTLED_AFTER + HOUR),
      head('pen_b', 2, now, 3 * 24 * HOUR),
      head('pen_c', 1, now, HOUR),
      head('pen_d', 3, now, SETTLED_AFTER + 1, { status: 'removed', publication: { state: 'ended', endReason: 'removed', endedOn: '2026-02-01', from: '2026-01-01' } }),
    ]);
    await store.claim('pen_b', 2, 'earlier-package', new Date().toISOString());

    const report = await reconcileUnclaimed(deps);
    expect(report).toMatchObject({ outcome: 'ended', pages: 1, heads: 4, unclaimed: 2, packages: 1, queued: 2, claimedElsewhere: 0 });
    const claims = carried();
    expect([...claims.keys()].sort()).toEqual(['pen_a#1', 'pen_b#2', 'pen_d#3']);
    expect(claims.get('pen_b#2')).toBe('earlier-package');
    // One package with the two versions, one message for each platform.
    const key = claims.get('pen_a#1')!;
    expect(claims.get('pen_d#3')).toBe(key);
    expect((await store.getBody(key))?.refs.map((r) => `${r.recordId}#${r.version}:${r.operation}`)).toEqual(['pen_a#1:upsert', 'pen_d#3:delete']);
    expect(messages().sort()).toEqual(PLATFORM_NAMES.map((p) => `${key}|${p}`).sort());
    expect(await store.getReconcileCursor()).toMatchObject({ heads: 4, unclaimed: 2, endedAt: expect.any(String) });
  });

  it('makes packages no larger than the fan-out’s (its stream batch size)', async () => {
    const { deps, store, carried } = setUp((now) => Array.from({ length: 5 }, (_, i) => head(`pen_${i}`, 1, now, SETTLED_AFTER + HOUR)), { packageVersions: 2 });
    expect(await reconcileUnclaimed(deps)).toMatchObject({ outcome: 'ended', unclaimed: 5, packages: 3 });
    const sizes = await Promise.all([...new Set(carried().values())].map(async (key) => (await store.getBody(key))!.refs.length));
    expect(sizes.sort()).toEqual([1, 2, 2]);
  });

  it('begins a new pass only when due: the young version is packaged then, the others not again', async () => {
    const { deps, scan, carried, messages, advance } = setUp((now) => [head('pen_a', 1, now, 2 * SETTLED_AFTER), head('pen_c', 1, now, HOUR)]);
    expect(await reconcileUnclaimed(deps)).toMatchObject({ outcome: 'ended', unclaimed: 1 });
    advance(PASS_EVERY - 60_000);
    expect(await reconcileUnclaimed(deps)).toMatchObject({ outcome: 'not-due', pages: 0 });
    expect(scan.starts).toHaveLength(1);

    advance(60_000);
    const again = await reconcileUnclaimed(deps);
    expect(again).toMatchObject({ outcome: 'ended', heads: 2, unclaimed: 1, packages: 1 });
    expect(scan.starts).toEqual([undefined, undefined]);
    expect([...carried().keys()].sort()).toEqual(['pen_a#1', 'pen_c#1']);
    expect(messages()).toHaveLength(2 * PLATFORM_NAMES.length);
  });

  it('out of time, goes on from its cursor at the next invocation: every head read once, every version packaged once', async () => {
    let budget = 0;
    const { deps, scan, carried, messages } = setUp((now) => Array.from({ length: 7 }, (_, i) => head(`pen_${i}`, 1, now, SETTLED_AFTER + HOUR)), {
      pageItems: 2,
      // Time for one page per invocation.
      remainingMs: () => (budget-- > 0 ? 250_000 : 1_000),
    });
    const outcomes: string[] = [];
    for (let run = 0; run < 4; run++) {
      budget = 1;
      outcomes.push((await reconcileUnclaimed(deps)).outcome);
    }
    expect(outcomes).toEqual(['continued', 'continued', 'continued', 'ended']);
    expect(scan.starts).toEqual([undefined, 2, 4, 6]);
    expect(carried().size).toBe(7);
    expect(new Set(messages()).size).toBe(messages().length);
    expect(messages()).toHaveLength(4 * PLATFORM_NAMES.length);
  });

  it('a version the stream’s fan-out packages meanwhile travels in one package', async () => {
    const { store, deps, carried } = setUp((now) => [head('pen_a', 1, now, SETTLED_AFTER + HOUR), head('pen_b', 1, now, SETTLED_AFTER + HOUR)]);
    // The claims read before the stream's fan-out (late, but not lost) packaged pen_a.
    const findClaimed = store.findClaimed.bind(store);
    store.findClaimed = async (refs) => {
      const before = await findClaimed(refs);
      await fanOut(streamEvent([newVersionRecord(1, 'pen_a', 1)]), { store, queues: new RecordingQueues() });
      return before;
    };
    const report = await reconcileUnclaimed(deps);
    expect(report).toMatchObject({ unclaimed: 2, claimedElsewhere: 1 });
    const claims = carried();
    expect(claims.get('pen_a#1')).not.toBe(claims.get('pen_b#1'));
    const bodies = await Promise.all([...new Set(claims.values())].map((key) => store.getBody(key)));
    expect(bodies.flatMap((b) => b!.refs.map((r) => r.recordId)).sort()).toEqual(['pen_a', 'pen_b']);
  });

  it('two invocations at once: one moves the cursor, the other stops; nothing is packaged twice', async () => {
    const { deps, carried, messages, store } = setUp((now) => Array.from({ length: 4 }, (_, i) => head(`pen_${i}`, 1, now, SETTLED_AFTER + HOUR)), { pageItems: 2 });
    const outcomes = (await Promise.all([reconcileUnclaimed(deps), reconcileUnclaimed(deps)])).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['ended', 'lost']);
    expect(carried().size).toBe(4);
    const perPackage = new Map<string, number>();
    for (const m of messages()) perPackage.set(m, (perPackage.get(m) ?? 0) + 1);
    // A package whose fan-out both invocations ran may be queued twice (the same Idempotency-Key); none is carried twice.
    const keys = new Set(carried().values());
    for (const key of keys) expect((await store.getBody(key))!.open).toBe(false);
    expect([...perPackage.keys()].every((m) => keys.has(m.split('|')[0]!))).toBe(true);
  });

  it('a package whose fan-out fails is counted and passed over, so that it cannot hold the pass; the next pass packages it', async () => {
    const { deps, queues, carried, messages, store, advance } = setUp((now) => [head('pen_a', 1, now, SETTLED_AFTER + HOUR), head('pen_b', 1, now, SETTLED_AFTER + HOUR)], { packageVersions: 1 });
    // The fan-out fails for pen_a's package only (its body cannot be opened).
    const openBody = store.openBody.bind(store);
    store.openBody = async (key, candidates, at) => {
      if (candidates.some((c) => c.recordId === 'pen_a')) throw new Error('ProvisionedThroughputExceededException');
      return openBody(key, candidates, at);
    };
    const report = await reconcileUnclaimed(deps);
    expect(report).toMatchObject({ outcome: 'ended', unclaimed: 2, packages: 1, failed: 1, error: 'Error: ProvisionedThroughputExceededException' });
    expect([...carried().keys()]).toEqual(['pen_b#1']);
    expect(await store.getReconcileCursor()).toMatchObject({ endedAt: expect.any(String) });

    store.openBody = openBody;
    advance(PASS_EVERY);
    expect(await reconcileUnclaimed(deps)).toMatchObject({ outcome: 'ended', unclaimed: 1, packages: 1, failed: 0 });
    expect([...carried().keys()].sort()).toEqual(['pen_a#1', 'pen_b#1']);
    expect(messages()).toHaveLength(2 * PLATFORM_NAMES.length);
    expect(queues.sent.every((m) => m.path === '')).toBe(true);
  });

  it('counts only the heads the fan-out would package: one without a publication is not “unclaimed” every day', async () => {
    const { deps, carried } = setUp((now) => [head('pen_a', 1, now, SETTLED_AFTER + HOUR), head('pen_old', 1, now, SETTLED_AFTER + HOUR, { publication: undefined })]);
    expect(await reconcileUnclaimed(deps)).toMatchObject({ outcome: 'ended', heads: 2, unclaimed: 1, packages: 1 });
    expect([...carried().keys()]).toEqual(['pen_a#1']);
  });
});
