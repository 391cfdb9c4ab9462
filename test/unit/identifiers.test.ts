import { describe, expect, it } from 'vitest';
import {
  isValidUscc,
  maskIdentityNumber,
  normaliseCode,
  organisationCodeProblem,
  residentIdProblem,
  usccCheckCharacter,
  usccProblem,
} from '../../shared/domain/identifiers.js';

const TODAY = '2026-11-23';

describe('Unified Social Credit Code (GB 32100)', () => {
  it.each(['91110000600037341L', '121200004013590816', '91310115MA1K3BTP2B', '91340600MA2PBP2120'])('accepts the DOMAIN.md fixture %s', (code) => {
    expect(usccProblem(code)).toBeNull();
    expect(isValidUscc(code)).toBe(true);
  });

  it('computes check 0 when the weighted sum is a multiple of 31 (91340600MA2PBP2120)', () => {
    expect(usccCheckCharacter('91340600MA2PBP212')).toBe('0');
  });

  it('rejects the DOMAIN.md invalid fixture 91110000600037341N for its check character', () => {
    expect(usccProblem('91110000600037341N')).toMatch(/校验位/);
  });

  it.each([
    ['9111000060003734', /18位/],
    ['91110000600037341I', /非法字符 'I'/],
    ['91110000600037341o', /非法字符/],
  ])('rejects %s', (code, message) => {
    expect(usccProblem(code)).toMatch(message);
  });

  it('rejects a code whose own check passes but whose embedded organisation code does not', () => {
    // 9111000060003734 + a wrong organisation-code check digit, then a recomputed GB 32100 check character.
    const body = '91110000600037342';
    const code = body + usccCheckCharacter(body);
    expect(usccProblem(code)).toMatch(/组织机构代码/);
  });

  it('checks GB 11714 organisation codes, including X and 0 check characters', () => {
    expect(organisationCodeProblem('600037341')).toBeNull();
    expect(organisationCodeProblem('600037342')).toMatch(/校验位/);
    expect(organisationCodeProblem('MA2PBP212')).toBeNull();
  });

  it('normalises full-width and lower-case input before checking', () => {
    expect(normaliseCode('９１１１００００６０００３７３４１ｌ')).toBe('91110000600037341L');
    expect(usccProblem(normaliseCode(' 91110000600037341l '))).toBeNull();
  });
});

describe('resident identity number (GB 11643)', () => {
  it.each(['110102199101010078', '44011320141005001X'])('accepts the DOMAIN.md fixture %s', (id) => {
    expect(residentIdProblem(id, TODAY)).toBeNull();
  });

  it('rejects the DOMAIN.md invalid fixture 36042619910102009X for its check character', () => {
    expect(residentIdProblem('36042619910102009X', TODAY)).toMatch(/校验位/);
  });

  it('rejects an impossible birth date even with a matching check character', () => {
    // 1991-02-30 does not exist; compute the check so only the date is wrong.
    const body = '11010219910230007';
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = [...body].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
    expect(residentIdProblem(body + '10X98765432'[sum % 11], TODAY)).toMatch(/出生日期无效/);
  });

  it('rejects a birth date after today', () => {
    const body = '11010220991231007';
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = [...body].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
    expect(residentIdProblem(body + '10X98765432'[sum % 11], TODAY)).toMatch(/晚于今天/);
  });

  it.each(['11010219910101007', '1101021991010100781', '11010219910101007x', 'ABCDEFGHIJKLMNOPQR'])('rejects malformed %s', (id) => {
    expect(residentIdProblem(id, TODAY)).not.toBeNull();
  });
});

describe('masking', () => {
  it('masks the month and day of birth as DOMAIN.md shows', () => {
    expect(maskIdentityNumber('110105197801010454')).toBe('1101051978****0454');
    expect(maskIdentityNumber('44011320141005001X')).toBe('4401132014****001X');
  });

  it('keeps only two characters at each end of other certificate numbers', () => {
    expect(maskIdentityNumber('E12345678')).toBe('E1*****78');
    expect(maskIdentityNumber('ABC')).toBe('***');
  });
});
