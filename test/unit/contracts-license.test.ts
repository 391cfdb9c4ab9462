import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CERTIFICATE_TYPE, LICENSE_CATEGORY, LICENSE_STATUS, SUBJECT_CATEGORY } from '../../contracts/codes.js';
import { licenseRecordSchema } from '../../contracts/license.js';
import { fieldErrors } from '../../shared/http/validation.js';

// The clock is pinned (Beijing 2026-11-23 12:00) so that "future" is stable.
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-23T04:00:00Z') });
});
afterAll(() => {
  vi.useRealTimers();
});

const ORGAN = '121200004013590816';
const COMPANY = '91310115MA1K3BTP2B';
const SHOP = '91340600MA2PBP2120';
const ID = '110102199101010078';
const ID_X = '44011320141005001X';

/** The parts of a licence that do not depend on the subject. */
const DECISION = {
  XK_XKWS: '食品经营许可决定书',
  XK_WSH: '沪市监许〔2026〕0001号',
  XK_XKLB: '普通',
  XK_NR: '预包装食品销售',
  XK_JDRQ: '2026-11-02',
  XK_YXQZ: '2026-11-02',
  XK_YXQZI: '2031-11-01',
  XK_XKJG: '上海市浦东新区市场监督管理局',
  XK_XKJGDM: ORGAN,
  XK_ZT: '有效',
};

const LEGAL_PERSON = { XK_XDR_MC: '上海某某科技有限公司', XK_XDR_LB: '法人', XK_XDR_SHXYM: COMPANY, XK_FRDB: '王五' };
const NATURAL_PERSON = { XK_XDR_MC: '张三', XK_XDR_LB: '自然人', XK_XDR_ZJLX: '身份证', XK_XDR_ZJHM: ID };
const SHOP_BY_USCC = { XK_XDR_MC: '合肥某某小吃店', XK_XDR_LB: '个体工商户', XK_XDR_SHXYM: SHOP };
const SHOP_BY_ID = { XK_XDR_MC: '广州某某士多', XK_XDR_LB: '个体工商户', XK_XDR_ZJLX: '01', XK_XDR_ZJHM: ID_X };

const legal = (over: Record<string, unknown> = {}) => ({ ...LEGAL_PERSON, ...DECISION, ...over });
const natural = (over: Record<string, unknown> = {}) => ({ ...NATURAL_PERSON, ...DECISION, ...over });

function accepted(record: unknown) {
  const result = licenseRecordSchema.safeParse(record);
  if (!result.success) throw new Error(`expected the record to be accepted: ${JSON.stringify(fieldErrors(result.error))}`);
  return result.data;
}

