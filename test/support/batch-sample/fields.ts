/** The fields of a 失信被执行人 row as courts deliver them (API.md, "Record kinds"), in file order. */
export const DISHONEST_DEBTOR_FIELDS = [
  'iname',
  'cardNum',
  'businessEntity',
  'courtName',
  'areaName',
  'caseCode',
  'regDate',
  'gistId',
  'gistUnit',
  'duty',
  'performance',
  'performedPart',
  'unperformPart',
  'disruptTypeName',
  'publishDate',
  'partyTypeName',
  'status',
] as const;

export type DishonestDebtorField = (typeof DISHONEST_DEBTOR_FIELDS)[number];

/** A value as it is written: text, an amount as a JSON number, or (in wrong-type rows) another JSON type. */
export type SampleValue = string | number | boolean | string[];

/** One row: absent fields are left out (an empty cell in CSV); an unknown field comes after the known ones. */
export type SampleFields = Record<string, SampleValue>;

export const PARTY_TYPE = { person: '自然人', organisation: '法人或其他组织' } as const;

/** Who the debtor is: a natural person, a company (or other organisation) or a government body. */
export type PartyKind = 'person' | 'company' | 'government';
