/**
 * Finds resident identity numbers (居民身份号码) inside free text, for the
 * places where text leaves the hub without being a field it validated: log
 * lines (shared/logger.ts) and values quoted back in error messages
 * (shorten(), text.ts). It goes by shape, not validity: an area code, a birth
 * date (19th to 21st century, a real month and day), three digits and a check
 * character, in half- or full-width digits, as people actually write them:
 *
 * - glued to letters on either side (`ID` + the 18 characters + `x`): only a digit
 *   next to it makes it part of a longer number;
 * - grouped with single spaces or hyphens (six digits, the eight of the birth
 *   date, the last four; or other groupings), at any positions;
 * - as a JSON number (an 18-digit number value arrives as the nearest double,
 *   its last digits rounded: its first 16 digits are still the person's).
 */

/** The mark that replaces a number. */
export const REDACTED_ID = '[REDACTED-ID]';

const wide = (c: string) => String.fromCharCode(c.charCodeAt(0) + 0xfee0);
/** A half- or full-width digit from `from` to `to`. */
const digit = (from: string, to = from) => `[${from}-${to}${wide(from)}-${wide(to)}]`;
/** At most one space (also no-break and ideographic) or hyphen/dash between two characters of a number. */
const SEP = '[ \\t\\u00A0\\u3000\\-\\u2010-\\u2015\\uFF0D]?';
const seq = (...parts: string[]) => parts.join(SEP);

const any = digit('0', '9');
const century = `(?:${seq(digit('1'), digit('8', '9'))}|${seq(digit('2'), digit('0'))})`;
const month = `(?:${seq(digit('0'), digit('1', '9'))}|${seq(digit('1'), digit('0', '2'))})`;
const day = `(?:${seq(digit('0'), digit('1', '9'))}|${seq(digit('1', '2'), any)}|${seq(digit('3'), digit('0', '1'))})`;
const check = `(?:${any}|[XxＸｘ])`;
/** The first 17 characters: area (6), birth date (8), sequence (3). */
const body = seq(any, any, any, any, any, any, century, any, any, month, day, any, any, any);
const NOT_A_DIGIT_BEFORE = `(?<!${any})`;
const NOT_A_DIGIT_AFTER = `(?!${any})`;

const IN_TEXT = new RegExp(`${NOT_A_DIGIT_BEFORE}${seq(body, check)}${NOT_A_DIGIT_AFTER}`, 'g');
/** The decimal digits of a number that was an identity number: 17 (a lost X) or 18 digits, shaped like one. */
const AS_DIGITS = new RegExp(`^${body}[0-9]?$`);

/** Replaces anything in `text` shaped like a resident identity number with REDACTED_ID. */
export function redactIdentityNumbers(text: string): string {
  return text.replace(IN_TEXT, REDACTED_ID);
}

/** Whether a number (a JSON number, a bigint) is an identity number sent without quotes. */
export function isIdentityNumberValue(value: number | bigint): boolean {
  if (typeof value === 'number' && !Number.isFinite(value)) return false;
  const magnitude = typeof value === 'bigint' ? (value < 0n ? -value : value) : Math.trunc(Math.abs(value));
  // 17 or 18 digits (a double below 1e21 prints as plain digits).
  if (magnitude < 1e16 || magnitude >= 1e18) return false;
  return AS_DIGITS.test(String(magnitude));
}
