/**
 * The sample-batch generator (test/support/batch-sample, `npm run
 * generate:batch`): its valid rows are valid by the hub's own checks and
 * contract, its bad rows are bad exactly where the manifest says, its files
 * parse back to the same rows in both formats and both encodings, the
 * manifest matches a recount of the file, a seed gives the same file, and a
 * large file is written in constant memory.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { dishonestDebtorRecordSchema } from '../../contracts/dishonest-debtor.js';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { parseCsvHeader } from '../../shared/batch/csv-row.js';
import { readRows } from '../../shared/batch/row-reader.js';
import { rowRecord } from '../../shared/batch/row-record.js';
import { decodeRow } from '../../shared/batch/row-text.js';
import { isIsoDate, todayInChina } from '../../shared/domain/dates.js';
import { organisationCodeProblem, residentIdProblem, usccProblem } from '../../shared/domain/identifiers.js';
import {
  BAD_KINDS,
  type BadKind,
  csvHeader,
  csvRecord,
  type BatchManifest,
  type BatchOptions,
  DISHONEST_DEBTOR_FIELDS,
  generateBatch,
  hasRareCharacter,
  RARE_NAME_CHARACTERS,
  resolveRowOptions,
  type SampleFields,
  type SampleRow,
  sampleRows,
  writeBatch,
} from '../support/batch-sample/index.js';
import { dayNumber, isoDay } from '../support/batch-sample/days.js';
import { addDays } from '../support/dates.js';
import { encodeGb18030 } from '../support/gb18030.js';
import { runGenerateBatch } from '../../tools/generate-batch.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'batch-sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempFile = (ext: string) => join(dir, `batch-${++files}.${ext}`);

/** Today in China when the file loaded: every generation here is pinned to it, so a run across midnight stays consistent. */
const TODAY = todayInChina();
const ALL_KINDS: readonly BadKind[] = BAD_KINDS;
const FIELDS: readonly string[] = DISHONEST_DEBTOR_FIELDS;
const OPTIONAL = new Set(['businessEntity', 'performedPart', 'unperformPart', 'partyTypeName', 'status']);
const AMOUNTS = new Set(['performedPart', 'unperformPart']);
const DATES = new Set(['regDate', 'publishDate']);
const ROW_LIMIT = 64 * 1024;

const rowsOf = (options: Parameters<typeof sampleRows>[0]) => [...sampleRows({ today: TODAY, ...options })];
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const lineFeeds = (text: string) => text.split('\n').length - 1;

/**
 * The fields at fault in a record, by the hub's own checks (identifiers.ts,
 * dates.ts) and API.md's field list, written here independently of the
 * generator: what a recount of a file relies on.
 */
function faults(record: Record<string, unknown>, today: string): Set<string> {
  const out = new Set<string>();
  for (const key of Object.keys(record)) if (!FIELDS.includes(key)) out.add(key);
  for (const field of FIELDS) {
    const value = record[field];
    if (value === undefined || value === '') {
      if (!OPTIONAL.has(field)) out.add(field);
      continue;
    }
    if (AMOUNTS.has(field)) {
      if (!(typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d{1,6})?$/.test(value)))) out.add(field);
    } else if (typeof value !== 'string') out.add(field);
    else if (DATES.has(field) && (!isIsoDate(value) || value > today)) out.add(field);
    else if (field === 'duty' && value.length > 4000) out.add(field);
    else if (value.includes('\ufffd')) out.add(field); // an ill-formed byte, decoded leniently
  }
  const card = record.cardNum;
  if (typeof card === 'string' && card !== '') {
    const valid =
      (card.length === 18 && (usccProblem(card) === null || residentIdProblem(card, today) === null)) ||
      (card.length === 9 && organisationCodeProblem(card) === null);
    if (!valid) out.add('cardNum');
  }
  return out;
}

/** The fields the dishonest-debtor contract faults (an unknown field is reported on the record, with its name). */
function contractFaults(record: Record<string, unknown>): Set<string> {
  const result = dishonestDebtorRecordSchema.safeParse(record);
  if (result.success) return new Set();
  return new Set(result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0] ?? '')])));
}

