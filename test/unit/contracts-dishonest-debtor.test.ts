import { describe, expect, it } from 'vitest';
import { DEBTOR_STATUS, PARTY_TYPE } from '../../contracts/codes.js';
import { dishonestDebtorRecordSchema } from '../../contracts/dishonest-debtor.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { addDays, fullWidthDigits } from '../support/dates.js';

// Checksum fixtures from DOMAIN.md; dates from the hub's own clock (never a fixed "today").
const COMPANY = '91110000600037341L';
const GOVERNMENT_BODY = '121200004013590816';
const ID = '110102199101010078';
const ID_X = '44011320141005001X';
/** The GB 11714 organisation code inside COMPANY (characters 9-17). */
const ORG_CODE = '600037341';
/** 18 digits that pass both GB 32100 and GB 11643: which kind of debtor it names cannot be inferred. */
const AMBIGUOUS = '110101199101014769';

const TODAY = todayInChina();
const TOMORROW = addDays(TODAY, 1);
const PUBLISHED = addDays(TODAY, -30);
const REGISTERED = addDays(TODAY, -200);

/** The parts of a listing that do not depend on the debtor. */
const CASE = {
  courtName: '北京市第一中级人民法院',
  areaName: '北京',
  caseCode: '（2026）京01执123号',
  regDate: REGISTERED,
  gistId: '（2025）京01民初45号',
  gistUnit: '北京市第一中级人民法院',
  duty: '被告于判决生效之日起十日内给付原告货款人民币伍拾万元。',
  performance: '全部未履行',
  disruptTypeName: '有履行能力而拒不履行生效法律文书确定义务',
  publishDate: PUBLISHED,
};

const organisation = (over: Record<string, unknown> = {}) => ({ iname: '北京某某商贸有限公司', cardNum: COMPANY, businessEntity: '李四', ...CASE, ...over });
const person = (over: Record<string, unknown> = {}) => ({ iname: '张三', cardNum: ID, ...CASE, ...over });

function accepted(record: unknown) {
  const result = dishonestDebtorRecordSchema.safeParse(record);
  if (!result.success) throw new Error(`expected the record to be accepted: ${JSON.stringify(fieldErrors(result.error))}`);
  return result.data;
}

