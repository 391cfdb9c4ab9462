/**
 * The nightly sync's package (shared/sync/): its lines and header (deterministic bytes), which versions go in
 * (inclusionOf), the window (days in China, exclusive start, first run's lookback), the body written segment by
 * segment from paged reads (build-package.ts), its SHA-256 over several segments, and the gzip stream POSTed —
 * read back by the built-in receiver's own check (verifyNdjson), the same bytes every time.
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
import type { StoredHead } from '../../shared/domain/record-model.js';
import { initialCursor, writeNextSegment, type BuildPorts, type BuildState } from '../../shared/sync/build-package.js';
import { bodyDigest, packageStream } from '../../shared/sync/package-body.js';
import { headerLine, inclusionOf, syncLine } from '../../shared/sync/package-lines.js';
import { segmentKey, ZERO_COUNTS, type SyncHeader } from '../../shared/sync/sync-model.js';
import { changeDayOf, chinaDayOf, endOfChinaDay, FIRST_RUN_LOOKBACK_DAYS, nextDay, runBounds, windowDays, windowStart } from '../../shared/sync/sync-window.js';
import { newDelivery, type Delivery } from '../../shared/upward/delivery-model.js';
import { MemoryDeliveries, MemoryHeads, MemorySegments } from './sync-fakes.js';

const PERSON_ID = '110102199101010078';
const KEY_DIR = mkdtempSync(join(tmpdir(), 'hub-sync-keys-'));
afterAll(() => rmSync(KEY_DIR, { recursive: true, force: true }));
ensureLocalKeys(KEY_DIR);
const cipher = new FieldCipher(new LocalKeyring(KEY_DIR));

const ACTIVE = { status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };

function head(id: string, version: number, extra: Partial<StoredHead> = {}): StoredHead {
  return {
    id,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    identity: `罚${id}`,
    version,
    subjectKey: 'USCC#x',
    decisionDate: '2026-01-05',
    late: false,
    firstReceivedAt: '2026-01-05T02:00:00.000Z',
    receivedAt: '2026-01-06T03:04:05.678Z',
    ...ACTIVE,
    fields: { CF_WSH: `罚${id}`, CF_XDR_MC: '某公司', CF_XDR_LB: '法人及非法人组织' },
    contentHash: 'h',
    ...extra,
  } as StoredHead;
}

const delivery = (id: string, version: number, at: string, more: Partial<Delivery> = {}): Delivery => ({ ...newDelivery({ id, version, ...ACTIVE }, 'provincial', new Date(at)), ...more });

describe('lines and header', () => {
  it('a line is the record version in a fixed key order, the fields as given (already in the standard order), and a newline', () => {
    const line = syncLine({ fields: { CF_WSH: 'w', CF_XDR_MC: 'm' }, version: 2, sourceId: 's', recordId: 'pen_A', kind: 'penalty', operation: 'upsert' } as never);
    expect(line).toBe('{"operation":"upsert","kind":"penalty","recordId":"pen_A","version":2,"sourceId":"s","fields":{"CF_WSH":"w","CF_XDR_MC":"m"}}\n');
  });

  it('the header line is {"header":{…}} in the manifest’s key order, whatever the order given', () => {
    const header = { bodySha256: 'b'.repeat(64), recordCount: 3, to: 't', from: 'f', createdAt: 'c', platform: 'national', sender: 's', packageId: 'run_x' } as SyncHeader;
    expect(headerLine(header)).toBe(`{"header":{"packageId":"run_x","sender":"s","platform":"national","createdAt":"c","from":"f","to":"t","recordCount":3,"bodySha256":"${'b'.repeat(64)}"}}\n`);
  });

  it('inclusion: the current version is sent; an older, superseded or refused one, or a record gone, is not; a head behind the delivery is a fault', () => {
    expect(inclusionOf({ recordId: 'a', version: 2, state: 'pending' }, { version: 2 })).toBe('send');
    expect(inclusionOf({ recordId: 'a', version: 2, state: 'delivered' }, { version: 2 })).toBe('send');
    expect(inclusionOf({ recordId: 'a', version: 1, state: 'delivered' }, { version: 2 })).toBe('superseded');
    expect(inclusionOf({ recordId: 'a', version: 2, state: 'superseded' }, { version: 2 })).toBe('superseded');
    expect(inclusionOf({ recordId: 'a', version: 2, state: 'failed' }, { version: 2 })).toBe('refused');
    expect(inclusionOf({ recordId: 'a', version: 2, state: 'pending' }, undefined)).toBe('gone');
    expect(() => inclusionOf({ recordId: 'a', version: 3, state: 'pending' }, { version: 2 })).toThrow(/head is at version 2/);
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
    const deliveries = new MemoryDeliveries();
    const heads = new MemoryHeads();
    const segments = new MemorySegments();
    const ports = (over: Partial<BuildPorts> = {}): BuildPorts => ({
      pages: deliveries,
      heads,
      cipher: async () => cipher,
      segments,
      pageSize: 2,
      headConcurrency: 2,
      maxSegmentRecords: 1000,
      timeLeft: () => true,
      ...over,
    });
    return { deliveries, heads, segments, ports };
  }
  const start = (): BuildState => ({ cursor: initialCursor(FROM, TO), segments: [], counts: { ...ZERO_COUNTS } });
  const target = { platform: 'provincial' as const, runId: 'run_t', from: FROM, to: TO };
  const linesOf = (segments: MemorySegments, key: string) => gunzipSync(segments.objects.get(key)!).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

  it('sends the window’s changes day by day, then what is still owed from before; skips the rest, counting each', async () => {
    const w = world();
    // The window's changes, across China days (16:00 UTC is the next day), some on the excluded start instant or after the end.
    w.deliveries.put(delivery('pen_ON_FROM', 1, FROM));
    w.deliveries.put(delivery('pen_C1', 1, '2026-03-01T10:00:00.000Z', { state: 'delivered', owedBy: undefined }));
    w.deliveries.put(delivery('pen_C2', 1, '2026-03-01T17:00:00.000Z'));
    w.deliveries.put(delivery('pen_OLDV', 1, '2026-03-01T18:00:00.000Z', { state: 'delivered', owedBy: undefined }));
    w.deliveries.put(delivery('pen_OLDV', 2, '2026-03-02T01:00:00.000Z'));
    w.deliveries.put(delivery('pen_REFUSED', 1, '2026-03-02T02:00:00.000Z', { state: 'failed', owedBy: undefined }));
    w.deliveries.put(delivery('pen_GONE', 1, '2026-03-02T03:00:00.000Z'));
    w.deliveries.put(delivery('pen_AFTER', 1, '2026-03-03T00:00:00.001Z'));
    // Owed from long before the window, and one from before that was delivered (not owed).
    w.deliveries.put(delivery('pen_OWED', 4, '2025-11-30T00:00:00.000Z'));
    w.deliveries.put(delivery('pen_DONE', 1, '2025-11-30T00:00:00.000Z', { state: 'delivered', owedBy: undefined }));
    for (const [id, v] of [['pen_ON_FROM', 1], ['pen_C1', 1], ['pen_C2', 1], ['pen_OLDV', 2], ['pen_REFUSED', 1], ['pen_AFTER', 1], ['pen_OWED', 4], ['pen_DONE', 1]] as const) {
      w.heads.heads.set(id, head(id, v));
    }
    const state = await writeNextSegment(target, start(), w.ports());
    expect(state.cursor).toEqual({ pass: 'done' });
    // The one on the start instant belonged to the previous window: still owed, it comes with the owed ones.
    expect(state.counts).toEqual({ changes: 3, owed: 2, skipped: 3, records: 5, bytes: 0 });
    expect(state.segments).toHaveLength(1);
    const key = segmentKey('provincial', 'run_t', 1);
    expect(state.segments[0]!.key).toBe(key);
    expect(linesOf(w.segments, key).map((l) => `${l.recordId}@${l.version}`)).toEqual(['pen_C1@1', 'pen_C2@1', 'pen_OLDV@2', 'pen_OWED@4', 'pen_ON_FROM@1']);
    // Read day by day (3 China days: 1, 2 and 3 March; 2 March in three pages of 2), then the owed index.
    expect(w.deliveries.queries.filter((q) => q.startsWith('changes')).map((q) => q.split(' ')[2])).toEqual(['2026-03-01', '2026-03-02', '2026-03-02', '2026-03-02', '2026-03-03']);
    expect(w.deliveries.queries.at(-1)).toBe('owed provincial');
  });

  it('a natural person’s certificate number goes in full in its field; the line holds the version’s operation', async () => {
    const w = world();
    const id = 'pen_PERSON';
    const person = head(id, 1, {
      fields: { CF_WSH: '罚1', CF_XDR_MC: '李四', CF_XDR_LB: '自然人', CF_XDR_ZJLX: '身份证' },
      certificate: { type: '身份证', cipher: await cipher.encrypt(PERSON_ID, `${id}:CF_XDR_ZJHM`), hash: 'v1#h' },
      status: 'removed',
    } as Partial<StoredHead>);
    w.heads.heads.set(id, person);
    w.deliveries.put(delivery(id, 1, '2026-03-01T10:00:00.000Z', { operation: 'delete' }));
    const state = await writeNextSegment(target, start(), w.ports());
    const [line] = linesOf(w.segments, state.segments[0]!.key);
    expect(line).toMatchObject({ operation: 'delete', kind: 'penalty', recordId: id, version: 1, sourceId: 'shi-scjgj' });
    expect(line.fields.CF_XDR_ZJHM).toBe(PERSON_ID);
  });

  it('ends a segment at the page that fills it, and the next segment goes on from there: the same lines as one segment', async () => {
    const make = () => {
      const w = world();
      for (let i = 0; i < 7; i++) {
        const id = `pen_${String.fromCharCode(65 + i)}`;
        w.deliveries.put(delivery(id, 1, `2026-03-01T1${i}:00:00.000Z`));
        w.heads.heads.set(id, head(id, 1));
      }
      return w;
    };
    const whole = make();
    const one = await writeNextSegment(target, start(), whole.ports());
    const split = make();
    let state = start();
    const sizes: number[] = [];
    while (state.cursor.pass !== 'done') {
      const before = state.segments.length;
      state = await writeNextSegment(target, state, split.ports({ maxSegmentRecords: 3 }));
      if (state.segments.length > before) sizes.push(state.segments.at(-1)!.records);
    }
    expect(sizes).toEqual([4, 3]); // pages of 2: a segment ends at the page that takes it to 3 or more
    expect(state.counts).toEqual(one.counts);
    const joined = Buffer.concat(state.segments.map((s) => gunzipSync(split.segments.objects.get(s.key)!)));
    const single = gunzipSync(whole.segments.objects.get(one.segments[0]!.key)!);
    expect(joined.equals(single)).toBe(true);
    // Its SHA-256 read back over both segments is the one segment's.
    expect(await bodyDigest(state.segments, split.segments)).toEqual({ sha256: one.segments[0]!.sha256, bytes: single.length, records: 7 });
  });

  it('stops at a page boundary when time runs short; pages with nothing to send move the cursor without a segment', async () => {
    const w = world();
    w.deliveries.put(delivery('pen_SKIPPED', 1, '2026-03-01T10:00:00.000Z', { state: 'failed', owedBy: undefined }));
    let pagesLeft = 1;
    const state = await writeNextSegment(target, start(), w.ports({ timeLeft: () => pagesLeft-- > 0 }));
    expect(state.segments).toEqual([]);
    expect(w.segments.writes).toBe(0);
    expect(state.cursor).toEqual({ pass: 'changes', day: '2026-03-02' });
    expect(state.counts.skipped).toBe(1);
  });

  it('a body with nothing to send has the SHA-256 of no bytes', async () => {
    expect(await bodyDigest([], new MemorySegments())).toEqual({ sha256: createHash('sha256').digest('hex'), bytes: 0, records: 0 });
  });
});

describe('the package on the wire', () => {
  it('is one gzip stream of the header line and the segments, which the receiver’s check accepts; the same bytes every time', async () => {
    const segments = new MemorySegments();
    const a = await segments.write('sync/p/run_x/00001.ndjson.gz', (async function* () {
      yield syncLine({ operation: 'upsert', kind: 'penalty', recordId: 'pen_A', version: 1, sourceId: 's', fields: { CF_WSH: '甲' } });
      yield syncLine({ operation: 'delete', kind: 'penalty', recordId: 'pen_B', version: 3, sourceId: 's', fields: { CF_WSH: '乙' } });
    })());
    const b = await segments.write('sync/p/run_x/00002.ndjson.gz', (async function* () {
      yield syncLine({ operation: 'upsert', kind: 'license', recordId: 'lic_C', version: 2, sourceId: 's', fields: { XK_WSH: '丙' } });
    })());
    const digest = await bodyDigest([a, b], segments);
    const header: SyncHeader = { packageId: 'run_x', sender: '91110000600037341L', platform: 'provincial', createdAt: '2026-03-03T00:00:00.000Z', from: 'f', to: 't', recordCount: digest.records, bodySha256: digest.sha256 };
    const first = packageStream(header, [a, b], segments);
    const bytes = await buffer(first.stream);
    expect(first.sent()).toBe(bytes.length);
    const text = gunzipSync(bytes).toString('utf8');
    expect(verifyNdjson(text)).toMatchObject({ records: 3, packageId: 'run_x' });
    expect(text.split('\n')[0]).toBe(headerLine(header).trimEnd());
    const again = await buffer(packageStream(header, [a, b], segments).stream);
    expect(again.equals(bytes)).toBe(true);
  });

  it('a wrong count or hash is what the receiver refuses (the check is real)', async () => {
    const segments = new MemorySegments();
    const a = await segments.write('k', (async function* () {
      yield syncLine({ operation: 'upsert', kind: 'penalty', recordId: 'pen_A', version: 1, sourceId: 's', fields: {} });
    })());
    const header: SyncHeader = { packageId: 'run_x', sender: 's', platform: 'national', createdAt: 'c', from: 'f', to: 't', recordCount: 1, bodySha256: a.sha256 };
    const text = async (h: SyncHeader) => gunzipSync(await buffer(packageStream(h, [a], segments).stream)).toString('utf8');
    await expect(text({ ...header, recordCount: 2 }).then(verifyNdjson)).rejects.toThrow(/recordCount/);
    await expect(text({ ...header, bodySha256: '0'.repeat(64) }).then(verifyNdjson)).rejects.toThrow(/bodySha256/);
  });
});