/** A CSV record as the hub's push path takes it: header columns to cells, empty cells left out (shared/ingest/prepare.ts). */
function csvRecordObject(cells: string[]): Record<string, string> {
  return Object.fromEntries(FIELDS.map((f, i) => [f, cells[i] ?? '']).filter(([, v]) => v !== ''));
}

/** Every listed entry of the manifest (the lists must not be truncated for this). */
function listedBad(m: BatchManifest): Map<number, { kind: BadKind; field: string; row: number }> {
  const out = new Map<number, { kind: BadKind; field: string; row: number }>();
  for (const [kind, list] of Object.entries(m.badByKind) as [BadKind, NonNullable<BatchManifest['badByKind'][BadKind]>][]) {
    expect(list.first.length, `${kind} list is complete`).toBe(list.count);
    for (const ref of list.first) out.set(ref.line, { kind, field: ref.field, row: ref.row });
  }
  return out;
}

/** Recounts, from a file's records alone, what the manifest says: totals, bad rows (line and field), repeats, debtor kinds. */
function expectManifestMatches(m: BatchManifest, records: { line: number; record: Record<string, unknown>; rowFault?: boolean }[], today: string) {
  expect(m.total).toBe(records.length);
  const bad = listedBad(m);
  const seen = new Map<string, { json: string; row: number }>();
  const repeats = { updated: [] as number[], duplicate: [] as number[] };
  const kinds = { persons: 0, companies: 0, governmentBodies: 0, removed: 0, partyTypeOmitted: 0, rareNames: 0, oldOrganisationCodes: 0 };
  let valid = 0;
  records.forEach(({ line, record, rowFault }, i) => {
    const found = faults(record, today);
    const listed = bad.get(line);
    if (found.size > 0 || rowFault) {
      expect(listed, `line ${line} is bad (${[...found].join(', ') || 'row'}) and listed`).toBeDefined();
      expect(listed!.row).toBe(i + 1);
      if (listed!.field === '') expect(rowFault, `line ${line}: a row-level fault`).toBe(true);
      else expect([...found], `line ${line}: ${listed!.kind}`).toContain(listed!.field);
      return;
    }
    expect(listed, `line ${line} is valid, not listed as bad`).toBeUndefined();
    valid++;
    const caseCode = String(record.caseCode);
    const json = JSON.stringify(record);
    const before = seen.get(caseCode);
    if (before) repeats[before.json === json ? 'duplicate' : 'updated'].push(line);
    seen.set(caseCode, { json, row: before?.row ?? i + 1 });
    const card = String(record.cardNum);
    if (/^\d{17}[\dX]$/.test(card) && residentIdProblem(card, today) === null && (record.partyTypeName ?? '自然人') === '自然人' && !record.businessEntity) kinds.persons++;
    else if (card.length === 18 && card.startsWith('11')) kinds.governmentBodies++;
    else kinds.companies++;
    if (card.length === 9) kinds.oldOrganisationCodes++;
    if (record.status === 'removed') kinds.removed++;
    if (record.partyTypeName === undefined) kinds.partyTypeOmitted++;
    if (hasRareCharacter(String(record.iname)) || hasRareCharacter(String(record.businessEntity ?? ''))) kinds.rareNames++;
  });
  expect(m.valid).toBe(valid);
  expect(m.bad).toBe(records.length - valid);
  expect(m.repeats.updated.first.map((r) => r.line)).toEqual(repeats.updated);
  expect(m.repeats.duplicate.first.map((r) => r.line)).toEqual(repeats.duplicate);
  expect(m.validRows).toEqual(kinds);
  expect(m.expected).toEqual({
    total: records.length,
    accepted: valid - repeats.updated.length - repeats.duplicate.length,
    updated: repeats.updated.length,
    duplicates: repeats.duplicate.length,
    rejected: records.length - valid,
  });
}

