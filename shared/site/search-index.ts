/**
 * The client-side search's index: sharded, and each shard cut into bounded pieces, so that one change rewrites one
 * small file and a reader downloads two small files, however names cluster (上海…, 北京…, 广州市…).
 *
 * The search finds subjects by the beginning of their name (at least two characters, as 信用中国 searches do). A name's
 * search key is the name NFKC-normalised, lower-cased, control characters as spaces, trimmed (`searchKey`).
 *
 * - **Shard**: FNV-1a (32 bits, over UTF-16 code units) of the key's first two characters, modulo 256, as two hex
 *   digits. A shard's file `search/<xx>.json` lists its pieces: `{"pieces":[[from, id], …]}`, in key order.
 * - **Pieces**: the shard's entries in key order (code-point order, as DynamoDB sorts them; ties by record id), cut
 *   into runs before every name whose own hash says so (`startsPiece`: one distinct name in PIECE_CUT); a run longer
 *   than PIECE_MAX entries is cut again at names chosen by other hashes (`split`). A piece's file
 *   `search/<xx>/<id>.json` holds its entries (`{"items":[…]}`); `from` is the key of its first name (`""` for the
 *   piece before the shard's first cut), `id` a hash of where it starts.
 *
 * Cuts that depend on a name alone keep a change local: an entry entering or leaving changes the piece it falls in
 * (and, when its name is a cut name, the piece before it and the shard's file); the pieces between two cut names
 * depend on those entries only (`piecesOf` of that run gives the same pieces as of the whole shard). A piece holds
 * at most PIECE_MAX entries, however many names share a prefix.
 *
 * The browser computes the same shard and the same order from SEARCH_FUNCTIONS_SOURCE, embedded in the search
 * script, which this module evaluates too: one definition for the publisher and the browser. It fetches the shard's
 * file, then the pieces whose range may hold names beginning with the query (`piecesFor`), one at a time as the
 * reader asks for more results.
 */
import { createHash } from 'node:crypto';
import { hrefOf, recordPath } from './paths.js';
import { JSON_TYPE, type SitePage } from './page.js';
import type { ListEntry } from './public-record.js';

export const SEARCH_SHARDS = 256;
/** A distinct name starts a piece when its hash is 0 modulo this: pieces of PIECE_CUT names on average. */
export const PIECE_CUT = 32;
/** A piece never holds more entries than this (a run of names between two cut names holding more is cut again: split()). */
export const PIECE_MAX = 160;

/**
 * The functions the publisher and the browser share, as JavaScript source: the search key of a name, its shard,
 * the cut rule, the order of keys, and which pieces a query reads.
 */
export const SEARCH_FUNCTIONS_SOURCE = `function searchKey(name) {
  return String(name).normalize('NFKC').replace(/[\\u0000-\\u001f\\u007f]/g, ' ').trim().toLowerCase();
}
function fnv1a(text) {
  var hash = 0x811c9dc5;
  for (var i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
function shardOf(name) {
  var shard = fnv1a(searchKey(name).slice(0, 2)) % ${SEARCH_SHARDS};
  return (shard < 16 ? '0' : '') + shard.toString(16);
}
function startsPiece(key) {
  return fnv1a('piece:' + key) % ${PIECE_CUT} === 0;
}
function compareKeys(a, b) {
  var i = 0;
  var j = 0;
  while (i < a.length && j < b.length) {
    var x = a.codePointAt(i);
    var y = b.codePointAt(j);
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}
function piecesFor(pieces, query) {
  var out = [];
  for (var i = 0; i < pieces.length; i++) {
    var from = String(pieces[i][0]);
    var upTo = i + 1 < pieces.length ? String(pieces[i + 1][0]) : null;
    var startsBefore = compareKeys(from, query) < 0 || from.indexOf(query) === 0;
    var endsAfter = upTo === null || compareKeys(upTo, query) >= 0;
    if (startsBefore && endsAfter) out.push(String(pieces[i][1]));
  }
  return out;
}`;

interface SearchFunctions {
  searchKey(name: string): string;
  shardOf(name: string): string;
  startsPiece(key: string): boolean;
  compareKeys(a: string, b: string): number;
  piecesFor(pieces: readonly (readonly [string, string])[], query: string): string[];
}

const fns = new Function(`${SEARCH_FUNCTIONS_SOURCE}\nreturn { searchKey: searchKey, shardOf: shardOf, startsPiece: startsPiece, compareKeys: compareKeys, piecesFor: piecesFor };`)() as SearchFunctions;

/** A name as the search compares it: NFKC, lower case, control characters as spaces, trimmed. */
export const searchKey: (name: string) => string = fns.searchKey;
/** Code-point order (UTF-8 byte order, as DynamoDB sorts strings), not UTF-16 code-unit order. */
export const compareKeys: (a: string, b: string) => number = fns.compareKeys;
/** Whether a name (its search key) starts a piece of its shard. */
export const startsPiece: (key: string) => boolean = fns.startsPiece;
/** The ids of the pieces (in order) that may hold names beginning with `query` (a search key). */
export const piecesFor: SearchFunctions['piecesFor'] = fns.piecesFor;

/** The search shard of a subject name: two hex digits. */
export function searchShardOf(subjectName: string): string {
  return fns.shardOf(subjectName);
}

const SHARD = /^[0-9a-f]{2}$/;
const PIECE_ID = /^[0-9a-f]{12}$/;
/** Between a name's key and the record id in a member's sort key: below any character a key holds. */
const SK_SEPARATOR = '\u0001';

function checkShard(shard: string): void {
  if (!SHARD.test(shard)) throw new RangeError(`not a search shard: ${JSON.stringify(shard.slice(0, 10))}`);
}

