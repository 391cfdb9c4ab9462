import { describe, expect, it } from 'vitest';
import { addMonths, todayInChina } from '../../shared/domain/dates.js';
import { debtorCodeKinds, LISTING_MONTHS, listingPublication, normaliseDebtorCode, resolveDebtorParty, storedCodeKind } from '../../shared/domain/debtor.js';
import { isGovernmentBody } from '../../shared/domain/government-body.js';
import { addDays } from '../support/dates.js';

const COMPANY = '91110000600037341L';
const GOVERNMENT_BODY = '121200004013590816';
const ID = '110102199101010078';
const ORG_CODE = '600037341';
const AMBIGUOUS = '110101199101014769';
const TODAY = todayInChina();

describe('normaliseDebtorCode', () => {
  it.each([
    ['60003734-1', ORG_CODE],
    ['６０００３７３４－１', ORG_CODE],
    [' 91110000600037341l ', COMPANY],
    ['44011320141005001x', '44011320141005001X'],
    // Only the organisation-code hyphen goes: anything else keeps its hyphen (and fails the shape check).
    ['110102-199101010078', '110102-199101010078'],
    ['6000373-41', '6000373-41'],
  ])('%j → %j', (input, output) => {
    expect(normaliseDebtorCode(input)).toBe(output);
  });
});

describe('debtorCodeKinds', () => {
  it.each([
    [COMPANY, ['uscc']],
    [GOVERNMENT_BODY, ['uscc']],
    [ID, ['resident-id']],
    [ORG_CODE, ['organisation-code']],
    [AMBIGUOUS, ['uscc', 'resident-id']],
    ['91110000600037341N', []],
    ['600037342', []],
    ['12345', []],
  ])('%s is %j', (code, kinds) => {
    expect(debtorCodeKinds(code, TODAY)).toEqual(kinds);
  });

  it('does not take an identity number born after `today` (the parameter, not the clock)', () => {
    expect(debtorCodeKinds(ID, '1991-01-01')).toEqual(['resident-id']);
    expect(debtorCodeKinds(ID, '1990-12-31')).toEqual([]);
  });
});

describe('resolveDebtorParty', () => {
  it('infers the kind of debtor from the code', () => {
    expect(resolveDebtorParty(COMPANY, undefined, TODAY)).toEqual({ ok: true, partyType: '法人或其他组织', codeKind: 'uscc' });
    expect(resolveDebtorParty(ORG_CODE, undefined, TODAY)).toEqual({ ok: true, partyType: '法人或其他组织', codeKind: 'organisation-code' });
    expect(resolveDebtorParty(ID, undefined, TODAY)).toEqual({ ok: true, partyType: '自然人', codeKind: 'resident-id' });
  });

  it('follows a given kind that agrees, also to settle an ambiguous code', () => {
    expect(resolveDebtorParty(ID, '自然人', TODAY)).toEqual({ ok: true, partyType: '自然人', codeKind: 'resident-id' });
    expect(resolveDebtorParty(AMBIGUOUS, '自然人', TODAY)).toEqual({ ok: true, partyType: '自然人', codeKind: 'resident-id' });
    expect(resolveDebtorParty(AMBIGUOUS, '法人或其他组织', TODAY)).toEqual({ ok: true, partyType: '法人或其他组织', codeKind: 'uscc' });
  });

  it('blames partyTypeName for a contradiction or an ambiguity, cardNum for a code that is nothing', () => {
    expect(resolveDebtorParty(COMPANY, '自然人', TODAY)).toMatchObject({ ok: false, field: 'partyTypeName' });
    expect(resolveDebtorParty(ID, '法人或其他组织', TODAY)).toMatchObject({ ok: false, field: 'partyTypeName' });
    expect(resolveDebtorParty(AMBIGUOUS, undefined, TODAY)).toMatchObject({ ok: false, field: 'partyTypeName' });
    expect(resolveDebtorParty('91110000600037341N', undefined, TODAY)).toMatchObject({ ok: false, field: 'cardNum' });
    expect(resolveDebtorParty('91110000600037341N', '自然人', TODAY)).toMatchObject({ ok: false, field: 'cardNum', problem: expect.stringMatching(/^身份证号码/) });
  });

  it('uses the `today` it is given for birth dates', () => {
    expect(resolveDebtorParty(ID, '自然人', '1990-12-31')).toMatchObject({ ok: false, field: 'cardNum', problem: expect.stringMatching(/晚于今天/) });
  });
});

describe('storedCodeKind', () => {
  it('reads the kind of a stored cardNum from its partyTypeName and length', () => {
    expect(storedCodeKind(ID, '自然人')).toBe('resident-id');
    expect(storedCodeKind(AMBIGUOUS, '自然人')).toBe('resident-id');
    expect(storedCodeKind(AMBIGUOUS, '法人或其他组织')).toBe('uscc');
    expect(storedCodeKind(ORG_CODE, '法人或其他组织')).toBe('organisation-code');
  });
});

describe('listingPublication (2 years from publishDate)', () => {
  const published = addDays(TODAY, -10);

  it('is pending review from the publication date until 24 months later', () => {
    expect(LISTING_MONTHS).toBe(24);
    expect(listingPublication(published)).toStrictEqual({ state: 'pending-review', from: published, until: addMonths(published, 24) });
  });

  it('ends a removed listing on the given date, keeping the end it would have had', () => {
    expect(listingPublication(published, TODAY)).toStrictEqual({ state: 'ended', endReason: 'removed', endedOn: TODAY, from: published, until: addMonths(published, 24) });
  });

  it('counts calendar months (29 February → 28 February two years on)', () => {
    expect(listingPublication('2024-02-29').until).toBe('2026-02-28');
  });
});

describe('isGovernmentBody', () => {
  it('is true for a USCC of the establishment offices (registration authority 1)', () => {
    expect(isGovernmentBody(GOVERNMENT_BODY)).toBe(true);
  });

  it('is false for other USCCs, organisation codes and nothing', () => {
    expect(isGovernmentBody(COMPANY)).toBe(false);
    expect(isGovernmentBody('91310115MA1K3BTP2B')).toBe(false);
    expect(isGovernmentBody('121200004')).toBe(false);
    expect(isGovernmentBody(undefined)).toBe(false);
  });
});
