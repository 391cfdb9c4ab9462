/**
 * Renders the pages of the public site from public records and list entries
 * (public-record.ts), with the Eta templates of templates.ts. Pure and deterministic: the
 * same input gives the same bytes (entries are sorted here, in code-unit order; no clock),
 * so the publisher can skip writes by hash (page.ts).
 *
 * Every page: lang zh-CN, a stable <title>, a skip link, header navigation to every section,
 * breadcrumbs back up, one h1, tables with captions and header cells. A crawler starting at
 * /index.html reaches every record: index → section page (months) → month page (days) →
 * day page (records) → record page → subject page.
 */
import { Eta } from 'eta/core';
import { SEARCH_SCRIPT, STYLESHEET } from './assets.js';
import { CSS, HTML, JAVASCRIPT, type SitePage } from './page.js';
import {
  dayLabel,
  hrefOf,
  INDEX_PATH,
  kindPagePath,
  listKey,
  listPagePath,
  monthLabel,
  monthOf,
  monthPagePath,
  NOT_FOUND_PATH,
  parseListKey,
  recordPath,
  SEARCH_PAGE_PATH,
  SEARCH_SCRIPT_PATH,
  type Section,
  sectionLabel,
  SECTIONS,
  STYLESHEET_PATH,
  subjectPath,
} from './paths.js';
import { KIND_LABELS, type ListEntry, type PublicRecord } from './public-record.js';
import { compare } from './search-index.js';
import { ENTRIES, INDEX, LAYOUT, LINKS, LIST, NOT_FOUND, RECORD, SEARCH, SUBJECT } from './templates.js';

export const SITE_NAME = '公共信用信息公示';

const eta = new Eta({ autoEscape: true, autoTrim: false, cache: true });
eta.loadTemplate('@layout', LAYOUT);
eta.loadTemplate('@entries', ENTRIES);
eta.loadTemplate('@record', RECORD);
eta.loadTemplate('@subject', SUBJECT);
eta.loadTemplate('@list', LIST);
eta.loadTemplate('@links', LINKS);
eta.loadTemplate('@index', INDEX);
eta.loadTemplate('@not-found', NOT_FOUND);
eta.loadTemplate('@search', SEARCH);

interface Link {
  href: string;
  label: string;
}

interface PageFrame {
  title: string;
  heading: string;
  siteName: string;
  home: string;
  stylesheet: string;
  script?: string;
  nav: (Link & { current: boolean })[];
  breadcrumbs: Link[];
}

const HOME: Link = { href: hrefOf(INDEX_PATH), label: '首页' };
const SEARCH_LABEL = '按名称搜索';

/** The frame of a page: `title` names it in <title> (stable: data only), `heading` in the breadcrumbs' last item. */
function frame(title: string, heading: string, breadcrumbs: Link[], current?: Section | 'search', script?: string): PageFrame {
  return {
    title,
    heading,
    siteName: SITE_NAME,
    home: HOME.href,
    stylesheet: hrefOf(STYLESHEET_PATH),
    ...(script ? { script } : {}),
    nav: [
      ...SECTIONS.map((s) => ({ href: hrefOf(kindPagePath(s)), label: sectionLabel(s), current: s === current })),
      { href: hrefOf(SEARCH_PAGE_PATH), label: SEARCH_LABEL, current: current === 'search' },
    ],
    breadcrumbs,
  };
}

const sectionLink = (section: Section): Link => ({ href: hrefOf(kindPagePath(section)), label: sectionLabel(section) });
const monthLink = (section: Section, month: string): Link => ({ href: hrefOf(monthPagePath(section, month)), label: monthLabel(month) });
const dayLink = (section: Section, day: string): Link => ({ href: hrefOf(listPagePath(listKey(section, day))), label: dayLabel(day) });

function html(path: string, template: string, data: object): SitePage {
  return { path, body: eta.render(template, data), contentType: HTML };
}

