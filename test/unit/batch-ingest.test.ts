/**
 * The batch ingest with in-memory ports: exact counts against the sample
 * generator's manifest, crashes at every checkpoint (before and after it is
 * saved, and in the middle of a chunk's writes) giving exactly the result of
 * an uninterrupted run, leases, the time margin, a replaced upload.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../shared/batch/batch-model.js';
import { DEFAULT_LIMITS } from '../../shared/batch/ingest-batch.js';
import type { RecordsStore } from '../../shared/store/records-store.js';
import { BatchHarness, sampleFile } from '../support/batch-harness.js';
import type { BatchManifest } from '../support/batch-sample/index.js';
import { license, personLicense } from '../support/fixtures.js';
import { Crash } from '../support/memory-batch-ports.js';

const harnesses: BatchHarness[] = [];
function harness(options?: ConstructorParameters<typeof BatchHarness>[0]): BatchHarness {
  const h = new BatchHarness(options);
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

const LEASE = DEFAULT_LIMITS.leaseMs;

// One CSV file (GB18030, quoted line feeds, repeats, 10% bad rows) and one NDJSON file, shared by the tests.
const csv = await sampleFile({ rows: 330, format: 'csv', encoding: 'gb18030', bad: 0.1, repeats: 0.08, seed: 11 });
const ndjson = await sampleFile({ rows: 330, format: 'ndjson', encoding: 'utf-8', bad: 0.1, repeats: 0.08, seed: 12 });
const FILES = { csv, ndjson } as const;
type FileName = keyof typeof FILES;
const declared = (name: FileName) => (name === 'csv' ? ({ format: 'csv', encoding: 'gb18030' } as const) : ({ format: 'ndjson', encoding: 'utf-8' } as const));

/** The result of ingesting `name` in one go, on a fresh store. */
async function uninterrupted(name: FileName) {
  const h = harness();
  h.addBatch('b', declared(name), FILES[name].bytes);
  const outcome = await h.ingest('b');
  if (outcome.outcome !== 'completed') throw new Error(`expected completed, got ${JSON.stringify(outcome)}`);
  return { counts: outcome.counts, snapshot: h.snapshot(), rejects: h.rejects.rows(outcome.rejectsKey!) };
}
const control = { csv: await uninterrupted('csv'), ndjson: await uninterrupted('ndjson') };

function badLines(manifest: BatchManifest): Map<number, string> {
  const lines = new Map<number, string>();
  for (const listed of Object.values(manifest.badByKind)) for (const bad of listed!.first) lines.set(bad.line, bad.field);
  return lines;
}

