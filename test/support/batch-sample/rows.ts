/**
 * The rows of a sample 失信被执行人 batch, one at a time, deterministic from
 * a seed: people, companies and government bodies with valid identifiers, a
 * share of removed listings, case numbers unique per row except where a row
 * deliberately repeats an earlier one (updated or duplicate content), and an
 * exact number of bad rows of the chosen kinds. Dates are counted back from
 * today in China (or the `today` given), so every valid date is in the past.
 *
 * Memory stays constant whatever the number of rows: a counter per court and
 * year for case numbers, and the last REPEAT_WINDOW valid rows for repeats.
 */
import { isIsoDate, todayInChina } from '../../../shared/domain/dates.js';
import { residentIdProblem, usccProblem } from '../../../shared/domain/identifiers.js';
import { dayNumber, isoDay } from './days.js';
import { type Random, seededRandom } from '../seeded-random.js';
import { type BadKind, BAD_KINDS, corrupt, DEFAULT_BAD_KINDS } from './bad-rows.js';
import { PARTY_TYPE, type PartyKind, type SampleFields } from './fields.js';
import { organisationCode, residentIdentityNumber, unifiedSocialCreditCode } from './identifiers.js';
import { companyName, governmentBody, hasRareCharacter, personName } from './names.js';
import { cityDivision, courtCode, type Place, PLACES } from './places.js';
import { disruptTypeName, DISRUPT_TYPES, dutyText, gist } from './texts.js';

export type BatchFormat = 'ndjson' | 'csv';

export interface SampleRowOptions {
  /** How many rows (data rows; a CSV header is not counted). */
  rows: number;
  /** The PRNG seed: the same seed, options and day give the same rows. Default 1. */
  seed?: number;
  /** ndjson or csv: decides how a wrong-type value can look (CSV has only text). Default ndjson. */
  format?: BatchFormat;
  /** Share of bad rows, 0 to 1: exactly round(rows × bad) of them. Default 0. */
  bad?: number;
  /** Kinds of bad row, used in turn. Default DEFAULT_BAD_KINDS (all but oversized-row and ill-formed-bytes). */
  badKinds?: readonly BadKind[];
  /** Share of rows that repeat an earlier valid row's caseCode (half updated, half duplicate content). Default 0.01. */
  repeats?: number;
  /** Share of new valid rows whose status is removed. Default 0.1. */
  removed?: number;
  /** Relative weights of persons, companies and government bodies. Default 0.6 / 0.35 / 0.05. */
  parties?: { person: number; company: number; government: number };
  /** Share of names (debtor, legal representative) with a rare character (𠮷, 䶮 …). Default 0.03. */
  rareNames?: number;
  /** Share of rows without partyTypeName (the hub infers it from cardNum). Default 0.1. */
  omitPartyType?: number;
  /** Share of companies identified by an old 9-character organisation code instead of a USCC. Default 0.05. */
  oldOrganisationCodes?: number;
  /** Today in China as YYYY-MM-DD, for an injected clock. Default todayInChina(). */
  today?: string;
}

export interface SampleRow {
  /** 1-based number of the data row. */
  row: number;
  fields: SampleFields;
  party: PartyKind;
  /** cardNum is an old 9-character organisation code. */
  oldOrganisationCode: boolean;
  /** iname or businessEntity has a character outside the BMP or in CJK Extension A. */
  rareName: boolean;
  /** Set on a bad row: what is wrong, and with which field. */
  bad?: { kind: BadKind; field: string };
  /** Set on a row that repeats the caseCode of the valid row `of`: with changed content (updated) or the same (duplicate). */
  repeat?: { kind: 'updated' | 'duplicate'; of: number };
}

/** How many recent valid rows a repeat may pick from. */
const REPEAT_WINDOW = 256;

interface Remembered {
  row: number;
  fields: SampleFields;
  party: PartyKind;
  oldOrganisationCode: boolean;
  rareName: boolean;
  /** The debt in yuan (performedPart + unperformPart, in 万元 in the row). */
  total: number;
}

