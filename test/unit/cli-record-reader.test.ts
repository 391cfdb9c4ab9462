/**
 * The `hub` command line's reading of local files (cli/record-reader.ts): NDJSON and CSV, UTF-8
 * and GB18030, line numbers, quoted CSV, rows rejected while reading, files refused as a whole.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.js';
import { formatFromPath, readFileRows, type FileRow, type ReadOptions } from '../../cli/record-reader.js';
import { fieldOrder, PUSH_KINDS } from '../../contracts/kinds.js';
import { penalty } from '../support/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hub-cli-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: string | Buffer, ext = '.ndjson'): string {
  const path = join(dir, `f${++n}${ext}`);
  writeFileSync(path, content);
  return path;
}

async function read(path: string, options: Partial<ReadOptions> = {}): Promise<FileRow[]> {
  const rows: FileRow[] = [];
  for await (const row of readFileRows(path, { format: 'ndjson', encoding: 'utf-8', kind: 'penalty', ...options })) rows.push(row);
  return rows;
}

async function failure(path: string, options: Partial<ReadOptions> = {}): Promise<CliError> {
  const e = await read(path, options).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CliError);
  return e as CliError;
}

const csvLine = (values: string[]) => values.map((v) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',');
const PENALTY_COLUMNS = fieldOrder(PUSH_KINDS.penalty);
function penaltyCsv(records: Record<string, unknown>[]): string {
  return [csvLine(PENALTY_COLUMNS), ...records.map((r) => csvLine(PENALTY_COLUMNS.map((c) => (r[c] === undefined ? '' : String(r[c])))))].join('\r\n') + '\r\n';
}

describe('NDJSON', () => {
  it('gives each record with its line number and byte offsets; blank lines count as lines but are no rows; a last line without a line feed is read', async () => {
    const lines = [JSON.stringify(penalty(1)), '', '   ', JSON.stringify(penalty(2)), JSON.stringify(penalty(3))];
    const text = lines.join('\n');
    const rows = await read(file(text));
    expect(rows.map((r) => r.line)).toEqual([1, 4, 5]);
    expect(rows.map((r) => (r.record as { CF_WSH: string }).CF_WSH)).toEqual([penalty(1).CF_WSH, penalty(2).CF_WSH, penalty(3).CF_WSH]);
    expect(rows[0]).toMatchObject({ start: 0, end: Buffer.byteLength(lines[0]!) + 1 });
    expect(rows[2]!.end).toBe(Buffer.byteLength(text));
  });

  it('rejects a row that is not a JSON object, or repeats a key, without failing the file', async () => {
    const good = Array.from({ length: 5 }, (_, i) => JSON.stringify(penalty(i)));
    const rows = await read(file([...good, '{"CF_WSH": "x",', '[1,2]', '{"CF_WSH":"a","CF_WSH":"b"}'].join('\n')));
    expect(rows).toHaveLength(8);
    expect(rows.slice(0, 5).every((r) => r.record !== null && !r.errors)).toBe(true);
    expect(rows[5]).toMatchObject({ line: 6, record: null, errors: [{ field: '', message: expect.stringContaining('不是有效的JSON') }] });
    expect(rows[6]).toMatchObject({ line: 7, record: null, errors: [{ message: expect.stringContaining('each line must be one JSON object') }] });
    expect(rows[7]).toMatchObject({ line: 8, record: null, errors: [{ field: 'CF_WSH', message: expect.stringContaining('duplicate key') }] });
  });

  it('reads GB18030 (rare characters included) and rejects a row with bytes not valid in it, never replacing them', async () => {
    const name = '𠮷䶮科技有限公司';
    const content = Buffer.concat([
      iconv.encode(`${JSON.stringify(penalty(1, { CF_XDR_MC: name }))}\n`, 'gb18030'),
      iconv.encode(`${JSON.stringify(penalty(2))}\n`, 'gb18030'),
      Buffer.from('{"CF_WSH":"'),
      Buffer.from([0x81, 0x20]), // a lead byte without a valid trail byte
      Buffer.from('"}\n'),
      iconv.encode(`${JSON.stringify(penalty(3))}\n`, 'gb18030'),
    ]);
    const rows = await read(file(content), { encoding: 'gb18030' });
    expect((rows[0]!.record as { CF_XDR_MC: string }).CF_XDR_MC).toBe(name);
    expect(rows[2]).toMatchObject({ line: 3, record: null, errors: [{ message: expect.stringContaining('not valid gb18030') }] });
    expect(rows[3]!.record).not.toBeNull();
  });

  it('skips a UTF-8 byte order mark', async () => {
    const rows = await read(file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${JSON.stringify(penalty(1))}\n`)])));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.record).toEqual(penalty(1));
  });

  it('rejects a row over 64 KB without holding it', async () => {
    const long = JSON.stringify(penalty(2, { CF_SY: 'x'.repeat(70 * 1024) }));
    const rows = await read(file([JSON.stringify(penalty(1)), long, JSON.stringify(penalty(3))].join('\n')));
    expect(rows[1]).toMatchObject({ line: 2, record: null, errors: [{ message: expect.stringContaining('64 KB') }] });
    expect(rows[2]!.record).not.toBeNull();
  });
});

describe('CSV', () => {
  it('reads a header of the field names and RFC 4180 quoting: commas, doubled quotes and line feeds inside fields; line numbers count the physical lines', async () => {
    const tricky = penalty(1, { CF_SY: '经查，当事人"甲"销售,\n不合格食品。\n第二行' });
    const rows = await read(file(penaltyCsv([tricky, penalty(2)]), '.csv'), { format: 'csv' });
    expect(rows).toHaveLength(2);
    expect(rows[0]!.line).toBe(2);
    expect((rows[0]!.record as { CF_SY: string }).CF_SY).toBe('经查，当事人"甲"销售,\n不合格食品。\n第二行');
    // The first record spans three physical lines (2, 3, 4): the next starts on line 5.
    expect(rows[1]!.line).toBe(5);
    // Every column of the header is a field; empty cells are sent as empty strings (the hub reads them as absent).
    expect(Object.keys(rows[1]!.record!)).toEqual(PENALTY_COLUMNS);
  });

  it('reads GB18030 CSV', async () => {
    const rows = await read(file(iconv.encode(penaltyCsv([penalty(1, { CF_XDR_MC: '𠮷鲜生' }), penalty(2)]), 'gb18030'), '.csv'), { format: 'csv', encoding: 'gb18030' });
    expect((rows[0]!.record as { CF_XDR_MC: string }).CF_XDR_MC).toBe('𠮷鲜生');
    expect(rows).toHaveLength(2);
  });

  it('rejects a row with the wrong number of fields', async () => {
    const text = penaltyCsv([penalty(1), penalty(2)]) + 'only,three,fields\r\n';
    const rows = await read(file(text, '.csv'), { format: 'csv' });
    expect(rows[2]).toMatchObject({ line: 4, record: null, errors: [{ message: expect.stringContaining('the row has 3 fields') }] });
  });

  it('refuses a header with an unknown or missing column, naming it, before any row', async () => {
    const unknown = await failure(file(`${csvLine([...PENALTY_COLUMNS, 'FOO'])}\n${csvLine(PENALTY_COLUMNS.map(() => 'x'))},y\n`, '.csv'), { format: 'csv' });
    expect(unknown.message).toMatch(/^文件无效 \(invalid file\) .*unknown columns "FOO"/);
    const missing = await failure(file(`${csvLine(PENALTY_COLUMNS.filter((c) => c !== 'CF_WSH'))}\n`, '.csv'), { format: 'csv' });
    expect(missing.message).toContain('CF_WSH');
  });

  it('refuses a header that is JSON, telling to use --format ndjson', async () => {
    const e = await failure(file(`${JSON.stringify(penalty(1))}\n`, '.csv'), { format: 'csv' });
    expect(e.message).toContain('use --format ndjson');
  });
});

describe('files refused as a whole', () => {
  it('a GB18030 file declared UTF-8 fails naming the encoding to declare, as a flag', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => JSON.stringify(penalty(i, { CF_XDR_MC: '上海某某科技有限公司' }))).join('\n');
    const e = await failure(file(iconv.encode(rows, 'gb18030')), { encoding: 'utf-8' });
    expect(e.message).toContain('--encoding gb18030');
    expect(e.exitCode).toBe(1);
  });

  it('a CSV file declared NDJSON fails saying it looks like CSV', async () => {
    const e = await failure(file(penaltyCsv([penalty(1), penalty(2)]), '.ndjson'));
    expect(e.message).toMatch(/not NDJSON.*use --format csv/);
  });

  it('an empty file, a file of blank lines, a CSV with only its header', async () => {
    expect((await failure(file(''))).message).toContain('文件中没有数据行');
    expect((await failure(file('\n  \n\n'))).message).toContain('no rows');
    expect((await failure(file(penaltyCsv([]), '.csv'), { format: 'csv' })).message).toContain('header but no rows');
  });

  it('a file that does not exist: one line naming it', async () => {
    const e = await failure(join(dir, 'nope.ndjson'));
    expect(e.message).toBe(`无法读取 ${join(dir, 'nope.ndjson')} (cannot read ${join(dir, 'nope.ndjson')}): 文件不存在 (no such file)`);
  });
});

describe('formatFromPath', () => {
  it('knows .ndjson, .jsonl and .csv, whatever the case', () => {
    expect(formatFromPath('a/b.ndjson')).toBe('ndjson');
    expect(formatFromPath('b.JSONL')).toBe('ndjson');
    expect(formatFromPath('b.Csv')).toBe('csv');
    expect(formatFromPath('b.json')).toBeUndefined();
    expect(formatFromPath('b')).toBeUndefined();
  });
});
