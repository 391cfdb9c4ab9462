/**
 * Generators of checksummed identifiers for sample batches. The check
 * characters come from the hub's own code (shared/domain/identifiers.ts:
 * usccCheckCharacter, organisationCodeCheck), so a valid sample identifier is
 * valid by the hub's definition; the GB 11643 weights are restated here
 * because identifiers.ts keeps them private (the tests check every generated
 * number against residentIdProblem).
 */
import { organisationCodeCheck, usccCheckCharacter } from '../../../shared/domain/identifiers.js';
import type { Random } from '../seeded-random.js';

/** GB 11643-1999 weights of the first 17 digits, and the check characters by Σ mod 11. */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';
/** GB 32100 characters (no I, O, S, V, Z). */
export const USCC_CHARACTERS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const DIGITS = '0123456789';
/** Letters and digits an organisation code may carry inside a USCC (the USCC charset). */
const CODE_BODY = USCC_CHARACTERS;

function randomString(random: Random, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[random.int(0, alphabet.length - 1)];
  return out;
}

/** The GB 11643 check character of 17 digits. */
export function residentIdCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`17 digits expected, got ${first17}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11]!;
}

/**
 * A resident identity number: the 6-digit division of the household
 * registration, the birth date (YYYY-MM-DD), a sequence whose last digit is
 * odd for a man and even for a woman, and the check character.
 */
export function residentIdentityNumber(random: Random, division: string, birthDate: string, male: boolean): string {
  const sequence = random.int(0, 49) * 2 + (male ? 1 : 0);
  const first17 = `${division}${birthDate.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
  return first17 + residentIdCheckCharacter(first17);
}

/** How the 8 characters of an organisation code look: issued after 2015 (MA…), older numeric, or a government organ's. */
export type OrganisationCodeStyle = 'recent' | 'numeric' | 'government';

/** The 8 characters of a GB 11714 organisation code, without its check character. */
export function organisationCodeBody(random: Random, style: OrganisationCodeStyle): string {
  if (style === 'recent') return `MA${randomString(random, CODE_BODY, 6)}`;
  if (style === 'government') return `00${randomString(random, DIGITS, 6)}`;
  return `${random.int(1, 7)}${randomString(random, DIGITS, 7)}`;
}

/** A 9-character organisation code (8 characters and the GB 11714 check), the form used before the USCC. */
export function organisationCode(random: Random, style: OrganisationCodeStyle = 'numeric'): string {
  const body = organisationCodeBody(random, style);
  return body + organisationCodeCheck(body)!;
}

/**
 * A Unified Social Credit Code: registration authority (1 机构编制, 9 工商),
 * institution type (1 机关 or 企业, …), the 6-digit division, the embedded
 * organisation code and the GB 32100 check character.
 */
export function unifiedSocialCreditCode(random: Random, authority: string, type: string, division: string, style: OrganisationCodeStyle): string {
  const body = organisationCodeBody(random, style);
  const first17 = `${authority}${type}${division}${body}${organisationCodeCheck(body)!}`;
  return first17 + usccCheckCharacter(first17)!;
}

function otherCharacter(random: Random, alphabet: string, not: string): string {
  const choices = alphabet.replace(not, '');
  return choices[random.int(0, choices.length - 1)]!;
}

/** The same identity number with a wrong check character (fails GB 11643 only). */
export function withWrongIdCheck(random: Random, id: string): string {
  return id.slice(0, 17) + otherCharacter(random, ID_CHECK, id[17]!);
}

/**
 * The same USCC made invalid in one of two ways: a wrong GB 32100 check
 * character, or a wrong check of the embedded organisation code with the
 * outer check recomputed (so only the GB 11714 check catches it).
 */
export function withWrongUsccCheck(random: Random, code: string): string {
  if (random.chance(0.5)) return code.slice(0, 17) + otherCharacter(random, USCC_CHARACTERS, code[17]!);
  const first16 = code.slice(0, 16);
  const first17 = first16 + otherCharacter(random, `${DIGITS}X`, code[16]!);
  return first17 + usccCheckCharacter(first17)!;
}