describe('ingestBatch: a whole file', () => {
  it.each(['csv', 'ndjson'] as const)('%s: counts exactly as the manifest says, and they add up', (name) => {
    const { counts } = control[name];
    expect(counts).toEqual(FILES[name].manifest.expected);
    expect(counts.accepted + counts.updated + counts.duplicates + counts.rejected).toBe(counts.total);
    expect(counts.updated).toBeGreaterThan(0);
    expect(counts.duplicates).toBeGreaterThan(0);
  });

  it.each(['csv', 'ndjson'] as const)('%s: the rejects file has each bad row once, at its line, for its field, identity numbers masked', async (name) => {
    const h = harness();
    h.addBatch('b', declared(name), FILES[name].bytes);
    const outcome = await h.ingest('b');
    expect(outcome).toMatchObject({ outcome: 'completed', rejectsKey: 'rejects/b.ndjson' });
    const expected = badLines(FILES[name].manifest);
    const rows = h.rejects.rows('rejects/b.ndjson');
    expect(rows.map((r) => r.line)).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const row of rows) {
      const field = expected.get(row.line)!;
      if (field !== '') expect(row.reasons.map((r) => r.field)).toContain(field);
    }
    const text = h.rejects.objects.get('rejects/b.ndjson')!.toString('utf8');
    // No identity number in clear: the masked ones keep 10 + 4 characters around ****.
    expect(text).not.toMatch(/\d{6}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]/);
    expect(text).toMatch(/\d{10}\*\*\*\*\d{3}[\dX]/);
    expect(h.batch('b')).toMatchObject({ status: 'completed', rejectsKey: 'rejects/b.ndjson', checkpoint: { counts: FILES[name].manifest.expected } });
    expect(h.batch('b').lease).toBeUndefined();
  });

  it('the batch is pushed as the court that created it, through the push path (records, versions, removed listings)', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    await h.ingest('b');
    const heads = [...h.records.heads.values()];
    expect(heads.every((r) => r.sourceId === 'bj-1zy' && r.kind === 'dishonest-debtor')).toBe(true);
    expect(heads.length).toBe(ndjson.manifest.expected.accepted);
    expect(heads.filter((r) => r.version > 1).length).toBeGreaterThan(0);
    expect(heads.some((r) => r.publication.state === 'ended')).toBe(true);
    // A person's identity number is stored encrypted and hashed, never in clear.
    const people = heads.filter((r) => r.fields.partyTypeName === '自然人');
    expect(people.length).toBeGreaterThan(0);
    for (const person of people) {
      expect(person.fields.cardNum).toBeUndefined();
      expect(person.certificate?.cipher).toMatch(/^v1\./);
    }
  });

  it('works for any push kind (licences in NDJSON)', async () => {
    const h = harness();
    const rows = [license(1), license(2), license(1), license(1, { XK_NR: '变更' }), personLicense(3), license(4, { XK_JDRQ: '2026-02-30' }), personLicense(5, { XK_XDR_ZJHM: '110102199101010079' })];
    h.addBatch('b', { kind: 'license', format: 'ndjson' }, rows.map((r) => JSON.stringify(r)).join('\n'));
    const outcome = await h.ingest('b', { limits: { chunkRows: 3 } });
    expect(outcome).toMatchObject({ outcome: 'completed', counts: { total: 7, accepted: 3, updated: 1, duplicates: 1, rejected: 2 } });
    const rejects = h.rejects.rows('rejects/b.ndjson');
    expect(rejects.map((r) => [r.line, r.reasons[0]!.field])).toEqual([
      [6, 'XK_JDRQ'],
      [7, 'XK_XDR_ZJHM'],
    ]);
    expect(rejects[1]!.row!.XK_XDR_ZJHM).toBe('1101021991****0079');
  });
});

