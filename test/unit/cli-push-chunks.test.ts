/**
 * Push chunks (cli/push-chunks.ts): by count and by bytes, rows rejected while reading carried but
 * not sent, the same bytes and keys whenever the same file is read again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkKey, chunkRows, PUSH_LIMITS, type ChunkLimits, type PushChunk } from '../../cli/push-chunks.js';
import { readFileRows, type FileRow } from '../../cli/record-reader.js';
import { penalty } from '../support/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hub-cli-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* rowsOf(records: (Record<string, unknown> | null)[]): AsyncGenerator<FileRow> {
  let offset = 0;
  for (const [i, record] of records.entries()) {
    const size = record ? JSON.stringify(record).length + 1 : 10;
    yield { line: i + 1, start: offset, end: offset + size, record, ...(record ? {} : { errors: [{ field: '', message: 'unreadable' }] }) };
    offset += size;
  }
}

async function chunksOf(rows: AsyncIterable<FileRow>, limits: ChunkLimits): Promise<PushChunk[]> {
  const out: PushChunk[] = [];
  for await (const c of chunkRows(rows, limits)) out.push(c);
  return out;
}

const bodyRecords = (c: PushChunk) => (JSON.parse(c.body!.toString('utf8')) as { records: { CF_WSH: string }[] }).records;

describe('chunkRows', () => {
  it('cuts 2,500 records into requests of 1,000, 1,000 and 500, in order, bodies {"records":[…]}', async () => {
    const records = Array.from({ length: 2500 }, (_, i) => penalty(i));
    const chunks = await chunksOf(rowsOf(records), PUSH_LIMITS);
    expect(chunks.map((c) => c.rows.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flatMap(bodyRecords).map((r) => r.CF_WSH)).toEqual(records.map((r) => r.CF_WSH));
    expect(chunks[1]!.start).toBe(chunks[0]!.end);
    expect(chunks[1]!.sent).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('closes a chunk before its body would pass maxBytes; every body is within it', async () => {
    const records = Array.from({ length: 300 }, (_, i) => penalty(i, { CF_SY: '经查'.repeat(i % 50) }));
    const maxBytes = 20_000;
    const chunks = await chunksOf(rowsOf(records), { maxRecords: 1000, maxBytes });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.body!.length).toBeLessThanOrEqual(maxBytes);
    // Full: the next record would not have fitted.
    for (const [i, c] of chunks.slice(0, -1).entries()) {
      const next = bodyRecords(chunks[i + 1]!)[0]!;
      expect(c.body!.length + 1 + Buffer.byteLength(JSON.stringify(next))).toBeGreaterThan(maxBytes);
    }
    expect(chunks.flatMap(bodyRecords)).toHaveLength(300);
  });

  it('carries rows rejected while reading in their chunk without sending them; a chunk of only such rows has no body', async () => {
    const chunks = await chunksOf(rowsOf([penalty(1), null, penalty(2), null, null]), { maxRecords: 3, maxBytes: PUSH_LIMITS.maxBytes });
    expect(chunks[0]!.rows.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(chunks[0]!.sent).toEqual([0, 2]);
    expect(bodyRecords(chunks[0]!).map((r) => r.CF_WSH)).toEqual([penalty(1).CF_WSH, penalty(2).CF_WSH]);
    expect(chunks[1]).toMatchObject({ sent: [], body: undefined });
    expect(chunks[1]!.rows.map((r) => r.line)).toEqual([4, 5]);
  });

  it('rejects, without sending, a record that alone is over the request limit', async () => {
    const chunks = await chunksOf(rowsOf([penalty(1), penalty(2, { CF_SY: 'x'.repeat(5000) }), penalty(3)]), { maxRecords: 1000, maxBytes: 4000 });
    const rows = chunks.flatMap((c) => c.rows);
    expect(rows[1]).toMatchObject({ record: null, errors: [{ message: expect.stringContaining('4000-byte request limit') }] });
    expect(chunks.flatMap(bodyRecords).map((r) => r.CF_WSH)).toEqual([penalty(1).CF_WSH, penalty(3).CF_WSH]);
  });
});

describe('the same file gives the same chunks and keys', () => {
  it('byte for byte, read twice (CSV or NDJSON), so a resumed push repeats its keys', async () => {
    const path = join(dir, 'same.ndjson');
    writeFileSync(path, Array.from({ length: 1200 }, (_, i) => JSON.stringify(penalty(i))).join('\n'));
    const once = async () => (await chunksOf(readFileRows(path, { format: 'ndjson', encoding: 'utf-8', kind: 'penalty' }), PUSH_LIMITS)).map((c) => ({ start: c.start, body: c.body }));
    const [a, b] = [await once(), await once()];
    expect(a.map((c) => chunkKey('run-1', c))).toEqual(b.map((c) => chunkKey('run-1', c)));
    expect(Buffer.compare(a[1]!.body!, b[1]!.body!)).toBe(0);
  });
});

describe('chunkKey', () => {
  const chunk = { start: 0, body: Buffer.from('{"records":[{"CF_WSH":"1"}]}') };
  it('is the same for the same run, offset and body, and printable ASCII of at most 255 characters', () => {
    expect(chunkKey('3f0c1c9e-5a5e-4a57-9d43-3a4f0b5f2a11', chunk)).toBe(chunkKey('3f0c1c9e-5a5e-4a57-9d43-3a4f0b5f2a11', { ...chunk }));
    expect(chunkKey('3f0c1c9e-5a5e-4a57-9d43-3a4f0b5f2a11', chunk)).toMatch(/^hub-push:3f0c1c9e-5a5e-4a57-9d43-3a4f0b5f2a11:0:[A-Za-z0-9_-]{22}$/);
  });
  it('differs with the run, the offset or the body (a changed chunk never reuses a key: no 422)', () => {
    const key = chunkKey('run', chunk);
    expect(chunkKey('other-run', chunk)).not.toBe(key);
    expect(chunkKey('run', { ...chunk, start: 1 })).not.toBe(key);
    expect(chunkKey('run', { ...chunk, body: Buffer.from('{"records":[{"CF_WSH":"2"}]}') })).not.toBe(key);
  });
});
