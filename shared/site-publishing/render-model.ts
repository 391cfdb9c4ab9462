/**
 * The site model (site-model.ts) of the public site as shared/site/ renders it. Partitions of the site index:
 *
 * | partition | members (sk) | page | listed in |
 * |---|---|---|---|
 * | `LIST#<section>/YYYY/MM/DD` | records (id → ListEntry) | the day list | `MONTH#<section>/YYYY-MM` (sk the day) |
 * | `MONTH#<section>/YYYY-MM` | days with records | the month page | `SECTION#<section>` (sk the month), `INDEX` (sk `<section>/YYYY-MM`) |
 * | `SECTION#<section>` | months with records | the section page (a kind, or 政务诚信专栏) | — |
 * | `INDEX` | every section's months | `index.html` | — (the root: always rendered) |
 * | `SUBJECT#<slug>` | records | the subject page | — |
 * | `SEARCH#<shard>` | records (sk: searchSortKey, name then id) | the pieces of a search shard (search-pieces.ts) | — |
 * | `SEARCHPIECES#<shard>` | the shard's pieces | the shard's file (`search/<xx>.json`) | — |
 */
import { collectionsOf, parseCollection } from '../site/change-plan.js';
import { listPagePath, monthOf, monthPagePath, kindPagePath, INDEX_PATH, isSection, parseListKey, SECTIONS, recordPath, subjectPath, type Section } from '../site/paths.js';
import { toListEntry, toPublicRecord, type ListEntry, type PublicRecord } from '../site/public-record.js';
import { renderIndex, renderKindPage, renderListPage, renderMonthPage, renderRecordPage, renderSubjectPage, staticAssets, subjectOfEntries } from '../site/render.js';
import { searchShardPath, searchSortKey } from '../site/search-index.js';
import { searchPieces, searchPartition } from './search-pieces.js';
import type { Member } from './site-index-store.js';
import type { Placement, SiteModel } from './site-model.js';

export const INDEX_PARTITION = 'INDEX';

const SECTION_MONTH = /^([a-z-]+)\/(\d{4}-\d{2})$/;

function sectionMonth(key: string): { section: Section; month: string } {
  const m = SECTION_MONTH.exec(key);
  if (!m || !isSection(m[1]!)) throw new RangeError(`not a section month (<section>/YYYY-MM): ${JSON.stringify(key.slice(0, 40))}`);
  return { section: m[1] as Section, month: m[2]! };
}

function split(pk: string): { type: string; key: string } {
  const at = pk.indexOf('#');
  return at < 0 ? { type: pk, key: '' } : { type: pk.slice(0, at), key: pk.slice(at + 1) };
}

function section(key: string): Section {
  if (!isSection(key)) throw new RangeError(`not a section: ${JSON.stringify(key.slice(0, 40))}`);
  return key;
}

const entries = (members: readonly Member[]) => members.map((m) => m.data as unknown as ListEntry);

export const siteModel: SiteModel<PublicRecord> = {
  permanent: [INDEX_PARTITION, ...SECTIONS.map((s) => `SECTION#${s}`)],

  publicRecord: (head, asOf) => toPublicRecord(head, asOf),
  recordId: (record) => record.id,
  recordPage: (record) => renderRecordPage(record),
  recordPath: (id) => recordPath(id),

  placements(record): Placement[] {
    // The collections of shared/site/change-plan.ts (day lists, the subject, the search shard), as partitions.
    const entry = toListEntry(record);
    const data = entry as unknown as Record<string, unknown>;
    return collectionsOf(entry).map((collection) => {
      const parsed = parseCollection(collection);
      if (parsed.type === 'list') return { pk: `LIST#${parsed.key}`, data };
      if (parsed.type === 'subject') return { pk: `SUBJECT#${parsed.slug}`, data };
      // A search shard sorts its entries by name, so that a change reads only the names around it (search-pieces.ts).
      return { pk: searchPartition(parsed.shard), sk: searchSortKey(entry), data };
    });
  },

  parentsOf(pk) {
    const { type, key } = split(pk);
    switch (type) {
      case 'LIST': {
        const { section, day } = parseListKey(key);
        return [{ pk: `MONTH#${section}/${monthOf(day)}`, sk: day }];
      }
      case 'MONTH': {
        const { section, month } = sectionMonth(key);
        return [
          { pk: `SECTION#${section}`, sk: month },
          { pk: INDEX_PARTITION, sk: `${section}/${month}` },
        ];
      }
      default:
        return [];
    }
  },

  partitionPage(pk, members) {
    const { type, key } = split(pk);
    switch (type) {
      case 'LIST':
        return renderListPage(key, entries(members));
      case 'MONTH': {
        const { section, month } = sectionMonth(key);
        return renderMonthPage(section, month, members.map((m) => m.sk));
      }
      case 'SECTION':
        return renderKindPage(section(key), members.map((m) => m.sk));
      case 'INDEX': {
        const months: Partial<Record<Section, string[]>> = {};
        for (const m of members) {
          const { section, month } = sectionMonth(m.sk);
          (months[section] ??= []).push(month);
        }
        return renderIndex({ months });
      }
      case 'SUBJECT': {
        const list = entries(members);
        return renderSubjectPage(subjectOfEntries(list), list);
      }
      default:
        throw new RangeError(`not a partition of the site: ${JSON.stringify(pk.slice(0, 60))}`);
    }
  },

  partitionPath(pk) {
    const { type, key } = split(pk);
    switch (type) {
      case 'LIST':
        return listPagePath(key);
      case 'MONTH': {
        const { section, month } = sectionMonth(key);
        return monthPagePath(section, month);
      }
      case 'SECTION':
        return kindPagePath(section(key));
      case 'INDEX':
        return INDEX_PATH;
      case 'SUBJECT':
        return subjectPath(key);
      case 'SEARCH':
        // Its list of pieces (the pieces themselves: search-pieces.ts).
        return searchShardPath(key);
      default:
        throw new RangeError(`not a partition of the site: ${JSON.stringify(pk.slice(0, 60))}`);
    }
  },

  fixedPages: () => staticAssets(),

  piecewise: searchPieces,
};
