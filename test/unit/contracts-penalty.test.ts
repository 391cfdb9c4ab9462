import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CERTIFICATE_TYPE, DISHONESTY_GRADE, PENALTY_CATEGORY, SUBJECT_CATEGORY } from '../../contracts/codes.js';
import { penaltyRecordSchema } from '../../contracts/penalty.js';
import { fieldErrors } from '../../shared/http/validation.js';

// The clock is pinned (Beijing 2026-11-23 12:00) so that "future" is stable.
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-23T04:00:00Z') });
});
afterAll(() => {
  vi.useRealTimers();
});

const ORGAN = '121200004013590816';
const COMPANY = '91110000600037341L';
const SHOP = '91340600MA2PBP2120';
const ID = '110102199101010078';
const ID_X = '44011320141005001X';

/** The parts of a penalty that do not depend on the subject: a warning, so no amount is needed. */
const DECISION = {
  CF_WSH: '京市监罚〔2026〕18号',
  CF_WFXW: '销售不符合食品安全标准的食品',
  CF_SY: '当事人于2026年9月销售过期食品。',
  CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
  CF_CFLB: '警告',
  CF_NR: '警告',
  CF_JDRQ: '2026-10-15',
  CF_CFJG: '北京市市场监督管理局',
  CF_CFJGDM: ORGAN,
};

const LEGAL_PERSON = { CF_XDR_MC: '北京某某商贸有限公司', CF_XDR_LB: '法人', CF_XDR_SHXYM: COMPANY, CF_FRDB: '李四' };
const NATURAL_PERSON = { CF_XDR_MC: '张三', CF_XDR_LB: '自然人', CF_XDR_ZJLX: '身份证', CF_XDR_ZJHM: ID };
const SHOP_BY_USCC = { CF_XDR_MC: '合肥某某小吃店', CF_XDR_LB: '个体工商户', CF_XDR_SHXYM: SHOP };
const SHOP_BY_ID = { CF_XDR_MC: '广州某某士多', CF_XDR_LB: '个体工商户', CF_XDR_ZJLX: '居民身份证', CF_XDR_ZJHM: ID_X };

const legal = (over: Record<string, unknown> = {}) => ({ ...LEGAL_PERSON, ...DECISION, ...over });
const natural = (over: Record<string, unknown> = {}) => ({ ...NATURAL_PERSON, ...DECISION, ...over });

function accepted(record: unknown) {
  const result = penaltyRecordSchema.safeParse(record);
  if (!result.success) throw new Error(`expected the record to be accepted: ${JSON.stringify(fieldErrors(result.error))}`);
  return result.data;
}

