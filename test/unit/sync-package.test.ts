/**
 * The nightly sync's package (shared/sync/): its lines and header (deterministic bytes), what it does with each
 * package delivery (treatmentOf), the window (days in China, exclusive start, first run's lookback), the body written
 * segment by segment from paged reads of package deliveries expanded to their record versions (build-package.ts),
 * each line with its real-time package id, the list of the deliveries each segment carried, its SHA-256 over
 * several segments, and the gzip stream POSTed — read back by the built-in receiver's own check (verifyNdjson), the
 * same bytes every time.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyNdjson } from '../../infra/local/platform-receiver.js';
import { FieldCipher } from '../../shared/crypto/field-cipher.js';
import { ensureLocalKeys, LocalKeyring } from '../../shared/crypto/local-keyring.js';
import { initialCursor, writeNextSegment, type BuildPorts, type BuildState } from '../../shared/sync/build-package.js';
import { bodyDigest, packageStream } from '../../shared/sync/package-body.js';
import { carriedLine, headerLine, parseCarriedLine, syncLine, treatmentOf } from '../../shared/sync/package-lines.js';
import { carriedKey, EMPTY_BODY, newBody, nextSegmentKey, segmentKey, segmentKeys, withWriter, ZERO_COUNTS, type SyncHeader } from '../../shared/sync/sync-model.js';
import { changeDayOf, chinaDayOf, endOfChinaDay, FIRST_RUN_LOOKBACK_DAYS, nextDay, runBounds, windowDays, windowStart } from '../../shared/sync/sync-window.js';
import { packageIdOf, type PackageDelivery, type PackageRef } from '../../shared/upward/package-model.js';
import type { VersionContent } from '../../shared/upward/record-versions.js';
import { MemoryPackages, MemorySegments, MemoryVersions, settled, type PackageSpec } from './sync-fakes.js';

const PERSON_ID = '110102199101010078';
const KEY_DIR = mkdtempSync(join(tmpdir(), 'hub-sync-keys-'));
afterAll(() => rmSync(KEY_DIR, { recursive: true, force: true }));
ensureLocalKeys(KEY_DIR);
const cipher = new FieldCipher(new LocalKeyring(KEY_DIR));

/** A record version as stored (record-versions.ts VersionContent). */
function version(id: string, v: number, extra: Partial<VersionContent> = {}): VersionContent {
  return { id, kind: 'penalty', sourceId: 'shi-scjgj', version: v, fields: { CF_WSH: `罚${id}`, CF_XDR_MC: '某公司', CF_XDR_LB: '法人及非法人组织' }, ...extra };
}

const ref = (recordId: string, v = 1, operation: PackageRef['operation'] = 'upsert'): PackageRef => ({ recordId, version: v, operation });