describe('ingestBatch: crashes never lose or double a row', () => {
  type Moment = 'before' | 'after';

  /** Crashes the worker at its `at`-th checkpoint (before or after saving it); returns what that checkpoint was. */
  function crashAt(h: BatchHarness, at: number, moment: Moment) {
    let seen = 0;
    const crashed: { checkpoint?: Checkpoint } = {};
    const hook = (_batchId: string, owner: string, next: Checkpoint) => {
      if (++seen !== at) return;
      crashed.checkpoint = structuredClone(next);
      throw h.store.crash(owner);
    };
    if (moment === 'before') h.store.beforeCheckpoint = hook;
    else h.store.afterCheckpoint = hook;
    return crashed;
  }

  async function resume(h: BatchHarness) {
    h.store.beforeCheckpoint = undefined;
    h.store.afterCheckpoint = undefined;
    // The dead worker's lease holds until it expires; then the sweep continues the batch.
    expect(await h.ingest('b')).toEqual({ outcome: 'busy' });
    expect((await h.sweep()).resumed).toEqual([]);
    h.clock += LEASE + 1;
    expect((await h.sweep()).resumed).toEqual(['b']);
    return h.ingest('b');
  }

  // 330 rows in chunks of 50: 7 chunks (+ the CSV header's checkpoint).
  const cases = (['csv', 'ndjson'] as const).flatMap((name) => (['before', 'after'] as const).flatMap((moment) => [1, 2, 4, 7, 8].map((at) => [name, moment, at] as const)));

  it.each(cases)('%s: crash %s checkpoint %i, resume: the result of an uninterrupted run', async (name, moment, at) => {
    const h = harness();
    h.addBatch('b', declared(name), FILES[name].bytes);
    const crashed = crashAt(h, at, moment);
    const first = h.ingest('b');
    const checkpoints = name === 'csv' ? 8 : 7;
    if (at > checkpoints) {
      expect(await first).toMatchObject({ outcome: 'completed' });
      return;
    }
    await expect(first).rejects.toBeInstanceOf(Crash);
    const saved = h.batch('b').checkpoint!;
    if (moment === 'after') expect(saved).toEqual(crashed.checkpoint);
    else expect(saved.offset).toBeLessThan(crashed.checkpoint!.offset);

    h.objects.reads.length = 0;
    const outcome = await resume(h);
    expect(outcome).toMatchObject({ outcome: 'completed', counts: control[name].counts });
    // The resumed worker read from the checkpoint saved, not from the start.
    expect(h.objects.reads).toEqual([saved.offset]);
    expect(h.snapshot()).toEqual(control[name].snapshot);
    expect(h.rejects.rows('rejects/b.ndjson')).toEqual(control[name].rejects);
  });

  it('the chunk replayed after a crash before its checkpoint reports exactly the statuses of its first attempt', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    // Crash before the 5th checkpoint: chunk 5 (rows 201-250, with updates and duplicates of earlier rows) was written.
    const crashed = crashAt(h, 5, 'before');
    await expect(h.ingest('b')).rejects.toBeInstanceOf(Crash);
    const writes = h.records.writes;
    const parts = h.rejects.partWrites;
    h.store.beforeCheckpoint = undefined;
    const replayed: { checkpoint: Checkpoint; writes: number; parts: number }[] = [];
    h.store.afterCheckpoint = (_b, _o, next) => void replayed.push({ checkpoint: structuredClone(next), writes: h.records.writes, parts: h.rejects.partWrites });
    h.clock += LEASE + 1;
    expect(await h.ingest('b')).toMatchObject({ outcome: 'completed', counts: control.ndjson.counts });
    // Its first checkpoint is the one the crashed worker was saving: same offset, same counts, same reject parts.
    expect(replayed[0]!.checkpoint).toEqual(crashed.checkpoint);
    // Replaying it wrote no record again; its reject part was written again (replaced, not added).
    expect(replayed[0]!.writes).toBe(writes);
    expect(replayed[0]!.parts).toBe(parts + 1);
    expect(h.rejects.parts.size).toBe(h.batch('b').checkpoint!.rejectParts.length);
  });

  it('a crash in the middle of a chunk’s writes: the replay applies the rest once', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    let calls = 0;
    let owner = '';
    const dying: RecordsStore = {
      getHeads: (ids, signal) => h.records.getHeads(ids, signal),
      getRecord: (id) => h.records.getRecord(id),
      write: async (changes, signal) => {
        // The 4th write call of the run writes half its changes, then the process dies.
        if (++calls === 4) {
          await h.records.write(changes.slice(0, Math.ceil(changes.length / 2)), signal);
          throw h.store.crash(owner);
        }
        return h.records.write(changes, signal);
      },
    };
    owner = h.nextOwner();
    await expect(h.ingest('b', { owner, records: dying })).rejects.toBeInstanceOf(Crash);
    h.clock += LEASE + 1;
    expect(await h.ingest('b')).toMatchObject({ outcome: 'completed', counts: control.ndjson.counts });
    expect(h.snapshot()).toEqual(control.ndjson.snapshot);
  });

  it('an error (not a crash) releases the lease at once, for a retry to take over', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    const failing: RecordsStore = { ...h.records, getHeads: async () => Promise.reject(new Error('throttled')), write: async () => [], getRecord: async () => undefined };
    await expect(h.ingest('b', { records: failing })).rejects.toThrow('throttled');
    expect(h.batch('b')).toMatchObject({ status: 'processing' });
    expect(h.batch('b').lease).toBeUndefined();
    expect(await h.ingest('b')).toMatchObject({ outcome: 'completed', counts: control.ndjson.counts });
  });
});