/** NDJSON bytes into records with their line numbers, each line decoded on its own (ill-formed bytes become U+FFFD). */
function ndjsonRecords(bytes: Buffer, encoding: string) {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, i));
    start = i + 1;
  }
  expect(start, 'the file ends with a line feed').toBe(bytes.length);
  const decoder = new TextDecoder(encoding);
  return lines.map((line, i) => ({ line: i + 1, bytes: line.length, record: JSON.parse(decoder.decode(line)) as Record<string, unknown> }));
}

/** A UTF-8 CSV file into its records with the line each starts on (line feeds counted, as the hub counts them). */
function csvRecords(bytes: Buffer) {
  // A bare LF ends a record too (the hub cuts rows at every LF outside quotes), so a line break left unquoted shows.
  // info.bytes: where each record ends, in bytes of the file.
  const parsed = parse(bytes, { relax_column_count: true, info: true, record_delimiter: ['\r\n', '\n'] }) as unknown as { record: string[]; info: { bytes: number } }[];
  let line = 1;
  let end = 0;
  const out = parsed.map(({ record, info }) => {
    const started = line;
    line += bytes.subarray(end, info.bytes).filter((b) => b === 0x0a).length;
    end = info.bytes;
    return { line: started, cells: record };
  });
  expect(out[0]!.cells).toEqual(FIELDS);
  return out.slice(1);
}