function errorsOf(record: unknown) {
  const result = dishonestDebtorRecordSchema.safeParse(record);
  if (result.success) throw new Error(`expected the record to be rejected: ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error);
}

const rejectedFields = (record: unknown) => errorsOf(record).map((e) => e.field);

function without(record: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const copy = { ...record };
  for (const key of keys) delete copy[key];
  return copy;
}

/** A resident identity number born on `birth` (YYYY-MM-DD), with its GB 11643 check character computed here. */
function identityNumber(birth: string, area = '110102', sequence = '007'): string {
  const first17 = `${area}${birth.replaceAll('-', '')}${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

describe('dishonest-debtor: a minimal valid record of each kind of debtor', () => {
  it('a company by its USCC, stored with every field, listed, partyTypeName inferred', () => {
    expect(accepted(organisation())).toStrictEqual({
      iname: '北京某某商贸有限公司',
      cardNum: COMPANY,
      businessEntity: '李四',
      ...CASE,
      partyTypeName: '法人或其他组织',
      status: 'listed',
    });
  });

  it('a government body by its USCC (registration authority 1)', () => {
    const out = accepted(organisation({ iname: '某某县人民政府', cardNum: GOVERNMENT_BODY, businessEntity: '王五' }));
    expect([out.cardNum, out.partyTypeName]).toEqual([GOVERNMENT_BODY, '法人或其他组织']);
  });

  it('a natural person by a resident identity number, without businessEntity', () => {
    const out = accepted(person());
    expect([out.cardNum, out.partyTypeName, out.status]).toEqual([ID, '自然人', 'listed']);
    expect(out).not.toHaveProperty('businessEntity');
  });

  it('a natural person whose number ends in X, sent lower case', () => {
    const out = accepted(person({ cardNum: ID_X.toLowerCase() }));
    expect([out.cardNum, out.partyTypeName]).toEqual([ID_X, '自然人']);
  });

  it('an organisation by an old 9-character organisation code, with or without the hyphen, stored without it', () => {
    expect(accepted(organisation({ cardNum: ORG_CODE }))).toMatchObject({ cardNum: ORG_CODE, partyTypeName: '法人或其他组织' });
    expect(accepted(organisation({ cardNum: '60003734-1' }))).toMatchObject({ cardNum: ORG_CODE, partyTypeName: '法人或其他组织' });
    expect(accepted(organisation({ cardNum: '401359081' })).cardNum).toBe('401359081'); // the code inside GOVERNMENT_BODY
  });

  it('normalises a full-width, lower-case cardNum', () => {
    expect(accepted(organisation({ cardNum: '９１１１００００６０００３７３４１ｌ' })).cardNum).toBe(COMPANY);
    expect(accepted(person({ cardNum: fullWidthDigits(ID) })).cardNum).toBe(ID);
    expect(accepted(organisation({ cardNum: ' ６０００３７３４－１ ' })).cardNum).toBe(ORG_CODE);
  });
});

describe('dishonest-debtor: partyTypeName', () => {
  it.each([
    [COMPANY, '法人或其他组织'],
    [GOVERNMENT_BODY, '法人或其他组织'],
    [ORG_CODE, '法人或其他组织'],
    ['60003734-1', '法人或其他组织'],
    [ID, '自然人'],
    [ID_X, '自然人'],
  ])('is inferred from cardNum %s as %s', (cardNum, partyTypeName) => {
    const base = partyTypeName === '自然人' ? person({ cardNum }) : organisation({ cardNum });
    expect(accepted(base).partyTypeName).toBe(partyTypeName);
  });

  const cases = Object.entries(PARTY_TYPE).flatMap(([code, names]) => names.map((n) => [n, code]));
  it.each(cases)('accepts the name %s given, stored as %s', (input, stored) => {
    const base = stored === '自然人' ? person({ partyTypeName: input }) : organisation({ partyTypeName: input });
    expect(accepted(base).partyTypeName).toBe(stored);
  });

  it.each([
    ['a USCC named 自然人', person({ cardNum: COMPANY, partyTypeName: '自然人' })],
    ['a government body named 自然人', person({ cardNum: GOVERNMENT_BODY, partyTypeName: '自然人' })],
    ['an organisation code named 自然人', person({ cardNum: ORG_CODE, partyTypeName: '自然人' })],
    ['an identity number named 法人或其他组织', organisation({ cardNum: ID, partyTypeName: '法人或其他组织' })],
  ])('rejects a partyTypeName that contradicts cardNum (%s), on partyTypeName only', (_what, record) => {
    expect(errorsOf(record)).toEqual([{ field: 'partyTypeName', message: expect.stringMatching(/^被执行人类型与证件号码不符.*\(partyTypeName .* contradicts cardNum/) }]);
  });

  it('requires partyTypeName for a cardNum that passes both the USCC and the identity-number checks, and follows it when given', () => {
    expect(errorsOf(person({ cardNum: AMBIGUOUS }))).toEqual([{ field: 'partyTypeName', message: expect.stringMatching(/partyTypeName is required/) }]);
    expect(accepted(person({ cardNum: AMBIGUOUS, partyTypeName: '自然人' })).partyTypeName).toBe('自然人');
    expect(accepted(organisation({ cardNum: AMBIGUOUS, partyTypeName: '法人或其他组织' })).partyTypeName).toBe('法人或其他组织');
  });

  it.each(['单位', '个人', '03', 'person'])('rejects the unknown partyTypeName %j on partyTypeName, still inferring nothing wrong about cardNum', (value) => {
    expect(errorsOf(person({ partyTypeName: value }))).toEqual([{ field: 'partyTypeName', message: expect.stringMatching(/不是有效的代码或名称 \(expected one of: 自然人, 法人或其他组织\)/) }]);
  });
});

describe('dishonest-debtor: cardNum that is none of the three', () => {
  it('rejects a USCC with a bad check character, naming cardNum and both checks when no partyTypeName says which', () => {
    expect(errorsOf(organisation({ cardNum: '91110000600037341N' }))).toEqual([
      { field: 'cardNum', message: expect.stringMatching(/^既不是有效的统一社会信用代码也不是有效的身份证号码.*GB 32100.*17 digits/) },
    ]);
  });

  it('names only the USCC check for a given 法人或其他组织', () => {
    expect(errorsOf(organisation({ cardNum: '91110000600037341N', partyTypeName: '法人或其他组织' }))).toEqual([
      { field: 'cardNum', message: expect.stringMatching(/^统一社会信用代码校验位错误/) },
    ]);
  });

  it('rejects an identity number with a bad check character (36042619910102009X)', () => {
    expect(rejectedFields(person({ cardNum: '36042619910102009X' }))).toEqual(['cardNum']);
    expect(errorsOf(person({ cardNum: '36042619910102009X', partyTypeName: '自然人' }))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/^身份证号码校验位错误/) }]);
  });

  it('rejects an identity number born after today (taken from the hub clock)', () => {
    const unborn = identityNumber(TOMORROW);
    expect(errorsOf(person({ cardNum: unborn, partyTypeName: '自然人' }))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/出生日期晚于今天/) }]);
    expect(rejectedFields(person({ cardNum: unborn }))).toEqual(['cardNum']);
    expect(accepted(person({ cardNum: identityNumber(TODAY) })).partyTypeName).toBe('自然人');
  });

  it('rejects an identity number with an impossible birth date', () => {
    expect(errorsOf(person({ cardNum: identityNumber('1991-02-30'), partyTypeName: '自然人' }))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/出生日期无效/) }]);
  });

  it('rejects an organisation code with a bad check character, hyphenated or not', () => {
    expect(errorsOf(organisation({ cardNum: '600037342' }))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/^组织机构代码校验位错误/) }]);
    expect(rejectedFields(organisation({ cardNum: '60003734-2' }))).toEqual(['cardNum']);
  });

  it('rejects a code of another length, saying what was expected', () => {
    expect(errorsOf(organisation({ cardNum: 'ABCDEFGHIJ' }))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/9-character organisation code expected, got 10 characters/) }]);
    expect(errorsOf(organisation({ cardNum: 'ABCDEFGHIJ', partyTypeName: '法人' }))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/^应为18位统一社会信用代码或9位组织机构代码/) }]);
  });

  it.each(['1234', '1101021991010100781', '张三身份证', '110102-199101010078', 'E1234567', '91110000-600037341L'])('rejects %j by its shape', (value) => {
    expect(rejectedFields(person({ cardNum: value }))).toEqual(['cardNum']);
  });

  it('rejects a missing cardNum (and does not guess the kind of debtor)', () => {
    expect(errorsOf(without(person(), 'cardNum'))).toEqual([{ field: 'cardNum', message: expect.stringMatching(/必填字段缺失/) }]);
  });
});

