/**
 * A nightly sync run end to end over in-memory ports (shared/sync/run-sync.ts): the package POSTed once with the
 * run id as its key, each line with its real-time package id, the package deliveries it carried marked delivered
 * (not the refused or split ones), the watermark moved; a second run sends only what changed since; overlapping
 * runs; a run stopped anywhere (thrown, killed, out of time, while marking) goes on from its checkpoint and sends
 * the same bytes; an invocation that lost its run while still working (its segment under its own key, never
 * sent); a continuation handed the run, or taken over when its step moved; a checkpoint that does not grow with
 * the changes; refusals, retries and giving up.
 */
import { randomUUID } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { verifyNdjson } from '../../infra/local/platform-receiver.js';
import { newRun, type JobRun } from '../../shared/jobs/run-model.js';
import { runSync, type RunEvent, type SyncDeps } from '../../shared/sync/run-sync.js';
import { LAPSE_MARGIN_MS, resumeStoppedRun, type LeaseReader } from '../../shared/sync/resume-run.js';
import { runnerRequest } from '../../functions/sync-runner/events.js';
import { schedules } from '../../infra/catalogue.js';
import { syncLimits } from '../../shared/sync/sync-limits.js';
import type { SyncRequest } from '../../shared/sync/sync-post.js';
import type { PackageDelivery, PackageRef } from '../../shared/upward/package-model.js';
import type { PlatformResponse } from '../../shared/upward/platform-client.js';
import type { VersionContent } from '../../shared/upward/record-versions.js';
import { MemoryLeases, MemoryPackages, MemoryRuns, MemorySegments, MemoryVersions, MemoryWatermarks, settled } from './sync-fakes.js';

const SENDER = '91110000600037341L';

function version(id: string, v: number): VersionContent {
  return { id, kind: 'penalty', sourceId: 'shi-scjgj', version: v, fields: { CF_WSH: id, CF_XDR_MC: '某公司' } };
}

interface Posted {
  url: string;
  headers: Record<string, string>;
  bytes: Buffer;
  text: string;
}

