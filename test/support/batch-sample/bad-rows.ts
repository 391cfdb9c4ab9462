/**
 * The kinds of bad row a sample batch can carry, and how each is made from a
 * valid row. Each records the field at fault, so a test can assert that the
 * hub rejects exactly these rows, for exactly that field.
 */
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
  /** A field API.md does not name (in CSV: an extra cell beyond the header). */
  'unknown-field',
  /** A value of the wrong type: a number or array for text, a boolean or words for an amount. */
  'wrong-type',
  /** duty so long that the row is over 64 KB (off by default). */
  'oversized-row',
  /** A byte that is not valid in the file's encoding (0xFF) inside iname (off by default). */
  'ill-formed-bytes',
] as const;

export type BadKind = (typeof BAD_KINDS)[number];

/** The kinds used unless others are asked for: all but the oversized row and the ill-formed bytes. */
export const DEFAULT_BAD_KINDS: readonly BadKind[] = BAD_KINDS.filter((k) => k !== 'oversized-row' && k !== 'ill-formed-bytes');

/** Stands for the ill-formed byte in a row's text; the encoder writes 0xFF in its place. */
export const ILL_FORMED_MARK = '\uFFFF';

/** Fields a row cannot do without (the ones missing-field leaves out). */
export const REQUIRED_FIELDS = ['iname', 'cardNum', 'caseCode', 'courtName', 'publishDate'] as const;
/** Fields of the public court list that API.md does not take. */
const UNKNOWN_FIELDS: readonly [string, () => string][] = [
  ['sexName', () => '男'],
  ['age', () => '45'],
  ['focusNumber', () => '0'],
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

export interface Corruption {
  /** The field at fault (for unknown-field, the field's name; in CSV its cell has no column). */
  field: string;
}

/**
 * Makes `fields` (a valid row, changed in place) bad in the way `kind` says.
 * identity-number and USCC kinds expect a row of the matching party.
 */
export function corrupt(random: Random, kind: BadKind, fields: SampleFields, format: 'ndjson' | 'csv', today: string): Corruption {
  switch (kind) {
    case 'resident-id-checksum':
      fields.cardNum = withWrongIdCheck(random, String(fields.cardNum));
      return { field: 'cardNum' };
    case 'uscc-checksum':
      fields.cardNum = withWrongUsccCheck(random, String(fields.cardNum));
      return { field: 'cardNum' };
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
      fields[field] = value();
      return { field };
    }
    case 'wrong-type': {
      const roll = random.int(0, format === 'csv' ? 1 : 4);
      if (roll === 0) {
        fields.unperformPart = '约十二万元';
        return { field: 'unperformPart' };
      }
      if (roll === 1) {
        fields.performedPart = '部分';
        return { field: 'performedPart' };
      }
      if (roll === 2) {
        fields.iname = random.int(10_000, 99_999);
        return { field: 'iname' };
      }
      if (roll === 3) {
        fields.regDate = Number(String(fields.regDate).replaceAll('-', ''));
        return { field: 'regDate' };
      }
      fields.duty = [String(fields.duty)];
      return { field: 'duty' };
    }
    case 'oversized-row': {
      // At least 70,000 characters: over 64 KiB whatever the encoding.
      const sentence = `${String(fields.duty)}\n`;
      fields.duty = sentence.repeat(Math.ceil(70_000 / sentence.length)).trimEnd();
      return { field: 'duty' };
    }
    case 'ill-formed-bytes': {
      const [first, ...rest] = String(fields.iname);
      fields.iname = `${first}${ILL_FORMED_MARK}${rest.join('')}`;
      return { field: 'iname' };
    }
  }
}
