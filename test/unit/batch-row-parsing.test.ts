import { describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { headerProblem, requiredFields } from '../../shared/batch/csv-columns.js';
import { parseCsvHeader, parseCsvRow } from '../../shared/batch/csv-row.js';
import { formatProblem, type ProbedRow } from '../../shared/batch/format-probe.js';
import { maskIdentityShaped, maskRecord, maskText } from '../../shared/batch/masked-row.js';
import { parseNdjsonRow } from '../../shared/batch/ndjson-row.js';
import { decodeRow } from '../../shared/batch/row-text.js';
import { encodeGb18030 } from '../support/gb18030.js';

const license = PUSH_KINDS.license;
const debtor = PUSH_KINDS['dishonest-debtor'];

describe('decodeRow', () => {
  it('decodes UTF-8 and GB18030 strictly, rare characters included', () => {
    expect(decodeRow(Buffer.from('张𠮷'), 'utf-8')).toEqual({ ok: true, text: '张𠮷' });
    expect(decodeRow(encodeGb18030('张𠮷龘'), 'gb18030')).toEqual({ ok: true, text: '张𠮷龘' });
  });

  it('rejects ill-formed bytes, saying at which byte of the row they start', () => {
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe5, 0x28]), Buffer.from('"}')]);
    const result = decodeRow(bad, 'utf-8');
    expect(result).toEqual({ ok: false, message: expect.stringContaining('ill-formed bytes at byte 7 of the row') });
    expect(decodeRow(Buffer.from([0x41, 0x81]), 'gb18030')).toEqual({ ok: false, message: expect.stringContaining('not valid gb18030') });
  });

  it('refuses U+FFFD (text damaged before the file was made)', () => {
    expect(decodeRow(Buffer.from('a\ufffdb'), 'utf-8')).toEqual({ ok: false, message: expect.stringContaining('U+FFFD') });
  });

  it('keeps a U+FEFF that is not at the start of the file', () => {
    expect(decodeRow(Buffer.from('\ufeffx'), 'utf-8')).toEqual({ ok: true, text: '\ufeffx' });
  });
});

describe('parseNdjsonRow', () => {
  it('takes a JSON object', () => {
    expect(parseNdjsonRow('{"a":"1","b":2}')).toEqual({ ok: true, record: { a: '1', b: 2 } });
  });

  it.each([['[1]'], ['"x"'], ['null'], ['3']])('rejects %s: not an object', (text) => {
    expect(parseNdjsonRow(text)).toEqual({ ok: false, errors: [{ field: '', message: expect.stringContaining('JSON对象') }] });
  });

  it('rejects invalid JSON with the parser reason', () => {
    expect(parseNdjsonRow('{"a":')).toEqual({ ok: false, errors: [{ field: '', message: expect.stringMatching(/^不是有效的JSON \(/) }] });
  });

  it('rejects a repeated key, naming it, and keeps the record to show', () => {
    const parsed = parseNdjsonRow('{"cardNum":"1","cardNum":"2"}');
    expect(parsed).toEqual({ ok: false, errors: [{ field: 'cardNum', message: expect.stringContaining('duplicate key cardNum') }], record: { cardNum: '2' } });
  });
});

describe('CSV records and header', () => {
  it('splits quoted fields with commas, quotes and line feeds', () => {
    expect(parseCsvRow('1,"a,b","say ""hi""\nbye"', ['x', 'y', 'z'])).toEqual({ ok: true, record: { x: '1', y: 'a,b', z: 'say "hi"\nbye' } });
  });

  it('keeps empty fields as empty strings (absent for the contract)', () => {
    expect(parseCsvRow('1,,', ['x', 'y', 'z'])).toEqual({ ok: true, record: { x: '1', y: '', z: '' } });
  });

  it('rejects a row with another number of fields than the header', () => {
    expect(parseCsvRow('1,2', ['x', 'y', 'z'])).toEqual({ ok: false, errors: [{ field: '', message: '本行有2列，表头有3列 (the row has 2 fields; the header has 3)' }] });
  });

  it.each([
    ['a,b"c', 'Invalid Opening Quote'],
    ['"a"b,c', 'Invalid Closing Quote'],
    ['"a,b', 'Quote Not Closed'],
  ])('rejects %s with csv-parse’s reason', (text, reason) => {
    const parsed = parseCsvRow(text, ['x', 'y']);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors[0]!.message).toContain(reason);
  });

  it('a bare \\r inside a field is text, not a record end', () => {
    expect(parseCsvRow('a\rb,c', ['x', 'y'])).toEqual({ ok: true, record: { x: 'a\rb', y: 'c' } });
  });

  it('reads the header’s column names, trimmed', () => {
    expect(parseCsvHeader(' iname , cardNum,"caseCode"')).toEqual({ ok: true, columns: ['iname', 'cardNum', 'caseCode'] });
  });

  it('the required columns are the contract’s non-optional fields', () => {
    expect(requiredFields(license)).toContain('XK_WSH');
    expect(requiredFields(license)).not.toContain('XK_XDR_ZJHM');
    expect(requiredFields(debtor)).toEqual(expect.arrayContaining(['iname', 'cardNum', 'caseCode', 'courtName']));
    expect(requiredFields(debtor)).not.toContain('status');
    expect(requiredFields(debtor)).not.toContain('partyTypeName');
  });

  it('a header of the required columns (any order) and some optional ones is fine', () => {
    expect(headerProblem(debtor, [...requiredFields(debtor)].reverse().concat(['status']))).toBeUndefined();
  });

  it('names missing, unknown, repeated and unnamed columns', () => {
    const columns = requiredFields(debtor).filter((c) => c !== 'caseCode' && c !== 'iname');
    const problem = headerProblem(debtor, [...columns, 'caseNo', 'courtName', ''])!;
    expect(problem).toContain('"caseNo"');
    expect(problem).toContain('unknown columns');
    expect(problem).toContain('the required columns "iname", "caseCode"');
    expect(problem).toContain('columns given twice: "courtName"');
    expect(problem).toContain(`column ${columns.length + 3} has no name`);
  });
});