function world(start = '2026-03-02T00:00:00.000Z') {
  let clock = Date.parse(start);
  let remaining = 900_000;
  const runs = new MemoryRuns();
  const leases = new MemoryLeases();
  const watermarks = new MemoryWatermarks();
  const packages = new MemoryPackages();
  const versions = new MemoryVersions();
  const segments = new MemorySegments();
  const posted: Posted[] = [];
  const answers: (PlatformResponse | Error)[] = [];
  const continued: RunEvent[] = [];
  const slept: number[] = [];
  let tokens = 0;
  const deps: SyncDeps = {
    runs,
    leases,
    watermarks,
    pages: packages,
    packages,
    versions,
    cipher: async () => ({ decrypt: async () => 'never' }),
    segments,
    post: async (url: string, request: SyncRequest) => {
      const bytes = await buffer(request.body);
      posted.push({ url, headers: { ...request.headers }, bytes, text: gunzipSync(bytes).toString('utf8') });
      const answer = answers.shift() ?? { status: 200, text: '{"received":1}' };
      if (answer instanceof Error) throw answer;
      return answer;
    },
    continueLater: async (event) => void continued.push(event),
    baseUrl: (platform) => `http://platform.test/${platform}`,
    sender: () => SENDER,
    limits: { ...syncLimits, heartbeatMs: 0, pageSize: 2, maxSegmentRecords: 3 },
    now: () => new Date(clock),
    remainingMs: () => remaining,
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    newToken: () => `token-${++tokens}`,
  };
  const w = {
    deps,
    runs,
    leases,
    watermarks,
    packages,
    versions,
    segments,
    posted,
    answers,
    continued,
    slept,
    advance: (ms: number) => (clock += ms),
    setRemaining: (ms: number) => (remaining = ms),
    /** A package of one new version, created `at`, and its delivery to the provincial platform (pending unless `more` says). */
    change(id: string, v: number, at: string, more: Partial<PackageDelivery> = {}): PackageDelivery {
      versions.set(version(id, v));
      return packages.add({ refs: [{ recordId: id, version: v, operation: 'upsert' }], at, delivery: more });
    },
    /** A package of several versions (stored), created `at`. */
    pkg(refs: PackageRef[], at: string, more: Partial<PackageDelivery> = {}): PackageDelivery {
      for (const r of refs) versions.set(version(r.recordId, r.version));
      return packages.add({ refs, at, delivery: more });
    },
    async ask(job: JobRun['job'] = 'sync-provincial', runId = `run_${'a'.repeat(25)}${runs.items.size}`): Promise<string> {
      const run = newRun({ runId, job, requestedBy: 'operator', now: new Date(clock) });
      await runs.create(run);
      return runId;
    },
    run: (runId: string) => runs.items.get(runId)!,
  };
  return w;
}

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('a run', () => {
  it('sends every change of its window and what is still owed as one package under the run id, marks them delivered, moves the watermark', async () => {
    const w = world();
    w.watermarks.items.set('provincial', { at: '2026-03-01T00:00:00.000Z', runId: 'run_before', movedAt: 'x' });
    const sent = Array.from({ length: 5 }, (_, i) => w.change(`pen_C${i}`, 1, `2026-03-01T0${i + 1}:00:00.000Z`));
    const done = w.change('pen_DONE', 1, '2026-03-01T07:00:00.000Z', settled.delivered);
    const old = w.change('pen_OLD', 2, '2026-01-10T00:00:00.000Z'); // owed from long before
    const runId = await w.ask();

    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'completed' });

    expect(w.posted).toHaveLength(1);
    const [post] = w.posted;
    expect(post!.url).toBe('http://platform.test/provincial/sync');
    expect(post!.headers).toEqual({ 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip', 'Idempotency-Key': runId });
    expect(verifyNdjson(post!.text)).toMatchObject({ records: 7, packageId: runId });
    const [first, ...body] = lines(post!.text);
    expect(first.header).toEqual({
      packageId: runId,
      sender: SENDER,
      platform: 'provincial',
      createdAt: '2026-03-02T00:00:00.000Z',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
      recordCount: 7,
      bodySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(body.map((l) => l.recordId)).toEqual(['pen_C0', 'pen_C1', 'pen_C2', 'pen_C3', 'pen_C4', 'pen_DONE', 'pen_OLD']);
    // Each line names the real-time package that carries it.
    expect(body.map((l) => l.packageId)).toEqual([...sent, done, old].map((d) => d.packageId));
    expect(w.run(runId).checkpoint!.body.segments).toBe(2); // segments of at least 3, closed at the page that fills them

    const run = w.run(runId);
    expect(run).toMatchObject({ status: 'completed', from: '2026-03-01T00:00:00.000Z', counts: { changes: 6, owed: 1, skipped: 0, records: 7, bytes: post!.bytes.length } });
    expect(run.finishedAt).toBeDefined();
    expect(w.watermarks.items.get('provincial')).toMatchObject({ at: '2026-03-02T00:00:00.000Z', runId });
    expect([...w.packages.items.values()].every((d) => d.state === 'delivered' && d.owedBy === undefined)).toBe(true);
    expect(w.packages.marks).toBe(6); // the pending ones: the one delivered before is not written again
    expect(w.leases.items.get('sync-provincial')).toMatchObject({ holder: runId, until: 0 }); // released
  });

  it('a second run right after sends only what changed since (nothing) and what is still owed', async () => {
    const w = world();
    w.change('pen_A', 1, '2026-03-01T10:00:00.000Z');
    const first = await w.ask();
    await runSync({ runId: first }, w.deps);
    // A delivery the platform still owes: one refused by the connector and redriven (pending again), from before.
    w.change('pen_OWED', 1, '2026-03-01T11:00:00.000Z');
    w.advance(60_000);
    const second = await w.ask();
    expect(await runSync({ runId: second }, w.deps)).toEqual({ [second]: 'completed' });
    expect(w.posted).toHaveLength(2);
    expect(w.posted[1]!.headers['Idempotency-Key']).toBe(second);
    const [h, ...body] = lines(w.posted[1]!.text);
    expect(h.header).toMatchObject({ from: w.run(first).to, to: w.run(second).to, recordCount: 1 });
    expect(body.map((l) => l.recordId)).toEqual(['pen_OWED']);
    expect(w.run(second).counts).toMatchObject({ changes: 0, owed: 1, records: 1 });
    expect(w.watermarks.items.get('provincial')!.at).toBe(w.run(second).to);
  });

  it('the first run of a platform (no watermark) covers the lookback; a run as of an earlier day ends at that day’s end and never moves the watermark back', async () => {
    const w = world();
    w.change('pen_A', 1, '2026-02-01T00:00:00.000Z');
    const first = await w.ask();
    await runSync({ runId: first }, w.deps);
    expect(w.run(first).counts.changes).toBe(1);
    const past = newRun({ runId: 'run_pastpastpastpastpastpast', job: 'sync-provincial', asOf: '2026-02-15', requestedBy: 'operator', now: new Date('2026-03-02T00:00:00.000Z') });
    await w.runs.create(past);
    expect(await runSync({ runId: past.runId }, w.deps)).toEqual({ [past.runId]: 'completed' });
    expect(lines(w.posted[1]!.text)[0].header).toMatchObject({ from: w.run(first).to, to: '2026-02-15T15:59:59.999Z', recordCount: 0 });
    expect(w.watermarks.items.get('provincial')!.at).toBe(w.run(first).to);
  });

  it('an empty package still goes (a header with recordCount 0 and the hash of no bytes), and the watermark moves', async () => {
    const w = world();
    const runId = await w.ask();
    await runSync({ runId }, w.deps);
    expect(verifyNdjson(w.posted[0]!.text)).toMatchObject({ records: 0 });
    expect(lines(w.posted[0]!.text)[0].header.bodySha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(w.run(runId).status).toBe('completed');
  });
});

describe('package deliveries', () => {
  it('each line carries the id of the real-time package that carries it; split deliveries carry nothing themselves, refused ones are skipped and stay failed; the parts sent are marked delivered', async () => {
    const w = world();
    w.watermarks.items.set('provincial', { at: '2026-03-01T00:00:00.000Z', runId: 'run_before', movedAt: 'x' });
    const refs = (ids: string[]): PackageRef[] => ids.map((id) => ({ recordId: id, version: 1, operation: 'upsert' }));
    const whole = w.pkg(refs(['pen_A', 'pen_B']), '2026-03-01T01:00:00.000Z');
    // A package the platform refused whole in real time: split, then its first half split again, its first record refused alone.
    const parent = w.pkg(refs(['pen_P1', 'pen_P2', 'pen_P3']), '2026-03-01T02:00:00.000Z');
    const [first, second] = w.packages.split(parent, '2026-03-01T02:01:00.000Z');
    const [refused, kept] = w.packages.split(first!, '2026-03-01T02:02:00.000Z');
    w.packages.put({ ...w.packages.get(refused!)!, state: 'failed', failedBy: 'provincial', failedReason: 'HTTP 422: bad field' });
    delete w.packages.get(refused!)!.owedBy;
    const runId = await w.ask();

    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'completed' });
    const [h, ...body] = lines(w.posted[0]!.text);
    expect(h.header).toMatchObject({ packageId: runId, recordCount: 4 });
    expect(body.map((l) => [l.recordId, l.packageId])).toEqual([
      ['pen_A', whole.packageId],
      ['pen_B', whole.packageId],
      ['pen_P3', second!.packageId],
      ['pen_P2', kept!.packageId],
    ]);
    expect(new Set([whole.packageId, second!.packageId, kept!.packageId]).size).toBe(3);
    expect(w.run(runId).counts).toMatchObject({ changes: 4, owed: 0, skipped: 1, records: 4 });
    const state = (d: PackageDelivery) => w.packages.get(d)!.state;
    expect([whole, second!, kept!].map(state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([parent, first!].map(state)).toEqual(['split', 'split']);
    expect(w.packages.get(refused!)).toMatchObject({ state: 'failed', failedReason: 'HTTP 422: bad field' });
  });

  it('a part split off after the window’s end is not in this run (its parent carries nothing) but in the next one’s window', async () => {
    const w = world();
    const parent = w.pkg([{ recordId: 'pen_L1', version: 1, operation: 'upsert' }, { recordId: 'pen_L2', version: 1, operation: 'upsert' }], '2026-03-01T10:00:00.000Z');
    const first = await w.ask();
    w.packages.split(parent, '2026-03-02T00:00:30.000Z'); // after the first run's `to`, before it reads
    await runSync({ runId: first }, w.deps);
    expect(lines(w.posted[0]!.text)[0].header.recordCount).toBe(0);
    w.advance(60_000);
    const second = await w.ask();
    await runSync({ runId: second }, w.deps);
    expect(lines(w.posted[1]!.text).slice(1).map((l) => l.recordId)).toEqual(['pen_L1', 'pen_L2']);
    expect(w.run(second).counts).toMatchObject({ changes: 2, owed: 0 });
  });

  it('the checkpoint does not grow with the number of changes or segments (a DynamoDB item holds it for any number)', async () => {
    const sizes: number[] = [];
    for (const n of [2, 60]) {
      const w = world();
      for (let i = 0; i < n; i++) w.change(`pen_N${String(i).padStart(3, '0')}`, 1, new Date(Date.parse('2026-03-01T01:00:00.000Z') + i * 60_000).toISOString());
      const runId = await w.ask();
      const checkpoints: number[] = [];
      const save = w.runs.save.bind(w.runs);
      w.runs.save = async (id, prev, cp, counts) => {
        checkpoints.push(JSON.stringify(cp).length);
        return save(id, prev, cp, counts);
      };
      expect(await runSync({ runId }, { ...w.deps, limits: { ...w.deps.limits, maxSegmentRecords: 2 } })).toEqual({ [runId]: 'completed' });
      expect(w.run(runId).checkpoint!.body.segments).toBe(Math.ceil(n / 2));
      sizes.push(Math.max(...checkpoints));
    }
    // 1 segment or 30: the same few hundred bytes (a cursor key, counts, the header).
    expect(sizes[1]! - sizes[0]!).toBeLessThan(40);
    expect(sizes[1]!).toBeLessThan(1_000);
  });
});

describe('runs never overlap', () => {
  it('a run asked while another of its job holds the lease fails at once, saying which; a run of the other job is not held up', async () => {
    const w = world();
    const busy = await w.ask('sync-provincial', 'run_busybusybusybusybusybusy');
    await w.leases.take('sync-provincial', busy, 'other-invocation', Date.parse('2026-03-02T00:02:00.000Z'), Date.parse('2026-03-02T00:00:00.000Z'));
    const late = await w.ask();
    expect(await runSync({ runId: late }, w.deps)).toEqual({ [late]: 'failed' });
    expect(w.run(late)).toMatchObject({ status: 'failed', reason: `another run of sync-provincial is in progress (${busy})` });
    const national = await w.ask('sync-national');
    expect(await runSync({ runId: national }, w.deps)).toEqual({ [national]: 'completed' });
    expect(w.posted.map((p) => p.url)).toEqual(['http://platform.test/national/sync']);
  });

  it('an invocation for a run that another live invocation is running leaves it alone', async () => {
    const w = world();
    const runId = await w.ask();
    await w.leases.take('sync-provincial', runId, 'other-invocation', Date.parse('2026-03-02T00:02:00.000Z'), Date.parse('2026-03-02T00:00:00.000Z'));
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'elsewhere' });
    expect(w.run(runId).status).toBe('waiting');
    expect(w.posted).toEqual([]);
  });

  it('a run that ended before is not run again (a duplicate event)', async () => {
    const w = world();
    const runId = await w.ask();
    await runSync({ runId }, w.deps);
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'finished' });
    expect(await runSync({ runId: 'run_nonononononononononononono' }, w.deps)).toEqual({ run_nonononononononononononono: 'unknown' });
    expect(w.posted).toHaveLength(1);
  });
});