describe('dishonest-debtor: businessEntity', () => {
  it('is required for an organisation, inferred or named', () => {
    expect(errorsOf(without(organisation(), 'businessEntity'))).toEqual([{ field: 'businessEntity', message: expect.stringMatching(/法定代表人或负责人/) }]);
    expect(rejectedFields(without(organisation({ cardNum: ORG_CODE, partyTypeName: '法人或其他组织' }), 'businessEntity'))).toEqual(['businessEntity']);
  });

  it('is refused for a natural person', () => {
    expect(errorsOf(person({ businessEntity: '李四' }))).toEqual([{ field: 'businessEntity', message: expect.stringMatching(/自然人不填写/) }]);
  });

  it('is not judged while cardNum and partyTypeName disagree', () => {
    expect(rejectedFields(person({ cardNum: COMPANY, partyTypeName: '自然人' }))).toEqual(['partyTypeName']);
  });

  it('is judged by a given partyTypeName when cardNum is wrong', () => {
    expect(rejectedFields(person({ cardNum: '36042619910102009X', partyTypeName: '自然人', businessEntity: '李四' })).sort()).toEqual(['businessEntity', 'cardNum']);
  });
});

describe('dishonest-debtor: dates', () => {
  it.each(['regDate', 'publishDate'])('accepts %s today and rejects it tomorrow', (field) => {
    const today = { regDate: TODAY, publishDate: TODAY };
    expect(accepted(organisation(today))).toMatchObject(today);
    expect(errorsOf(organisation({ ...today, [field]: TOMORROW }))).toContainEqual({ field, message: expect.stringMatching(/晚于今天/) });
  });

  it.each(['regDate', 'publishDate'])('rejects an impossible or malformed %s on that field', (field) => {
    expect(rejectedFields(organisation({ [field]: '2026-02-30' }))).toEqual([field]);
    expect(rejectedFields(organisation({ [field]: '2026年1月2日' }))).toEqual([field]);
  });

  it('accepts full-width digits', () => {
    expect(accepted(organisation({ publishDate: fullWidthDigits(PUBLISHED) })).publishDate).toBe(PUBLISHED);
  });

  it('rejects publishDate before regDate on publishDate; the same day is fine', () => {
    expect(errorsOf(organisation({ publishDate: addDays(REGISTERED, -1) }))).toEqual([{ field: 'publishDate', message: expect.stringMatching(/不能早于立案时间/) }]);
    expect(accepted(organisation({ publishDate: REGISTERED })).publishDate).toBe(REGISTERED);
  });
});