function rejectedFields(record: unknown): string[] {
  const result = licenseRecordSchema.safeParse(record);
  if (result.success) throw new Error(`expected the record to be rejected: ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error).map((e) => e.field);
}

function errorsOf(record: unknown) {
  const result = licenseRecordSchema.safeParse(record);
  if (result.success) throw new Error('expected the record to be rejected');
  return fieldErrors(result.error);
}

/** Drops a key from a record. */
function without<T extends Record<string, unknown>>(record: T, ...keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...record };
  for (const key of keys) delete copy[key];
  return copy;
}

describe('licence: a minimal valid record of each subject category', () => {
  it('法人 with a USCC and a legal representative, stored with canonical codes', () => {
    const record = without(legal(), 'XK_YXQZI');
    expect(accepted(record)).toStrictEqual({
      XK_XDR_MC: '上海某某科技有限公司',
      XK_XDR_LB: '01',
      XK_XDR_SHXYM: COMPANY,
      XK_FRDB: '王五',
      XK_XKWS: '食品经营许可决定书',
      XK_WSH: '沪市监许〔2026〕0001号',
      XK_XKLB: '01',
      XK_NR: '预包装食品销售',
      XK_JDRQ: '2026-11-02',
      XK_YXQZ: '2026-11-02',
      XK_XKJG: '上海市浦东新区市场监督管理局',
      XK_XKJGDM: ORGAN,
      XK_ZT: '1',
    });
  });

  it('非法人组织 with a USCC and a legal representative', () => {
    expect(accepted(legal({ XK_XDR_LB: '非法人组织', XK_XDR_SHXYM: '121200004013590816' })).XK_XDR_LB).toBe('02');
  });

  it('自然人 with a 身份证 number (no USCC, no legal representative)', () => {
    const out = accepted(natural());
    expect(out.XK_XDR_LB).toBe('03');
    expect(out.XK_XDR_ZJLX).toBe('01');
    expect(out.XK_XDR_ZJHM).toBe(ID);
    expect(out).not.toHaveProperty('XK_XDR_SHXYM');
  });

  it('自然人 whose identity number ends in X, given in lower case, stored upper case', () => {
    expect(accepted(natural({ XK_XDR_ZJHM: ID_X.toLowerCase() })).XK_XDR_ZJHM).toBe(ID_X);
  });

  it('自然人 with a passport: the GB 11643 check does not apply', () => {
    const out = accepted(natural({ XK_XDR_ZJLX: '护照', XK_XDR_ZJHM: 'e12345678' }));
    expect(out.XK_XDR_ZJLX).toBe('02');
    expect(out.XK_XDR_ZJHM).toBe('E12345678');
  });

  it('个体工商户 with a USCC only', () => {
    const out = accepted({ ...SHOP_BY_USCC, ...DECISION });
    expect(out.XK_XDR_LB).toBe('04');
    expect(out.XK_XDR_SHXYM).toBe(SHOP);
  });

  it('个体工商户 with a certificate type and number only', () => {
    const out = accepted({ ...SHOP_BY_ID, ...DECISION });
    expect(out.XK_XDR_LB).toBe('04');
    expect(out.XK_XDR_ZJHM).toBe(ID_X);
  });

  it('个体工商户 with both a USCC and a certificate', () => {
    expect(accepted({ ...SHOP_BY_ID, XK_XDR_SHXYM: SHOP, ...DECISION }).XK_XDR_SHXYM).toBe(SHOP);
  });

  it('keeps the optional fields it is given', () => {
    const out = accepted(legal({ XK_XKZS: '食品经营许可证', XK_XKBH: 'JY13101150000001', XK_LYDW: '上海市浦东新区市场监督管理局', XK_LYDWDM: ORGAN, BZ: '无' }));
    expect(out).toMatchObject({ XK_XKZS: '食品经营许可证', XK_XKBH: 'JY13101150000001', XK_LYDW: '上海市浦东新区市场监督管理局', XK_LYDWDM: ORGAN, BZ: '无' });
  });
});

describe('licence: coded fields accept codes and names and store the code', () => {
  const subjects: Record<string, Record<string, string>> = {
    '01': LEGAL_PERSON,
    '02': { ...LEGAL_PERSON, XK_XDR_MC: '某某协会' },
    '03': NATURAL_PERSON,
    '04': SHOP_BY_USCC,
  };
  const cases = (table: Record<string, readonly string[]>) => Object.entries(table).flatMap(([code, names]) => [[code, code], ...names.map((n) => [n, code])]);

  it.each(cases(SUBJECT_CATEGORY))('XK_XDR_LB %s → %s', (input, code) => {
    expect(accepted({ ...subjects[code!], ...DECISION, XK_XDR_LB: input }).XK_XDR_LB).toBe(code);
  });

  it.each(cases(CERTIFICATE_TYPE))('XK_XDR_ZJLX %s → %s', (input, code) => {
    const number = code === '01' ? ID : 'E12345678';
    expect(accepted(natural({ XK_XDR_ZJLX: input, XK_XDR_ZJHM: number })).XK_XDR_ZJLX).toBe(code);
  });

  it.each(cases(LICENSE_CATEGORY))('XK_XKLB %s → %s', (input, code) => {
    expect(accepted(legal({ XK_XKLB: input })).XK_XKLB).toBe(code);
  });

  it.each(cases(LICENSE_STATUS))('XK_ZT %s → %s', (input, code) => {
    expect(accepted(legal({ XK_ZT: input })).XK_ZT).toBe(code);
  });

  it('normalises full-width codes', () => {
    const out = accepted(legal({ XK_XDR_LB: '０１', XK_XKLB: '０６', XK_ZT: '２' }));
    expect([out.XK_XDR_LB, out.XK_XKLB, out.XK_ZT]).toEqual(['01', '06', '2']);
  });

  it.each([
    ['XK_XDR_LB', '企业'],
    ['XK_XDR_LB', '05'],
    ['XK_XKLB', '07'],
    ['XK_XKLB', '特殊'],
    ['XK_ZT', '3'],
    ['XK_ZT', '01'],
    ['XK_ZT', '过期'],
  ])('rejects %s = %s on that field', (field, value) => {
    expect(rejectedFields(legal({ [field]: value }))).toEqual([field]);
  });

  it('rejects an unknown certificate type on XK_XDR_ZJLX', () => {
    expect(rejectedFields(natural({ XK_XDR_ZJLX: '驾驶证' }))).toEqual(['XK_XDR_ZJLX']);
  });
});

describe('licence: dates', () => {
  it.each(['2026-02-30', '2026-13-01', '2026/11/01', '2026-11-1', '20261101'])('rejects the decision date %s on XK_JDRQ only', (value) => {
    expect(new Set(rejectedFields(legal({ XK_JDRQ: value })))).toEqual(new Set(['XK_JDRQ']));
  });

  it.each(['XK_YXQZ', 'XK_YXQZI'])('rejects an impossible date on %s only', (field) => {
    expect(new Set(rejectedFields(legal({ [field]: '2026-02-30' })))).toEqual(new Set([field]));
    expect(new Set(rejectedFields(legal({ [field]: '2026/11/01' })))).toEqual(new Set([field]));
  });

  it('rejects a decision date after today (Beijing time)', () => {
    const errors = errorsOf(legal({ XK_JDRQ: '2026-11-24' }));
    expect(errors).toEqual([{ field: 'XK_JDRQ', message: expect.stringMatching(/晚于今天/) }]);
  });

  it('accepts a decision taken today', () => {
    expect(accepted(legal({ XK_JDRQ: '2026-11-23' })).XK_JDRQ).toBe('2026-11-23');
  });

  it('accepts a validity that starts and ends in the future (only the decision date must be past)', () => {
    const out = accepted(legal({ XK_YXQZ: '2027-01-01', XK_YXQZI: '2099-12-31' }));
    expect([out.XK_YXQZ, out.XK_YXQZI]).toEqual(['2027-01-01', '2099-12-31']);
  });

  it('rejects XK_YXQZI before XK_YXQZ on XK_YXQZI', () => {
    expect(errorsOf(legal({ XK_YXQZ: '2026-11-02', XK_YXQZI: '2026-11-01' }))).toEqual([
      { field: 'XK_YXQZI', message: expect.stringMatching(/有效期至不能早于有效期自/) },
    ]);
  });

  it('accepts a validity of a single day (XK_YXQZI = XK_YXQZ)', () => {
    expect(accepted(legal({ XK_YXQZ: '2026-11-02', XK_YXQZI: '2026-11-02' })).XK_YXQZI).toBe('2026-11-02');
  });

  it('compares validity dates after normalising full-width input', () => {
    expect(rejectedFields(legal({ XK_YXQZ: '２０２６－１１－０２', XK_YXQZI: '2026-11-01' }))).toEqual(['XK_YXQZI']);
  });
});

describe('licence: subject rules', () => {
  it('rejects an organisation (法人) without a USCC on XK_XDR_SHXYM', () => {
    expect(rejectedFields(without(legal(), 'XK_XDR_SHXYM'))).toEqual(['XK_XDR_SHXYM']);
  });

  it('rejects an organisation (非法人组织) without a legal representative on XK_FRDB', () => {
    expect(rejectedFields(without(legal({ XK_XDR_LB: '02' }), 'XK_FRDB'))).toEqual(['XK_FRDB']);
  });

  it('rejects certificate fields on an organisation', () => {
    expect(rejectedFields(legal({ XK_XDR_ZJLX: '01', XK_XDR_ZJHM: ID }))).toEqual(['XK_XDR_ZJLX']);
  });

  it('rejects a natural person with a USCC on XK_XDR_SHXYM', () => {
    expect(rejectedFields(natural({ XK_XDR_SHXYM: COMPANY }))).toEqual(['XK_XDR_SHXYM']);
  });

  it('rejects a natural person without any certificate on XK_XDR_ZJHM', () => {
    expect(rejectedFields(without(natural(), 'XK_XDR_ZJLX', 'XK_XDR_ZJHM'))).toEqual(['XK_XDR_ZJHM']);
  });

  it('rejects a certificate type without a number on XK_XDR_ZJHM', () => {
    expect(rejectedFields(without(natural(), 'XK_XDR_ZJHM'))).toEqual(['XK_XDR_ZJHM']);
  });

  it('rejects a certificate number without a type on XK_XDR_ZJLX', () => {
    expect(rejectedFields(without(natural(), 'XK_XDR_ZJLX'))).toEqual(['XK_XDR_ZJLX']);
  });

  it('rejects a 身份证 number with a bad check character (36042619910102009X)', () => {
    expect(errorsOf(natural({ XK_XDR_ZJHM: '36042619910102009X' }))).toEqual([{ field: 'XK_XDR_ZJHM', message: expect.stringMatching(/校验位/) }]);
  });

  it('rejects a 身份证 number with an impossible birth date (1991-02-30, valid check character)', () => {
    expect(errorsOf(natural({ XK_XDR_ZJHM: '110102199102300077' }))).toEqual([{ field: 'XK_XDR_ZJHM', message: expect.stringMatching(/出生日期无效/) }]);
  });

  it('rejects a 身份证 number born after today (2026-11-24, valid check character)', () => {
    expect(errorsOf(natural({ XK_XDR_ZJHM: '110102202611240011' }))).toEqual([{ field: 'XK_XDR_ZJHM', message: expect.stringMatching(/晚于今天/) }]);
    // Born today is fine.
    expect(accepted(natural({ XK_XDR_ZJHM: '110102202611230016' })).XK_XDR_ZJHM).toBe('110102202611230016');
  });

  it('rejects a 身份证 number that is too short', () => {
    expect(rejectedFields(natural({ XK_XDR_ZJHM: '11010219910101007' }))).toEqual(['XK_XDR_ZJHM']);
  });

  it('rejects an individual business with neither a USCC nor a certificate on XK_XDR_SHXYM', () => {
    expect(rejectedFields({ XK_XDR_MC: '某小店', XK_XDR_LB: '个体工商户', ...DECISION })).toEqual(['XK_XDR_SHXYM']);
  });

  it('rejects an individual business with a certificate type but no number', () => {
    expect(rejectedFields({ XK_XDR_MC: '某小店', XK_XDR_LB: '04', XK_XDR_ZJLX: '01', ...DECISION })).toContain('XK_XDR_ZJHM');
  });

  it('rejects an invalid subject USCC (91110000600037341N)', () => {
    expect(errorsOf(legal({ XK_XDR_SHXYM: '91110000600037341N' }))).toEqual([{ field: 'XK_XDR_SHXYM', message: expect.stringMatching(/校验位/) }]);
  });

  it('rejects an invalid licensing-organ USCC on XK_XKJGDM', () => {
    expect(rejectedFields(legal({ XK_XKJGDM: '91110000600037341N' }))).toEqual(['XK_XKJGDM']);
  });

  it('rejects an invalid data-source USCC on XK_LYDWDM', () => {
    expect(rejectedFields(legal({ XK_LYDWDM: '12120000401359081' }))).toEqual(['XK_LYDWDM']);
  });

  it('normalises a full-width, lower-case USCC (９１１１…ｌ) to the valid code', () => {
    const out = accepted(legal({ XK_XDR_SHXYM: '９１１１００００６０００３７３４１ｌ', XK_XKJGDM: ' １２１２００００４０１３５９０８１６ ' }));
    expect(out.XK_XDR_SHXYM).toBe('91110000600037341L');
    expect(out.XK_XKJGDM).toBe(ORGAN);
  });
});

describe('licence: text fields', () => {
  it('keeps HTML in XK_NR verbatim', () => {
    expect(accepted(legal({ XK_NR: '<script>alert(1)</script>' })).XK_NR).toBe('<script>alert(1)</script>');
  });

  it('trims text fields', () => {
    expect(accepted(legal({ XK_WSH: '  沪市监许〔2026〕0002号 ' })).XK_WSH).toBe('沪市监许〔2026〕0002号');
  });

  it.each([
    ['XK_NR', 'a\u0000b'],
    ['XK_XDR_MC', '某公司\u001B'],
    ['XK_WSH', 'W\u0008123'],
    ['BZ', '\u007F'],
  ])('rejects a control character in %s', (field, value) => {
    expect(errorsOf(legal({ [field]: value }))).toEqual([{ field, message: expect.stringMatching(/控制字符/) }]);
  });

  it.each([
    ['XK_NR', 4000],
    ['XK_WSH', 128],
    ['XK_XDR_MC', 200],
    ['XK_FRDB', 100],
    ['BZ', 512],
  ])('accepts %s of %i characters and rejects one more', (field, max) => {
    expect(accepted(legal({ [field]: '许'.repeat(max) }))[field as 'XK_NR']).toHaveLength(max);
    expect(errorsOf(legal({ [field]: '许'.repeat(max + 1) }))).toEqual([{ field, message: expect.stringMatching(new RegExp(`不能超过${max}个字符`)) }]);
  });

  it('rejects a blank required text field', () => {
    expect(rejectedFields(legal({ XK_XKWS: '   ' }))).toEqual(['XK_XKWS']);
  });
});

describe('licence: types, required and unknown fields', () => {
  it.each([
    ['XK_NR', 5],
    ['XK_WSH', 2026001],
    ['XK_XDR_LB', 3],
    ['XK_XKJGDM', 121200004013590816],
    ['XK_JDRQ', 20261102],
    ['XK_XDR_MC', ['张三']],
    ['XK_ZT', true],
    ['XK_NR', null],
  ])('rejects %s = %j on that field', (field, value) => {
    expect(rejectedFields(legal({ [field]: value }))).toEqual([field]);
  });

  it('names every missing required field', () => {
    expect(rejectedFields({}).sort()).toEqual(
      ['XK_XDR_MC', 'XK_XDR_LB', 'XK_XKWS', 'XK_WSH', 'XK_XKLB', 'XK_NR', 'XK_JDRQ', 'XK_YXQZ', 'XK_XKJG', 'XK_XKJGDM', 'XK_ZT'].sort(),
    );
  });

  it('reports a missing field with the "missing" message', () => {
    expect(errorsOf(without(legal(), 'XK_XKLB'))).toEqual([{ field: 'XK_XKLB', message: expect.stringMatching(/必填字段缺失/) }]);
  });

  it('rejects unknown fields with issue code unrecognized_keys, one error per key', () => {
    const result = licenseRecordSchema.safeParse(legal({ XK_FOO: 'x', CF_WSH: 'penalty field', id: 'lic_x' }));
    expect(result.success).toBe(false);
    expect(result.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['XK_FOO', 'CF_WSH', 'id'] })]);
    expect(fieldErrors(result.error!)).toEqual([
      { field: 'XK_FOO', message: expect.stringMatching(/未知字段/) },
      { field: 'CF_WSH', message: expect.stringMatching(/未知字段/) },
      { field: 'id', message: expect.stringMatching(/未知字段/) },
    ]);
  });

  it('rejects field names in the wrong case', () => {
    expect(rejectedFields({ ...without(legal(), 'XK_NR'), xk_nr: '预包装食品销售' }).sort()).toEqual(['XK_NR', 'xk_nr']);
  });

  it.each([[null], ['record'], [42], [[legal()]]])('rejects the non-object %j', (value) => {
    expect(licenseRecordSchema.safeParse(value).success).toBe(false);
  });
});
