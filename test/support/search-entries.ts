/**
 * The search index's entries for its tests (unit, on the in-memory site index, and integration, on DynamoDB Local):
 * a list entry named as a test needs, and one change to the entries applied as the publisher applies it (the
 * members of the search partitions written, then the pieces around the changed sort keys refreshed and written).
 */
import type { ListEntry } from '../../shared/site/public-record.js';
import { searchShardOf, searchSortKey } from '../../shared/site/search-index.js';
import { writePages } from '../../shared/site-publishing/page-writer.js';
import { searchPartition, searchPieces } from '../../shared/site-publishing/search-pieces.js';
import type { SiteIndex } from '../../shared/site-publishing/site-index-store.js';
import type { SiteBucket } from '../../shared/site-publishing/site-bucket.js';

/** A penalty's list entry for subject `name`; `n` numbers its record id and subject slug (distinct n, distinct records). */
export function searchEntry(name: string, n: number): ListEntry {
  return {
    id: `pen_${n.toString(36).padStart(26, '0')}`,
    kind: 'penalty',
    title: `行政处罚决定书 沪市监处〔2026〕${n}号`,
    subjectName: name,
    subjectSlug: `s${n.toString(16).padStart(24, '0')}`,
    subjectLabel: '统一社会信用代码 91310115MA1K3BTP2B',
    decisionDate: '2026-03-15',
    underObjection: false,
    governmentIntegrity: false,
  };
}

/**
 * An entry entering (`before` undefined), leaving (`after` undefined) or renamed: its member deleted from and put into
 * its shard's search partition, then each changed partition's pieces refreshed (reading through `reader`, the index
 * unless a test counts the reads) and written.
 */
export async function applySearchChange(
  deps: { index: SiteIndex; bucket: SiteBucket; reader?: SiteIndex },
  before: ListEntry | undefined,
  after: ListEntry | undefined,
): Promise<void> {
  const { index, bucket } = deps;
  const changed = new Map<string, string[]>();
  if (before) {
    const pk = searchPartition(searchShardOf(before.subjectName));
    await index.deleteMembers([{ pk, sk: searchSortKey(before) }]);
    changed.set(pk, [searchSortKey(before)]);
  }
  if (after) {
    const pk = searchPartition(searchShardOf(after.subjectName));
    await index.putMembers([{ pk, sk: searchSortKey(after), data: after as unknown as Record<string, unknown> }]);
    changed.set(pk, [...(changed.get(pk) ?? []), searchSortKey(after)]);
  }
  for (const [pk, sks] of changed) {
    const refreshed = await searchPieces.refresh(pk, sks, deps.reader ?? index);
    await writePages(refreshed.pages, refreshed.deletions, { index, bucket });
    await refreshed.afterWrites();
  }
}