describe('sample rows', () => {
  it('valid rows pass the hub’s identifier and date checks and the dishonest-debtor contract, for every kind of debtor', () => {
    const rows = rowsOf({ rows: 4000, bad: 0.1, repeats: 0.03, seed: 11, parties: { person: 0.5, company: 0.3, government: 0.2 }, rareNames: 0.1, omitPartyType: 0.3, oldOrganisationCodes: 0.3 });
    const valid = rows.filter((r) => !r.bad);
    expect(valid.length).toBe(3600);
    for (const { fields, party, oldOrganisationCode, row } of valid) {
      const card = String(fields.cardNum);
      if (party === 'person') {
        expect(residentIdProblem(card, TODAY), `row ${row}`).toBeNull();
        expect(fields.businessEntity).toBeUndefined();
      } else {
        expect(oldOrganisationCode ? organisationCodeProblem(card) : usccProblem(card), `row ${row} ${card}`).toBeNull();
        expect(typeof fields.businessEntity).toBe('string');
        // Government bodies: registration authority 1 (机构编制), institution type 1 (机关).
        if (party === 'government') expect(card.slice(0, 2)).toBe('11');
        else if (!oldOrganisationCode) expect(card.slice(0, 2)).toBe('91');
      }
      expect(faults(fields, TODAY), `row ${row}`).toEqual(new Set());
      const parsed = dishonestDebtorRecordSchema.safeParse(fields);
      expect(parsed.success, `row ${row}: ${parsed.error?.message}`).toBe(true);
      // The partyTypeName the hub stores is the debtor's kind, given or inferred.
      expect(parsed.data?.partyTypeName).toBe(party === 'person' ? '自然人' : '法人或其他组织');
      const [reg, pub] = [String(fields.regDate), String(fields.publishDate)];
      expect(reg < pub && pub < TODAY, `row ${row}: ${reg} < ${pub} < ${TODAY}`).toBe(true);
      expect(String(fields.caseCode)).toMatch(new RegExp(`^\\(${reg.slice(0, 4)}\\)[\\u4e00-\\u9fff]\\d{2,4}执恢?\\d+号$`));
      if (fields.status === 'removed') expect([fields.performance, Number(fields.unperformPart)]).toEqual(['全部已履行', 0]);
    }
    const count = (p: (r: SampleRow) => boolean) => valid.filter(p).length;
    expect(count((r) => r.party === 'person')).toBeGreaterThan(1500);
    expect(count((r) => r.party === 'government')).toBeGreaterThan(500);
    expect(count((r) => r.oldOrganisationCode)).toBeGreaterThan(100);
    expect(count((r) => r.fields.partyTypeName === undefined)).toBeGreaterThan(700);
    expect(count((r) => r.fields.status === 'removed')).toBeGreaterThan(250);
  });

  it('government bodies carry names like 某某县人民政府 and 某某市住房和城乡建设局; names include rare characters outside the BMP and GBK', () => {
    const rows = rowsOf({ rows: 3000, seed: 5, rareNames: 0.2, parties: { person: 1, company: 1, government: 1 } });
    const governments = rows.filter((r) => r.party === 'government').map((r) => String(r.fields.iname));
    expect(governments.every((n) => /(人民政府|局|街道办事处)$/.test(n))).toBe(true);
    expect(governments.some((n) => /县人民政府$/.test(n))).toBe(true);
    expect(governments.some((n) => /市住房和城乡建设局$/.test(n))).toBe(true);
    const names = rows.flatMap((r) => [String(r.fields.iname), String(r.fields.businessEntity ?? '')]).join('');
    for (const rare of RARE_NAME_CHARACTERS) expect(names, rare).toContain(rare);
    expect(names).toMatch(/[\u{20000}-\u{3FFFF}]/u); // outside the BMP, such as 𠮷 U+20BB7
    expect(names).toContain('䶮'); // U+4DAE
    expect(names).toContain('·'); // transliterated names: 买买提·艾力
    const rare = rows.filter((r) => r.rareName).length;
    expect(rare / rows.length).toBeGreaterThan(0.15);
    expect(rare / rows.length).toBeLessThan(0.25);
  });

  it('bad rows are exactly the chosen share, every kind in turn, each bad on the recorded field by the hub’s checks and the contract', () => {
    for (const format of ['ndjson', 'csv'] as const) {
      const rows = rowsOf({ rows: 2000, bad: 0.09, badKinds: ALL_KINDS, seed: 3, format, omitPartyType: 0.3 });
      const bad = rows.filter((r) => r.bad);
      expect(bad.length).toBe(180);
      for (const kind of ALL_KINDS) expect(bad.filter((r) => r.bad!.kind === kind).length, kind).toBe(20);
      for (const { bad: b, fields, row } of bad) {
        const { kind, field } = b!;
        const label = `${format} row ${row} ${kind} ${field}`;
        const record = format === 'csv' ? csvRecordObject((parse(csvHeader() + csvRecord(fields), { relax_column_count: true }) as string[][])[1]!) : fields;
        // Faults of the whole row, which no field can name: see the file tests for the bytes.
        if (kind === 'ill-formed-bytes') {
          expect([field, String(fields.iname)], label).toEqual(['', expect.stringContaining('\uffff')]); // written as the byte 0xFF
          continue;
        }
        if (kind === 'oversized-row') {
          expect([field, String(fields.duty).length > ROW_LIMIT], label).toEqual(['', true]);
          continue;
        }
        if (format === 'csv' && kind === 'unknown-field') {
          // An extra cell beyond the header: the row has more fields than the header.
          expect([field, cellsOf(fields).length], label).toEqual(['', FIELDS.length + 1]);
          continue;
        }
        expect([...faults(record, TODAY)], label).toContain(field);
        expect([...contractFaults(record)], label).toContain(field);
        if (kind === 'resident-id-checksum') expect(residentIdProblem(String(fields.cardNum), TODAY), label).toMatch(/校验位/);
        if (kind === 'uscc-checksum') expect(usccProblem(String(fields.cardNum)), label).toMatch(/校验位/);
        if (kind === 'impossible-date') expect(String(fields[field]), label).toMatch(/^\d{4}-(02-29|02-30|04-31|11-31)$/);
        if (kind === 'future-date') expect(isIsoDate(String(fields[field])) && String(fields[field]) > addDays(TODAY, 29), label).toBe(true);
        if (kind === 'missing-field') expect(fields[field], label).toBeUndefined();
      }
    }
  });

  it('caseCode is unique per row except deliberate repeats: a duplicate repeats the latest version, an updated one changes it', () => {
    const rows = rowsOf({ rows: 5000, bad: 0.05, repeats: 0.05, seed: 21 });
    const latest = new Map<string, { json: string; row: number }>();
    let updated = 0;
    let duplicate = 0;
    for (const { fields, repeat, row, bad } of rows) {
      const caseCode = fields.caseCode as string | undefined;
      if (caseCode === undefined || typeof caseCode !== 'string') continue; // a bad row without one
      const before = latest.get(caseCode);
      if (!repeat) {
        expect(before, `row ${row} ${caseCode} is new`).toBeUndefined();
        if (!bad) latest.set(caseCode, { json: JSON.stringify(fields), row });
        continue;
      }
      expect(before?.row, `row ${row} repeats row ${repeat.of}`).toBe(repeat.of);
      expect(JSON.stringify(fields) === before!.json, `row ${row} ${repeat.kind}`).toBe(repeat.kind === 'duplicate');
      latest.set(caseCode, { json: JSON.stringify(fields), row: repeat.of });
      if (repeat.kind === 'updated') updated++;
      else duplicate++;
    }
    expect(updated + duplicate).toBe(250);
    expect(updated).toBeGreaterThan(80);
    expect(duplicate).toBeGreaterThan(80);
  });

  it('dates count back from today in China, or from an injected today', () => {
    const defaults = resolveRowOptions({ rows: 1 });
    expect([TODAY, todayInChina()]).toContain(defaults.today);
    const today = addDays(TODAY, 4000);
    for (const { fields, bad, row, party } of rowsOf({ rows: 1500, bad: 0.1, badKinds: ['future-date'], today, seed: 8 })) {
      const [reg, pub] = [String(fields.regDate), String(fields.publishDate)];
      if (bad) {
        expect(String(fields[bad.field]) > today, `row ${row}`).toBe(true);
        continue;
      }
      expect(reg < pub && pub < today && reg > addDays(today, -1300), `row ${row}: ${reg} ${pub}`).toBe(true);
      if (party === 'person') expect(residentIdProblem(String(fields.cardNum), today), `row ${row}`).toBeNull();
    }
    // The day arithmetic the generator uses agrees with the test calendar over four centuries of leap rules.
    for (let n = -50_000; n <= 150_000; n += 37) expect(isoDay(n)).toBe(addDays('1970-01-01', n));
    expect(dayNumber('2000-02-29')).toBe(11_016);
  });

  it('refuses options that make no sense', () => {
    expect(() => resolveRowOptions({ rows: -1 })).toThrow(/rows/);
    expect(() => resolveRowOptions({ rows: 10, bad: 1.5 })).toThrow(/bad/);
    expect(() => resolveRowOptions({ rows: 10, bad: 0.1, badKinds: ['no-such' as BadKind] })).toThrow(/unknown bad-row kind/);
    expect(() => resolveRowOptions({ rows: 10, today: '2025-02-30' })).toThrow(/today/);
  });
});