describe('a run stopped anywhere goes on from its checkpoint', () => {
  it('killed after the upload, before the POST: the next invocation after the lease lapsed resumes it first, then its own run; one package per run, the first with the same bytes it had', async () => {
    const w = world();
    for (let i = 0; i < 4; i++) w.change(`pen_K${i}`, 1, `2026-03-01T0${i}:00:00.000Z`);
    const killed = await w.ask();
    // The kill: the invocation dies as it is about to POST (nothing runs after; the lease is not released).
    const save = w.runs.save.bind(w.runs);
    w.runs.save = async (id, prev, cp, counts) => {
      if (cp.sendAttempts === 1) throw new Error('SIGKILL');
      return save(id, prev, cp, counts);
    };
    const release = w.leases.release.bind(w.leases);
    w.leases.release = async () => 'ok';
    await expect(runSync({ runId: killed }, w.deps)).rejects.toThrow('SIGKILL');
    w.runs.save = save;
    w.leases.release = release;
    expect(w.run(killed)).toMatchObject({ status: 'running', checkpoint: { phase: 'uploaded' } });
    const uploaded = [...w.segments.objects.keys()];
    expect(w.posted).toEqual([]);

    // Within the lease: another run of the job is refused; after it lapsed, the next one resumes the killed run first.
    const meanwhile = await w.ask();
    expect(await runSync({ runId: meanwhile }, w.deps)).toEqual({ [meanwhile]: 'failed' });
    w.advance(syncLimits.leaseMs + 1);
    const next = await w.ask();
    expect(await runSync({ runId: next }, w.deps)).toEqual({ [killed]: 'completed', [next]: 'completed' });
    expect(w.posted.map((p) => p.headers['Idempotency-Key'])).toEqual([killed, next]);
    expect(verifyNdjson(w.posted[0]!.text)).toMatchObject({ records: 4 });
    expect([...w.segments.objects.keys()].filter((k) => k.includes(killed))).toEqual(uploaded); // not rebuilt
    expect(lines(w.posted[1]!.text)[0].header.from).toBe(w.run(killed).to);
    expect(w.run(killed).attempts).toBe(2);
  });

  it('acknowledged but stopped before it was saved: sent again with the same key and the same bytes (the platform keeps it once), then completed', async () => {
    const w = world();
    w.change('pen_A', 1, '2026-03-01T10:00:00.000Z');
    const runId = await w.ask();
    const save = w.runs.save.bind(w.runs);
    let failOnce = true;
    w.runs.save = async (id, prev, cp, counts) => {
      if (cp.phase === 'sent' && failOnce) {
        failOnce = false;
        throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      }
      return save(id, prev, cp, counts);
    };
    await expect(runSync({ runId }, w.deps)).rejects.toThrow('throttled');
    expect(w.run(runId).lastError).toBe('ProvisionedThroughputExceededException: throttled');
    // The lease was let go: Lambda's retry of the same event takes over at once.
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'completed' });
    expect(w.posted).toHaveLength(2);
    expect(w.posted[1]!.bytes.equals(w.posted[0]!.bytes)).toBe(true);
    expect(w.posted[1]!.headers['Idempotency-Key']).toBe(runId);
  });

  it('stopped while marking the deliveries it carried: resumed, it marks the rest without sending again, and only then moves the watermark', async () => {
    const w = world();
    w.watermarks.items.set('provincial', { at: '2026-03-01T00:00:00.000Z', runId: 'run_before', movedAt: 'x' });
    for (let i = 0; i < 6; i++) w.change(`pen_M${i}`, 1, `2026-03-01T0${i + 1}:00:00.000Z`);
    const runId = await w.ask();
    const mark = w.packages.markDelivered.bind(w.packages);
    let calls = 0;
    w.packages.markDelivered = async (ref, at) => {
      if (++calls === 5) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return mark(ref, at);
    };
    await expect(runSync({ runId }, w.deps)).rejects.toThrow('throttled');
    // The first segment's deliveries were marked and saved; the watermark has not moved.
    expect(w.run(runId)).toMatchObject({ status: 'running', checkpoint: { phase: 'sent', marked: 1, body: { segments: 2 } } });
    expect(w.watermarks.items.get('provincial')!.at).toBe('2026-03-01T00:00:00.000Z');
    expect([...w.packages.items.values()].filter((d) => d.state === 'delivered')).toHaveLength(5);
    w.packages.markDelivered = mark;
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'completed' });
    expect(w.posted).toHaveLength(1);
    expect([...w.packages.items.values()].every((d) => d.state === 'delivered')).toBe(true);
    expect(w.watermarks.items.get('provincial')).toMatchObject({ at: w.run(runId).to, runId });
  });

  it('out of time: it continues itself (not counted as an attempt) from its checkpoint', async () => {
    const w = world();
    w.watermarks.items.set('provincial', { at: '2026-03-01T00:00:00.000Z', runId: 'run_before', movedAt: 'x' });
    for (let i = 0; i < 6; i++) w.change(`pen_T${i}`, 1, `2026-03-01T0${i + 1}:00:00.000Z`);
    const runId = await w.ask();
    let pages = 0;
    const changes = w.packages.changes.bind(w.packages);
    w.packages.changes = async (...args) => {
      if (++pages === 2) w.setRemaining(syncLimits.reserveMs); // the invocation is nearly over
      return changes(...args);
    };
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'continued' });
    // Handed over at the step it last saved.
    expect(w.continued).toEqual([{ runId, continued: true, step: w.run(runId).checkpoint!.step }]);
    expect(w.run(runId).checkpoint).toMatchObject({ phase: 'building', body: { segments: 1, records: 4 } });
    expect(w.leases.items.get('sync-provincial')!.until).toBe(0);
    w.setRemaining(900_000);
    expect(await runSync(w.continued[0]!, w.deps)).toEqual({ [runId]: 'completed' });
    expect(verifyNdjson(w.posted[0]!.text)).toMatchObject({ records: 6 });
    expect(w.run(runId).attempts).toBe(1);
    // The continuation went on as the same writer: every segment under the first invocation's keys.
    expect(w.run(runId).checkpoint!.body.writers).toEqual([{ from: 1, id: 'token-1' }]);
    expect([...w.segments.objects.keys()].filter((k) => k.endsWith('.ndjson.gz'))).toEqual([1, 2].map((n) => `sync/provincial/${runId}/token-1/0000${n}.ndjson.gz`));
  });

  it('a run that keeps failing is given up after maxAttempts, with its last error', async () => {
    const w = world();
    w.change('pen_A', 1, '2026-03-01T10:00:00.000Z');
    const runId = await w.ask();
    w.versions.read = async () => {
      throw new Error('the records table is unreachable');
    };
    for (let i = 0; i < syncLimits.maxAttempts; i++) await expect(runSync({ runId }, w.deps)).rejects.toThrow('unreachable');
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'failed' });
    expect(w.run(runId).reason).toBe(`gave up after ${syncLimits.maxAttempts} attempts (last error: Error: the records table is unreachable)`);
  });
});