describe('ingestBatch: one worker at a time', () => {
  it('a second invocation while the lease is held exits quietly, touching nothing', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    await h.store.takeLease('b', 'someone-else', h.clock + LEASE, h.clock);
    expect(await h.ingest('b')).toEqual({ outcome: 'busy' });
    expect(h.objects.reads).toEqual([]);
    expect(h.batch('b')).toMatchObject({ status: 'waiting', lease: { owner: 'someone-else' } });
  });

  it('a worker whose lease was taken over stops at its next checkpoint, saving nothing', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    let n = 0;
    h.store.beforeCheckpoint = (batchId) => {
      if (++n === 2) h.store.batches.get(batchId)!.lease = { owner: 'other', until: h.clock + LEASE };
    };
    expect(await h.ingest('b')).toEqual({ outcome: 'lost-lease' });
    expect(h.store.checkpointsSaved).toBe(1);
    expect(h.batch('b').lease).toEqual({ owner: 'other', until: h.clock + LEASE });
  });

  it('a finished batch is left alone; an unknown one is not found', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    await h.ingest('b');
    expect(await h.ingest('b')).toEqual({ outcome: 'finished' });
    expect(await h.ingest('nope')).toEqual({ outcome: 'not-found' });
  });

  it('a waiting batch with nothing uploaded stays waiting, its lease let go', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'));
    expect(await h.ingest('b')).toEqual({ outcome: 'no-upload' });
    expect(h.batch('b').status).toBe('waiting');
    expect(h.batch('b').lease).toBeUndefined();
  });
});

describe('ingestBatch: the time limit', () => {
  it('with less than the margin left after a chunk, saves the checkpoint, lets the lease go and asks to be continued', async () => {
    const h = harness();
    h.addBatch('b', declared('csv'), csv.bytes);
    // Asked once per chunk: plenty of time after the first two, 60 s left after the third (the margin is 90 s).
    let asked = 0;
    const remainingMs = () => (++asked < 3 ? 600_000 : 60_000);
    const first = await h.ingest('b', { remainingMs });
    expect(first).toMatchObject({ outcome: 'continued', checkpoint: { counts: { total: 150 } } });
    expect(h.continuer.asked).toEqual(['b']);
    expect(h.batch('b')).toMatchObject({ status: 'processing', checkpoint: { counts: { total: 150 } } });
    expect(h.batch('b').lease).toBeUndefined();
    // The continuation takes over at once (no lease to wait for) and finishes exactly.
    expect(await h.ingest('b')).toMatchObject({ outcome: 'completed', counts: control.csv.counts });
    expect(h.snapshot()).toEqual(control.csv.snapshot);
    expect(h.rejects.rows('rejects/b.ndjson')).toEqual(control.csv.rejects);
  });

  it('a file continued many times, one chunk per invocation, gives the same result', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    let outcome;
    let invocations = 0;
    do {
      outcome = await h.ingest('b', { remainingMs: () => 1000 });
      invocations++;
    } while (outcome.outcome === 'continued');
    expect(invocations).toBe(8);
    expect(outcome).toMatchObject({ outcome: 'completed', counts: control.ndjson.counts });
    expect(h.rejects.rows('rejects/b.ndjson')).toEqual(control.ndjson.rejects);
  });
});