/** The CSV cells of a row, unquoted (what a CSV reader gives back). */
function cellsOf(fields: SampleFields): string[] {
  const cells = FIELDS.map((f) => (fields[f] === undefined ? '' : String(fields[f])));
  for (const [key, value] of Object.entries(fields)) if (!FIELDS.includes(key)) cells.push(String(value));
  return cells.map((c) => (c.includes('\uffff') ? c.replace('\uffff', '\ufffd') : c));
}

describe('batch files', () => {
  const options: BatchOptions = { rows: 3000, bad: 0.06, repeats: 0.03, seed: 42, rareNames: 0.05, today: TODAY };

  it('NDJSON: each line is the row, and the manifest matches a recount of the file', async () => {
    const file = tempFile('ndjson');
    const m = await writeBatch(file, { ...options, manifestPath: `${file}.json` });
    const bytes = readFileSync(file);
    const records = ndjsonRecords(bytes, 'utf-8');
    expect(records.map((r) => r.record)).toEqual(rowsOf({ ...options, format: 'ndjson' }).map((r) => r.fields));
    expect([m.bytes, m.lines]).toEqual([bytes.length, records.length]);
    expectManifestMatches(m, records, TODAY);
    expect(JSON.parse(readFileSync(`${file}.json`, 'utf8'))).toEqual(m);
    for (const kind of ['resident-id-checksum', 'uscc-checksum', 'missing-field', 'wrong-type'] as const) expect(m.badByKind[kind]!.count).toBeGreaterThan(0);
  });

  it('CSV: a header of the field names, RFC 4180 quoting; csv-parse gives back the same rows, quoted line breaks, quotes and commas included', async () => {
    const file = tempFile('csv');
    const m = await writeBatch(file, { ...options, format: 'csv' });
    const bytes = readFileSync(file);
    const text = bytes.toString('utf8');
    const records = csvRecords(bytes);
    const rows = rowsOf({ ...options, format: 'csv' });
    expect(records.map((r) => r.cells)).toEqual(rows.map((r) => cellsOf(r.fields)));
    const cells = records.flatMap((r) => r.cells);
    for (const tricky of ['\n', '\r\n', '"', ',']) expect(cells.some((c) => c.includes(tricky)), JSON.stringify(tricky)).toBe(true);
    expect(text.startsWith(`${FIELDS.join(',')}\r\n`)).toBe(true);
    expect(m.lines).toBe(lineFeeds(text));
    expect(m.lines).toBeGreaterThan(records.length + 1); // records span lines
    expectManifestMatches(
      m,
      records.map(({ line, cells: c }) => ({ line, record: csvRecordObject(c), rowFault: c.length !== FIELDS.length })),
      TODAY,
    );
  });

  it('GB18030: the same text as UTF-8, byte for byte what the platform decoder reads back and an independent encoder writes', async () => {
    for (const format of ['ndjson', 'csv'] as const) {
      const utf8 = tempFile(format);
      const gb = tempFile(format);
      const mu = await writeBatch(utf8, { ...options, format, rareNames: 0.3 });
      const mg = await writeBatch(gb, { ...options, format, rareNames: 0.3, encoding: 'gb18030' });
      const bytes = readFileSync(gb);
      const text = new TextDecoder('gb18030', { fatal: true }).decode(bytes);
      expect(text).toBe(readFileSync(utf8, 'utf8'));
      expect(sha256(iconv.encode(text, 'gb18030'))).toBe(sha256(bytes));
      expect(sha256(encodeGb18030(text))).toBe(sha256(bytes)); // test/support/gb18030.ts: the WHATWG decoder inverted
      expect(text).toMatch(/[\u{20000}-\u{3FFFF}]/u);
      expect(mg.bytes).toBe(bytes.length);
      expect({ ...mg, encoding: 'utf-8', bytes: 0 }).toEqual({ ...mu, bytes: 0 });
    }
    expect([...iconv.encode('𠮷', 'gb18030')]).toEqual([0x95, 0x34, 0xb2, 0x35]);
    expect(new TextDecoder('gb18030', { fatal: true }).decode(iconv.encode('王𠮷䶮𡈼', 'gb18030'))).toBe('王𠮷䶮𡈼');
  });

  it('ill-formed bytes (optional): 0xFF in the listed rows only, which a strict decoder refuses', async () => {
    for (const encoding of ['utf-8', 'gb18030'] as const) {
      const file = tempFile('ndjson');
      const m = await writeBatch(file, { rows: 500, bad: 0.02, badKinds: ['ill-formed-bytes'], seed: 4, encoding, today: TODAY });
      const bytes = readFileSync(file);
      expect(() => new TextDecoder(encoding, { fatal: true }).decode(bytes)).toThrow();
      const listed = m.badByKind['ill-formed-bytes']!;
      expect(listed.count).toBe(10);
      const records = ndjsonRecords(bytes, encoding);
      const withFf = records.filter((r) => String(r.record.iname).includes('\ufffd')).map((r) => r.line);
      expect(withFf).toEqual(listed.first.map((r) => r.line));
      expect(bytes.filter((b) => b === 0xff).length).toBe(10);
    }
  });

  it('rows over 64 KB (optional): exactly the listed lines are longer than 65,536 bytes', async () => {
    const file = tempFile('ndjson');
    const m = await writeBatch(file, { rows: 300, bad: 0.01, badKinds: ['oversized-row'], seed: 6, encoding: 'gb18030', today: TODAY });
    const long = ndjsonRecords(readFileSync(file), 'gb18030').filter((r) => r.bytes > ROW_LIMIT).map((r) => r.line);
    expect(long).toEqual(m.badByKind['oversized-row']!.first.map((r) => r.line));
    expect(long.length).toBe(3);
  });

  it('the hub’s own batch reader and contract reject exactly the listed rows, at the listed lines, on the listed fields', async () => {
    const spec = PUSH_KINDS['dishonest-debtor'];
    for (const [format, encoding] of [
      ['ndjson', 'utf-8'],
      ['csv', 'gb18030'],
    ] as const) {
      const file = tempFile(format);
      const m = await writeBatch(file, { rows: 1500, bad: 0.1, badKinds: ALL_KINDS, repeats: 0.05, seed: 5, format, encoding, today: TODAY });
      let header: string[] | undefined;
      let rows = 0;
      const rejected = new Map<number, string[]>();
      for await (const raw of readRows(createReadStream(file), { format, encoding, offset: 0, line: 1 })) {
        if (format === 'csv' && header === undefined) {
          const text = decodeRow(raw.bytes!, encoding);
          const parsed = text.ok ? parseCsvHeader(text.text) : undefined;
          if (!parsed?.ok) throw new Error('the header row does not parse');
          header = parsed.columns;
          continue;
        }
        rows++;
        const row = rowRecord(raw, { spec, format, encoding, ...(header ? { header } : {}) });
        if (row.errors) rejected.set(row.line, row.errors.map((e) => e.field));
        else if (row.record) {
          // Empty values are left out before the contract, as the push path does (shared/ingest/prepare.ts).
          const faulted = contractFaults(Object.fromEntries(Object.entries(row.record).filter(([, v]) => !(typeof v === 'string' && v.trim() === ''))));
          if (faulted.size > 0) rejected.set(row.line, [...faulted]);
        }
      }
      expect(rows).toBe(m.total);
      const listed = listedBad(m);
      expect([...rejected.keys()].sort((a, b) => a - b), `${format} ${encoding}`).toEqual([...listed.keys()].sort((a, b) => a - b));
      for (const [line, { field, kind }] of listed) expect(rejected.get(line), `${format} line ${line} ${kind}`).toContain(field);
    }
  });

  it('the same seed gives the same file; another seed another file', async () => {
    const [a, b, c] = [tempFile('csv'), tempFile('csv'), tempFile('csv')];
    const run = (path: string, seed: number) => writeBatch(path, { ...options, seed, format: 'csv', encoding: 'gb18030' });
    const [ma, mb] = [await run(a, 9), await run(b, 9)];
    await run(c, 10);
    expect(sha256(readFileSync(a))).toBe(sha256(readFileSync(b)));
    expect(ma).toEqual(mb);
    expect(sha256(readFileSync(c))).not.toBe(sha256(readFileSync(a)));
  });

  it('the manifest lists the first listLimit rows of each kind and counts them all', async () => {
    const { stream, manifest } = generateBatch({ rows: 2000, bad: 0.5, repeats: 0.1, listLimit: 5, seed: 2, today: TODAY });
    stream.resume();
    const m = await manifest;
    expect(m.bad).toBe(1000);
    for (const list of Object.values(m.badByKind)) expect([list.count > 100, list.first.length]).toEqual([true, 5]);
    expect(m.repeats.updated.first.length).toBe(5);
    expect(m.repeats.updated.count + m.repeats.duplicate.count).toBe(200);
  });

  it('a stream destroyed before its end rejects its manifest (nobody waits for ever)', async () => {
    const { stream, manifest } = generateBatch({ rows: 100_000, seed: 1, today: TODAY });
    stream.once('data', () => stream.destroy());
    await expect(manifest).rejects.toThrow(/closed before its end/);
  });

  it('200,000 rows are written in constant memory (measured in a process of its own)', async () => {
    const report: string[] = [];
    for (const [format, encoding] of [
      ['ndjson', 'utf-8'],
      ['csv', 'gb18030'],
    ] as const) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', '--max-semi-space-size=16', '--import', 'tsx', 'test/support/batch-sample/memory-probe.ts', '200000', tempFile(format), format, encoding],
        { cwd: root, timeout: 110_000 },
      );
      const probe = JSON.parse(stdout) as { rows: number; bytes: number; ms: number; rssBefore: number; rssPeak: number; liveHeapFirst: number; liveHeapLast: number };
      const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
      report.push(
        `${format} ${encoding}: ${probe.rows} rows, ${mb(probe.bytes)} MB in ${probe.ms} ms; RSS growth ${mb(probe.rssPeak - probe.rssBefore)} MB; live heap ${mb(probe.liveHeapFirst)} → ${mb(probe.liveHeapLast)} MB`,
      );
      expect(probe.rows).toBe(200_000);
      expect(probe.rssPeak - probe.rssBefore).toBeLessThan(50 * 2 ** 20);
      // What stays alive does not grow with the rows (the manifest's lists are bounded).
      expect(probe.liveHeapLast - probe.liveHeapFirst).toBeLessThan(4 * 2 ** 20);
    }
    console.log(`[batch-sample memory] ${report.join('; ')}`);
  }, 240_000);
});