describe('an invocation that lost its run while still working never changes what the holder sends', () => {
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it('its segment, written after the takeover, goes under its own key: the package goes out, and again after a resume, with the bytes and SHA-256 the holder sealed', async () => {
    const w = world();
    for (const [i, id] of ids('pen_S', 6).entries()) w.change(id, 1, `2026-03-01T0${i + 1}:00:00.000Z`);
    const runId = await w.ask();
    // The first invocation (token-1) stalls as it writes its second segment, past its lease (no heartbeat).
    const write = w.segments.write.bind(w.segments);
    let stalled!: () => void;
    let wake!: () => void;
    const stalling = new Promise<void>((resolve) => (stalled = resolve));
    const woken = new Promise<void>((resolve) => (wake = resolve));
    let writes = 0;
    w.segments.write = async (key, lines) => {
      // Its writes: segment 1, the deliveries segment 1 carried, then segment 2.
      if (++writes !== 3) return write(key, lines);
      stalled();
      await woken;
      // What it writes by now is not what the holder wrote (the deliveries it reads have changed meanwhile).
      return write(key, (async function* () {
        yield '{"stale":true}\n';
      })());
    };
    const first = runSync({ runId }, w.deps);
    await stalling;
    expect(w.run(runId).checkpoint!.body.segments).toBe(1);

    // Its lease lapsed: the next invocation (token-2) takes the run over, writes the rest, seals and POSTs the
    // package, and dies before it has saved the platform's answer.
    w.advance(syncLimits.leaseMs + 1);
    const save = w.runs.save.bind(w.runs);
    w.runs.save = async (id, prev, cp, counts) => {
      if (cp.phase === 'sent') throw new Error('SIGKILL after the POST');
      return save(id, prev, cp, counts);
    };
    const release = w.leases.release.bind(w.leases);
    w.leases.release = async () => 'ok';
    await expect(runSync({ runId }, w.deps)).rejects.toThrow('SIGKILL after the POST');
    w.runs.save = save;
    w.leases.release = release;
    const sealed = w.run(runId).checkpoint!;
    expect(sealed).toMatchObject({ phase: 'uploaded', body: { segments: 2, writers: [{ from: 1, id: 'token-1' }, { from: 2, id: 'token-2' }] } });
    expect(w.posted).toHaveLength(1);

    // The stalled invocation wakes: its segment is written (under its own key), and its save finds the run gone.
    wake();
    expect(await first).toEqual({ [runId]: 'lease-lost' });
    expect(w.run(runId).checkpoint).toEqual(sealed);

    // Resumed once the lease lapsed: the same bytes again, under the same key; the body the header's hash.
    w.advance(syncLimits.leaseMs + 1);
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'completed' });
    expect(w.posted).toHaveLength(2);
    expect(w.posted[1]!.bytes.equals(w.posted[0]!.bytes)).toBe(true);
    expect(w.posted[1]!.headers['Idempotency-Key']).toBe(runId);
    expect(verifyNdjson(w.posted[1]!.text)).toMatchObject({ records: 6, packageId: runId });
    const [head, ...body] = lines(w.posted[1]!.text);
    expect(head.header.bodySha256).toBe(sealed.header!.bodySha256);
    expect(body.map((l) => l.recordId)).toEqual(ids('pen_S', 6));
    expect(w.run(runId)).toMatchObject({ status: 'completed', attempts: 3 });
    // What the stalled invocation wrote is there, never named.
    expect(w.segments.objects.has(`sync/provincial/${runId}/token-1/00002.ndjson.gz`)).toBe(true);
  });

  it('a continuation whose step has moved (a late or duplicate event) takes the run over as a new writer, and is counted; the package goes once, whole', async () => {
    const w = world();
    w.watermarks.items.set('provincial', { at: '2026-03-01T00:00:00.000Z', runId: 'run_before', movedAt: 'x' });
    for (const [i, id] of ids('pen_T', 6).entries()) w.change(id, 1, `2026-03-01T0${i + 1}:00:00.000Z`);
    const runId = await w.ask();
    let pages = 0;
    const changes = w.packages.changes.bind(w.packages);
    w.packages.changes = async (...args) => {
      if (++pages === 2) w.setRemaining(syncLimits.reserveMs); // the first invocation is nearly over
      return changes(...args);
    };
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'continued' });
    const late = w.continued[0]!;
    expect(w.run(runId).checkpoint!.body).toMatchObject({ segments: 1, writers: [{ from: 1, id: 'token-1' }] });
    // Before its continuation runs, another invocation takes the run over (and is out of time at once).
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'continued' });
    expect(w.continued[1]!.step).toBeGreaterThan(late.step!);
    w.setRemaining(900_000);
    expect(await runSync(late, w.deps)).toEqual({ [runId]: 'completed' });
    // token-2 wrote nothing: only the writers of segments stay named.
    expect(w.run(runId)).toMatchObject({ status: 'completed', attempts: 3, checkpoint: { body: { segments: 2, writers: [{ from: 1, id: 'token-1' }, { from: 2, id: 'token-3' }] } } });
    expect(await runSync(w.continued[1]!, w.deps)).toEqual({ [runId]: 'finished' });
    expect(w.posted).toHaveLength(1);
    expect(verifyNdjson(w.posted[0]!.text)).toMatchObject({ records: 6 });
    expect(lines(w.posted[0]!.text).slice(1).map((l) => l.recordId)).toEqual(ids('pen_T', 6));
  });

  it('the runner takes a continuation’s step as its event says it (only with `continued`, only a whole number)', () => {
    const runId = `run_${'a'.repeat(26)}`;
    expect(runnerRequest({ runId, continued: true, step: 7 })).toEqual({ kind: 'run', event: { runId, continued: true, step: 7 } });
    expect(runnerRequest({ runId, step: 7 })).toEqual({ kind: 'run', event: { runId } });
    for (const step of [-1, 1.5, '7', null]) expect(runnerRequest({ runId, continued: true, step })).toEqual({ kind: 'run', event: { runId, continued: true } });
  });

  it('with a writer named for every attempt a run may have (lease tokens of 36 characters), the checkpoint stays well within 1 KB', async () => {
    const w = world();
    for (let i = 0; i < 40; i++) w.change(`pen_W${String(i).padStart(2, '0')}`, 1, new Date(Date.parse('2026-03-01T01:00:00.000Z') + i * 60_000).toISOString());
    const runId = await w.ask();
    const sizes: number[] = [];
    const save = w.runs.save.bind(w.runs);
    let crashes = syncLimits.maxAttempts - 1;
    w.runs.save = async (id, prev, cp, counts) => {
      sizes.push(JSON.stringify(cp).length);
      const before = w.run(id).checkpoint!.body.segments;
      const saved = await save(id, prev, cp, counts);
      // Each invocation but the last dies right after it saved its first segment.
      if (saved === 'ok' && cp.body.segments > before && crashes > 0) {
        crashes--;
        throw new Error('crashed');
      }
      return saved;
    };
    const deps = { ...w.deps, newToken: randomUUID };
    for (let i = 1; i < syncLimits.maxAttempts; i++) await expect(runSync({ runId }, deps)).rejects.toThrow('crashed');
    expect(await runSync({ runId }, deps)).toEqual({ [runId]: 'completed' });
    const { writers } = w.run(runId).checkpoint!.body;
    expect(writers!.map((x) => x.from)).toEqual([1, 2, 3, 4, 5]);
    expect(writers!).toHaveLength(syncLimits.maxAttempts);
    expect(verifyNdjson(w.posted[0]!.text)).toMatchObject({ records: 40 });
    expect(Math.max(...sizes)).toBeLessThan(1_000);
  });
});

