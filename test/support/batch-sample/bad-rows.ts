/**
 * The kinds of bad row a sample batch can carry, and how each is made from a
 * valid row. Each records the field at fault, so a test can assert that the
 * hub rejects exactly these rows, for exactly that field.
 */
import { residentIdProblem, usccProblem } from '../../../shared/domain/identifiers.js';
import { addDays } from '../dates.js';
import type { Random } from '../seeded-random.js';
import type { SampleFields } from './fields.js';
import { withWrongIdCheck, withWrongUsccCheck } from './identifiers.js';

export const BAD_KINDS = [
  /** cardNum: a resident identity number whose GB 11643 check character is wrong. */
  'resident-id-checksum',
  /** cardNum: a USCC whose GB 32100 check, or embedded GB 11714 check, is wrong. */
  'uscc-checksum',
  /** regDate or publishDate: a date that does not exist (2025-02-30, 2023-02-29). */
  'impossible-date',
  /** publishDate or regDate: after today in China. */
  'future-date',
  /** A required field left out (in CSV: an empty cell). */
  'missing-field',
  /** A field API.md does not name (in CSV: an extra cell beyond the header, recorded with field ''). */
  'unknown-field',
  /** A value of the wrong type: a number or an array for text or a date, a boolean for an amount; in CSV a date as 20250305 or an amount as 1.2.3. */
  'wrong-type',
  /** duty so long that the row is over 64 KB: a fault of the row, field '' (off by default). */
  'oversized-row',
  /** A byte that is not valid in the file's encoding (0xFF), inside iname: the row cannot be decoded, field '' (off by default). */
  'ill-formed-bytes',
] as const;

export type BadKind = (typeof BAD_KINDS)[number];

/** The kinds used unless others are asked for: all but the oversized row and the ill-formed bytes. */
export const DEFAULT_BAD_KINDS: readonly BadKind[] = BAD_KINDS.filter((k) => k !== 'oversized-row' && k !== 'ill-formed-bytes');

/** Stands for the ill-formed byte in a row's text; the encoder writes 0xFF in its place. */
export const ILL_FORMED_MARK = '\uFFFF';

/** Fields a row cannot do without (missing-field leaves one out): all but businessEntity, the amounts, partyTypeName and status. */
export const REQUIRED_FIELDS = ['iname', 'cardNum', 'courtName', 'areaName', 'caseCode', 'regDate', 'gistId', 'gistUnit', 'duty', 'performance', 'disruptTypeName', 'publishDate'] as const;
/** Fields of the public court list that API.md does not take. */
const UNKNOWN_FIELDS: readonly (readonly [name: string, value: string])[] = [
  ['sexName', '男'],
  ['age', '45'],
  ['focusNumber', '0'],
];

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** A date that does not exist in year `year` or the nearest earlier year that fits. */
function impossibleDate(random: Random, year: number): string {
  const roll = random.int(0, 3);
  if (roll === 0) {
    let y = year;
    while (isLeap(y)) y--;
    return `${y}-02-29`;
  }
  return `${year}-${['02-30', '04-31', '11-31'][roll - 1]}`;
}

/** A JSON value of the wrong type: a number for text or a date, a boolean for an amount, an array for text. */
function wrongTypeInJson(random: Random, fields: SampleFields): Corruption {
  switch (random.int(0, 3)) {
    case 0:
      fields.iname = random.int(10_000, 99_999);
      return { field: 'iname' };
    case 1:
      fields.regDate = Number(String(fields.regDate).replaceAll('-', ''));
      return { field: 'regDate' };
    case 2:
      fields.performedPart = true;
      return { field: 'performedPart' };
    default:
      fields.duty = [String(fields.duty)];
      return { field: 'duty' };
  }
}

/** CSV holds only text: a date written as a number, or an amount that is no number (1.2.3). */
function wrongTypeInCsv(random: Random, fields: SampleFields): Corruption {
  if (random.chance(0.5)) {
    const field = random.pick(['regDate', 'publishDate']);
    fields[field] = String(fields[field]).replaceAll('-', '');
    return { field };
  }
  const field = random.pick(['performedPart', 'unperformPart']);
  fields[field] = `${random.int(1, 99)}.${random.int(1, 99)}.${random.int(1, 99)}`;
  return { field };
}

export interface Corruption {
  /** The field at fault; '' for a fault of the whole row (an extra CSV cell, a row over 64 KB, bytes not in the encoding). */
  field: string;
}

/**
 * Makes `fields` (a valid row, changed in place) bad in the way `kind` says.
 * identity-number and USCC kinds expect a row of the matching party.
 */
export function corrupt(random: Random, kind: BadKind, fields: SampleFields, format: 'ndjson' | 'csv', today: string): Corruption {
  switch (kind) {
    case 'resident-id-checksum': {
      // Eighteen digits can also make a valid USCC: such a number would be a valid organisation's, not a bad row.
      const id = String(fields.cardNum);
      let wrong = withWrongIdCheck(random, id);
      while (usccProblem(wrong) === null) wrong = withWrongIdCheck(random, id);
      fields.cardNum = wrong;
      return { field: 'cardNum' };
    }
    case 'uscc-checksum': {
      const code = String(fields.cardNum);
      let wrong = withWrongUsccCheck(random, code);
      while (residentIdProblem(wrong, today) === null) wrong = withWrongUsccCheck(random, code);
      fields.cardNum = wrong;
      return { field: 'cardNum' };
    }
    case 'impossible-date': {
      const field = random.pick(['regDate', 'publishDate']);
      fields[field] = impossibleDate(random, Number(String(fields.regDate).slice(0, 4)));
      return { field };
    }
    case 'future-date': {
      if (random.chance(0.7)) {
        fields.publishDate = addDays(today, random.int(30, 400));
        return { field: 'publishDate' };
      }
      fields.regDate = addDays(today, random.int(30, 400));
      fields.publishDate = addDays(String(fields.regDate), random.int(10, 60));
      return { field: 'regDate' };
    }
    case 'missing-field': {
      const field = random.pick(REQUIRED_FIELDS);
      delete fields[field];
      return { field };
    }
    case 'unknown-field': {
      const [field, value] = random.pick(UNKNOWN_FIELDS);
      fields[field] = value;
      // In CSV the value is a cell beyond the header's columns: a fault of the row, with no field to name.
      return { field: format === 'csv' ? '' : field };
    }
    case 'wrong-type':
      return format === 'csv' ? wrongTypeInCsv(random, fields) : wrongTypeInJson(random, fields);
    case 'oversized-row': {
      // At least 70,000 characters: over 64 KiB whatever the encoding.
      const sentence = `${String(fields.duty)}\n`;
      fields.duty = sentence.repeat(Math.ceil(70_000 / sentence.length)).trimEnd();
      // A reader cannot hold the row, let alone name a field of it.
      return { field: '' };
    }
    case 'ill-formed-bytes': {
      const [first, ...rest] = String(fields.iname);
      fields.iname = `${first}${ILL_FORMED_MARK}${rest.join('')}`;
      // The row is not text in the file's encoding: no field of it can be read.
      return { field: '' };
    }
  }
}