function share(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be a share between 0 and 1, got ${value}`);
  return v;
}

/** Resolved options with their defaults, checked. */
export function resolveRowOptions(options: SampleRowOptions) {
  if (!Number.isInteger(options.rows) || options.rows < 0) throw new RangeError(`rows must be a whole number ≥ 0, got ${options.rows}`);
  const badKinds = options.badKinds ?? DEFAULT_BAD_KINDS;
  for (const kind of badKinds) if (!BAD_KINDS.includes(kind)) throw new RangeError(`unknown bad-row kind ${kind}; known: ${BAD_KINDS.join(', ')}`);
  const bad = share(options.bad, 0, 'bad');
  if (bad > 0 && badKinds.length === 0) throw new RangeError('bad rows asked for, but no bad-row kinds');
  const parties = options.parties ?? { person: 0.6, company: 0.35, government: 0.05 };
  const weights = [parties.person, parties.company, parties.government];
  if (weights.some((w) => !(w >= 0)) || weights.every((w) => w === 0)) throw new RangeError('parties: weights must be ≥ 0, at least one above 0');
  if (options.today !== undefined && !isIsoDate(options.today)) throw new RangeError(`today must be a date YYYY-MM-DD, got ${options.today}`);
  const badRows = Math.round(options.rows * bad);
  return {
    rows: options.rows,
    seed: options.seed ?? 1,
    format: options.format ?? 'ndjson',
    bad,
    badKinds,
    badRows,
    repeatRows: Math.min(Math.round(options.rows * share(options.repeats, 0.01, 'repeats')), Math.max(0, options.rows - badRows - 1)),
    removed: share(options.removed, 0.1, 'removed'),
    parties,
    rareNames: share(options.rareNames, 0.03, 'rareNames'),
    omitPartyType: share(options.omitPartyType, 0.1, 'omitPartyType'),
    oldOrganisationCodes: share(options.oldOrganisationCodes, 0.05, 'oldOrganisationCodes'),
    today: options.today ?? todayInChina(),
  };
}

type Resolved = ReturnType<typeof resolveRowOptions>;

/**
 * Whether cardNum alone says what the debtor is: eighteen digits can pass both
 * the identity-number and the USCC check, and then partyTypeName must be given.
 */
function unambiguous(cardNum: string, today: string): boolean {
  return cardNum.length !== 18 || usccProblem(cardNum) !== null || residentIdProblem(cardNum, today) !== null;
}

/** 万元 from yuan, as a JSON number or a numeric string (API.md takes both); 4 decimals at most. */
function tenThousands(random: Random, yuan: number, format: BatchFormat): number | string {
  const text = (yuan / 10_000).toFixed(4).replace(/\.?0+$/, '');
  return format === 'ndjson' && random.chance(0.5) ? Number(text) : text;
}

class RowMaker {
  private readonly caseNumbers = new Map<string, number>();
  private readonly todayNumber: number;

  constructor(
    private readonly random: Random,
    private readonly o: Resolved,
  ) {
    this.todayNumber = dayNumber(o.today);
  }

  pickParty(): PartyKind {
    const { person, company, government } = this.o.parties;
    const roll = this.random.next() * (person + company + government);
    return roll < person ? 'person' : roll < person + company ? 'company' : 'government';
  }

  /** A case number unique to the court, year and kind of case: (2025)沪0115执1234号. */
  private caseCode(code: string, year: number): string {
    const kind = this.random.chance(0.9) ? '执' : '执恢';
    const key = `${year}${code}${kind}`;
    const next = (this.caseNumbers.get(key) ?? this.random.int(0, 300)) + this.random.int(1, 7);
    this.caseNumbers.set(key, next);
    return `(${year})${code}${kind}${next}号`;
  }

  private name(): { name: string; rare: boolean } {
    const rare = this.random.chance(this.o.rareNames);
    return { name: personName(this.random, rare), rare };
  }

  /** A new valid row; `forced` sets the kind of debtor, and usccOnly rules out an old organisation code (a bad USCC needs a USCC). */
  make(row: number, forced?: { party: PartyKind; usccOnly?: boolean }): Remembered {
    const r = this.random;
    const { today, format } = this.o;
    const courtPlace = r.pick(PLACES);
    const home: Place = r.chance(0.6) ? courtPlace : r.pick(PLACES);
    const party = forced?.party ?? this.pickParty();

    let iname: string;
    let cardNum: string;
    let businessEntity: string | undefined;
    let rareName = false;
    let oldOrganisationCode = false;
    let total: number;
    if (party === 'person') {
      const n = this.name();
      [iname, rareName] = [n.name, n.rare];
      const birth = isoDay(this.todayNumber - (r.int(20, 75) * 365 + r.int(0, 364)));
      cardNum = residentIdentityNumber(r, home.division, birth, r.chance(0.5));
      total = r.int(5_000, 3_000_000);
    } else {
      const rep = this.name();
      [businessEntity, rareName] = [rep.name, rep.rare];
      if (party === 'company') {
        iname = companyName(r, home);
        oldOrganisationCode = !forced?.usccOnly && r.chance(this.o.oldOrganisationCodes);
        cardNum = oldOrganisationCode
          ? organisationCode(r, 'numeric')
          : unifiedSocialCreditCode(r, '9', '1', home.division, r.chance(0.8) ? 'recent' : 'numeric');
        total = r.int(20_000, 50_000_000);
      } else {
        const body = governmentBody(r, home);
        iname = body.name;
        cardNum = unifiedSocialCreditCode(r, '1', '1', body.level === 'city' ? cityDivision(home) : home.division, 'government');
        total = r.int(100_000, 200_000_000);
      }
    }

    const removed = r.chance(this.o.removed);
    const published = this.todayNumber - (removed ? r.int(30, 1000) : r.int(1, 700));
    const registered = published - r.int(10, 240);
    const [publishDate, regDate] = [isoDay(published), isoDay(registered)];
    const caseYear = Number(regDate.slice(0, 4));
    const intermediate = r.chance(0.1);
    const basis = gist(r, courtPlace, caseYear);
    const fee = Math.min(Math.round(total * 0.01) + 50, total - 1);
    const creditor = r.chance(0.5) ? personName(r) : companyName(r, courtPlace);
    const performed = removed ? total : r.chance(0.75) ? 0 : r.int(1, total - 1);

    const fields: SampleFields = {
      iname,
      cardNum,
      ...(businessEntity === undefined ? {} : { businessEntity }),
      courtName: intermediate ? courtPlace.intermediateCourt : courtPlace.court,
      areaName: courtPlace.province,
      caseCode: this.caseCode(intermediate ? courtPlace.intermediateCode : courtCode(courtPlace), caseYear),
      regDate,
      gistId: basis.gistId,
      gistUnit: basis.gistUnit,
      duty: dutyText(r, creditor, total - fee, fee, isoDay(registered - r.int(60, 700))),
      performance: removed ? '全部已履行' : performed === 0 ? '全部未履行' : '部分未履行',
      performedPart: tenThousands(r, performed, format),
      unperformPart: tenThousands(r, total - performed, format),
      disruptTypeName: disruptTypeName(r),
      publishDate,
      ...(r.chance(this.o.omitPartyType) && unambiguous(cardNum, today) ? {} : { partyTypeName: party === 'person' ? PARTY_TYPE.person : PARTY_TYPE.organisation }),
      status: removed ? 'removed' : 'listed',
    };
    return { row, fields, party, oldOrganisationCode, rareName: rareName || hasRareCharacter(iname), total };
  }

  /** The next version of a remembered row: a partial payment, the debt paid and the listing removed, or a corrected behaviour. */
  update(previous: Remembered): SampleFields {
    const r = this.random;
    const fields = { ...previous.fields };
    const unperformed = Math.round(Number(fields.unperformPart) * 10_000);
    if (fields.status === 'removed') {
      fields.disruptTypeName = DISRUPT_TYPES.find((t) => t !== fields.disruptTypeName)!;
    } else if (unperformed > 1 && r.chance(0.5)) {
      const paid = r.int(1, unperformed - 1);
      fields.performance = '部分未履行';
      fields.performedPart = tenThousands(r, previous.total - unperformed + paid, this.o.format);
      fields.unperformPart = tenThousands(r, unperformed - paid, this.o.format);
    } else {
      fields.performance = '全部已履行';
      fields.performedPart = tenThousands(r, previous.total, this.o.format);
      fields.unperformPart = tenThousands(r, 0, this.o.format);
      fields.status = 'removed';
    }
    return fields;
  }
}

/**
 * The rows of a sample batch, in order. Bad rows are chosen by selection
 * sampling (exactly round(rows × bad) of them, spread over the file) and take
 * the kinds in turn; repeats likewise pick one of the last REPEAT_WINDOW valid
 * rows and always repeat its latest version, so "duplicate" means the same
 * content as the hub holds at that point.
 */
export function* sampleRows(options: SampleRowOptions): Generator<SampleRow> {
  const o = resolveRowOptions(options);
  const random = seededRandom(o.seed);
  const maker = new RowMaker(random, o);
  const window: Remembered[] = [];
  let oldest = 0;
  let badMade = 0;
  let repeatsMade = 0;

  for (let i = 0; i < o.rows; i++) {
    const left = o.rows - i;
    const badLeft = o.badRows - badMade;
    if (badLeft > 0 && random.next() * left < badLeft) {
      const kind = o.badKinds[badMade % o.badKinds.length]!;
      badMade++;
      const forced =
        kind === 'resident-id-checksum'
          ? { party: 'person' as const }
          : kind === 'uscc-checksum'
            ? { party: random.chance(0.8) ? ('company' as const) : ('government' as const), usccOnly: true }
            : undefined;
      const made = maker.make(i + 1, forced);
      const { field } = corrupt(random, kind, made.fields, o.format, o.today);
      yield { row: i + 1, fields: made.fields, party: made.party, oldOrganisationCode: made.oldOrganisationCode, rareName: made.rareName, bad: { kind, field } };
      continue;
    }
    const goodLeft = left - badLeft;
    const repeatsLeft = o.repeatRows - repeatsMade;
    if (window.length > 0 && repeatsLeft > 0 && random.next() * goodLeft < repeatsLeft) {
      repeatsMade++;
      const slot = random.int(0, window.length - 1);
      const previous = window[slot]!;
      const kind = random.chance(0.5) ? 'updated' : 'duplicate';
      const fields = kind === 'updated' ? maker.update(previous) : previous.fields;
      window[slot] = { ...previous, fields };
      yield { row: i + 1, fields, party: previous.party, oldOrganisationCode: previous.oldOrganisationCode, rareName: previous.rareName, repeat: { kind, of: previous.row } };
      continue;
    }
    const made = maker.make(i + 1);
    if (window.length < REPEAT_WINDOW) window.push(made);
    else {
      window[oldest] = made;
      oldest = (oldest + 1) % REPEAT_WINDOW;
    }
    yield { row: i + 1, fields: made.fields, party: made.party, oldOrganisationCode: made.oldOrganisationCode, rareName: made.rareName };
  }
}
