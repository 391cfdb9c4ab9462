import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  CERTIFICATE_TYPE,
  DISHONESTY_GRADE,
  LICENSE_CATEGORY,
  LICENSE_STATUS,
  PENALTY_CATEGORY,
  SUBJECT_CATEGORY,
  codeName,
  describeTable,
  lookupCode,
} from '../../contracts/codes.js';
import { amount, certificateNumber, certificateProblem, coded, codedList, date, pastDate, text, uscc } from '../../contracts/fields.js';
import { addMonths, todayInChina } from '../../shared/domain/dates.js';

/** The messages of a failed parse, or the parsed value. */
function parse<T extends z.ZodType>(schema: T, value: unknown) {
  return schema.safeParse(value);
}

function issuesOf(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be rejected, got ${JSON.stringify(result.data)}`);
  return result.error.issues.map((i) => i.message);
}

function valueOf(schema: z.ZodType, value: unknown): unknown {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`expected ${JSON.stringify(value)} to be accepted: ${result.error.message}`);
  return result.data;
}

describe('text()', () => {
  const t = text(10, 'test text');

  it('trims surrounding whitespace', () => {
    expect(valueOf(t, '  某单位 \n')).toBe('某单位');
  });

  it('rejects empty and blank-only strings', () => {
    expect(issuesOf(t, '')).toEqual([expect.stringMatching(/不能为空/)]);
    expect(issuesOf(t, '   \t ')).toEqual([expect.stringMatching(/不能为空/)]);
  });

  it('accepts exactly max characters (Chinese counts one each) and rejects max + 1', () => {
    expect(valueOf(t, '一二三四五六七八九十')).toBe('一二三四五六七八九十');
    expect(issuesOf(t, '一二三四五六七八九十壹')).toEqual([expect.stringMatching(/不能超过10个字符/)]);
  });

  it('measures length after trimming', () => {
    expect(valueOf(t, '   0123456789   ')).toBe('0123456789');
  });

  it('keeps HTML verbatim as text, never stripping or escaping it', () => {
    const html = text(100, 'html');
    expect(valueOf(html, '<script>alert(1)</script>')).toBe('<script>alert(1)</script>');
    expect(valueOf(html, '<b>a&amp;b</b> "q" \'s\'')).toBe('<b>a&amp;b</b> "q" \'s\'');
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['BEL', 'a\u0007b'],
    ['vertical tab', 'a\u000Bb'],
    ['form feed', 'a\u000Cb'],
    ['ESC', 'a\u001Bb'],
    ['unit separator', 'a\u001Fb'],
    ['DEL', 'a\u007Fb'],
  ])('rejects the control character %s', (_name, value) => {
    expect(issuesOf(t, value)).toEqual([expect.stringMatching(/控制字符/)]);
  });

  it('allows tab, line feed and carriage return inside the text', () => {
    expect(valueOf(t, 'a\tb\nc\r\nd')).toBe('a\tb\nc\r\nd');
  });

  it.each([[5], [true], [null], [['a']], [{ a: 1 }]])('rejects the non-string %j', (value) => {
    const result = parse(t, value);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.code).toBe('invalid_type');
  });
});

describe('date()', () => {
  const d = date('a date');

  it.each(['2026-03-01', '2024-02-29', '2000-02-29', '2026-12-31', '1999-01-01'])('accepts the real date %s', (value) => {
    expect(valueOf(d, value)).toBe(value);
  });

  it.each(['2026-02-30', '2026-02-29', '1900-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-01-00', '2026-01-32'])(
    'rejects the impossible date %s as not a calendar date',
    (value) => {
      expect(issuesOf(d, value)).toEqual([expect.stringMatching(/日期不存在/)]);
    },
  );

  it.each(['2026/11/01', '2026-1-01', '2026-01-1', '20261101', '26-11-01', '2026-11-01T00:00:00Z', '2026年11月1日', ''])('rejects the badly formatted %j', (value) => {
    expect(issuesOf(d, value)).toContainEqual(expect.stringMatching(/YYYY-MM-DD/));
  });

  it('accepts full-width digits and dashes, storing the half-width date', () => {
    expect(valueOf(d, '２０２６－０３－０１')).toBe('2026-03-01');
  });

  it('trims surrounding whitespace', () => {
    expect(valueOf(d, ' 2026-03-01 ')).toBe('2026-03-01');
  });

  it('rejects a number (an Excel serial date, say)', () => {
    expect(parse(d, 46082).success).toBe(false);
  });
});

describe('pastDate(): not after today in China (UTC+8)', () => {
  const d = pastDate('decision date');
  afterAll(() => {
    vi.useRealTimers();
  });

  it('at 23:59:59 in Beijing, today is accepted and tomorrow is rejected', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-23T15:59:59Z') });
    expect(valueOf(d, '2026-11-23')).toBe('2026-11-23');
    expect(issuesOf(d, '2026-11-24')).toEqual([expect.stringMatching(/晚于今天/)]);
    vi.useRealTimers();
  });

  it('at midnight in Beijing (16:00 UTC) the next date has become today', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-23T16:00:00Z') });
    expect(valueOf(d, '2026-11-24')).toBe('2026-11-24');
    expect(issuesOf(d, '2026-11-25')).toEqual([expect.stringMatching(/晚于今天/)]);
    vi.useRealTimers();
  });

  it('still rejects impossible dates', () => {
    expect(issuesOf(d, '2026-02-30')).toContainEqual(expect.stringMatching(/日期不存在/));
  });

  // BUG: the "future" refinement also runs on strings that already failed the format or
  // calendar check, and compares them as strings: '2026-13-01' and '2026/11/01' sort after
  // today, so the client is told, wrongly, that the date is in the future.
  it.each(['2026-13-01', '2026/11/01'])('does not also report the impossible date %s as being in the future', (value) => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-23T04:00:00Z') });
    const messages = issuesOf(d, value);
    vi.useRealTimers();
    expect(messages.length).toBeGreaterThan(0);
    expect(messages).not.toContainEqual(expect.stringMatching(/晚于今天/));
  });

  it('rejects a date a year from today (the real clock)', () => {
    expect(issuesOf(d, addMonths(todayInChina(), 12))).toEqual([expect.stringMatching(/晚于今天/)]);
  });

  it('accepts today and a date long past (the real clock)', () => {
    const today = todayInChina();
    expect(valueOf(d, today)).toBe(today);
    expect(valueOf(d, addMonths(today, -120))).toBe(addMonths(today, -120));
  });
});

describe('uscc()', () => {
  const u = uscc('a USCC');

  it.each(['91110000600037341L', '121200004013590816', '91310115MA1K3BTP2B', '91340600MA2PBP2120'])('accepts the DOMAIN.md fixture %s', (code) => {
    expect(valueOf(u, code)).toBe(code);
  });

  it('rejects 91110000600037341N for its check character', () => {
    expect(issuesOf(u, '91110000600037341N')).toEqual([expect.stringMatching(/校验位/)]);
  });

  it('normalises full-width and lower-case input to the stored code', () => {
    expect(valueOf(u, '９１１１００００６０００３７３４１ｌ')).toBe('91110000600037341L');
    expect(valueOf(u, ' 91310115ma1k3btp2b ')).toBe('91310115MA1K3BTP2B');
  });

  it.each([['9111000060003734'], ['91110000600037341LL'], ['91110000600037341I'], ['']])('rejects the malformed %j', (code) => {
    expect(parse(u, code).success).toBe(false);
  });

  it('rejects a number', () => {
    expect(parse(u, 121200004013590816).success).toBe(false);
  });
});

describe('certificateNumber()', () => {
  const c = certificateNumber('certificate number');

  it('stores numbers half-width and upper case', () => {
    expect(valueOf(c, 'e12345678')).toBe('E12345678');
    expect(valueOf(c, '４４０１１３２０１４１００５００１ｘ')).toBe('44011320141005001X');
  });

  it('accepts 5 and 30 characters, rejects 4 and 31', () => {
    expect(valueOf(c, 'A1234')).toBe('A1234');
    expect(valueOf(c, 'A'.repeat(30))).toBe('A'.repeat(30));
    expect(issuesOf(c, 'A123')).toEqual([expect.stringMatching(/证件号码格式错误/)]);
    expect(issuesOf(c, 'A'.repeat(31))).toEqual([expect.stringMatching(/证件号码格式错误/)]);
  });

  it('allows parentheses and hyphens (Hong Kong and Macao numbers) but not other punctuation', () => {
    expect(valueOf(c, 'H1234567(8)')).toBe('H1234567(8)');
    expect(valueOf(c, 'AB-12345')).toBe('AB-12345');
    expect(parse(c, '1234 5678').success).toBe(false);
    expect(parse(c, '12345*678').success).toBe(false);
  });
});

describe('certificateProblem()', () => {
  const today = '2026-11-23';

  it('checks a 身份证 (type 01) number with GB 11643', () => {
    expect(certificateProblem('01', '110102199101010078', today)).toBeNull();
    expect(certificateProblem('01', '44011320141005001X', today)).toBeNull();
    expect(certificateProblem('01', '36042619910102009X', today)).toMatch(/校验位/);
  });

  it('uses the given today for birth dates', () => {
    // Born 2026-11-24, with a valid check character.
    expect(certificateProblem('01', '110102202611240011', today)).toMatch(/晚于今天/);
    expect(certificateProblem('01', '110102202611240011', '2026-11-24')).toBeNull();
  });

  it('does not apply the resident-id check to other certificate types', () => {
    expect(certificateProblem('02', '36042619910102009X', today)).toBeNull();
    expect(certificateProblem('03', 'H1234567', today)).toBeNull();
  });
});

describe('code tables', () => {
  it('lookupCode finds codes, names and aliases', () => {
    expect(lookupCode(SUBJECT_CATEGORY, '03')).toBe('03');
    expect(lookupCode(SUBJECT_CATEGORY, '自然人')).toBe('03');
    expect(lookupCode(CERTIFICATE_TYPE, '居民身份证')).toBe('01');
    expect(lookupCode(PENALTY_CATEGORY, '吊销执照')).toBe('05');
    expect(lookupCode(PENALTY_CATEGORY, '限制开展生产经营活动')).toBe('11');
  });

  it.each(['3', '003', '自然', 'constructor', 'toString', '__proto__', 'hasOwnProperty', ''])('lookupCode does not accept %j', (value) => {
    expect(lookupCode(SUBJECT_CATEGORY, value)).toBeUndefined();
  });

  it('codeName gives the primary name, and undefined for unknown or inherited keys', () => {
    expect(codeName(CERTIFICATE_TYPE, '01')).toBe('身份证');
    expect(codeName(DISHONESTY_GRADE, '3')).toBe('严重');
    expect(codeName(DISHONESTY_GRADE, '4')).toBeUndefined();
    expect(codeName(DISHONESTY_GRADE, 'constructor')).toBeUndefined();
  });

  it('describeTable lists every code with its primary name', () => {
    expect(describeTable(LICENSE_STATUS)).toBe('1 有效, 2 无效');
    expect(describeTable(LICENSE_CATEGORY)).toBe('01 普通, 02 特许, 03 认可, 04 核准, 05 登记, 06 其他');
  });
});

describe('coded()', () => {
  const lb = coded(SUBJECT_CATEGORY, 'category');

  it.each(Object.entries(SUBJECT_CATEGORY).flatMap(([code, names]) => [[code, code] as const, ...names.map((n) => [n, code] as const)]))(
    'stores %s as %s',
    (input, code) => {
      expect(valueOf(lb, input)).toBe(code);
    },
  );

  it('accepts aliases and stores the canonical code', () => {
    expect(valueOf(coded(CERTIFICATE_TYPE, 'type'), '护照号')).toBe('02');
  });

  it('normalises full-width codes and trims names', () => {
    expect(valueOf(lb, '０３')).toBe('03');
    expect(valueOf(lb, ' 个体工商户 ')).toBe('04');
  });

  it.each(['3', '05', '企业', 'constructor', '__proto__', ''])('rejects %j, listing the table', (value) => {
    expect(issuesOf(lb, value)).toEqual([expect.stringContaining('01 法人, 02 非法人组织, 03 自然人, 04 个体工商户')]);
  });

  it('rejects a number even when it looks like a code', () => {
    expect(parse(coded(LICENSE_STATUS, 'status'), 1).success).toBe(false);
  });
});

describe('codedList()', () => {
  const lb = codedList(PENALTY_CATEGORY, 'categories');

  it.each([
    ['警告;罚款', '01;02'],
    ['罚款;警告', '01;02'],
    ['罚款；警告', '01;02'],
    ['罚款，警告', '01;02'],
    ['罚款,警告', '01;02'],
    ['罚款、警告', '01;02'],
    ['02;01', '01;02'],
    [' 罚款 ; 警告 ;', '01;02'],
    ['责令关闭;其他;警告', '01;13;14'],
    ['暂扣执照;降低资质等级', '09;10'],
  ])('stores the string %j as %j', (input, stored) => {
    expect(valueOf(lb, input)).toBe(stored);
  });

  it('takes an array, sorts it and removes duplicates (a name and its code count once)', () => {
    expect(valueOf(lb, ['罚款', '警告'])).toBe('01;02');
    expect(valueOf(lb, ['罚款', '02', '罚款'])).toBe('02');
    expect(valueOf(lb, ['１０', '没收违法所得'])).toBe('03;10');
  });

  it('names the unknown part by its position, never quoting the value (it may be personal data)', () => {
    const [first] = issuesOf(lb, '警告;拘役');
    expect(first).toMatch(/第2项/);
    expect(first).toMatch(/item 2 of 2/);
    expect(first).not.toContain('拘役');
    const [second] = issuesOf(lb, ['警告', '15']);
    expect(second).toMatch(/item 2 of 2/);
    expect(second).not.toContain("'15'");
  });

  it('rejects an empty string, only separators, and an array of blanks', () => {
    expect(issuesOf(lb, '')).toEqual([expect.stringMatching(/不能为空/)]);
    expect(issuesOf(lb, ' ;；, ')).toEqual([expect.stringMatching(/不能为空/)]);
    expect(issuesOf(lb, ['', ' '])).toEqual([expect.stringMatching(/不能为空/)]);
  });

  it('rejects an empty array, a number and an array holding a number', () => {
    expect(parse(lb, []).success).toBe(false);
    expect(parse(lb, 2).success).toBe(false);
    expect(parse(lb, ['警告', 2]).success).toBe(false);
  });
});

describe('amount()', () => {
  const a = amount('fine');

  it.each([
    ['001.500', '1.5'],
    ['1.500000', '1.5'],
    ['0', '0'],
    ['000', '0'],
    ['0.000001', '0.000001'],
    ['100', '100'],
    ['100.0', '100'],
    ['０.５', '0.5'],
    [' 3.25 ', '3.25'],
    ['999999999999.999999', '999999999999.999999'],
  ])('normalises the string %j to %j', (input, stored) => {
    expect(valueOf(a, input)).toBe(stored);
  });

  it.each([
    [12.5, '12.5'],
    [0, '0'],
    [3, '3'],
    [0.1 + 0.2, '0.3'],
    [100000, '100000'],
  ])('normalises the number %j to %j', (input, stored) => {
    expect(valueOf(a, input)).toBe(stored);
  });

  it.each([[1.2345674], [1e-7], [0.0000004]])('rejects the number %j: a seventh decimal is finer than one 分, as in a string', (value) => {
    expect(a.safeParse(value).success).toBe(false);
  });

  it.each([[-1], [-0.01], [-1e6]])('rejects the negative number %j', (value) => {
    expect(issuesOf(a, value)).toEqual([expect.stringMatching(/不能为负数/)]);
  });

  it.each([['-1'], ['-0.5'], ['－1']])('rejects the negative string %j', (value) => {
    expect(issuesOf(a, value)).toEqual([expect.stringMatching(/不能为负数/)]);
  });

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY]])('rejects the non-finite number %s', (value) => {
    expect(parse(a, value).success).toBe(false);
  });

  it.each([['1e3'], ['1E3'], ['abc'], ['1,000'], ['.5'], ['5.'], ['1.2345678'], ['1234567890123'], ['+1'], ['0x10'], ['¥100'], ['']])(
    'rejects the malformed string %j',
    (value) => {
      expect(issuesOf(a, value)).toEqual([expect.stringMatching(/金额格式错误/)]);
    },
  );

  it('rejects a number too large to be written with 12 whole digits', () => {
    expect(issuesOf(a, 1e12)).toEqual([expect.stringMatching(/金额格式错误/)]);
  });

  it.each([[true], [null], [[1]], [{}]])('rejects %j', (value) => {
    expect(parse(a, value).success).toBe(false);
  });
});
