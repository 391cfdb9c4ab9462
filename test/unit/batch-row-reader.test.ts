import { setTimeout as delay } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { BatchEncoding, BatchFormat } from '../../shared/batch/batch-model.js';
import { readRows, type RawRow } from '../../shared/batch/row-reader.js';
import { encodeGb18030 } from '../support/gb18030.js';

async function* pieces(bytes: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function rowsOf(bytes: Buffer | string, format: BatchFormat, options: { size?: number; offset?: number; line?: number; encoding?: BatchEncoding; max?: number } = {}) {
  const body = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const offset = options.offset ?? 0;
  const out: RawRow[] = [];
  for await (const row of readRows(pieces(body.subarray(offset), options.size ?? 64 * 1024), {
    format,
    encoding: options.encoding ?? 'utf-8',
    offset,
    line: options.line ?? 1,
    ...(options.max ? { maxRowBytes: options.max } : {}),
  })) {
    out.push(row);
  }
  return out;
}

const texts = (rows: RawRow[]) => rows.map((r) => r.bytes?.toString('utf8') ?? r.error);
const where = (rows: RawRow[]) => rows.map(({ offset, nextOffset, line, lines, terminated }) => ({ offset, nextOffset, line, lines, terminated }));

describe('readRows: NDJSON', () => {
  it('cuts at line feeds, with exact offsets and line numbers', async () => {
    const rows = await rowsOf('{"a":1}\n{"b":2}\n', 'ndjson');
    expect(texts(rows)).toEqual(['{"a":1}', '{"b":2}']);
    expect(where(rows)).toEqual([
      { offset: 0, nextOffset: 8, line: 1, lines: 1, terminated: true },
      { offset: 8, nextOffset: 16, line: 2, lines: 1, terminated: true },
    ]);
  });

  it('strips the \\r of CRLF line ends, and only that', async () => {
    const rows = await rowsOf('{"a":"x\\r"}\r\n{"b":2}\r\n', 'ndjson');
    expect(texts(rows)).toEqual(['{"a":"x\\r"}', '{"b":2}']);
    expect(rows[1]!.nextOffset).toBe(22);
  });

  it('skips empty and blank lines, counting their lines', async () => {
    const rows = await rowsOf('\n{"a":1}\n\n  \t\n\r\n{"b":2}\n\n', 'ndjson');
    expect(texts(rows)).toEqual(['{"a":1}', '{"b":2}']);
    expect(rows.map((r) => r.line)).toEqual([2, 6]);
    expect(rows[1]!.offset).toBe(16);
  });

  it('gives a truncated last line (no final line feed) as a row, marked unterminated', async () => {
    const rows = await rowsOf('{"a":1}\n{"b":2', 'ndjson');
    expect(texts(rows)).toEqual(['{"a":1}', '{"b":2']);
    expect(where(rows)[1]).toEqual({ offset: 8, nextOffset: 14, line: 2, lines: 1, terminated: false });
  });

  it('yields nothing for an empty file or one of blank lines', async () => {
    expect(await rowsOf('', 'ndjson')).toEqual([]);
    expect(await rowsOf('\n\r\n  \n', 'ndjson')).toEqual([]);
  });

  it('skips a UTF-8 byte order mark at offset 0 only (the row keeps offset 0)', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const rows = await rowsOf(Buffer.concat([bom, Buffer.from('{"a":1}\n'), bom, Buffer.from('{"b":2}\n')]), 'ndjson');
    expect(rows[0]!.bytes!.equals(Buffer.from('{"a":1}'))).toBe(true);
    expect(rows[0]!.offset).toBe(0);
    expect(rows[1]!.bytes!.subarray(0, 3).equals(bom)).toBe(true);
  });

  it('skips a GB18030 byte order mark (84 31 95 33) at offset 0 of a GB18030 file', async () => {
    const rows = await rowsOf(Buffer.concat([Buffer.from([0x84, 0x31, 0x95, 0x33]), encodeGb18030('{"a":"𠮷"}\n')]), 'ndjson', { encoding: 'gb18030' });
    expect(new TextDecoder('gb18030').decode(rows[0]!.bytes)).toBe('{"a":"𠮷"}');
  });

  it('a BOM-only file has no rows', async () => {
    expect(await rowsOf(Buffer.from([0xef, 0xbb, 0xbf, 0x0a]), 'ndjson')).toEqual([]);
  });
});

