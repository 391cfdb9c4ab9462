/**
 * Rules of the 失信被执行人 (dishonest judgment debtor) list that do not
 * depend on how a record arrives:
 *
 * - what a court's `cardNum` is: an 18-character USCC (GB 32100), a resident
 *   identity number (GB 11643), or an old 9-character organisation code
 *   (GB 11714, `XXXXXXXX-X` or without the hyphen), and so whether the debtor
 *   is a 自然人 or a 法人或其他组织 (`partyTypeName`);
 * - the listing period: 2 years from the publication date (DOMAIN.md), ended
 *   early when the court removes the listing.
 *
 * Pure: "today" is a parameter.
 */
import { addMonths } from './dates.js';
import { normaliseCode, organisationCodeProblem, residentIdProblem, usccProblem } from './identifiers.js';
import type { Publication } from './record-model.js';

/** partyTypeName: the court data's two names of the kinds of debtor. */
export const PARTY_TYPE_NAME = { naturalPerson: '自然人', organisation: '法人或其他组织' } as const;
export type PartyTypeName = (typeof PARTY_TYPE_NAME)[keyof typeof PARTY_TYPE_NAME];

/** What a valid `cardNum` is. */
export type DebtorCodeKind = 'uscc' | 'resident-id' | 'organisation-code';

/** A listing lasts 2 years from its publication (发布时间). */
export const LISTING_MONTHS = 24;

const PARTY_OF: Record<DebtorCodeKind, PartyTypeName> = {
  uscc: PARTY_TYPE_NAME.organisation,
  'resident-id': PARTY_TYPE_NAME.naturalPerson,
  'organisation-code': PARTY_TYPE_NAME.organisation,
};

const HYPHENATED_ORGANISATION_CODE = /^([0-9A-Z]{8})-([0-9A-Z])$/;

/**
 * How a `cardNum` is compared and stored: NFKC (full-width becomes
 * half-width), trimmed, upper case, and an organisation code without its
 * hyphen (`60003734-1` → `600037341`, the form a USCC embeds).
 */
export function normaliseDebtorCode(value: string): string {
  const code = normaliseCode(value);
  return code.replace(HYPHENATED_ORGANISATION_CODE, '$1$2');
}

/** The kinds of identifier a normalised `cardNum` validly is (a code can pass both the USCC and the identity-number check). */
export function debtorCodeKinds(code: string, today: string): DebtorCodeKind[] {
  const kinds: DebtorCodeKind[] = [];
  if (code.length === 18 && usccProblem(code) === null) kinds.push('uscc');
  if (code.length === 18 && residentIdProblem(code, today) === null) kinds.push('resident-id');
  if (code.length === 9 && organisationCodeProblem(code) === null) kinds.push('organisation-code');
  return kinds;
}

export type DebtorParty =
  | { ok: true; partyType: PartyTypeName; codeKind: DebtorCodeKind }
  | { ok: false; field: 'cardNum' | 'partyTypeName'; problem: string };

const KIND_NAMES: Record<DebtorCodeKind, string> = {
  uscc: '统一社会信用代码 (a USCC)',
  'resident-id': '身份证号码 (a resident identity number)',
  'organisation-code': '组织机构代码 (an organisation code)',
};

/**
 * Decides what kind of debtor a record names, from its normalised `cardNum`
 * and the `partyTypeName` the court gave (if any), or says which field is
 * wrong and why:
 * - without a partyTypeName it is inferred: a USCC or an organisation code is
 *   法人或其他组织, an identity number 自然人; a code that passes both the USCC
 *   and the identity-number check is ambiguous, and partyTypeName is required;
 * - a given partyTypeName must agree with what cardNum is;
 * - a cardNum that is none of them is wrong, with the check that failed.
 */
export function resolveDebtorParty(code: string, given: PartyTypeName | undefined, today: string): DebtorParty {
  const kinds = debtorCodeKinds(code, today);
  if (given !== undefined) {
    const match = kinds.find((k) => PARTY_OF[k] === given);
    if (match) return { ok: true, partyType: given, codeKind: match };
    if (kinds.length > 0) {
      const kind = kinds[0]!;
      return {
        ok: false,
        field: 'partyTypeName',
        problem: `被执行人类型与证件号码不符：cardNum是${KIND_NAMES[kind]}，应为${PARTY_OF[kind]} (partyTypeName ${given} contradicts cardNum, which makes the debtor ${PARTY_OF[kind]})`,
      };
    }
    return { ok: false, field: 'cardNum', problem: problemFor(code, given, today) };
  }
  if (kinds.length === 1) return { ok: true, partyType: PARTY_OF[kinds[0]!], codeKind: kinds[0]! };
  if (kinds.length > 1) {
    return {
      ok: false,
      field: 'partyTypeName',
      problem: '证件号码既是有效的统一社会信用代码也是有效的身份证号码，须填写被执行人类型 (cardNum passes both the USCC and the identity-number check: partyTypeName is required)',
    };
  }
  return { ok: false, field: 'cardNum', problem: problemFor(code, undefined, today) };
}

/** Why a code that is no valid identifier fails, for the kind of debtor it was given as (or any). */
function problemFor(code: string, given: PartyTypeName | undefined, today: string): string {
  if (given === PARTY_TYPE_NAME.naturalPerson) return residentIdProblem(code, today)!;
  if (code.length === 18) {
    const uscc = usccProblem(code)!;
    if (given === PARTY_TYPE_NAME.organisation) return uscc;
    return `既不是有效的统一社会信用代码也不是有效的身份证号码 (cardNum is neither a valid USCC nor a valid resident identity number): ${uscc}; ${residentIdProblem(code, today)}`;
  }
  if (code.length === 9) return organisationCodeProblem(code)!;
  const expected =
    given === PARTY_TYPE_NAME.organisation
      ? '应为18位统一社会信用代码或9位组织机构代码 (an 18-character USCC or a 9-character organisation code expected'
      : '应为18位统一社会信用代码、18位身份证号码或9位组织机构代码 (an 18-character USCC, an 18-character resident identity number or a 9-character organisation code expected';
  return `${expected}, got ${code.length} characters)`;
}

/** The kind of a cardNum already validated with its partyTypeName (as stored). */
export function storedCodeKind(code: string, partyType: string): DebtorCodeKind {
  if (partyType === PARTY_TYPE_NAME.naturalPerson) return 'resident-id';
  return code.length === 9 ? 'organisation-code' : 'uscc';
}

/**
 * Publication of a listing: from its publication date for 2 years. A listing
 * the court removed (`removedOn`: the date the hub learnt of it, in China)
 * has ended: it is no longer published, and `until` keeps the end it would
 * have had.
 */
export function listingPublication(publishDate: string, removedOn?: string): Publication {
  const period = { from: publishDate, until: addMonths(publishDate, LISTING_MONTHS) };
  return removedOn === undefined ? { state: 'pending-review', ...period } : { state: 'ended', endReason: 'removed', endedOn: removedOn, ...period };
}