/** Entries in a stable order: newest decision first, then by subject name, then by id. */
function ordered(entries: readonly ListEntry[]): ListEntry[] {
  return [...entries].sort((a, b) => compare(b.decisionDate, a.decisionDate) || compare(a.subjectName, b.subjectName) || compare(a.id, b.id));
}

function entryView(e: ListEntry) {
  return {
    kindLabel: KIND_LABELS[e.kind],
    title: e.title,
    href: hrefOf(recordPath(e.id)),
    subjectName: e.subjectName,
    subjectLabel: e.subjectLabel,
    subjectHref: hrefOf(subjectPath(e.subjectSlug)),
    decisionDate: e.decisionDate,
    underObjection: e.underObjection,
  };
}

/** A record's page. */
export function renderRecordPage(record: PublicRecord): SitePage {
  const heading = record.title;
  const month = monthOf(record.decisionDate);
  const crumbs = [HOME, sectionLink(record.kind), monthLink(record.kind, month), dayLink(record.kind, record.decisionDate)];
  return html(recordPath(record.id), '@record', {
    page: frame(`${record.title} ${record.subjectName}`, heading, crumbs, record.kind),
    record,
    kindLabel: KIND_LABELS[record.kind],
    subjectHref: hrefOf(subjectPath(record.subjectSlug)),
    dayHref: dayLink(record.kind, record.decisionDate).href,
    dayLinkLabel: `${dayLabel(record.decisionDate)}的全部${KIND_LABELS[record.kind]}信息`,
  });
}

export interface SubjectSummary {
  name: string;
  slug: string;
  label: string;
}

/** The subject of a list entry, for its subject page (for several entries of one subject, prefer subjectOfEntries). */
export function subjectOf(entry: Pick<ListEntry, 'subjectName' | 'subjectSlug' | 'subjectLabel'>): SubjectSummary {
  return { name: entry.subjectName, slug: entry.subjectSlug, label: entry.subjectLabel };
}

/**
 * The subject of a subject page, from its entries (one subject slug): as its most recent
 * record names it (a company renamed since an older decision), ties broken by record id.
 */
export function subjectOfEntries(entries: readonly ListEntry[]): SubjectSummary {
  const latest = ordered(entries)[0];
  if (!latest) throw new RangeError('a subject page needs at least one entry');
  for (const e of entries) if (e.subjectSlug !== latest.subjectSlug) throw new RangeError(`entries of two subjects: ${latest.subjectSlug} and ${e.subjectSlug}`);
  return { name: latest.subjectName, slug: latest.subjectSlug, label: latest.subjectLabel };
}

/**
 * A subject's page: its published records. The publisher deletes the page instead when the
 * subject has none left (a person's name must not stay on the site without a record).
 */
export function renderSubjectPage(subject: SubjectSummary, entries: readonly ListEntry[]): SitePage {
  return html(subjectPath(subject.slug), '@subject', {
    page: frame(`${subject.name} 公示信息`, subject.name, [HOME]),
    subject,
    entries: ordered(entries).map(entryView),
    caption: `${subject.name}的公示信息`,
  });
}

/** A day list (`penalty/2026/11/28`, `gov/2026/11/28`): the section's records decided that day. */
export function renderListPage(key: string, entries: readonly ListEntry[]): SitePage {
  const { section, day } = parseListKey(key);
  const month = monthOf(day);
  const heading = `${sectionLabel(section)} ${dayLabel(day)}`;
  return html(listPagePath(key), '@list', {
    page: frame(heading, dayLabel(day), [HOME, sectionLink(section), monthLink(section, month)], section),
    heading,
    entries: ordered(entries).map(entryView),
    caption: `${dayLabel(day)}决定的${sectionLabel(section)}信息`,
    monthHref: monthLink(section, month).href,
    monthLinkLabel: `${monthLabel(month)}的全部${sectionLabel(section)}信息`,
  });
}