describe('readRows: CSV (RFC 4180)', () => {
  const CSV = 'a,b,c\r\n1,"two\r\nlines",3\r\n4,"say ""hi"", then\nbye",6\n7,8,9';

  it('keeps line feeds inside quoted fields, escaped quotes, and counts physical lines', async () => {
    const rows = await rowsOf(CSV, 'csv');
    expect(texts(rows)).toEqual(['a,b,c', '1,"two\r\nlines",3', '4,"say ""hi"", then\nbye",6', '7,8,9']);
    expect(rows.map((r) => [r.line, r.lines])).toEqual([
      [1, 1],
      [2, 2],
      [4, 2],
      [6, 1],
    ]);
    expect(rows.at(-1)!.terminated).toBe(false);
  });

  it('a stray quote inside an unquoted field does not swallow the next rows', async () => {
    const rows = await rowsOf('a,b"c,d\n1,2,3\n', 'csv');
    expect(texts(rows)).toEqual(['a,b"c,d', '1,2,3']);
  });

  it('text after a closing quote does not reopen the field', async () => {
    const rows = await rowsOf('"a"x,"b\n"\n1,2\n', 'csv');
    expect(texts(rows)).toEqual(['"a"x,"b\n"', '1,2']);
  });

  it('an unclosed quote runs to the end of the file: one row', async () => {
    const rows = await rowsOf('1,2\n3,"open\n4,5\n6,7\n', 'csv');
    expect(texts(rows)).toEqual(['1,2', '3,"open\n4,5\n6,7\n']);
    expect(rows[1]!.lines).toBe(4);
  });

  it('GB18030 text with rare characters, commas and newlines in quoted fields', async () => {
    const text = 'iname,duty\n"𠮷野家,有限公司","第一行\n第二行 ""引号"""\n龘,䶮\n';
    const rows = await rowsOf(encodeGb18030(text), 'csv', { encoding: 'gb18030' });
    const decoder = new TextDecoder('gb18030', { fatal: true });
    expect(rows.map((r) => decoder.decode(r.bytes))).toEqual(['iname,duty', '"𠮷野家,有限公司","第一行\n第二行 ""引号"""', '龘,䶮']);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4]);
  });
});

describe('readRows: rows over the limit', () => {
  it('a 70 KB row is an error (no bytes); the rows around it are intact', async () => {
    const long = `{"x":"${'a'.repeat(70 * 1024)}"}`;
    const rows = await rowsOf(`{"a":1}\n${long}\n{"b":2}\n`, 'ndjson', { size: 4096 });
    expect(texts(rows)).toEqual(['{"a":1}', 'too-long', '{"b":2}']);
    expect(rows[1]).toMatchObject({ line: 2, offset: 8, nextOffset: 8 + long.length + 1 });
    expect(rows[1]!.bytes).toBeUndefined();
  });

  it('a row of exactly 64 KB is kept, with its CRLF', async () => {
    const exact = 'a'.repeat(64 * 1024);
    const rows = await rowsOf(`${exact}\r\nb\r\n`, 'ndjson', { size: 1000 });
    expect(rows[0]!.bytes!.length).toBe(64 * 1024);
    expect(texts(rows)[1]).toBe('b');
    const over = await rowsOf(`${exact}a\r\n`, 'ndjson');
    expect(over[0]!.error).toBe('too-long');
  });

  it('a too-long CSV record still counts its lines and ends at its real end', async () => {
    const rows = await rowsOf(`"${'x\n'.repeat(40_000)}",1\n2,3\n`, 'csv', { size: 999 });
    expect(rows.map((r) => [r.error ?? 'ok', r.line, r.lines])).toEqual([
      ['too-long', 1, 40_001],
      ['ok', 40_002, 1],
    ]);
  });

  it('holds no more than the limit of a huge row (a 256 MB line read with bounded memory)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const piece = 1024 * 1024;
    let measured = Infinity;
    async function* huge(): AsyncIterable<Uint8Array> {
      gc();
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 256; i++) {
        yield Buffer.alloc(piece, 0x61);
        if (i === 255) {
          // Array buffers are freed by a background sweep after a collection: give it a moment.
          for (let n = 0; n < 10 && measured >= 16 * 1024 * 1024; n++) {
            gc();
            await delay(20);
            measured = process.memoryUsage().arrayBuffers - before;
          }
        }
      }
      yield Buffer.from('\n{"ok":1}\n');
    }
    const rows: RawRow[] = [];
    for await (const row of readRows(huge(), { format: 'ndjson', encoding: 'utf-8', offset: 0, line: 1 })) rows.push(row);
    expect(texts(rows)).toEqual(['too-long', '{"ok":1}']);
    // Were the row's pieces kept, 256 MB would still be held here.
    expect(measured).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('readRows: resuming from any row offset gives exactly the rest', () => {
  const files: [string, BatchFormat, BatchEncoding, Buffer][] = [
    ['NDJSON with BOM, CRLF, blank lines', 'ndjson', 'utf-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\r\n\r\n{"b":"二"}\n  \n{"c":3}\n{"d":4')])],
    ['CSV with quoted line feeds', 'csv', 'utf-8', Buffer.from('h1,h2\n"x\ny",1\n\n"z""",2\r\n3,"4\r\n5"\n')],
    ['GB18030 CSV', 'gb18030' as BatchFormat, 'gb18030', encodeGb18030('iname,x\n"𠮷,\n龘",1\n丂,2\n')],
  ];
  it.each(files)('%s, in pieces of 1, 3 and 64K bytes', async (_name, formatOrEncoding, encoding, bytes) => {
    const format: BatchFormat = formatOrEncoding === 'ndjson' ? 'ndjson' : 'csv';
    const all = await rowsOf(bytes, format, { encoding });
    expect(all.length).toBeGreaterThan(2);
    for (const size of [1, 3, 65536]) {
      expect(await rowsOf(bytes, format, { encoding, size })).toEqual(all);
      for (const [i, row] of all.entries()) {
        const rest = await rowsOf(bytes, format, { encoding, size, offset: row.offset, line: row.line });
        // Only the row at offset 0 has a BOM to skip: from any other offset the reader sees the same rows.
        expect(rest).toEqual(all.slice(i));
      }
    }
  });
});