describe('what the platform answers', () => {
  it('a 4xx fails the run with the platform’s reason (identity numbers redacted); the watermark and the deliveries stay', async () => {
    const w = world();
    w.change('pen_A', 1, '2026-03-01T10:00:00.000Z');
    const runId = await w.ask();
    w.answers.push({ status: 422, text: '{"error":"bad line: 110102199101010078"}' });
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'failed' });
    expect(w.run(runId).reason).toMatch(/^the platform refused the package: HTTP 422: \{"error":"bad line: \[REDACTED-ID\]"\}$/);
    expect(w.watermarks.items.get('provincial')).toBeUndefined();
    expect([...w.packages.items.values()][0]!.state).toBe('pending');
    expect(w.packages.marks).toBe(0);
  });

  it('5xx, 429 and timeouts are tried again after a back-off (at least Retry-After), with the same bytes; then delivered', async () => {
    const w = world();
    w.change('pen_A', 1, '2026-03-01T10:00:00.000Z');
    const runId = await w.ask();
    w.answers.push({ status: 503, text: '' }, { status: 429, retryAfter: '7', text: '' }, Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'completed' });
    expect(w.posted).toHaveLength(4);
    expect(new Set(w.posted.map((p) => p.bytes.toString('base64'))).size).toBe(1);
    expect(w.slept).toHaveLength(3);
    expect(w.slept[1]).toBeGreaterThanOrEqual(7000);
  });

  it('unavailable for every attempt: the run fails, saying so; the watermark stays', async () => {
    const w = world();
    const runId = await w.ask();
    for (let i = 0; i < syncLimits.postAttempts; i++) w.answers.push({ status: 500, text: '' });
    expect(await runSync({ runId }, w.deps)).toEqual({ [runId]: 'failed' });
    expect(w.run(runId).reason).toBe(`platform unavailable: the platform did not take the package in ${syncLimits.postAttempts} attempts (last: HTTP 500)`);
    expect(w.posted).toHaveLength(syncLimits.postAttempts);
    expect(w.watermarks.items.size).toBe(0);
  });
});