describe('lines and header', () => {
  it('a line is the record version in a fixed key order, with the id of the real-time package that carries it, the fields as given (already in the standard order), and a newline', () => {
    const line = syncLine({ fields: { CF_WSH: 'w', CF_XDR_MC: 'm' }, packageId: 'p-1', version: 2, sourceId: 's', recordId: 'pen_A', kind: 'penalty', operation: 'upsert' });
    expect(line).toBe('{"operation":"upsert","kind":"penalty","recordId":"pen_A","version":2,"sourceId":"s","packageId":"p-1","fields":{"CF_WSH":"w","CF_XDR_MC":"m"}}\n');
  });

  it('the header line is {"header":{…}} in the manifest’s key order, whatever the order given', () => {
    const header = { bodySha256: 'b'.repeat(64), recordCount: 3, to: 't', from: 'f', createdAt: 'c', platform: 'national', sender: 's', packageId: 'run_x' } as SyncHeader;
    expect(headerLine(header)).toBe(`{"header":{"packageId":"run_x","sender":"s","platform":"national","createdAt":"c","from":"f","to":"t","recordCount":3,"bodySha256":"${'b'.repeat(64)}"}}\n`);
  });

  it('a pending or delivered package delivery is sent, a failed one is refused (skipped), a split one carries nothing itself', () => {
    expect(treatmentOf({ state: 'pending' })).toBe('send');
    expect(treatmentOf({ state: 'delivered' })).toBe('send');
    expect(treatmentOf({ state: 'failed' })).toBe('refused');
    expect(treatmentOf({ state: 'split' })).toBe('split');
  });

  it('a segment’s list of carried deliveries: one {"key","path"} line each, read back as written; anything else refused', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz';
    expect(carriedLine({ path: '01', key })).toBe(`{"key":"${key}","path":"01"}\n`);
    expect(parseCarriedLine(carriedLine({ key, path: '' }).trimEnd())).toEqual({ key, path: '' });
    expect(() => parseCarriedLine('{"key":"not a key","path":""}')).toThrow(/carried/);
    expect(() => parseCarriedLine(`{"key":"${key}","path":"2"}`)).toThrow(/carried/);
    expect(carriedKey(segmentKey('national', 'run_x', 3, 'tok-1'))).toBe('sync/national/run_x/tok-1/00003.carried.gz');
    expect(carriedKey(segmentKey('national', 'run_x', 3))).toBe('sync/national/run_x/00003.carried.gz'); // named before writers were
  });

  it('each segment’s key is its writer’s, as the checkpoint names the writers; a writer that wrote nothing is replaced; a body without a writer is never written to', () => {
    const body = { ...withWriter({ ...newBody('tok-a'), segments: 2 }, 'tok-b'), segments: 3 };
    expect(body.writers).toEqual([{ from: 1, id: 'tok-a' }, { from: 3, id: 'tok-b' }]);
    expect(segmentKeys('national', 'run_x', body)).toEqual(['tok-a/00001', 'tok-a/00002', 'tok-b/00003'].map((k) => `sync/national/run_x/${k}.ndjson.gz`));
    expect(nextSegmentKey('national', 'run_x', body)).toBe('sync/national/run_x/tok-b/00004.ndjson.gz');
    // tok-c takes over and writes nothing; tok-d after it writes segment 4.
    expect(withWriter(withWriter(body, 'tok-c'), 'tok-d').writers).toEqual([{ from: 1, id: 'tok-a' }, { from: 3, id: 'tok-b' }, { from: 4, id: 'tok-d' }]);
    // A checkpoint from before writers were named: its segments are read under their old keys; taken over, the next ones are the new writer's.
    const old = { ...EMPTY_BODY, segments: 2 };
    expect(segmentKeys('national', 'run_x', old)).toEqual(['00001', '00002'].map((k) => `sync/national/run_x/${k}.ndjson.gz`));
    expect(() => nextSegmentKey('national', 'run_x', old)).toThrow(/no writer/);
    expect(segmentKeys('national', 'run_x', { ...withWriter(old, 'tok-e'), segments: 3 }).at(-1)).toBe('sync/national/run_x/tok-e/00003.ndjson.gz');
    expect(() => withWriter(body, '../x')).toThrow(/writer id/);
  });
});