/** The shard's file: the list of its pieces. */
export function searchShardPath(shard: string): string {
  checkShard(shard);
  return `search/${shard}.json`;
}

/** A piece's file. */
export function searchPiecePath(shard: string, id: string): string {
  checkShard(shard);
  if (!PIECE_ID.test(id)) throw new RangeError(`not a search piece: ${JSON.stringify(id.slice(0, 20))}`);
  return `search/${shard}/${id}.json`;
}

/** Where an entry sorts in its shard: its name's key, then its record id. */
export function searchSortKey(entry: Pick<ListEntry, 'id' | 'subjectName'>): string {
  return `${searchKey(entry.subjectName)}${SK_SEPARATOR}${entry.id}`;
}

/** The name key of a sort key (or of a piece key, which is a name key or a sort key). */
export function nameOfSortKey(sk: string): string {
  const at = sk.lastIndexOf(SK_SEPARATOR);
  return at < 0 ? sk : sk.slice(0, at);
}

/** The id of a piece (its file name) from its key. */
export function pieceId(key: string): string {
  return createHash('sha256').update(`search-piece\u0000${key}`).digest('hex').slice(0, 12);
}

export interface SearchMember {
  /** searchSortKey(entry). */
  sk: string;
  entry: ListEntry;
}

export interface SearchPiece {
  /** Where it starts: `""` (before the shard's first cut name), a cut name's key, or the sort key of the entry a full piece was cut before. */
  key: string;
  members: SearchMember[];
}

/**
 * Cuts inside a run too long for one piece (more than PIECE_MAX entries), level by level: at level k, before every
 * name whose level-k hash is 0 modulo SPLIT_MODULI[k] (the last level: every name); a part still too long goes to the
 * next level, and a single name with more entries than a piece holds is cut every PIECE_MAX entries. Content decides
 * every cut but the last, so an entry entering a long run still changes one piece (and, at a cut name, the piece it
 * is cut from), except when it makes a part cross PIECE_MAX.
 */
const SPLIT_MODULI = [64, 16, 4, 1];

function splitsAt(name: string, level: number): boolean {
  const modulus = SPLIT_MODULI[level]!;
  return modulus === 1 || fnv1a(`split${level}:${name}`) % modulus === 0;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function split(members: SearchMember[], level: number): SearchMember[][] {
  if (members.length <= PIECE_MAX) return [members];
  if (level >= SPLIT_MODULI.length) {
    const parts: SearchMember[][] = [];
    for (let i = 0; i < members.length; i += PIECE_MAX) parts.push(members.slice(i, i + PIECE_MAX));
    return parts;
  }
  const parts: SearchMember[][] = [];
  let previousName: string | undefined;
  for (const member of members) {
    const name = nameOfSortKey(member.sk);
    if (parts.length === 0 || (name !== previousName && splitsAt(name, level))) parts.push([member]);
    else parts.at(-1)!.push(member);
    previousName = name;
  }
  return parts.flatMap((part) => split(part, level + 1));
}

/**
 * The pieces of a run of a shard's members (any order in). A run is the whole shard, or the members from a cut
 * name's first entry up to the next cut name's: either gives the same pieces for the same members. A piece's key is
 * the name it begins with (`""` for the first piece of a shard whose first name is no cut name), or the sort key of
 * its first entry when it begins inside a name.
 */
export function piecesOf(members: readonly SearchMember[]): SearchPiece[] {
  const sorted = [...members].sort((a, b) => compareKeys(a.sk, b.sk));
  const runs: SearchMember[][] = [];
  let previousName: string | undefined;
  for (const member of sorted) {
    const name = nameOfSortKey(member.sk);
    if (runs.length === 0 || (name !== previousName && startsPiece(name))) runs.push([member]);
    else runs.at(-1)!.push(member);
    previousName = name;
  }
  const pieces: SearchPiece[] = [];
  let lastName: string | undefined;
  for (const part of runs.flatMap((run) => split(run, 0))) {
    const first = part[0]!;
    const name = nameOfSortKey(first.sk);
    const key = pieces.length === 0 && !startsPiece(name) ? '' : name === lastName ? first.sk : name;
    pieces.push({ key, members: part });
    lastName = nameOfSortKey(part.at(-1)!.sk);
  }
  return pieces;
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

/** A piece's file from its members (in sort-key order). */
export function renderSearchPiece(shard: string, piece: SearchPiece): SitePage {
  const items: SearchItem[] = piece.members.map(({ entry: e }) => ({
    name: e.subjectName,
    label: e.subjectLabel,
    title: e.title,
    kind: e.kind,
    date: e.decisionDate,
    href: hrefOf(recordPath(e.id)),
    objection: e.underObjection,
  }));
  return { path: searchPiecePath(shard, pieceId(piece.key)), body: JSON.stringify({ items }), contentType: JSON_TYPE };
}

/** The shard's file from the keys of its pieces (any order in): each piece's first name and its id. */
export function renderSearchShard(shard: string, pieceKeys: readonly string[]): SitePage {
  const pieces = [...pieceKeys].sort(compareKeys).map((key) => [nameOfSortKey(key), pieceId(key)]);
  return { path: searchShardPath(shard), body: JSON.stringify({ pieces }), contentType: JSON_TYPE };
}

/** Every file of a shard from all its entries: the shard's file and one per piece (what a full build writes). */
export function renderSearchShardPages(shard: string, entries: readonly ListEntry[]): SitePage[] {
  const pieces = piecesOf(entries.map((entry) => ({ sk: searchSortKey(entry), entry })));
  return [renderSearchShard(shard, pieces.map((p) => p.key)), ...pieces.map((p) => renderSearchPiece(shard, p))];
}

/** Code-unit order: the same in every runtime and locale, so pages are deterministic. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
