/**
 * The search shards in the site index, rendered piece by piece (shared/site/search-index.ts): a change reads the
 * run of members around what it changed (from the nearest cut name before it to the next one after it: a few dozen
 * entries, however many names the shard holds), renders that run's pieces, and writes the shard's file only when
 * its list of pieces changed.
 *
 * | partition | members (sk) | pages |
 * |---|---|---|
 * | `SEARCH#<xx>` | entries (searchSortKey: name key, record id) | the pieces `search/<xx>/<id>.json` |
 * | `SEARCHPIECES#<xx>` | the pieces' keys (`>` + key) | the shard's file `search/<xx>.json` |
 *
 * Order of writes, so that a change cut short converges when applied again: the entries first (incremental.ts),
 * then the pages (new pieces and the shard's file written, pieces gone deleted), and last the piece group. Until
 * the group is written, a retry finds the same old pieces and deletes their pages again.
 */
import { compareKeys, nameOfSortKey, piecesOf, pieceId, renderSearchPiece, renderSearchShard, searchPiecePath, searchShardPath, searchSortKey, startsPiece, type SearchMember } from '../site/search-index.js';
import type { ListEntry } from '../site/public-record.js';
import type { RenderedPage } from './page-writer.js';
import type { Member, SiteIndex } from './site-index-store.js';
import type { PiecewisePartitions } from './site-model.js';

export const SEARCH_PARTITION = 'SEARCH#';
export const PIECES_PARTITION = 'SEARCHPIECES#';

/** Members read by the first Query towards a run's end (a run is PIECE_CUT names on average); each next one reads twice as many. */
const FIRST_READ = 32;
const MAX_READ = 512;

export const searchPartition = (shard: string) => `${SEARCH_PARTITION}${shard}`;
export const piecesPartition = (shard: string) => `${PIECES_PARTITION}${shard}`;
const groupSk = (key: string) => `>${key}`;
const keyOfGroupSk = (sk: string) => sk.slice(1);
const shardOf = (pk: string) => pk.slice(SEARCH_PARTITION.length);
const asSearchMember = (m: Member): SearchMember => ({ sk: m.sk, entry: m.data as unknown as ListEntry });

/** A run of a shard's members: from a cut name's first entry (or the shard's start) up to the next cut name (or its end). */
interface Run {
  /** The piece key the run starts at: its cut name, or `""` at the shard's start. */
  from: string;
  /** The next cut name (exclusive); absent: the shard's end. */
  to?: string;
  members: Member[];
}

/** The run holding the position `sk` (a member's sort key, present or not, or a bare name key: just before that name's entries). */
async function runAt(index: SiteIndex, pk: string, sk: string): Promise<Run> {
  const before: Member[] = [];
  let startName: string | undefined;
  let cursor = sk;
  let include = true;
  let read = FIRST_READ;
  backward: for (;; read = Math.min(read * 2, MAX_READ)) {
    const page = await index.membersNear(pk, cursor, 'backward', include, read);
    for (const m of page) {
      const name = nameOfSortKey(m.sk);
      if (startName !== undefined && name !== startName) break backward;
      before.push(m);
      if (startName === undefined && startsPiece(name)) startName = name;
    }
    if (page.length < read) break;
    cursor = page.at(-1)!.sk;
    include = false;
  }
  const after: Member[] = [];
  let to: string | undefined;
  cursor = sk;
  read = FIRST_READ;
  forward: for (;; read = Math.min(read * 2, MAX_READ)) {
    const page = await index.membersNear(pk, cursor, 'forward', false, read);
    for (const m of page) {
      const name = nameOfSortKey(m.sk);
      if (name !== startName && startsPiece(name)) {
        to = name;
        break forward;
      }
      after.push(m);
    }
    if (page.length < read) break;
    cursor = page.at(-1)!.sk;
  }
  return { from: startName ?? '', ...(to !== undefined ? { to } : {}), members: [...before.reverse(), ...after] };
}

/**
 * The runs a change at `sk` may have changed: the run holding it; and when its name is a cut name (its entries
 * start a run, or did, or will), the run before that name and the run the name starts, if it has entries.
 */
async function runsAround(index: SiteIndex, pk: string, sk: string): Promise<Run[]> {
  const name = nameOfSortKey(sk);
  if (!startsPiece(name)) return [await runAt(index, pk, sk)];
  const before = await runAt(index, pk, name);
  if (before.to !== name) return [before];
  const [first] = await index.membersNear(pk, name, 'forward', false, 1);
  return first ? [before, await runAt(index, pk, first.sk)] : [before];
}

