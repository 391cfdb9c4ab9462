/**
 * Checksummed identifiers used in public credit information.
 *
 * - Unified Social Credit Code (统一社会信用代码), GB 32100-2015, with the embedded
 *   organisation code (组织机构代码), GB 11714-1997.
 * - Resident identity number (居民身份号码), GB 11643-1999.
 *
 * Every function here is pure. Inputs are expected already normalised
 * (half-width, upper case): see `normaliseCode`.
 */

const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_CHARSET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** Why an identifier failed, in words an operator can act on. `null` means valid. */
export type IdentifierProblem = string | null;

/** Full-width to half-width (NFKC), trimmed, upper case: how codes are compared and stored. */
export function normaliseCode(value: string): string {
  return value.normalize('NFKC').trim().toUpperCase();
}

/** Σ value(char) × weight over the first `weights.length` characters; null if a character is outside the charset. */
function weightedSum(text: string, charset: string, weights: readonly number[]): number | null {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    const v = charset.indexOf(text[i] ?? '');
    if (v < 0) return null;
    sum += v * weights[i]!;
  }
  return sum;
}

/** GB 11714 organisation code check character for the first 8 characters. */
export function organisationCodeCheck(body: string): string | null {
  const sum = weightedSum(body, ORG_CHARSET, ORG_WEIGHTS);
  if (sum === null) return null;
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/** Checks a 9-character GB 11714 organisation code (8 + check, no hyphen). */
export function organisationCodeProblem(code: string): IdentifierProblem {
  if (!/^[0-9A-Z]{8}[0-9X]$/.test(code)) return '组织机构代码格式错误 (8 characters and a check character expected)';
  return organisationCodeCheck(code) === code[8] ? null : '组织机构代码校验位错误 (GB 11714 check character does not match)';
}

/** GB 32100 check character for the first 17 characters, or null if a character is outside the charset. */
export function usccCheckCharacter(first17: string): string | null {
  const sum = weightedSum(first17, USCC_CHARSET, USCC_WEIGHTS);
  if (sum === null) return null;
  return USCC_CHARSET[(31 - (sum % 31)) % 31]!;
}

/** Checks a Unified Social Credit Code, including the embedded organisation code. */
export function usccProblem(code: string): IdentifierProblem {
  if (code.length !== 18) return `统一社会信用代码应为18位 (18 characters expected, got ${code.length})`;
  for (const ch of code) {
    if (!USCC_CHARSET.includes(ch)) return `统一社会信用代码含非法字符 '${ch}' (I, O, S, V, Z and lower case are not used)`;
  }
  if (usccCheckCharacter(code.slice(0, 17)) !== code[17]) return '统一社会信用代码校验位错误 (GB 32100 check character does not match)';
  const org = organisationCodeProblem(code.slice(8, 17));
  return org ? `统一社会信用代码第9-17位: ${org}` : null;
}

export function isValidUscc(code: string): boolean {
  return usccProblem(code) === null;
}

/** True when `yyyymmdd` is a real calendar date. */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, keeps years 0-99 as they are
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/**
 * Checks an 18-character resident identity number: digits, a real birth date
 * not after `today` (YYYY-MM-DD) and not before 1900, and the check character.
 */
export function residentIdProblem(id: string, today: string): IdentifierProblem {
  if (!/^\d{17}[\dX]$/.test(id)) return '身份证号码应为17位数字加1位校验码 (17 digits and a check character expected)';
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (!isRealDate(y, m, d) || y < 1900) return '身份证号码中的出生日期无效 (digits 7-14 are not a real birth date)';
  const birth = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (birth > today) return '身份证号码中的出生日期晚于今天 (birth date is in the future)';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === id[17] ? null : '身份证号码校验位错误 (GB 11643 check character does not match)';
}

/**
 * Masks a resident identity number for display: the month and day of birth
 * become `****` (`1101051978****0454`). Other certificate numbers keep only
 * their first two and last two characters.
 */
export function maskIdentityNumber(value: string): string {
  if (/^\d{17}[\dX]$/.test(value)) return `${value.slice(0, 10)}****${value.slice(14)}`;
  if (value.length <= 4) return '*'.repeat(value.length);
  return value.slice(0, 2) + '*'.repeat(value.length - 4) + value.slice(-2);
}
