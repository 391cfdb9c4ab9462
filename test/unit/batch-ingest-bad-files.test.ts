/**
 * Files that are not what their batch declared, or that carry bad rows: a
 * failed batch with a reason (nothing written), or rejected rows with their
 * line numbers; never a batch left waiting or processing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchEncoding, BatchFormat } from '../../shared/batch/batch-model.js';
import { BatchHarness, sampleFile } from '../support/batch-harness.js';
import { DEFAULT_BAD_KINDS, DISHONEST_DEBTOR_FIELDS } from '../support/batch-sample/index.js';
import { encodeGb18030 } from '../support/gb18030.js';

const harnesses: BatchHarness[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

/** Ingests `file` as a batch declared `format`/`encoding`, in one go. */
async function ingest(file: Buffer | string, format: BatchFormat, encoding: BatchEncoding = 'utf-8') {
  const h = new BatchHarness();
  harnesses.push(h);
  h.addBatch('b', { format, encoding }, file);
  const outcome = await h.ingest('b');
  return { h, outcome, batch: h.batch('b') };
}

/** The batch failed with `reason`, and nothing was written. */
function expectFailedUntouched(result: Awaited<ReturnType<typeof ingest>>, reason: string | RegExp) {
  expect(result.outcome).toMatchObject({ outcome: 'failed', reason: typeof reason === 'string' ? expect.stringContaining(reason) : expect.stringMatching(reason) });
  expect(result.batch).toMatchObject({ status: 'failed', reason: (result.outcome as { reason: string }).reason, checkpoint: { counts: { total: 0 }, rejectParts: [] } });
  expect(result.batch.lease).toBeUndefined();
  expect(result.h.records.writes).toBe(0);
  expect(result.h.rejects.partWrites).toBe(0);
}

const sample = await sampleFile({ rows: 60, format: 'ndjson', seed: 21 });
const sampleCsv = await sampleFile({ rows: 60, format: 'csv', seed: 22 });
const HEADER = DISHONEST_DEBTOR_FIELDS.join(',');

describe('files that fail the batch', () => {
  it('an empty file', async () => {
    expectFailedUntouched(await ingest('', 'ndjson'), '文件为空 (empty file)');
    expectFailedUntouched(await ingest('', 'csv'), 'empty file');
  });

  it('a file of empty lines (or only a byte order mark)', async () => {
    expectFailedUntouched(await ingest('\n\r\n  \n', 'ndjson'), 'the file has no rows');
    expectFailedUntouched(await ingest(Buffer.from([0xef, 0xbb, 0xbf]), 'csv'), 'the file has no rows');
  });

  it('a CSV file with a header and no rows', async () => {
    expectFailedUntouched(await ingest(`${HEADER}\r\n\r\n`, 'csv'), 'the file has a header but no rows');
  });

  it('a CSV header lacking required columns and naming unknown ones: all named', async () => {
    const header = [...DISHONEST_DEBTOR_FIELDS.filter((f) => f !== 'caseCode' && f !== 'duty'), 'caseNo', 'sexName'];
    const rows = sampleCsv.bytes.toString('utf8').split('\n').slice(1).join('\n');
    const result = await ingest(`${header.join(',')}\n${rows}`, 'csv');
    expectFailedUntouched(result, 'CSV表头有误 (the CSV header is wrong)');
    const reason = (result.outcome as { reason: string }).reason;
    expect(reason).toContain('unknown columns "caseNo", "sexName"');
    expect(reason).toContain('the required columns "caseCode", "duty"');
  });

  it('a CSV header that cannot be decoded, or is over 64 KB', async () => {
    expectFailedUntouched(await ingest(Buffer.concat([Buffer.from('iname,'), Buffer.from([0xff]), Buffer.from('\n')]), 'csv'), 'the header row cannot be decoded');
    expectFailedUntouched(await ingest(`${'x,'.repeat(40_000)}\n`, 'csv'), 'the header row is over 64 KB');
  });

  it('an NDJSON file declared as CSV', async () => {
    expectFailedUntouched(await ingest(sample.bytes, 'csv'), 'the file looks like NDJSON; declare "format":"ndjson"');
  });

  it('a CSV file declared as NDJSON', async () => {
    expectFailedUntouched(await ingest(sampleCsv.bytes, 'ndjson'), /the file is not NDJSON: 20 of its first 20 rows .*declare "format":"csv"/);
  });

  it('a GB18030 file declared as UTF-8', async () => {
    const gb = await sampleFile({ rows: 30, format: 'ndjson', encoding: 'gb18030', seed: 23 });
    expectFailedUntouched(await ingest(gb.bytes, 'ndjson', 'utf-8'), 'declare "encoding":"gb18030"');
  });

  it('a file with a UTF-8 byte order mark declared as GB18030', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expectFailedUntouched(await ingest(Buffer.concat([bom, sampleCsv.bytes]), 'csv', 'gb18030'), 'the file starts with a UTF-8 byte order mark but is declared gb18030');
    expectFailedUntouched(await ingest(Buffer.concat([bom, sample.bytes]), 'ndjson', 'gb18030'), 'the file starts with a UTF-8 byte order mark but is declared gb18030');
  });

  it('a UTF-8 file declared as GB18030 (which would decode without error, as mojibake)', async () => {
    expectFailedUntouched(await ingest(sampleCsv.bytes, 'csv', 'gb18030'), 'declare "encoding":"utf-8"');
  });
});

