/**
 * Incremental publishing of one record change (the records table's stream: its old and new head): only the pages the
 * change touches are rendered again, and only those whose bytes changed are written.
 *
 * 1. The public record before and after, as of today in China (a head not approved, withheld, ended or outside its
 *    period has none): unchanged public records and entries → only the record page is rendered (its hash decides).
 * 2. The entries: put where the record is listed now (a new place, or new data), deleted where it no longer is.
 * 3. The partitions touched, and each of their ancestors up to the index, are rendered again from the stored members;
 *    a partition left empty loses its page and its place in its parent (which is then rendered again too), one that
 *    gained its first member is added to its parent. A search shard is rendered piece by piece instead: only the
 *    pieces around the entry, and the shard's list of pieces when it changed (model.piecewise, search-pieces.ts).
 * 4. The record page is written (or deleted, when the record left the site); every page goes through writePages
 *    (hash compare: unchanged pages are not written).
 *
 * Idempotent: each step writes the state the change implies, whatever of it was already written, so a retry of the
 * same change (Lambda sends a failed stream record again) converges. Two changes are never applied at once (the
 * publisher holds the site's lease: publisher.ts), so "empty" and "not empty" are decided on a stable index.
 */
import { isDeepStrictEqual } from 'node:util';
import type { StoredHead } from '../domain/record-model.js';
import { writePages, type PageWriterDeps, type RenderedPage, type WriteCounts } from './page-writer.js';
import type { Member, MemberWrite, SiteIndex } from './site-index-store.js';
import type { SiteModel } from './site-model.js';

export interface PublishDeps extends PageWriterDeps {
  index: SiteIndex;
  model: SiteModel;
}

export interface ChangeReport extends WriteCounts {
  /** Whether the record is on the site before / after the change. */
  before: boolean;
  after: boolean;
}

/** Publishes the change from `oldHead` to `newHead` (either may be absent) as of `asOf`. */
export async function publishChange(oldHead: StoredHead | undefined, newHead: StoredHead | undefined, asOf: string, deps: PublishDeps): Promise<ChangeReport> {
  const { model, index } = deps;
  const before = oldHead ? model.publicRecord(oldHead, asOf) : undefined;
  const after = newHead ? model.publicRecord(newHead, asOf) : undefined;
  const id = after !== undefined ? model.recordId(after) : before !== undefined ? model.recordId(before) : undefined;
  if (id === undefined) return { before: false, after: false, written: 0, unchanged: 0, deleted: 0 };

  // A place is a partition and the entry's sort key in it (the record id, or a search shard's name order).
  const placesOf = (record: unknown) => new Map(model.placements(record).map((p) => [`${p.pk}\u0000${p.sk ?? id}`, { pk: p.pk, sk: p.sk ?? id, data: p.data }]));
  const oldPlaces = before !== undefined ? placesOf(before) : new Map<string, MemberWrite>();
  const newPlaces = after !== undefined ? placesOf(after) : new Map<string, MemberWrite>();
  // A place the old image already had with the same data is written again all the same: a retry after a crash
  // between the steps finds it missing otherwise. Only the pages depend on whether it changed.
  const puts: MemberWrite[] = [...newPlaces.values()];
  const removed = [...oldPlaces].filter(([key]) => !newPlaces.has(key)).map(([, place]) => place);
  const changed = [...removed, ...[...newPlaces].filter(([key, place]) => !isDeepStrictEqual(oldPlaces.get(key)?.data, place.data)).map(([, place]) => place)];

  if (puts.length > 0) await index.putMembers(puts);
  if (removed.length > 0) await index.deleteMembers(removed.map(({ pk, sk }) => ({ pk, sk })));

  const piecewise = model.piecewise;
  const pieceChanges = new Map<string, string[]>();
  const touched = new Set<string>();
  for (const { pk, sk } of changed) {
    if (piecewise?.owns(pk)) pieceChanges.set(pk, [...(pieceChanges.get(pk) ?? []), sk]);
    else touched.add(pk);
  }
  const { pages, deletions } = await refreshPartitions(touched, asOf, deps);
  const afterWrites: (() => Promise<void>)[] = [];
  for (const [pk, sks] of pieceChanges) {
    const refreshed = await piecewise!.refresh(pk, sks, index);
    pages.push(...refreshed.pages);
    deletions.push(...refreshed.deletions);
    afterWrites.push(refreshed.afterWrites);
  }
  if (after !== undefined) pages.push(model.recordPage(after, asOf));
  else deletions.push(model.recordPath(id));
  const counts = await writePages(pages, deletions, deps);
  for (const write of afterWrites) await write();
  return { before: before !== undefined, after: after !== undefined, ...counts };
}