describe('generate-batch CLI', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const stderr = new Writable({
      write(chunk: Buffer, _encoding, done) {
        err.push(String(chunk));
        done();
      },
    });
    return { out, err, io: { stdout: (t: string) => void out.push(t), stderr } };
  };

  it('writes the file and manifest that writeBatch writes, and says what it wrote', async () => {
    const [file, manifestFile, again] = [tempFile('csv'), tempFile('json'), tempFile('csv')];
    const { out, io: cliIo } = io();
    const status = await runGenerateBatch(['--rows', '1200', '--format', 'csv', '--encoding', 'gb18030', '--bad', '0.05', '--seed', '42', '--out', file, '--manifest', manifestFile], cliIo);
    expect(status).toBe(0);
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as BatchManifest;
    expect(m.bad).toBe(60);
    const same = await writeBatch(again, { rows: 1200, format: 'csv', encoding: 'gb18030', bad: 0.05, seed: 42, today: m.today });
    expect(sha256(readFileSync(file))).toBe(sha256(readFileSync(again)));
    expect(same).toEqual(m);
    expect(out.join('')).toMatch(/1200 rows \(1140 valid: .*60 bad\)/);
  });

  it('says which option is wrong, in Chinese and English, without a stack trace, and exits non-zero', async () => {
    for (const [args, message] of [
      [['--rows', 'many', '--out', tempFile('x')], /--rows.*应为非负整数 \(a whole number ≥ 0 expected\)/],
      [['--rows', '5', '--bad', '2', '--out', tempFile('x')], /--bad.*0到1之间/],
      [['--rows', '5', '--format', 'xml', '--out', tempFile('x')], /--format.*ndjson, csv/],
      [['--rows', '5', '--bad-kinds', 'typo', '--out', tempFile('x')], /unknown bad-row kind: typo/],
      [['--rows', '5'], /--out/],
      [['--rows', '5', '--out', join(dir, 'missing', 'x.ndjson')], /失败 \(failed\): ENOENT/],
    ] as const) {
      const { err, io: cliIo } = io();
      expect(await runGenerateBatch([...args], cliIo), args.join(' ')).toBe(1);
      expect(err.join(''), args.join(' ')).toMatch(message);
      expect(err.join('')).not.toMatch(/\n\s+at /);
    }
  });
});