const GOV_INTRO = '政务诚信专栏公示政府机关、事业单位和公职人员的失信信息：被列为失信被执行人的政府机关、受到行政处罚的政府机关和事业单位等。';

/** A section's month page: links to the days (YYYY-MM-DD, any order) that have records. */
export function renderMonthPage(section: Section, month: string, days: readonly string[]): SitePage {
  const heading = `${sectionLabel(section)} ${monthLabel(month)}`;
  const sorted = [...new Set(days)].sort((a, b) => compare(b, a));
  for (const day of sorted) if (monthOf(day) !== month) throw new RangeError(`day ${day} is not in ${month}`);
  return html(monthPagePath(section, month), '@links', {
    page: frame(heading, monthLabel(month), [HOME, sectionLink(section)], section),
    heading,
    intro: `按决定日期浏览${monthLabel(month)}的${sectionLabel(section)}信息。`,
    links: sorted.map((day) => dayLink(section, day)),
  });
}

/** A section's page: links to its months (YYYY-MM, any order) that have records. Never deleted: every page's navigation links to it (none: 暂无公示信息). */
export function renderKindPage(section: Section, months: readonly string[]): SitePage {
  const sorted = [...new Set(months)].sort((a, b) => compare(b, a));
  return html(kindPagePath(section), '@links', {
    page: frame(sectionLabel(section), sectionLabel(section), [HOME], section),
    heading: sectionLabel(section),
    intro: section === 'gov' ? GOV_INTRO : `按月份浏览${sectionLabel(section)}信息。`,
    links: sorted.map((month) => monthLink(section, month)),
  });
}

/** How many of a section's latest months the index links to. */
export const INDEX_LATEST_MONTHS = 6;

export interface IndexInput {
  /** Per section (the kinds and `gov`): its months that have records (YYYY-MM, any order); a section absent has none. */
  months: Partial<Record<Section, readonly string[]>>;
}

/** The site's index: every section with its latest months. It changes only when a section's months do. */
export function renderIndex(input: IndexInput): SitePage {
  const sections = SECTIONS.map((section) => {
    const months = [...new Set(input.months[section] ?? [])].sort((a, b) => compare(b, a)).slice(0, INDEX_LATEST_MONTHS);
    return {
      id: `section-${section}`,
      label: sectionLabel(section),
      intro: section === 'gov' ? GOV_INTRO : undefined,
      months: months.map((m) => monthLink(section, m)),
      href: hrefOf(kindPagePath(section)),
      allLabel: `全部${sectionLabel(section)}信息（按月份）`,
    };
  });
  return html(INDEX_PATH, '@index', { page: frame(SITE_NAME, SITE_NAME, []), heading: SITE_NAME, sections, searchHref: hrefOf(SEARCH_PAGE_PATH) });
}

/** The page for any path that has none (CloudFront's and the local server's error page). */
export function renderNotFound(): SitePage {
  return html(NOT_FOUND_PATH, '@not-found', { page: frame('页面不存在', '页面不存在', [HOME]), heading: '页面不存在', home: HOME.href });
}

/** The search page (static: the script fetches the index shards). */
export function renderSearchPage(): SitePage {
  return html(SEARCH_PAGE_PATH, '@search', {
    page: frame(SEARCH_LABEL, SEARCH_LABEL, [HOME], 'search', hrefOf(SEARCH_SCRIPT_PATH)),
    heading: SEARCH_LABEL,
    action: hrefOf(SEARCH_PAGE_PATH),
    home: HOME.href,
  });
}

/** The files that do not depend on any record: stylesheet, search script and page, the not-found page. Written once per deployment (skip-unchanged by hash). */
export function staticAssets(): SitePage[] {
  return [
    { path: STYLESHEET_PATH, body: STYLESHEET, contentType: CSS },
    { path: SEARCH_SCRIPT_PATH, body: SEARCH_SCRIPT, contentType: JAVASCRIPT },
    renderSearchPage(),
    renderNotFound(),
  ];
}