describe('ingestBatch: the upload replaced while it is ingested', () => {
  it('fails the batch with a reason once its ETag changes, keeping the counts of what was ingested', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    let asked = 0;
    expect(await h.ingest('b', { remainingMs: () => (++asked < 2 ? 600_000 : 1000) })).toMatchObject({ outcome: 'continued' });
    h.objects.put('uploads/b', Buffer.concat([ndjson.bytes, Buffer.from('{"iname":"另一个文件"}\n')]));
    const outcome = await h.ingest('b');
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('the upload was replaced'), counts: { total: 100 } });
    expect(h.batch('b')).toMatchObject({ status: 'failed', reason: expect.stringContaining('before line 101'), checkpoint: { counts: { total: 100 } } });
  });

  it('the same file uploaded again (same ETag) is not a replacement', async () => {
    const h = harness();
    h.addBatch('b', declared('ndjson'), ndjson.bytes);
    expect(await h.ingest('b', { remainingMs: () => 1000 })).toMatchObject({ outcome: 'continued' });
    h.objects.put('uploads/b', Buffer.from(ndjson.bytes));
    let outcome;
    do outcome = await h.ingest('b');
    while (outcome.outcome === 'continued');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: control.ndjson.counts });
  });
});

describe('ingestBatch: the next chunk read ahead', () => {
  /**
   * A store that holds each write until the next chunk's heads have been read (or a moment has passed, for the
   * last chunk): the read-ahead then sees the records as they were before the current chunk's writes.
   */
  function holdingStore(h: BatchHarness) {
    const events: string[] = [];
    let readAhead = () => undefined as void;
    const store: RecordsStore = {
      getHeads: async (ids, signal, consistent) => {
        events.push(`read ${consistent === false ? 'eventual' : 'strong'} ${ids.length}`);
        const heads = await h.records.getHeads(ids, signal, consistent);
        if (consistent === false) readAhead();
        return heads;
      },
      write: async (changes, signal) => {
        await new Promise<void>((resolve) => {
          readAhead = resolve;
          setTimeout(resolve, 50);
        });
        events.push(`write ${changes.length}`);
        return h.records.write(changes, signal);
      },
      getRecord: (id) => h.records.getRecord(id),
    };
    return { store, events };
  }

  it('reads, prepares and reads the heads of the next chunk while this one is written; records in both are decided as if read after', async () => {
    const h = harness();
    // Chunks of 3: each record comes back in the next chunk, unchanged, changed, or changed back.
    const rows = [
      license(1), license(2), license(3),
      license(1), license(2, { XK_NR: '变更' }), license(4),
      license(2), license(3, { XK_NR: '变更' }), license(4),
      license(3, { XK_NR: '变更' }), license(1), license(5),
    ];
    h.addBatch('b', { kind: 'license', format: 'ndjson' }, rows.map((r) => JSON.stringify(r)).join('\n'));
    const { store, events } = holdingStore(h);
    const outcome = await h.ingest('b', { records: store, limits: { chunkRows: 3 } });
    expect(outcome).toMatchObject({ outcome: 'completed', counts: { total: 12, accepted: 5, updated: 3, duplicates: 4, rejected: 0 } });

    // The same file pushed chunk by chunk, each after the last was written, stores the same.
    const sequential = harness();
    for (let at = 0; at < rows.length; at += 3) {
      sequential.addBatch(`c${at}`, { kind: 'license', format: 'ndjson' }, rows.slice(at, at + 3).map((r) => JSON.stringify(r)).join('\n'));
      await sequential.ingest(`c${at}`);
    }
    expect(h.snapshot()).toEqual(sequential.snapshot());

    // The second chunk's heads were read before the first chunk's writes were made, and so on.
    const firstWrite = events.findIndex((e) => e.startsWith('write'));
    expect(events.slice(0, firstWrite + 1)).toEqual(['read eventual 3', 'read eventual 3', 'write 3']);
    // What the read-ahead decided on stale heads was decided again on a strong read.
    expect(events.filter((e) => e.startsWith('read strong')).length).toBeGreaterThan(0);
  });
});