describe('the window', () => {
  it('days are China’s: 16:00 UTC starts the next day; the end of a day is 15:59:59.999 UTC', () => {
    expect(chinaDayOf('2026-03-01T15:59:59.999Z')).toBe('2026-03-01');
    expect(chinaDayOf('2026-03-01T16:00:00.000Z')).toBe('2026-03-02');
    expect(endOfChinaDay('2026-03-01')).toBe('2026-03-01T15:59:59.999Z');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(changeDayOf('national', '2026-03-01T16:00:00.000Z')).toBe('national#2026-03-02');
  });

  it('a run as of today ends now; as of an earlier day, at its end in China; after today is refused', () => {
    const now = new Date('2026-03-01T17:00:00.000Z'); // 01:00 on 2 March in China
    expect(runBounds(undefined, now)).toEqual({ asOf: '2026-03-02', to: now.toISOString() });
    expect(runBounds('2026-03-02', now)).toEqual({ asOf: '2026-03-02', to: now.toISOString() });
    expect(runBounds('2026-02-27', now)).toEqual({ asOf: '2026-02-27', to: '2026-02-27T15:59:59.999Z' });
    expect(() => runBounds('2026-03-03', now)).toThrow(RangeError);
  });

  it('starts at the watermark, or for a first run a lookback; touches every China day from its start to its end', () => {
    expect(windowStart('2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z')).toBe('2026-03-01T00:00:00.000Z');
    expect(Date.parse('2026-03-02T00:00:00.000Z') - Date.parse(windowStart(undefined, '2026-03-02T00:00:00.000Z'))).toBe(FIRST_RUN_LOOKBACK_DAYS * 86_400_000);
    expect(windowDays('2026-02-27T15:00:00.000Z', '2026-03-01T17:00:00.000Z')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect(windowDays('2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toEqual([]);
    expect(initialCursor('2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toEqual({ pass: 'owed' });
    expect(initialCursor('2026-02-28T17:00:00.000Z', '2026-03-01T00:00:00.000Z')).toEqual({ pass: 'changes', day: '2026-03-01' });
  });
});

describe('building the body', () => {
  const FROM = '2026-03-01T00:00:00.000Z';
  const TO = '2026-03-03T00:00:00.000Z';

  function world() {
    const packages = new MemoryPackages();
    const versions = new MemoryVersions();
    const segments = new MemorySegments();
    const ports = (over: Partial<BuildPorts> = {}): BuildPorts => ({
      pages: packages,
      bodies: packages,
      versions,
      cipher: async () => cipher,
      segments,
      pageSize: 2,
      readConcurrency: 2,
      maxSegmentRecords: 1000,
      timeLeft: () => true,
      ...over,
    });
    /** A package of `refs` created `at`, its delivery to the provincial platform, and the versions stored. */
    const add = (refs: PackageRef[], at: string, delivery: PackageSpec['delivery'] = {}, store = true): PackageDelivery => {
      if (store) for (const r of refs) versions.set(version(r.recordId, r.version));
      return packages.add({ refs, at, delivery });
    };
    return { packages, versions, segments, ports, add };
  }
  const start = (): BuildState => ({ cursor: initialCursor(FROM, TO), body: newBody('w1'), counts: { ...ZERO_COUNTS } });
  const target = { platform: 'provincial' as const, runId: 'run_t', from: FROM, to: TO };
  const text = (segments: MemorySegments, key: string) => gunzipSync(segments.objects.get(key)!).toString('utf8');
  const linesOf = (segments: MemorySegments, key: string) => text(segments, key).split('\n').filter(Boolean).map((l) => JSON.parse(l));

  it('sends the versions of the window’s package deliveries day by day, then of those still owed from before; skips refused ones, counting each version', async () => {
    const w = world();
    // The window's packages, across China days (16:00 UTC is the next day), one on the excluded start instant, one after the end.
    const onFrom = w.add([ref('pen_ON_FROM')], FROM);
    w.add([ref('pen_C1')], '2026-03-01T10:00:00.000Z', settled.delivered);
    const c2 = w.add([ref('pen_C2a'), ref('pen_C2b', 3, 'delete')], '2026-03-01T17:00:00.000Z');
    // Two versions of one record, each in its package: both are changes of the window.
    w.add([ref('pen_TWICE', 1)], '2026-03-01T18:00:00.000Z', settled.delivered);
    const twice = w.add([ref('pen_TWICE', 2)], '2026-03-02T01:00:00.000Z');
    w.add([ref('pen_REFUSED')], '2026-03-02T02:00:00.000Z', settled.failed);
    w.add([ref('pen_AFTER')], '2026-03-03T00:00:00.001Z');
    // Owed from long before the window, and one from before that was delivered (not owed).
    const owed = w.add([ref('pen_OWED', 4)], '2025-11-30T00:00:00.000Z');
    w.add([ref('pen_DONE')], '2025-11-30T00:00:00.000Z', settled.delivered);
    const state = await writeNextSegment(target, start(), w.ports());
    expect(state.cursor).toEqual({ pass: 'done' });
    // The one on the start instant belonged to the previous window: still owed, it comes with the owed ones.
    expect(state.counts).toEqual({ changes: 5, owed: 2, skipped: 1, records: 7, bytes: 0 });
    const key = segmentKey('provincial', 'run_t', 1, 'w1');
    expect(state.body).toEqual({ segments: 1, records: 7, bytes: Buffer.byteLength(text(w.segments, key)), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), writers: [{ from: 1, id: 'w1' }] });
    const lines = linesOf(w.segments, key);
    expect(lines.map((l) => `${l.recordId}@${l.version} ${l.operation}`)).toEqual([
      'pen_C1@1 upsert',
      'pen_C2a@1 upsert',
      'pen_C2b@3 delete',
      'pen_TWICE@1 upsert',
      'pen_TWICE@2 upsert',
      'pen_OWED@4 upsert',
      'pen_ON_FROM@1 upsert',
    ]);
    // Read day by day (3 China days: 1, 2 and 3 March; 2 March in two pages of 2), then the owed index.
    expect(w.packages.queries.filter((q) => q.startsWith('changes')).map((q) => q.split(' ')[2])).toEqual(['2026-03-01', '2026-03-02', '2026-03-02', '2026-03-03']);
    expect(w.packages.queries.at(-1)).toBe('owed provincial');
    // Carried whole, and pending: marked delivered once acknowledged (not the delivered ones, not the refused one).
    expect(linesOf(w.segments, carriedKey(key))).toEqual([c2, twice, owed, onFrom].map((d) => ({ key: d.key, path: '' })));
    // One read of the stored versions per page that had some to send.
    expect(w.versions.reads).toEqual([['pen_C1@1'], ['pen_C2a@1', 'pen_C2b@3', 'pen_TWICE@1'], ['pen_TWICE@2'], ['pen_OWED@4', 'pen_ON_FROM@1']]);
  });

  it('each line carries the real-time package id of the delivery that carries it: a part’s own after a split', async () => {
    const w = world();
    const whole = w.add([ref('pen_W1'), ref('pen_W2')], '2026-03-01T10:00:00.000Z');
    const splitAt = '2026-03-01T11:00:00.000Z';
    const parent = w.add([ref('pen_S1'), ref('pen_S2'), ref('pen_S3')], '2026-03-01T10:30:00.000Z');
    const [first, second] = w.packages.split(parent, splitAt);
    // The refused record is alone in its part: failed (in the dead-letter list), skipped; the others are sent.
    const [refused, other] = w.packages.split(first!, '2026-03-01T11:30:00.000Z');
    w.packages.put({ ...w.packages.get(refused!)!, state: 'failed', failedBy: 'provincial' });
    delete w.packages.get(refused!)!.owedBy;
    const state = await writeNextSegment(target, start(), w.ports());
    expect(state.body.segments).toBe(1);
    const lines = linesOf(w.segments, segmentKey('provincial', 'run_t', 1, 'w1'));
    expect(lines.map((l) => [l.recordId, l.packageId])).toEqual([
      ['pen_W1', whole.packageId],
      ['pen_W2', whole.packageId],
      ['pen_S3', packageIdOf('provincial', parent.key, '1')],
      ['pen_S2', packageIdOf('provincial', parent.key, '01')],
    ]);
    expect(second!.packageId).toBe(packageIdOf('provincial', parent.key, '1'));
    expect(new Set(lines.map((l) => l.packageId)).has(parent.packageId)).toBe(false);
    // The split ones carry nothing; the refused part's record is skipped, counted.
    expect(state.counts).toEqual({ changes: 4, owed: 0, skipped: 1, records: 4, bytes: 0 });
    expect(linesOf(w.segments, carriedKey(segmentKey('provincial', 'run_t', 1, 'w1')))).toEqual([whole, second!, other!].map((d) => ({ key: d.key, path: d.path })));
  });

  it('a version whose record is no longer stored is skipped, and its delivery is not carried (it was not sent whole)', async () => {
    const w = world();
    const partly = w.add([ref('pen_KEPT'), ref('pen_GONE')], '2026-03-01T10:00:00.000Z', {}, false);
    w.versions.set(version('pen_KEPT', 1));
    const state = await writeNextSegment(target, start(), w.ports());
    expect(linesOf(w.segments, segmentKey('provincial', 'run_t', 1, 'w1')).map((l) => [l.recordId, l.packageId])).toEqual([['pen_KEPT', partly.packageId]]);
    expect(state.counts).toMatchObject({ changes: 1, skipped: 1, records: 1 });
    expect(text(w.segments, carriedKey(segmentKey('provincial', 'run_t', 1, 'w1')))).toBe('');
  });

  it('a delivery whose package has no closed body is a fault (thrown, tried again), not a package without it', async () => {
    const w = world();
    const d = w.add([ref('pen_A')], '2026-03-01T10:00:00.000Z');
    w.packages.bodies.get(d.key)!.open = true;
    await expect(writeNextSegment(target, start(), w.ports())).rejects.toThrow(/no closed body/);
    w.packages.bodies.delete(d.key);
    await expect(writeNextSegment(target, start(), w.ports())).rejects.toThrow(/no closed body/);
    expect(w.segments.writes).toBe(0);
  });

  it('a natural person’s certificate number goes in full in its field; the line holds the version’s operation', async () => {
    const w = world();
    const id = 'pen_PERSON';
    w.versions.set(
      version(id, 1, {
        fields: { CF_WSH: '罚1', CF_XDR_MC: '李四', CF_XDR_LB: '自然人', CF_XDR_ZJLX: '身份证' },
        certificate: { type: '身份证', cipher: await cipher.encrypt(PERSON_ID, `${id}:CF_XDR_ZJHM`), hash: 'v1#h' },
      }),
    );
    const d = w.add([ref(id, 1, 'delete')], '2026-03-01T10:00:00.000Z', {}, false);
    const state = await writeNextSegment(target, start(), w.ports());
    expect(state.body.segments).toBe(1);
    const [line] = linesOf(w.segments, segmentKey('provincial', 'run_t', 1, 'w1'));
    expect(line).toMatchObject({ operation: 'delete', kind: 'penalty', recordId: id, version: 1, sourceId: 'shi-scjgj', packageId: d.packageId });
    expect(line.fields.CF_XDR_ZJHM).toBe(PERSON_ID);
  });

  it('ends a segment at the page that fills it, and the next segment goes on from there: the same lines as one segment, each delivery carried by the segment that holds its versions', async () => {
    const make = () => {
      const w = world();
      for (let i = 0; i < 7; i++) {
        const id = `pen_${String.fromCharCode(65 + i)}`;
        // Packages of 1 and 2 versions: a delivery's versions are never split between segments.
        w.add(i % 2 === 0 ? [ref(id)] : [ref(id), ref(`${id}2`)], `2026-03-01T1${i}:00:00.000Z`);
      }
      return w;
    };
    const whole = make();
    const one = await writeNextSegment(target, start(), whole.ports());
    const split = make();
    let state = start();
    const sizes: number[] = [];
    while (state.cursor.pass !== 'done') {
      const before = state.body.records;
      state = await writeNextSegment(target, state, split.ports({ maxSegmentRecords: 3 }));
      if (state.body.records > before) sizes.push(state.body.records - before);
    }
    // Pages of 2 deliveries (3 versions each but the last): a segment ends at the page that takes it to 3 or more.
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(state.body.segments).toBe(4);
    expect(state.body.sha256).toBeUndefined();
    expect(state.counts).toEqual(one.counts);
    const keys = segmentKeys('provincial', 'run_t', state.body);
    expect(keys).toEqual([1, 2, 3, 4].map((n) => segmentKey('provincial', 'run_t', n, 'w1')));
    const joined = Buffer.concat(keys.map((k) => gunzipSync(split.segments.objects.get(k)!)));
    const single = gunzipSync(whole.segments.objects.get(segmentKey('provincial', 'run_t', 1, 'w1'))!);
    expect(joined.equals(single)).toBe(true);
    const carried = keys.map((k) => linesOf(split.segments, carriedKey(k)).length);
    expect(carried).toEqual([2, 2, 2, 1]);
    // Its SHA-256 read back over the segments is the one segment's.
    expect(await bodyDigest(state.body, keys, split.segments)).toEqual({ sha256: one.body.sha256, bytes: single.length, records: 10 });
  });

  it('stops at a page boundary when time runs short; pages with nothing to send move the cursor without a segment', async () => {
    const w = world();
    w.add([ref('pen_SKIPPED'), ref('pen_SKIPPED2')], '2026-03-01T10:00:00.000Z', settled.failed);
    let pagesLeft = 1;
    const state = await writeNextSegment(target, start(), w.ports({ timeLeft: () => pagesLeft-- > 0 }));
    expect(state.body).toEqual(start().body);
    expect(w.segments.writes).toBe(0);
    expect(state.cursor).toEqual({ pass: 'changes', day: '2026-03-02' });
    expect(state.counts.skipped).toBe(2);
  });

  it('a body with nothing to send has the SHA-256 of no bytes', async () => {
    expect(await bodyDigest(EMPTY_BODY, [], new MemorySegments())).toEqual({ sha256: createHash('sha256').digest('hex'), bytes: 0, records: 0 });
  });
});

describe('the package on the wire', () => {
  it('is one gzip stream of the header line and the segments, which the receiver’s check accepts; the same bytes every time', async () => {
    const segments = new MemorySegments();
    const keys = segmentKeys('provincial', 'run_x', { ...newBody('w1'), segments: 2 });
    const a = await segments.write(keys[0]!, (async function* () {
      yield syncLine({ operation: 'upsert', kind: 'penalty', recordId: 'pen_A', version: 1, sourceId: 's', packageId: 'p-1', fields: { CF_WSH: '甲' } });
      yield syncLine({ operation: 'delete', kind: 'penalty', recordId: 'pen_B', version: 3, sourceId: 's', packageId: 'p-1', fields: { CF_WSH: '乙' } });
    })());
    const b = await segments.write(keys[1]!, (async function* () {
      yield syncLine({ operation: 'upsert', kind: 'license', recordId: 'lic_C', version: 2, sourceId: 's', packageId: 'p-2', fields: { XK_WSH: '丙' } });
    })());
    const digest = await bodyDigest({ segments: 2, records: a.records + b.records, bytes: a.bytes + b.bytes }, keys, segments);
    const header: SyncHeader = { packageId: 'run_x', sender: '91110000600037341L', platform: 'provincial', createdAt: '2026-03-03T00:00:00.000Z', from: 'f', to: 't', recordCount: digest.records, bodySha256: digest.sha256 };
    const first = packageStream(header, keys, segments);
    const bytes = await buffer(first.stream);
    expect(first.sent()).toBe(bytes.length);
    const text = gunzipSync(bytes).toString('utf8');
    expect(verifyNdjson(text)).toMatchObject({ records: 3, packageId: 'run_x' });
    expect(text.split('\n')[0]).toBe(headerLine(header).trimEnd());
    const again = await buffer(packageStream(header, keys, segments).stream);
    expect(again.equals(bytes)).toBe(true);
  });

  it('a wrong count or hash is what the receiver refuses (the check is real)', async () => {
    const segments = new MemorySegments();
    const a = await segments.write('k', (async function* () {
      yield syncLine({ operation: 'upsert', kind: 'penalty', recordId: 'pen_A', version: 1, sourceId: 's', packageId: 'p-1', fields: {} });
    })());
    const header: SyncHeader = { packageId: 'run_x', sender: 's', platform: 'national', createdAt: 'c', from: 'f', to: 't', recordCount: 1, bodySha256: a.sha256 };
    const text = async (h: SyncHeader) => gunzipSync(await buffer(packageStream(h, ['k'], segments).stream)).toString('utf8');
    await expect(text({ ...header, recordCount: 2 }).then(verifyNdjson)).rejects.toThrow(/recordCount/);
    await expect(text({ ...header, bodySha256: '0'.repeat(64) }).then(verifyNdjson)).rejects.toThrow(/bodySha256/);
  });
});