describe('batches that cannot be ingested whatever their file', () => {
  it('a kind that is not pushed, or one the court may not push', async () => {
    const h = new BatchHarness();
    harnesses.push(h);
    h.addBatch('commitment', { kind: 'commitment', format: 'ndjson' }, sample.bytes);
    expect(await h.ingest('commitment')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('kind commitment cannot be ingested in batches') });
    const batch = h.addBatch('penalty', { kind: 'penalty', format: 'ndjson' }, sample.bytes);
    expect(batch.source.kinds).not.toContain('penalty');
    expect(await h.ingest('penalty')).toMatchObject({ outcome: 'failed', reason: '数据源 bj-1zy 不能报送 penalty (source bj-1zy may not push penalty)' });
    expect(h.records.writes).toBe(0);
  });
});

describe('bad rows are rejected one by one, with their line numbers', () => {
  it('a GB18030 CSV with rows over 64 KB and ill-formed bytes among rows of every other fault', async () => {
    const { bytes, manifest } = await sampleFile({ rows: 400, format: 'csv', encoding: 'gb18030', bad: 0.1, seed: 24, badKinds: [...DEFAULT_BAD_KINDS, 'oversized-row', 'ill-formed-bytes'] });
    const { h, outcome } = await ingest(bytes, 'csv', 'gb18030');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: manifest.expected });
    const rejects = h.rejects.rows('rejects/b.ndjson');
    const oversized = manifest.badByKind['oversized-row']!.first;
    const illFormed = manifest.badByKind['ill-formed-bytes']!.first;
    expect(oversized.length).toBeGreaterThan(0);
    expect(illFormed.length).toBeGreaterThan(0);
    for (const bad of oversized) {
      const reject = rejects.find((r) => r.line === bad.line)!;
      expect(reject.reasons).toEqual([{ field: '', message: '行超过64 KB (row over 64 KB)' }]);
      expect(reject.row).toBeUndefined();
    }
    for (const bad of illFormed) {
      const reject = rejects.find((r) => r.line === bad.line)!;
      expect(reject.reasons).toEqual([{ field: '', message: expect.stringContaining('not valid gb18030') }]);
      // Shown as text with the bad byte replaced, identity numbers masked.
      expect(reject.text).toContain('\ufffd');
      expect(reject.text).not.toMatch(/\d{6}(19|20)\d{6}\d{3}[\dX]/);
    }
  });

  it('a UTF-8 CSV with a byte order mark and CRLF line ends (as Excel saves it) is read whole', async () => {
    const crlf = sampleCsv.bytes.toString('utf8').replace(/\n/g, '\r\n');
    const { outcome } = await ingest(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(crlf)]), 'csv');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: sampleCsv.manifest.expected });
  });

  it('a last line without its line feed is a row like any other', async () => {
    const cut = sample.bytes.subarray(0, sample.bytes.length - 1);
    expect(cut.at(-1)).not.toBe(0x0a);
    const { outcome } = await ingest(cut, 'ndjson');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: sample.manifest.expected });
  });

  it('a last line cut in the middle is rejected (it does not parse), with its line number', async () => {
    const { h, outcome } = await ingest(sample.bytes.subarray(0, sample.bytes.length - 20), 'ndjson');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: { total: 60, rejected: sample.manifest.expected.rejected + 1 } });
    expect(h.rejects.rows('rejects/b.ndjson').at(-1)).toMatchObject({ line: 60, reasons: [{ message: expect.stringMatching(/^不是有效的JSON/) }] });
  });

  it('a CSV cut inside a quoted field: the unclosed quote rejects the last row', async () => {
    const text = sampleCsv.bytes.toString('utf8').trimEnd();
    const { h, outcome } = await ingest(`${text}\n"unclosed,`, 'csv');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: { total: 61 } });
    expect(h.rejects.rows('rejects/b.ndjson').at(-1)!.reasons[0]!.message).toContain('Quote Not Closed');
  });

  it('rows of the wrong shape among good ones: not an object, bad JSON, a repeated key, the wrong number of CSV fields', async () => {
    const lines = sample.bytes.toString('utf8').trimEnd().split('\n');
    const mixed = [...lines.slice(0, 10), '[1,2]', '{"iname":', lines[10]!.replace('{', '{"iname":"甲",'), ...lines.slice(11)].join('\n');
    const { h, outcome } = await ingest(mixed, 'ndjson');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: { total: 62, rejected: 3 } });
    expect(h.rejects.rows('rejects/b.ndjson').map((r) => [r.line, r.reasons[0]!.field, r.reasons[0]!.message])).toEqual([
      [11, '', expect.stringContaining('each line must be one JSON object')],
      [12, '', expect.stringMatching(/^不是有效的JSON \(/)],
      [13, 'iname', expect.stringContaining('duplicate key iname')],
    ]);

    const csvLines = sampleCsv.bytes.toString('utf8').split('\n');
    const csv = [csvLines[0], 'a,b,c', ...csvLines.slice(1)].join('\n');
    const bad = await ingest(csv, 'csv');
    expect(bad.h.rejects.rows('rejects/b.ndjson')[0]).toMatchObject({ line: 2, reasons: [{ message: `本行有3列，表头有${DISHONEST_DEBTOR_FIELDS.length}列 (the row has 3 fields; the header has ${DISHONEST_DEBTOR_FIELDS.length})` }] });
  });

  it('GB18030 rare characters (𠮷) arrive intact', async () => {
    const record = { ...(JSON.parse(sample.bytes.toString('utf8').split('\n')[0]!) as Record<string, unknown>), iname: '𠮷䶮龘' };
    const cell = (v: unknown) => `"${String(v).replaceAll('"', '""')}"`;
    const file = `${Object.keys(record).join(',')}\r\n${Object.values(record).map(cell).join(',')}\r\n`;
    const { h, outcome } = await ingest(encodeGb18030(file), 'csv', 'gb18030');
    expect(outcome).toMatchObject({ outcome: 'completed', counts: { total: 1, accepted: 1 } });
    expect([...h.records.heads.values()][0]!.fields.iname).toBe('𠮷䶮龘');
  });
});