describe('dishonest-debtor: performedPart and unperformPart (amount or text)', () => {
  it.each([
    [5, '5'],
    [12.5, '12.5'],
    ['001.500', '1.5'],
    ['１００', '100'],
    [0, '0'],
    [' 3 ', '3'],
  ])('normalises the amount %j to %j', (input, stored) => {
    expect(accepted(organisation({ performedPart: input, unperformPart: input }))).toMatchObject({ performedPart: stored, unperformPart: stored });
  });

  it.each(['全部未履行', '已履行部分款项', '已履行50000元', '1e3', '无'])('keeps the text %j as sent', (value) => {
    expect(accepted(organisation({ unperformPart: value })).unperformPart).toBe(value);
  });

  it.each([
    [-1, /不能为负数/],
    ['-0.5', /不能为负数/],
    ['1.2345678', /金额格式错误/],
    ['1.2.3', /金额格式错误/],
  ])('rejects the amount %j on that field', (value, message) => {
    expect(errorsOf(organisation({ performedPart: value }))).toEqual([{ field: 'performedPart', message: expect.stringMatching(message) }]);
  });

  it('rejects text over 500 characters and control characters', () => {
    expect(accepted(organisation({ performedPart: '履'.repeat(500) })).performedPart).toBe('履'.repeat(500));
    expect(rejectedFields(organisation({ performedPart: '履'.repeat(501) }))).toEqual(['performedPart']);
    expect(rejectedFields(organisation({ unperformPart: '未\u0000履行' }))).toEqual(['unperformPart']);
  });

  it.each([[true], [[1]], [{ amount: 1 }]])('rejects %j of the wrong type', (value) => {
    expect(rejectedFields(organisation({ unperformPart: value }))).toEqual(['unperformPart']);
  });
});

describe('dishonest-debtor: status', () => {
  it('is listed when absent', () => {
    expect(accepted(organisation()).status).toBe('listed');
  });

  const cases = Object.entries(DEBTOR_STATUS).flatMap(([code, names]) => [[code, code], ...names.map((n) => [n, code])]);
  it.each(cases)('accepts %s as %s', (input, code) => {
    expect(accepted(organisation({ status: input })).status).toBe(code);
  });

  it.each(['deleted', 'LISTED', '1', '有效'])('rejects %j on status', (value) => {
    expect(errorsOf(organisation({ status: value }))).toEqual([{ field: 'status', message: expect.stringMatching(/expected one of: listed 在列, removed 已移除/) }]);
  });
});

describe('dishonest-debtor: text fields, required fields and unknown fields', () => {
  it.each([
    ['iname', 200],
    ['businessEntity', 100],
    ['courtName', 200],
    ['areaName', 50],
    ['caseCode', 128],
    ['gistId', 200],
    ['gistUnit', 200],
    ['duty', 4000],
    ['performance', 500],
    ['disruptTypeName', 2000],
  ])('accepts %s of %i characters and rejects one more', (field, max) => {
    expect(accepted(organisation({ [field]: '执'.repeat(max) }))).toHaveProperty(field, '执'.repeat(max));
    expect(rejectedFields(organisation({ [field]: '执'.repeat(max + 1) }))).toEqual([field]);
  });

  it('keeps names with rare characters and HTML verbatim, trimmed', () => {
    const out = accepted(person({ iname: ' 𠮷野家 ', duty: '<b>给付</b>' }));
    expect([out.iname, out.duty]).toEqual(['𠮷野家', '<b>给付</b>']);
  });

  it('names every missing required field', () => {
    expect(rejectedFields({}).sort()).toEqual(
      ['areaName', 'cardNum', 'caseCode', 'courtName', 'disruptTypeName', 'duty', 'gistId', 'gistUnit', 'iname', 'performance', 'publishDate', 'regDate'].sort(),
    );
  });

  it.each([
    ['iname', 42],
    ['caseCode', 18],
    ['regDate', 46310],
    ['cardNum', 110102199101010080],
    ['courtName', null],
  ])('rejects %s = %j on that field', (field, value) => {
    expect(rejectedFields(organisation({ [field]: value }))).toEqual([field]);
  });

  it('rejects unknown fields (双公示 fields included) as unrecognized_keys', () => {
    const result = dishonestDebtorRecordSchema.safeParse(organisation({ CF_WSH: 'x', CardNum: 'y', age: 40 }));
    expect(result.success).toBe(false);
    expect(fieldErrors(result.error!).map((e) => e.field)).toEqual(['CF_WSH', 'CardNum', 'age']);
  });
});
