/**
 * Where every page of the public site lives, and which lists a record appears on.
 *
 * Paths are object keys in the site bucket (no leading slash: `records/lic_….html`); a link to
 * one is `hrefOf(path)` (`/records/lic_….html`), absolute from the site root, which is what
 * both the local stand-in on SITE_PORT and CloudFront serve.
 *
 * ## Pagination: lists keyed by decision day
 *
 * A list paged by position ("page 7 of the penalties, newest first") reshuffles every later
 * page whenever one record enters or leaves near the front: one approval would rewrite
 * thousands of pages at 100,000 records. Here a list page holds exactly the records of one
 * section (a kind, or the 政务诚信专栏 `gov`) decided on one day: `penalty/2026/11/28`. A
 * record's page keys depend only on its own kind, decision date and column, never on its
 * neighbours, so a change touches:
 *
 * - its record page and its subject page;
 * - the day page(s) it leaves and the day page(s) it enters (the same ones when it only
 *   changes content): one per section, so one, or two when it is in the 政务诚信专栏;
 * - the month page of a section (`penalty/2026/11`, listing the month's days) only when a
 *   day appears or disappears, and the section's page (listing its months) and the site's
 *   index only when a month appears or disappears.
 *
 * Month and section pages list days and months without counts, on purpose: a count would
 * make every change rewrite them. The decision date is also what a reader browses by
 * (双公示 publishes within 7 working days of the decision), and an update seldom moves a
 * decision date, so an update usually rewrites one day page, not two.
 *
 * The one limit: a day page holds all of that day's records of its section. A section
 * decided tens of thousands of records on one day would get one large page (and each change
 * that day rewrites it); real decision dates spread over working days.
 */
import { type SiteKind, isSiteKind, SITE_KINDS, KIND_LABELS, type ListEntry } from './public-record.js';

/** A section of the site: a record kind, or the government-integrity column. */
export type Section = SiteKind | 'gov';
export const SECTIONS: readonly Section[] = [...SITE_KINDS, 'gov'];
export const GOV_LABEL = '政务诚信专栏';

export function sectionLabel(section: Section): string {
  return section === 'gov' ? GOV_LABEL : KIND_LABELS[section];
}

export function isSection(value: string): value is Section {
  return value === 'gov' || isSiteKind(value);
}

export const INDEX_PATH = 'index.html';
export const NOT_FOUND_PATH = '404.html';
export const SEARCH_PAGE_PATH = 'search.html';
export const STYLESHEET_PATH = 'assets/site.css';
export const SEARCH_SCRIPT_PATH = 'assets/search.js';

/** A record id (`lic_…`, `pen_…`, `dd_…`) or a subject slug: lower-case base32 and `_`; anything else never becomes a path. */
const SAFE_NAME = /^[a-z0-9_]{1,64}$/;

function safe(name: string, what: string): string {
  if (!SAFE_NAME.test(name)) throw new RangeError(`not a ${what}: ${JSON.stringify(name.slice(0, 70))}`);
  return name;
}

/** The link to a page: its path from the site root. */
export function hrefOf(path: string): string {
  return `/${path}`;
}

export function recordPath(id: string): string {
  return `records/${safe(id, 'record id')}.html`;
}

export function subjectPath(slug: string): string {
  return `subjects/${safe(slug, 'subject slug')}.html`;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

function dayParts(day: string): [string, string, string] {
  const m = DAY.exec(day);
  if (!m) throw new RangeError(`not a day (YYYY-MM-DD): ${JSON.stringify(day.slice(0, 20))}`);
  return [m[1]!, m[2]!, m[3]!];
}

function monthParts(month: string): [string, string] {
  const m = MONTH.exec(month);
  if (!m) throw new RangeError(`not a month (YYYY-MM): ${JSON.stringify(month.slice(0, 20))}`);
  return [m[1]!, m[2]!];
}

/** A day list: the records of `section` decided on `day` (YYYY-MM-DD), keyed `penalty/2026/11/28`. */
export interface DayList {
  section: Section;
  day: string;
}

export function listKey(section: Section, day: string): string {
  const [y, m, d] = dayParts(day);
  return `${section}/${y}/${m}/${d}`;
}

const LIST_KEY = /^([a-z-]+)\/(\d{4})\/(\d{2})\/(\d{2})$/;

export function parseListKey(key: string): DayList {
  const m = LIST_KEY.exec(key);
  if (!m || !isSection(m[1]!)) throw new RangeError(`not a list key (<section>/YYYY/MM/DD): ${JSON.stringify(key.slice(0, 40))}`);
  return { section: m[1] as Section, day: `${m[2]}-${m[3]}-${m[4]}` };
}

/** The sections a record is listed in: its kind, and the 政务诚信专栏 when it belongs there. */
export function sectionsOf(entry: Pick<ListEntry, 'kind' | 'governmentIntegrity'>): Section[] {
  return entry.governmentIntegrity ? [entry.kind, 'gov'] : [entry.kind];
}

/** The day lists an entry appears on. */
export function listKeysFor(entry: Pick<ListEntry, 'kind' | 'decisionDate' | 'governmentIntegrity'>): string[] {
  return sectionsOf(entry).map((section) => listKey(section, entry.decisionDate));
}

export function listPagePath(key: string): string {
  const { section, day } = parseListKey(key);
  const [y, m, d] = dayParts(day);
  return `lists/${section}/${y}/${m}/${d}.html`;
}

/** YYYY-MM of a day. */
export function monthOf(day: string): string {
  const [y, m] = dayParts(day);
  return `${y}-${m}`;
}

/** The month page of a section: its days that have records. */
export function monthPagePath(section: Section, month: string): string {
  const [y, m] = monthParts(month);
  return `lists/${section}/${y}/${m}/index.html`;
}

/** The page of a section (a kind, or `gov`): its months that have records. */
export function kindPagePath(section: Section): string {
  return `lists/${section}/index.html`;
}

/** 2026年11月 */
export function monthLabel(month: string): string {
  const [y, m] = monthParts(month);
  return `${y}年${Number(m)}月`;
}

/** 2026年11月28日 */
export function dayLabel(day: string): string {
  const [y, m, d] = dayParts(day);
  return `${y}年${Number(m)}月${Number(d)}日`;
}