describe('masking rejected rows', () => {
  it('masks the certificate-number field whatever it holds', () => {
    expect(maskRecord(debtor, { cardNum: '110102199101010078', iname: '李四' })).toEqual({ cardNum: '1101021991****0078', iname: '李四' });
    expect(maskRecord(debtor, { cardNum: 'not-an-id-123' })).toEqual({ cardNum: 'no*********23' });
    expect(maskRecord(license, { XK_XDR_ZJHM: 110102199101010078 })).toEqual({ XK_XDR_ZJHM: '1101021991****0080' });
  });

  it('masks identity-shaped numbers in any field, nested values included', () => {
    const masked = maskRecord(debtor, { duty: '被执行人李四（身份证号11010219910101007X）', extra: { list: ['310101850101123'] } });
    expect(masked).toEqual({ duty: '被执行人李四（身份证号1101021991****007X）', extra: { list: ['31***********23'] } });
  });

  it('leaves codes that are not identity numbers (USCCs, case numbers) alone', () => {
    expect(maskIdentityShaped('121200004013590816 91110000600037341L （2024）京01执123号 1234567890123456789')).toBe(
      '121200004013590816 91110000600037341L （2024）京01执123号 1234567890123456789',
    );
  });

  it('masks and shortens the text of a row that could not be read', () => {
    expect(maskText('x,110102199101010078,' + 'y'.repeat(3000)).length).toBe(2001);
    expect(maskText('x,110102199101010078,y')).toBe('x,1101021991****0078,y');
  });
});

describe('formatProblem', () => {
  const row = (text: string | Buffer, decoded = true, parsed = true): ProbedRow => ({ bytes: typeof text === 'string' ? Buffer.from(text) : text, decoded, parsed });
  const chinese = '{"iname":"北京某某建设工程有限公司","courtName":"北京市第一中级人民法院"}';

  it('passes a file whose first rows are mostly fine', () => {
    expect(formatProblem([row('{}', true, false), row('{}'), row('{}')], 'ndjson', 'utf-8')).toBeUndefined();
    expect(formatProblem([], 'ndjson', 'utf-8')).toBeUndefined();
  });

  it('fails when most of the first rows are not in the declared encoding, and names the one they are in', () => {
    const gb = encodeGb18030(chinese);
    const problem = formatProblem([row(gb, false, false), row(gb, false, false), row('{}')], 'ndjson', 'utf-8');
    expect(problem).toContain('not in the declared encoding utf-8: 2 of its first 3 rows');
    expect(problem).toContain('declare "encoding":"gb18030"');
  });

  it('fails a gb18030 batch whose rows are all UTF-8 Chinese text (it would decode as mojibake)', () => {
    const utf8 = Buffer.from(chinese);
    expect(formatProblem([row(utf8), row(utf8)], 'ndjson', 'gb18030')).toContain('the file is UTF-8, not the declared gb18030');
    // Genuine GB18030 is not valid UTF-8; ASCII-only rows prove nothing either way.
    expect(formatProblem([row(encodeGb18030(chinese)), row(encodeGb18030(chinese))], 'ndjson', 'gb18030')).toBeUndefined();
    expect(formatProblem([row('{"a":1}')], 'ndjson', 'gb18030')).toBeUndefined();
  });

  it('fails an "ndjson" file whose first rows are mostly not JSON objects, and spots CSV', () => {
    const problem = formatProblem([row('iname,cardNum', true, false), row('a,b', true, false), row('{}')], 'ndjson', 'utf-8');
    expect(problem).toContain('the file is not NDJSON: 2 of its first 3 rows');
    expect(problem).toContain('declare "format":"csv"');
  });

  it('judges on the first 20 rows only', () => {
    const rows = [...Array.from({ length: 20 }, () => row('{}')), ...Array.from({ length: 50 }, () => row('x', true, false))];
    expect(formatProblem(rows, 'ndjson', 'utf-8')).toBeUndefined();
  });
});
