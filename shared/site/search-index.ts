/**
 * The client-side search's index, sharded so that one change rewrites one shard.
 *
 * The search finds subjects by the beginning of their name (at least two characters, as
 * 信用中国 searches do). An entry lives in the shard of the first two characters of its
 * subject's name: FNV-1a (32 bits, over UTF-16 code units) of those characters, NFKC-normalised
 * and lower-cased, modulo 256, as two hex digits (`search/3f.json`). The browser computes the
 * same shard from the query (SHARD_FUNCTION_SOURCE, embedded in the search script) and fetches
 * that one file. A record entering, leaving or changing rewrites its name's shard only (two
 * when its subject's name changes).
 */
import { hrefOf, recordPath } from './paths.js';
import { JSON_TYPE, type SitePage } from './page.js';
import type { ListEntry } from './public-record.js';

export const SEARCH_SHARDS = 256;

/**
 * The shard function, as JavaScript source that the search script embeds and this module
 * evaluates: one definition for the publisher and the browser.
 */
export const SHARD_FUNCTION_SOURCE = `function shardOf(name) {
  var key = String(name).normalize('NFKC').trim().toLowerCase().slice(0, 2);
  var hash = 0x811c9dc5;
  for (var i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  var shard = hash % ${SEARCH_SHARDS};
  return (shard < 16 ? '0' : '') + shard.toString(16);
}`;

const shardOf = new Function(`${SHARD_FUNCTION_SOURCE}\nreturn shardOf;`)() as (name: string) => string;

/** The search shard of a subject name: two hex digits. */
export function searchShardOf(subjectName: string): string {
  return shardOf(subjectName);
}

const SHARD = /^[0-9a-f]{2}$/;

export function searchShardPath(shard: string): string {
  if (!SHARD.test(shard)) throw new RangeError(`not a search shard: ${JSON.stringify(shard.slice(0, 10))}`);
  return `search/${shard}.json`;
}

/** What the browser gets per entry: enough to show a result and link to it. */
export interface SearchItem {
  name: string;
  label: string;
  title: string;
  kind: string;
  date: string;
  href: string;
  objection: boolean;
}

/** A shard's file from its entries (any order in, sorted out: by name, then date, newest first, then id). */
export function renderSearchShard(shard: string, entries: readonly ListEntry[]): SitePage {
  const sorted = [...entries].sort(
    (a, b) => compare(a.subjectName, b.subjectName) || compare(b.decisionDate, a.decisionDate) || compare(a.id, b.id),
  );
  const items: SearchItem[] = sorted.map((e) => ({
    name: e.subjectName,
    label: e.subjectLabel,
    title: e.title,
    kind: e.kind,
    date: e.decisionDate,
    href: hrefOf(recordPath(e.id)),
    objection: e.underObjection,
  }));
  return { path: searchShardPath(shard), body: JSON.stringify({ items }), contentType: JSON_TYPE };
}

/** Code-unit order: the same in every runtime and locale, so pages are deterministic. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
