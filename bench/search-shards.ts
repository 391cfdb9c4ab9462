/**
 * `npx tsx bench/search-shards.ts [names]` (default 100,000): the size of the public site's search files for names
 * as a credit office meets them (test/support/subject-names.ts: clustered on 上海…, 北京…, 广州市…, 深圳市…,
 * 个体工商户 and government bodies), before and after the shards were cut into pieces (shared/site/search-index.ts).
 *
 * Before: one file per shard (the first two characters' hash), holding every entry of the shard: what a change
 * rewrote and a reader downloaded. After: the shard's list of pieces, and pieces of at most PIECE_MAX entries: a
 * change rewrites one piece (and the list when a cut name enters or leaves), a reader downloads the list and the
 * pieces its query needs. Pure: no stack, no I/O.
 */
import { JSON_TYPE } from '../shared/site/page.js';
import type { ListEntry } from '../shared/site/public-record.js';
import { PIECE_CUT, PIECE_MAX, piecesFor, renderSearchShardPages, searchKey, searchShardOf, searchShardPath } from '../shared/site/search-index.js';
import { seededRandom } from '../test/support/seeded-random.js';
import { subjectNames } from '../test/support/subject-names.js';

export interface FileSizes {
  files: number;
  maxEntries: number;
  meanEntries: number;
  maxBytes: number;
  meanBytes: number;
}

export interface SearchShardsReport {
  names: number;
  /** One file per shard. */
  before: FileSizes;
  /** The shards' lists of pieces. */
  lists: FileSizes;
  /** The pieces. */
  pieces: FileSizes;
  /** Bytes a reader downloads for a query of a whole name (the list and the pieces it needs), max and mean; before: the shard. */
  query: { beforeMax: number; beforeMean: number; afterMax: number; afterMean: number };
}

function sizes(files: { entries: number; bytes: number }[]): FileSizes {
  const sum = (f: (x: { entries: number; bytes: number }) => number) => files.reduce((s, x) => s + f(x), 0);
  return {
    files: files.length,
    maxEntries: Math.max(...files.map((f) => f.entries)),
    meanEntries: Math.round(sum((f) => f.entries) / files.length),
    maxBytes: Math.max(...files.map((f) => f.bytes)),
    meanBytes: Math.round(sum((f) => f.bytes) / files.length),
  };
}

/** A list entry as the site stores it, for a generated name. */
function entryOf(name: string, n: number): ListEntry {
  const id = `pen_${n.toString(36).padStart(8, '0')}${'x'.repeat(18)}`;
  return {
    id,
    kind: n % 3 === 0 ? 'license' : 'penalty',
    title: n % 3 === 0 ? `行政许可决定书 沪市监许〔2026〕${n}号` : `行政处罚决定书 沪市监处〔2026〕${n}号`,
    subjectName: name,
    subjectSlug: `s${n.toString(16).padStart(24, '0')}`,
    subjectLabel: `统一社会信用代码 91310115MA1K${String(n).padStart(6, '0')}`,
    decisionDate: `2026-${String((n % 12) + 1).padStart(2, '0')}-${String((n % 28) + 1).padStart(2, '0')}`,
    underObjection: false,
    governmentIntegrity: false,
  };
}

export function measureSearchShards(count: number, seed = 20261129): SearchShardsReport {
  const names = subjectNames(seededRandom(seed), count);
  const byShard = new Map<string, ListEntry[]>();
  names.forEach((name, n) => {
    const shard = searchShardOf(name);
    const list = byShard.get(shard) ?? [];
    list.push(entryOf(name, n));
    byShard.set(shard, list);
  });
  const bytes = (body: string) => Buffer.byteLength(body, 'utf8');
  const before: { entries: number; bytes: number }[] = [];
  const lists: { entries: number; bytes: number }[] = [];
  const pieces: { entries: number; bytes: number }[] = [];
  const files = new Map<string, number>();
  const listOf = new Map<string, [string, string][]>();
  for (const [shard, entries] of byShard) {
    // Before: every entry of the shard in its one file (the same items as a piece holds).
    const items = entries.map((e) => ({ name: e.subjectName, label: e.subjectLabel, title: e.title, kind: e.kind, date: e.decisionDate, href: `/records/${e.id}.html`, objection: false }));
    before.push({ entries: entries.length, bytes: bytes(JSON.stringify({ items })) });
    const [list, ...rest] = renderSearchShardPages(shard, entries);
    if (!list || list.path !== searchShardPath(shard) || list.contentType !== JSON_TYPE) throw new Error('the shard file comes first');
    const listed = (JSON.parse(list.body) as { pieces: [string, string][] }).pieces;
    listOf.set(shard, listed);
    lists.push({ entries: listed.length, bytes: bytes(list.body) });
    files.set(list.path, bytes(list.body));
    for (const piece of rest) {
      const count = (JSON.parse(piece.body) as { items: unknown[] }).items.length;
      pieces.push({ entries: count, bytes: bytes(piece.body) });
      files.set(piece.path, bytes(piece.body));
    }
  }
  // A reader's download for each distinct name searched whole.
  const beforeBytes = new Map([...byShard.keys()].map((shard, i) => [shard, before[i]!.bytes]));
  let beforeMax = 0;
  let beforeSum = 0;
  let afterMax = 0;
  let afterSum = 0;
  const distinct = [...new Set(names)];
  for (const name of distinct) {
    const shard = searchShardOf(name);
    const b = beforeBytes.get(shard)!;
    const ids = piecesFor(listOf.get(shard)!, searchKey(name));
    const a = files.get(searchShardPath(shard))! + ids.reduce((s, id) => s + files.get(`search/${shard}/${id}.json`)!, 0);
    beforeMax = Math.max(beforeMax, b);
    beforeSum += b;
    afterMax = Math.max(afterMax, a);
    afterSum += a;
  }
  return {
    names: count,
    before: sizes(before),
    lists: sizes(lists),
    pieces: sizes(pieces),
    query: { beforeMax, beforeMean: Math.round(beforeSum / distinct.length), afterMax, afterMean: Math.round(afterSum / distinct.length) },
  };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export function describeSearchShards(r: SearchShardsReport): string[] {
  return [
    `search (${r.names} generated names, ${r.before.files} shards): before, one file per shard: max ${r.before.maxEntries} entries (${kb(r.before.maxBytes)}), mean ${r.before.meanEntries} (${kb(r.before.meanBytes)})`,
    `search: after, pieces (cut 1 name in ${PIECE_CUT}, at most ${PIECE_MAX} entries): ${r.pieces.files} pieces, max ${r.pieces.maxEntries} entries (${kb(r.pieces.maxBytes)}), mean ${r.pieces.meanEntries} (${kb(r.pieces.meanBytes)})`,
    `search: after, shard files (lists of pieces): max ${r.lists.maxEntries} pieces (${kb(r.lists.maxBytes)}), mean ${r.lists.meanEntries} (${kb(r.lists.meanBytes)})`,
    `search: a reader searching a whole name downloads max ${kb(r.query.afterMax)}, mean ${kb(r.query.afterMean)} (before: max ${kb(r.query.beforeMax)}, mean ${kb(r.query.beforeMean)})`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 100_000);
  for (const line of describeSearchShards(measureSearchShards(count))) process.stdout.write(`${line}\n`);
}