const inRun = (key: string, run: Run) => compareKeys(key, run.from) >= 0 && (run.to === undefined || compareKeys(key, run.to) < 0);

/**
 * A shard with no piece group: new (its first entry), or written by a publisher from before the pieces (one file per
 * shard, its entries keyed by record id). Read whole once: entries keyed otherwise than by name are keyed again (the
 * new key written before the old one is deleted), and every piece and the shard's list are rendered; the group is
 * written last, so a rebuild cut short is done again whole.
 */
async function rebuild(pk: string, index: SiteIndex): Promise<Awaited<ReturnType<PiecewisePartitions['refresh']>>> {
  const shard = shardOf(pk);
  const members = await index.members(pk);
  if (members.length === 0) return { pages: [], deletions: [searchShardPath(shard)], afterWrites: async () => undefined };
  // Keyed by name already, or keyed again; an entry of a record listed under its new key too is the older one: dropped.
  const current = new Map<string, Member>();
  const legacy: Member[] = [];
  for (const m of members) {
    if (searchSortKey(m.data as unknown as ListEntry) === m.sk) current.set(m.sk, m);
    else legacy.push(m);
  }
  const listedIds = new Set([...current.values()].map((m) => String(m.data.id)));
  const rekeyed = legacy.filter((m) => !listedIds.has(String(m.data.id))).map((m) => ({ ...m, sk: searchSortKey(m.data as unknown as ListEntry) }));
  if (rekeyed.length > 0) await index.putMembers(rekeyed.map((m) => ({ pk, ...m })));
  if (legacy.length > 0) await index.deleteMembers(legacy.map((m) => ({ pk, sk: m.sk })));
  const unique = [...current.values(), ...rekeyed];
  const all = searchPieces.renderAll(pk, unique);
  return { pages: all.pages, deletions: [], afterWrites: () => index.putMembers(all.groupMembers.map((m) => ({ ...m, data: {} }))) };
}

export const searchPieces: PiecewisePartitions = {
  owns: (pk) => pk.startsWith(SEARCH_PARTITION),

  async refresh(pk, changed, index) {
    const shard = shardOf(pk);
    const group = piecesPartition(shard);
    const stored = (await index.members(group)).map((m) => keyOfGroupSk(m.sk));
    if (stored.length === 0) return rebuild(pk, index);
    // Runs never overlap: two positions in one run find the same run (the same `from`).
    const runs = new Map<string, Run>();
    for (const sk of changed) for (const run of await runsAround(index, pk, sk)) runs.set(run.from, run);
    const keys = new Set(stored);
    const pages: RenderedPage[] = [];
    const gone: string[] = [];
    const added: string[] = [];
    for (const run of runs.values()) {
      const pieces = piecesOf(run.members.map(asSearchMember));
      const now = new Set(pieces.map((p) => p.key));
      for (const key of stored) {
        if (inRun(key, run) && !now.has(key)) {
          gone.push(key);
          keys.delete(key);
        }
      }
      for (const piece of pieces) {
        if (!keys.has(piece.key)) {
          added.push(piece.key);
          keys.add(piece.key);
        }
        pages.push(renderSearchPiece(shard, piece));
      }
    }
    const deletions = gone.map((key) => searchPiecePath(shard, pieceId(key)));
    if (keys.size > 0) pages.push(renderSearchShard(shard, [...keys]));
    else deletions.push(searchShardPath(shard));
    return {
      pages,
      deletions,
      afterWrites: async () => {
        if (added.length > 0) await index.putMembers(added.map((key) => ({ pk: group, sk: groupSk(key), data: {} })));
        if (gone.length > 0) await index.deleteMembers(gone.map((key) => ({ pk: group, sk: groupSk(key) })));
      },
    };
  },

  renderAll(pk, members) {
    const shard = shardOf(pk);
    const pieces = piecesOf(members.map(asSearchMember));
    return {
      pages: [renderSearchShard(shard, pieces.map((p) => p.key)), ...pieces.map((p) => renderSearchPiece(shard, p))],
      groupMembers: pieces.map((p) => ({ pk: piecesPartition(shard), sk: groupSk(p.key) })),
    };
  },
};
