/**
 * What one record's change does to the site: the pure half of incremental publishing
 * (issue 9, item 5). The publisher does the I/O: it keeps the entries of every collection
 * (day list, subject, search shard) in its own table, applies `leave` and `put`, re-renders
 * the collections in `collections` (deleting the page of one left empty), writes or deletes
 * the record page, and skips any page whose hash did not change (page.ts).
 *
 * Above the day lists, month pages, section pages and the index change only when a day or a
 * month appears or disappears (paths.ts); which of them does depends on counts only the
 * publisher knows, so the plan names the day lists that may appear (`mayAppear`) or
 * disappear (`mayDisappear`), and pagesAbove() says what to re-render once the publisher
 * knows whether one did.
 */
import {
  kindPagePath,
  INDEX_PATH,
  listKeysFor,
  listPagePath,
  monthOf,
  monthPagePath,
  parseListKey,
  recordPath,
  type Section,
  subjectPath,
} from './paths.js';
import { type ListEntry, type PublicRecord, toListEntry } from './public-record.js';
import { searchShardOf, searchShardPath } from './search-index.js';

/**
 * A set of entries with a page of its own: a day list (`list:penalty/2026/11/28`), a subject
 * (`subject:<slug>`), a search shard (`search:3f`: its file lists its pieces, and the entry is in one
 * of them, search-index.ts). Strings, so that plans merge with a Set.
 */
export type Collection = `list:${string}` | `subject:${string}` | `search:${string}`;

export function collectionsOf(entry: ListEntry): Collection[] {
  return [
    ...listKeysFor(entry).map((key) => `list:${key}` as const),
    `subject:${entry.subjectSlug}` as const,
    `search:${searchShardOf(entry.subjectName)}` as const,
  ];
}

export type ParsedCollection = { type: 'list'; key: string } | { type: 'subject'; slug: string } | { type: 'search'; shard: string };

export function parseCollection(collection: Collection): ParsedCollection {
  const at = collection.indexOf(':');
  const type = collection.slice(0, at);
  const name = collection.slice(at + 1);
  if (type === 'list') return { type, key: name };
  if (type === 'subject') return { type, slug: name };
  return { type: 'search', shard: name };
}

/**
 * The page of a collection (where it is written, or deleted when the collection is empty); of a search shard, its
 * file listing its pieces (the piece an entry is in depends on the shard's other entries: search-index.ts).
 */
export function collectionPath(collection: Collection): string {
  const parsed = parseCollection(collection);
  if (parsed.type === 'list') return listPagePath(parsed.key);
  if (parsed.type === 'subject') return subjectPath(parsed.slug);
  return searchShardPath(parsed.shard);
}

export interface ChangePlan {
  id: string;
  /** The record page: written from `record` while public, deleted when it was public and is no more. */
  record: { action: 'write'; path: string; record: PublicRecord } | { action: 'delete'; path: string } | { action: 'none' };
  /** The entry as lists show it after the change; absent when the record is no longer public. */
  entry?: ListEntry;
  /** Collections to take the record (by id) out of. */
  leave: Collection[];
  /** Collections to put `entry` in (or replace it in). */
  put: Collection[];
  /** Collections whose page must be re-rendered after leave and put are applied: empty ones are deleted instead. */
  collections: Collection[];
  /** Day lists that gain their first entry if they had none: their month page, maybe more (pagesAbove). */
  mayAppear: string[];
  /** Day lists that may be left empty: their page is deleted, and their month page, maybe more, change (pagesAbove). */
  mayDisappear: string[];
}

function sameEntry(a: ListEntry, b: ListEntry): boolean {
  const x = toListEntry(a);
  const y = toListEntry(b);
  return (Object.keys(x) as (keyof ListEntry)[]).every((k) => x[k] === y[k]);
}

/**
 * The plan for one record going from `previous` (the public entry last published, or
 * undefined if it was not on the site) to `next` (its public form now, or undefined).
 * `previous` may be a stored ListEntry or a PublicRecord.
 */
export function planChange(previous: ListEntry | undefined, next: PublicRecord | undefined): ChangePlan {
  const id = next?.id ?? previous?.id;
  if (id === undefined) throw new RangeError('a change needs a previous or a next entry');
  if (previous && next && previous.id !== next.id) throw new RangeError(`a change is about one record: ${previous.id} and ${next.id}`);

  const before = previous ? collectionsOf(previous) : [];
  const after = next ? collectionsOf(next) : [];
  const entry = next ? toListEntry(next) : undefined;
  const unchanged = previous !== undefined && next !== undefined && sameEntry(previous, next);

  const leave = before.filter((c) => !after.includes(c));
  // An unchanged entry stays where it is: nothing to put, nothing to re-render but its record page.
  const put = unchanged ? [] : after;
  const collections = unchanged ? [] : [...new Set([...leave, ...after])];

  const lists = (cs: Collection[]) => cs.flatMap((c) => (c.startsWith('list:') ? [c.slice('list:'.length)] : []));
  const mayAppear = lists(after.filter((c) => !before.includes(c)));
  const mayDisappear = lists(leave);

  const record: ChangePlan['record'] = next
    ? { action: 'write', path: recordPath(next.id), record: next }
    : previous
      ? { action: 'delete', path: recordPath(previous.id) }
      : { action: 'none' };

  return { id, record, ...(entry ? { entry } : {}), leave, put, collections, mayAppear, mayDisappear };
}

/** A page above the day lists, and what it is rendered from. */
export type IndexPage =
  | { page: 'month'; section: Section; month: string; path: string }
  | { page: 'kind'; section: Section; path: string }
  | { page: 'index'; path: string };

/**
 * The pages to re-render when the day list `key` appeared (got its first entry) or
 * disappeared (lost its last): its month page; and, when the month itself appeared or
 * disappeared with it (the month has no other day with entries, or did not), its section's
 * page and the index. Section pages and the index are re-rendered, never deleted (a section
 * with no months says so): every page's navigation links to them.
 */
export function pagesAbove(key: string, monthChangedToo: boolean): IndexPage[] {
  const { section, day } = parseListKey(key);
  const month = monthOf(day);
  const pages: IndexPage[] = [{ page: 'month', section, month, path: monthPagePath(section, month) }];
  if (monthChangedToo) pages.push({ page: 'kind', section, path: kindPagePath(section) }, { page: 'index', path: INDEX_PATH });
  return pages;
}