/**
 * Renders again the `touched` partitions and all their ancestors, keeping each group's members in step: a partition
 * that is empty now leaves its parent, one that is not is in it. Level by level from the deepest, so that a parent is
 * read after its children joined or left it. `run`: a full publish run, which tags every group member it keeps.
 */
export async function refreshPartitions(
  touched: ReadonlySet<string>,
  asOf: string,
  deps: Pick<PublishDeps, 'index' | 'model'>,
  run?: string,
): Promise<{ pages: RenderedPage[]; deletions: string[] }> {
  const { model, index } = deps;
  /** Each page path: rendered, or null (to delete); the last outcome of a path wins. */
  const outcome = new Map<string, RenderedPage | null>();
  /** For each group: which children must be in it (true) or not (false). */
  const wanted = new Map<string, Map<string, boolean>>();
  const done = new Set<string>();
  const permanent = new Set(model.permanent);
  let level = [...touched];
  while (level.length > 0) {
    const next = new Set<string>();
    for (const pk of level) {
      if (done.has(pk)) continue;
      done.add(pk);
      let members = await index.members(pk);
      const want = wanted.get(pk);
      if (want) members = await applyWanted(pk, members, want, index, run);
      if (members.length > 0 || permanent.has(pk)) {
        const page = model.partitionPage(pk, members, asOf);
        outcome.set(page.path, page);
      } else outcome.set(model.partitionPath(pk), null);
      for (const parent of model.parentsOf(pk)) {
        let children = wanted.get(parent.pk);
        if (!children) wanted.set(parent.pk, (children = new Map()));
        children.set(parent.sk, members.length > 0);
        // A group reached before all its children were (they sit at different depths) is read again.
        done.delete(parent.pk);
        next.add(parent.pk);
      }
    }
    level = [...next];
  }
  const pages: RenderedPage[] = [];
  const deletions: string[] = [];
  for (const [path, page] of outcome) {
    if (page) pages.push(page);
    else deletions.push(path);
  }
  return { pages, deletions };
}

/** Puts the children that must be in a group and are not (all of them, tagged, in a run), deletes those that must not. */
async function applyWanted(pk: string, members: Member[], want: ReadonlyMap<string, boolean>, index: SiteIndex, run: string | undefined): Promise<Member[]> {
  const have = new Set(members.map((m) => m.sk));
  const add = [...want].filter(([sk, present]) => present && (run !== undefined || !have.has(sk))).map(([sk]) => sk);
  const drop = [...want].filter(([sk, present]) => !present && have.has(sk)).map(([sk]) => sk);
  if (add.length > 0) await index.putMembers(add.map((sk) => ({ pk, sk, data: {}, ...(run !== undefined ? { run } : {}) })));
  if (drop.length > 0) await index.deleteMembers(drop.map((sk) => ({ pk, sk })));
  const dropped = new Set(drop);
  const kept = members.filter((m) => !dropped.has(m.sk));
  const added = add.filter((sk) => !have.has(sk)).map((sk) => ({ sk, data: {} }));
  return [...kept, ...added].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
}
