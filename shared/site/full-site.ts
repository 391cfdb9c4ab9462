/**
 * Every page of the site from the public records, in one pass: what a full build writes
 * (and what the incremental publisher's pages must add up to). It groups the entries into
 * the same collections as change-plan.ts (collectionsOf), so a full build and a sequence of
 * incremental changes give the same pages.
 */
import { type Collection, collectionsOf, parseCollection } from './change-plan.js';
import type { SitePage } from './page.js';
import { monthOf, parseListKey, type Section, SECTIONS } from './paths.js';
import { type ListEntry, type PublicRecord, toListEntry } from './public-record.js';
import { renderIndex, renderKindPage, renderListPage, renderMonthPage, renderRecordPage, renderSubjectPage, staticAssets, subjectOfEntries } from './render.js';
import { renderSearchShardPages } from './search-index.js';

/** Pages of `records` (each record once; ids must be unique), static assets included, in a stable order. */
export function renderFullSite(records: readonly PublicRecord[]): SitePage[] {
  const collections = new Map<Collection, ListEntry[]>();
  const days = new Map<Section, Map<string, Set<string>>>();
  const seen = new Set<string>();
  const pages: SitePage[] = [...staticAssets()];
  for (const record of records) {
    if (seen.has(record.id)) throw new RangeError(`record ${record.id} given twice`);
    seen.add(record.id);
    pages.push(renderRecordPage(record));
    const entry = toListEntry(record);
    for (const collection of collectionsOf(entry)) {
      const members = collections.get(collection) ?? [];
      members.push(entry);
      collections.set(collection, members);
    }
  }
  for (const [collection, entries] of [...collections].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const parsed = parseCollection(collection);
    if (parsed.type === 'list') {
      pages.push(renderListPage(parsed.key, entries));
      const { section, day } = parseListKey(parsed.key);
      const months = days.get(section) ?? new Map<string, Set<string>>();
      const month = monthOf(day);
      months.set(month, (months.get(month) ?? new Set()).add(day));
      days.set(section, months);
    } else if (parsed.type === 'subject') {
      pages.push(renderSubjectPage(subjectOfEntries(entries), entries));
    } else {
      pages.push(...renderSearchShardPages(parsed.shard, entries));
    }
  }
  const monthsBySection: Partial<Record<Section, string[]>> = {};
  for (const [section, months] of [...days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const [month, ofMonth] of months) pages.push(renderMonthPage(section, month, [...ofMonth]));
    monthsBySection[section] = [...months.keys()];
  }
  // Every section has its page, empty or not: every page's navigation links to all of them.
  for (const section of SECTIONS) pages.push(renderKindPage(section, monthsBySection[section] ?? []));
  pages.push(renderIndex({ months: monthsBySection }));
  return pages;
}
