/**
 * Error messages never quote personal data back: an identity number put in any
 * field of any kind (a coded list such as CF_CFLB included), as a key, or in a
 * value quoted back elsewhere (a path, an id), does not come back in the
 * answer. Values that cannot hold personal data are quoted, shortened.
 */
import { describe, expect, it } from 'vitest';
import { PUSH_KINDS, fieldOrder, type PushKindSpec } from '../../contracts/kinds.js';
import { PENALTY_CATEGORY } from '../../contracts/codes.js';
import { codedList } from '../../contracts/fields.js';
import { shorten } from '../../shared/domain/text.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { dropEmpty } from '../../shared/ingest/prepare.js';

const ID = '110102199101010078';
const ID_X = '44011320141005001X';
/** What must not come back: the area code and birth date of the number, in any of the forms sent. */
const LEAK = /110102\s?-?1991|440113\s?-?2014|1101021991010100/;

/** How an identity number can be put where it does not belong. */
const PLACEMENTS: [string, unknown][] = [
  ['the number', ID],
  ['the number with X', ID_X],
  ['the number, spaced', '110102 19910101 0078'],
  ['the number, hyphenated', '110102-19910101-0078'],
  ['the number glued to text', `罚款${ID}`],
  ['the number as a JSON number', 110102199101010078],
  ['the number in a list', [ID]],
  ['the number after a valid code', `警告;${ID}`],
  ['the number as the second item of a list', ['警告', ID]],
];

const kinds = Object.values(PUSH_KINDS) as PushKindSpec[];

function errorsOf(spec: PushKindSpec, record: Record<string, unknown>) {
  const parsed = spec.schema.safeParse(dropEmpty(record));
  return parsed.success ? [] : fieldErrors(parsed.error);
}

describe.each(kinds.map((spec) => [spec.kind, spec] as const))('%s: no field quotes an identity number back', (_kind, spec) => {
  it.each(fieldOrder(spec))('%s', (field) => {
    for (const [what, value] of PLACEMENTS) {
      const errors = errorsOf(spec, { [field]: value });
      expect(errors.length, `${field} holding ${what}: the record is incomplete, so it is refused`).toBeGreaterThan(0);
      expect(JSON.stringify(errors), `${field} holding ${what}`).not.toMatch(LEAK);
    }
  });
});

describe('a coded list (CF_CFLB)', () => {
  const schema = codedList(PENALTY_CATEGORY, '处罚类别');
  const messageOf = (value: unknown) => {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(false);
    return fieldErrors(parsed.error!)[0]!.message;
  };

  it('names the position of the wrong item, never its value', () => {
    const message = messageOf(`警告;${ID};罚款`);
    expect(message).toMatch(/^第2项不是有效的代码或名称 \(item 2 of 3 is not a valid code or name; expected codes or names from: .*01 警告/);
    expect(message).not.toContain(ID);
  });

  it('says "not a valid code or name" for a single wrong value, without quoting it', () => {
    const message = messageOf(ID);
    expect(message).toMatch(/^不是有效的代码或名称 \(not a valid code or name; expected/);
    expect(message).not.toMatch(LEAK);
  });

  it('still accepts codes and names', () => {
    expect(schema.parse('罚款;警告')).toBe('01;02');
  });
});

describe('keys and other values quoted back', () => {
  it('shortens an unknown key and redacts an identity number in it', () => {
    const spec = PUSH_KINDS.penalty as PushKindSpec;
    const errors = errorsOf(spec, { [ID]: '1', [`x${'y'.repeat(100)}`]: '2' });
    const unknown = errors.filter((e) => e.message.startsWith('未知字段'));
    expect(unknown.map((e) => e.field)).toStrictEqual(['[REDACTED-ID]', `x${'y'.repeat(63)}…`]);
  });

  it('shorten() redacts identity numbers before cutting, in every form', () => {
    expect(shorten(`/v1/records/${ID}`, 64)).toBe('/v1/records/[REDACTED-ID]');
    expect(shorten(`pen_${ID}`, 64)).toBe('pen_[REDACTED-ID]');
    expect(shorten('110102-19910101-0078', 8)).toBe('[REDACTE…');
    expect(shorten(`${'a'.repeat(10)}${ID}`, 14)).toBe('aaaaaaaaaa[RED…');
    expect(shorten('lic_abcdefghijklmnopqrstuvwxyz', 64)).toBe('lic_abcdefghijklmnopqrstuvwxyz');
  });
});
