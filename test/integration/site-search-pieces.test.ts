/**
 * The search shards' pieces kept up to date against DynamoDB Local (the sitePages table): DynamoDB sorts the entries'
 * sort keys (name key, U+0001, record id) in UTF-8 byte order, which the pieces' order (code points) must match,
 * names outside the Basic Multilingual Plane included, so that the runs a change reads (Queries before and after a
 * sort key) are the runs a full render cuts. After each change the files equal a full render.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import type { ListEntry } from '../../shared/site/public-record.js';
import { renderSearchShardPages, searchShardOf, searchSortKey } from '../../shared/site/search-index.js';
import { writePages } from '../../shared/site-publishing/page-writer.js';
import { searchPartition, searchPieces } from '../../shared/site-publishing/search-pieces.js';
import { DynamoSiteIndex } from '../../shared/site-publishing/site-index-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { MemorySiteBucket } from '../support/memory-site.js';
import { seededRandom } from '../support/seeded-random.js';
import { subjectNames } from '../support/subject-names.js';

let db: TestDynamo;
beforeAll(async () => {
  db = await startTestDynamo();
}, 120_000);
afterAll(async () => db?.stop());

function entryOf(name: string, n: number): ListEntry {
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

describe('search pieces on DynamoDB Local', () => {
  it('changes applied piece by piece give the files of a full render, in DynamoDB’s order of names', async () => {
    const index = new DynamoSiteIndex(db.doc, tables.sitePages.localName);
    const bucket = new MemorySiteBucket();
    const shard = searchShardOf('上海');
    const pk = searchPartition(shard);
    const random = seededRandom(17);
    // Names of one shard, some with a character beyond U+FFFF (UTF-16 and UTF-8 order differ there), some crowded.
    const pool = [
      ...subjectNames(seededRandom(18), 4_000).filter((name) => searchShardOf(name) === shard),
      '上海𠀀记餐饮有限公司',
      '上海\uffe0记贸易有限公司',
      '上海𠀁𠀂科技有限公司',
    ];
    const current = new Map<string, ListEntry>();
    const change = async (before: ListEntry | undefined, after: ListEntry | undefined) => {
      const sks: string[] = [];
      if (before) {
        await index.deleteMembers([{ pk, sk: searchSortKey(before) }]);
        sks.push(searchSortKey(before));
      }
      if (after) {
        await index.putMembers([{ pk, sk: searchSortKey(after), data: after as unknown as Record<string, unknown> }]);
        sks.push(searchSortKey(after));
      }
      const refreshed = await searchPieces.refresh(pk, sks, index);
      await writePages(refreshed.pages, refreshed.deletions, { index, bucket });
      await refreshed.afterWrites();
    };
    let n = 0;
    for (; n < 250; n++) {
      const e = entryOf(n % 5 === 0 ? random.pick(pool.slice(-3)) : random.pick(pool), n);
      current.set(e.id, e);
      await change(undefined, e);
    }
    for (let step = 0; step < 40; step++) {
      const existing = random.pick([...current.values()]);
      if (step % 3 === 0) {
        await change(existing, undefined);
        current.delete(existing.id);
      } else if (step % 3 === 1) {
        const renamed = { ...existing, subjectName: random.pick(pool) };
        await change(existing, renamed);
        current.set(renamed.id, renamed);
      } else {
        const added = entryOf(random.pick(pool), n++);
        await change(undefined, added);
        current.set(added.id, added);
      }
    }
    expect(bucket.contents()).toEqual(Object.fromEntries(renderSearchShardPages(shard, [...current.values()]).map((p) => [p.path, p.body])));
    // The list and several pieces.
    expect(Object.keys(bucket.contents()).length).toBeGreaterThan(2);
  }, 120_000);
});