function errorsOf(record: unknown) {
  const result = penaltyRecordSchema.safeParse(record);
  if (result.success) throw new Error(`expected the record to be rejected: ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error);
}

const rejectedFields = (record: unknown) => errorsOf(record).map((e) => e.field);

function without(record: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const copy = { ...record };
  for (const key of keys) delete copy[key];
  return copy;
}

describe('penalty: a minimal valid record of each subject category', () => {
  it('法人 with a USCC and a legal representative, stored with canonical codes', () => {
    expect(accepted(legal())).toStrictEqual({
      CF_XDR_MC: '北京某某商贸有限公司',
      CF_XDR_LB: '01',
      CF_XDR_SHXYM: COMPANY,
      CF_FRDB: '李四',
      CF_WSH: '京市监罚〔2026〕18号',
      CF_WFXW: '销售不符合食品安全标准的食品',
      CF_SY: '当事人于2026年9月销售过期食品。',
      CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
      CF_CFLB: '01',
      CF_NR: '警告',
      CF_JDRQ: '2026-10-15',
      CF_CFJG: '北京市市场监督管理局',
      CF_CFJGDM: ORGAN,
    });
  });

  it('does not default SXDJ in the contract (the grade default is applied when the record is prepared)', () => {
    expect(accepted(legal())).not.toHaveProperty('SXDJ');
  });

  it('非法人组织 with a USCC and a legal representative', () => {
    expect(accepted(legal({ CF_XDR_LB: '02' })).CF_XDR_LB).toBe('02');
  });

  it('自然人 with a 身份证 number', () => {
    const out = accepted(natural());
    expect([out.CF_XDR_LB, out.CF_XDR_ZJLX, out.CF_XDR_ZJHM]).toEqual(['03', '01', ID]);
  });

  it('自然人 with a 港澳 pass', () => {
    const out = accepted(natural({ CF_XDR_ZJLX: '港澳居民来往内地通行证', CF_XDR_ZJHM: 'h12345678' }));
    expect([out.CF_XDR_ZJLX, out.CF_XDR_ZJHM]).toEqual(['03', 'H12345678']);
  });

  it('个体工商户 with a USCC', () => {
    expect(accepted({ ...SHOP_BY_USCC, ...DECISION }).CF_XDR_SHXYM).toBe(SHOP);
  });

  it('个体工商户 with a 身份证 number', () => {
    const out = accepted({ ...SHOP_BY_ID, ...DECISION });
    expect([out.CF_XDR_LB, out.CF_XDR_ZJLX, out.CF_XDR_ZJHM]).toEqual(['04', '01', ID_X]);
  });
});

describe('penalty: coded fields accept codes and names and store the code', () => {
  const subjects: Record<string, Record<string, string>> = { '01': LEGAL_PERSON, '02': LEGAL_PERSON, '03': NATURAL_PERSON, '04': SHOP_BY_USCC };
  const cases = (table: Record<string, readonly string[]>) => Object.entries(table).flatMap(([code, names]) => [[code, code], ...names.map((n) => [n, code])]);

  it.each(cases(SUBJECT_CATEGORY))('CF_XDR_LB %s → %s', (input, code) => {
    expect(accepted({ ...subjects[code!], ...DECISION, CF_XDR_LB: input }).CF_XDR_LB).toBe(code);
  });

  it.each(cases(CERTIFICATE_TYPE))('CF_XDR_ZJLX %s → %s', (input, code) => {
    expect(accepted(natural({ CF_XDR_ZJLX: input, CF_XDR_ZJHM: code === '01' ? ID : 'E12345678' })).CF_XDR_ZJLX).toBe(code);
  });

  // Every category alone, with whatever that category requires.
  const requirements: Record<string, Record<string, unknown>> = {
    '02': { CF_NR_FK: 1 },
    '03': { CF_NR_WFFF: 1 },
    '08': { CF_NR_WFFF: 1 },
    '05': { CF_NR_ZKDX: '食品经营许可证 JY11101050000001' },
    '10': { CF_NR_ZKDX: '食品经营许可证 JY11101050000001' },
  };
  it.each(cases(PENALTY_CATEGORY))('CF_CFLB %s → %s', (input, code) => {
    expect(accepted(legal({ CF_CFLB: input, ...requirements[code!] })).CF_CFLB).toBe(code);
  });

  it.each([
    ['警告;罚款', '01;02'],
    ['罚款;警告', '01;02'],
    ['罚款，警告', '01;02'],
    ['罚款、警告', '01;02'],
    ['02;01', '01;02'],
    ['罚款;02', '02'],
  ])('CF_CFLB string %j → %j', (input, stored) => {
    expect(accepted(legal({ CF_CFLB: input, CF_NR_FK: '0.5' })).CF_CFLB).toBe(stored);
  });

  it.each([
    [['罚款', '警告'], '01;02'],
    [['02', '01'], '01;02'],
    [['罚款'], '02'],
  ])('CF_CFLB array %j → %j', (input, stored) => {
    expect(accepted(legal({ CF_CFLB: input, CF_NR_FK: '0.5' })).CF_CFLB).toBe(stored);
  });

  it.each(cases(DISHONESTY_GRADE))('SXDJ %s → %s', (input, code) => {
    expect(accepted(legal({ SXDJ: input })).SXDJ).toBe(code);
  });

  it('normalises full-width codes', () => {
    const out = accepted(legal({ CF_XDR_LB: '０１', CF_CFLB: '０１', SXDJ: '３' }));
    expect([out.CF_XDR_LB, out.CF_CFLB, out.SXDJ]).toEqual(['01', '01', '3']);
  });

  it.each([
    ['SXDJ', '特别严重'],
    ['SXDJ', '4'],
    ['SXDJ', '02'],
    ['CF_CFLB', '拘役'],
    ['CF_CFLB', '警告;拘役'],
    ['CF_CFLB', '15'],
    ['CF_XDR_LB', '单位'],
  ])('rejects %s = %j on that field', (field, value) => {
    expect(rejectedFields(legal({ [field]: value }))).toEqual([field]);
  });

  it('rejects an empty CF_CFLB string on CF_CFLB', () => {
    expect(rejectedFields(legal({ CF_CFLB: ' ; ' }))).toEqual(['CF_CFLB']);
  });

  // BUG: an empty array fails the union's min(1) check with a continuable issue, so the
  // record-level superRefine still runs and calls [].split(';'): safeParse throws a TypeError.
  it('reports an empty CF_CFLB array as a field error instead of throwing', () => {
    let result: ReturnType<typeof penaltyRecordSchema.safeParse> | undefined;
    expect(() => {
      result = penaltyRecordSchema.safeParse(legal({ CF_CFLB: [] }));
    }).not.toThrow();
    expect(result?.success).toBe(false);
    expect(fieldErrors(result!.error!).map((e) => e.field)).toEqual(['CF_CFLB']);
  });

  it.each([[5], [{}], [['警告', 5]], [true]])('rejects CF_CFLB = %j on CF_CFLB', (value) => {
    expect(rejectedFields(legal({ CF_CFLB: value }))).toEqual(['CF_CFLB']);
  });
});

describe('penalty: amounts', () => {
  it('requires CF_NR_FK when 罚款 is a category', () => {
    expect(errorsOf(legal({ CF_CFLB: '警告;罚款' }))).toEqual([{ field: 'CF_NR_FK', message: expect.stringMatching(/罚款金额必填/) }]);
    expect(rejectedFields(legal({ CF_CFLB: ['罚款'] }))).toEqual(['CF_NR_FK']);
    expect(rejectedFields(legal({ CF_CFLB: '02' }))).toEqual(['CF_NR_FK']);
  });

  it('does not require CF_NR_FK without 罚款', () => {
    expect(accepted(legal({ CF_CFLB: '警告;通报批评' }))).not.toHaveProperty('CF_NR_FK');
  });

  it('accepts a fine of zero', () => {
    expect(accepted(legal({ CF_CFLB: '罚款', CF_NR_FK: 0 })).CF_NR_FK).toBe('0');
  });

  it.each([
    ['没收违法所得', 'CF_NR_WFFF'],
    ['没收非法财物', 'CF_NR_WFFF'],
    ['吊销许可证', 'CF_NR_ZKDX'],
    ['暂扣许可证件', 'CF_NR_ZKDX'],
  ])('requires the matching detail when %s is a category (%s)', (category, field) => {
    expect(rejectedFields(legal({ CF_CFLB: category }))).toEqual([field]);
  });

  it('reports every missing detail of a combined penalty', () => {
    expect(rejectedFields(legal({ CF_CFLB: '罚款;没收违法所得;吊销许可证' })).sort()).toEqual(['CF_NR_FK', 'CF_NR_WFFF', 'CF_NR_ZKDX']);
  });

  it.each([
    ['001.500', '1.5'],
    [12.5, '12.5'],
    ['12.50', '12.5'],
    [3, '3'],
    ['１００', '100'],
  ])('normalises CF_NR_FK %j to %j', (input, stored) => {
    expect(accepted(legal({ CF_CFLB: '罚款', CF_NR_FK: input })).CF_NR_FK).toBe(stored);
  });

  it('normalises CF_NR_WFFF too', () => {
    expect(accepted(legal({ CF_CFLB: '没收违法所得', CF_NR_WFFF: '0020.250' })).CF_NR_WFFF).toBe('20.25');
  });

  it.each([[-1], ['-1'], [-0.5], ['-0.000001']])('rejects the negative fine %j on CF_NR_FK', (value) => {
    expect(errorsOf(legal({ CF_CFLB: '罚款', CF_NR_FK: value }))).toEqual([{ field: 'CF_NR_FK', message: expect.stringMatching(/不能为负数/) }]);
  });

  it.each([['1e3'], ['1,000'], ['五万'], ['1.2345678'], ['0x10']])('rejects the malformed fine %j on CF_NR_FK', (value) => {
    expect(errorsOf(legal({ CF_CFLB: '罚款', CF_NR_FK: value }))).toEqual([{ field: 'CF_NR_FK', message: expect.stringMatching(/金额格式错误/) }]);
  });

  it('rejects a negative confiscated amount on CF_NR_WFFF', () => {
    expect(rejectedFields(legal({ CF_CFLB: '没收违法所得', CF_NR_WFFF: -3 }))).toEqual(['CF_NR_WFFF']);
  });

  it.each([[true], [[1]], [{ value: 1 }]])('rejects CF_NR_FK of the wrong type %j', (value) => {
    expect(rejectedFields(legal({ CF_CFLB: '罚款', CF_NR_FK: value }))).toEqual(['CF_NR_FK']);
  });
});

describe('penalty: dates', () => {
  it.each(['2026-02-30', '2026-13-01', '2026/11/01'])('rejects the decision date %s on CF_JDRQ only', (value) => {
    expect(new Set(rejectedFields(legal({ CF_JDRQ: value })))).toEqual(new Set(['CF_JDRQ']));
  });

  it.each(['CF_YXQ', 'CF_GSJZQ'])('rejects an impossible date on %s', (field) => {
    expect(new Set(rejectedFields(legal({ [field]: '2027-02-29' })))).toEqual(new Set([field]));
  });

  it('rejects a decision date after today on CF_JDRQ', () => {
    expect(errorsOf(legal({ CF_JDRQ: '2026-11-24' }))).toEqual([{ field: 'CF_JDRQ', message: expect.stringMatching(/晚于今天/) }]);
    expect(accepted(legal({ CF_JDRQ: '2026-11-23' })).CF_JDRQ).toBe('2026-11-23');
  });

  it('accepts CF_YXQ and CF_GSJZQ in the future', () => {
    const out = accepted(legal({ CF_YXQ: '2027-10-14', CF_GSJZQ: '2027-10-15' }));
    expect([out.CF_YXQ, out.CF_GSJZQ]).toEqual(['2027-10-14', '2027-10-15']);
  });

  it('rejects CF_YXQ before CF_JDRQ on CF_YXQ', () => {
    expect(errorsOf(legal({ CF_YXQ: '2026-10-14' }))).toEqual([{ field: 'CF_YXQ', message: expect.stringMatching(/不能早于处罚决定日期/) }]);
  });

  it('rejects CF_GSJZQ before CF_JDRQ on CF_GSJZQ', () => {
    expect(errorsOf(legal({ CF_GSJZQ: '2026-10-14' }))).toEqual([{ field: 'CF_GSJZQ', message: expect.stringMatching(/不能早于处罚决定日期/) }]);
  });

  it('accepts CF_YXQ and CF_GSJZQ on the decision date itself', () => {
    expect(accepted(legal({ CF_YXQ: '2026-10-15', CF_GSJZQ: '2026-10-15' })).CF_GSJZQ).toBe('2026-10-15');
  });
});

describe('penalty: subject rules', () => {
  it('rejects an organisation without a USCC on CF_XDR_SHXYM', () => {
    expect(rejectedFields(without(legal(), 'CF_XDR_SHXYM'))).toEqual(['CF_XDR_SHXYM']);
  });

  it('rejects an organisation without a legal representative on CF_FRDB', () => {
    expect(rejectedFields(without(legal(), 'CF_FRDB'))).toEqual(['CF_FRDB']);
  });

  it('rejects both problems of an organisation with neither USCC nor legal representative', () => {
    expect(rejectedFields(without(legal(), 'CF_FRDB', 'CF_XDR_SHXYM')).sort()).toEqual(['CF_FRDB', 'CF_XDR_SHXYM']);
  });

  it('rejects certificate fields on an organisation on CF_XDR_ZJLX', () => {
    expect(rejectedFields(legal({ CF_XDR_ZJLX: '01', CF_XDR_ZJHM: ID }))).toEqual(['CF_XDR_ZJLX']);
  });

  it('rejects a natural person with a USCC', () => {
    expect(rejectedFields(natural({ CF_XDR_SHXYM: COMPANY }))).toEqual(['CF_XDR_SHXYM']);
  });

  it('rejects a natural person without a certificate', () => {
    expect(rejectedFields(without(natural(), 'CF_XDR_ZJLX', 'CF_XDR_ZJHM'))).toEqual(['CF_XDR_ZJHM']);
  });

  it('rejects a certificate type without a number, and a number without a type', () => {
    expect(rejectedFields(without(natural(), 'CF_XDR_ZJHM'))).toEqual(['CF_XDR_ZJHM']);
    expect(rejectedFields(without(natural(), 'CF_XDR_ZJLX'))).toEqual(['CF_XDR_ZJLX']);
  });

  it('rejects a bad identity check digit (36042619910102009X)', () => {
    expect(errorsOf(natural({ CF_XDR_ZJHM: '36042619910102009X' }))).toEqual([{ field: 'CF_XDR_ZJHM', message: expect.stringMatching(/校验位/) }]);
  });

  it('rejects an impossible birth date (1991-02-30)', () => {
    expect(errorsOf(natural({ CF_XDR_ZJHM: '110102199102300077' }))).toEqual([{ field: 'CF_XDR_ZJHM', message: expect.stringMatching(/出生日期无效/) }]);
  });

  it('rejects a birth year before 1900 (1899-12-31)', () => {
    expect(errorsOf(natural({ CF_XDR_ZJHM: '110102189912310016' }))).toEqual([{ field: 'CF_XDR_ZJHM', message: expect.stringMatching(/出生日期无效/) }]);
  });

  it('checks the identity number of an individual business too', () => {
    expect(rejectedFields({ ...SHOP_BY_ID, ...DECISION, CF_XDR_ZJHM: '36042619910102009X' })).toEqual(['CF_XDR_ZJHM']);
  });

  it('rejects an individual business with neither USCC nor certificate', () => {
    expect(rejectedFields({ CF_XDR_MC: '某小店', CF_XDR_LB: '04', ...DECISION })).toEqual(['CF_XDR_SHXYM']);
  });

  it('rejects invalid USCCs on their fields', () => {
    expect(rejectedFields(legal({ CF_XDR_SHXYM: '91110000600037341N' }))).toEqual(['CF_XDR_SHXYM']);
    expect(rejectedFields(legal({ CF_CFJGDM: '91110000600037341N' }))).toEqual(['CF_CFJGDM']);
    expect(rejectedFields(legal({ CF_SJLYDM: '91110000600037341N' }))).toEqual(['CF_SJLYDM']);
  });

  it('normalises a full-width lower-case USCC to the valid code', () => {
    expect(accepted(legal({ CF_XDR_SHXYM: '９１１１００００６０００３７３４１ｌ' })).CF_XDR_SHXYM).toBe('91110000600037341L');
  });
});

describe('penalty: text fields, types and unknown fields', () => {
  it('keeps HTML verbatim', () => {
    const out = accepted(legal({ CF_SY: '<img src=x onerror=alert(1)>', CF_NR: '<script>alert(1)</script>' }));
    expect([out.CF_SY, out.CF_NR]).toEqual(['<img src=x onerror=alert(1)>', '<script>alert(1)</script>']);
  });

  it('rejects control characters', () => {
    expect(rejectedFields(legal({ CF_WFXW: '违法\u0000行为' }))).toEqual(['CF_WFXW']);
  });

  it.each([
    ['CF_SY', 4000],
    ['CF_WFXW', 2000],
    ['CF_YJ', 2000],
    ['CF_WSH', 128],
    ['CF_NR_ZKDX', 500],
  ])('accepts %s of %i characters and rejects one more', (field, max) => {
    expect(accepted(legal({ [field]: '罚'.repeat(max) }))).toHaveProperty(field, '罚'.repeat(max));
    expect(rejectedFields(legal({ [field]: '罚'.repeat(max + 1) }))).toEqual([field]);
  });

  it.each([
    ['CF_SY', 123],
    ['CF_WSH', 18],
    ['CF_JDRQ', 46310],
    ['SXDJ', 3],
    ['CF_CFJGDM', null],
  ])('rejects %s = %j on that field', (field, value) => {
    expect(rejectedFields(legal({ [field]: value }))).toEqual([field]);
  });

  it('names every missing required field', () => {
    expect(rejectedFields({}).sort()).toEqual(['CF_CFJG', 'CF_CFJGDM', 'CF_CFLB', 'CF_JDRQ', 'CF_NR', 'CF_SY', 'CF_WFXW', 'CF_WSH', 'CF_XDR_LB', 'CF_XDR_MC', 'CF_YJ']);
  });

  it('rejects unknown fields (licence fields included) as unrecognized_keys', () => {
    const result = penaltyRecordSchema.safeParse(legal({ XK_WSH: 'x', cf_wsh: 'y' }));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.code)).toEqual(['unrecognized_keys']);
    expect(fieldErrors(result.error!)).toEqual([
      { field: 'XK_WSH', message: expect.stringMatching(/未知字段/) },
      { field: 'cf_wsh', message: expect.stringMatching(/未知字段/) },
    ]);
  });
});