describe('resuming a stopped run at local start (resume-run.ts)', () => {
  /** A run killed mid-way (after its upload, before the POST): its lease still held by the dead invocation. */
  async function killedRun(w: ReturnType<typeof world>): Promise<string> {
    for (let i = 0; i < 3; i++) w.change(`pen_R${i}`, 1, `2026-03-01T0${i}:00:00.000Z`);
    const killed = await w.ask();
    const save = w.runs.save.bind(w.runs);
    w.runs.save = async (id, prev, cp, counts) => {
      if (cp.sendAttempts === 1) throw new Error('SIGKILL');
      return save(id, prev, cp, counts);
    };
    const release = w.leases.release.bind(w.leases);
    w.leases.release = async () => 'ok';
    await expect(runSync({ runId: killed }, w.deps)).rejects.toThrow('SIGKILL');
    w.runs.save = save;
    w.leases.release = release;
    return killed;
  }
  const reader = (w: ReturnType<typeof world>): LeaseReader => ({ current: async (job) => w.leases.items.get(job) });

  it('waits for the dead invocation’s lease to lapse, then resumes the run from its checkpoint: one package, completed', async () => {
    const w = world();
    const killed = await killedRun(w);
    w.advance(10_000); // the stack restarts 10 s later
    const sleeps: number[] = [];
    const deps = { ...w.deps, sleep: async (ms: number) => void (sleeps.push(ms), w.advance(ms)), leaseReader: reader(w) };
    const result = await resumeStoppedRun('sync-provincial', deps);
    expect(result).toEqual({ resumed: true, runId: killed, outcomes: { [killed]: 'completed' } });
    expect(sleeps[0]).toBe(syncLimits.leaseMs - 10_000 + LAPSE_MARGIN_MS);
    expect(w.posted.map((p) => p.headers['Idempotency-Key'])).toEqual([killed]);
    expect(w.run(killed).status).toBe('completed');
    // Once done, a second resume finds nothing stopped.
    expect(await resumeStoppedRun('sync-provincial', deps)).toEqual({ resumed: false, reason: 'nothing-stopped' });
  });

  it('finds nothing to resume without a lease, for another job, or when the run ended; does not wait past what the invocation has', async () => {
    const w = world();
    expect(await resumeStoppedRun('sync-provincial', { ...w.deps, leaseReader: reader(w) })).toEqual({ resumed: false, reason: 'nothing-stopped' });
    const killed = await killedRun(w);
    expect(await resumeStoppedRun('sync-national', { ...w.deps, leaseReader: reader(w) })).toEqual({ resumed: false, reason: 'nothing-stopped' });
    w.setRemaining(syncLimits.reserveMs + 1_000);
    expect(await resumeStoppedRun('sync-provincial', { ...w.deps, leaseReader: reader(w) })).toEqual({ resumed: false, reason: 'no-time', runId: killed });
    expect(w.posted).toEqual([]);
  });

  it('the runner takes {"resumeJob": …} (the schedules’ localStartInput) as a resume, and the catalogue fires it at local start for each sync job', () => {
    expect(runnerRequest({ resumeJob: 'sync-national' })).toEqual({ kind: 'resume', job: 'sync-national' });
    expect(runnerRequest({ resumeJob: 'sync-elsewhere' })).toEqual({ kind: 'unknown' });
    expect(schedules.syncProvincial).toMatchObject({ alsoAtLocalStart: true, localStartInput: { resumeJob: 'sync-provincial' }, input: { job: 'sync-provincial' } });
    expect(schedules.syncNational).toMatchObject({ alsoAtLocalStart: true, localStartInput: { resumeJob: 'sync-national' }, input: { job: 'sync-national' } });
  });
});
