/**
 * The search shards' pieces kept up to date against DynamoDB Local (the sitePages table): DynamoDB sorts the entries'
 * sort keys (name key, U+0001, record id) in UTF-8 byte order, which the pieces' order (code points) must match,
 * names outside the Basic Multilingual Plane included, so that the runs a change reads (Queries before and after a
 * sort key) are the runs a full render cuts. After each change the files equal a full render.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import type { ListEntry } from '../../shared/site/public-record.js';
import { renderSearchShardPages, searchShardOf } from '../../shared/site/search-index.js';
import { DynamoSiteIndex } from '../../shared/site-publishing/site-index-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { MemorySiteBucket } from '../support/memory-site.js';
import { applySearchChange, searchEntry } from '../support/search-entries.js';
import { seededRandom } from '../support/seeded-random.js';
import { subjectNames } from '../support/subject-names.js';

let db: TestDynamo;
beforeAll(async () => {
  db = await startTestDynamo();
}, 120_000);
afterAll(async () => db?.stop());

describe('search pieces on DynamoDB Local', () => {
  it('changes applied piece by piece give the files of a full render, in DynamoDB’s order of names', async () => {
    const index = new DynamoSiteIndex(db.doc, tables.sitePages.localName);
    const bucket = new MemorySiteBucket();
    const shard = searchShardOf('上海');
    const random = seededRandom(17);
    // Names of one shard, some with a character beyond U+FFFF (UTF-16 and UTF-8 order differ there), some crowded.
    const pool = [
      ...subjectNames(seededRandom(18), 4_000).filter((name) => searchShardOf(name) === shard),
      '上海𠀀记餐饮有限公司',
      '上海\uffe0记贸易有限公司',
      '上海𠀁𠀂科技有限公司',
    ];
    const current = new Map<string, ListEntry>();
    const change = (before: ListEntry | undefined, after: ListEntry | undefined) => applySearchChange({ index, bucket }, before, after);
    let n = 0;
    for (; n < 250; n++) {
      const e = searchEntry(n % 5 === 0 ? random.pick(pool.slice(-3)) : random.pick(pool), n);
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
        const added = searchEntry(random.pick(pool), n++);
        await change(undefined, added);
        current.set(added.id, added);
      }
    }
    expect(bucket.contents()).toEqual(Object.fromEntries(renderSearchShardPages(shard, [...current.values()]).map((p) => [p.path, p.body])));
    // The list and several pieces.
    expect(Object.keys(bucket.contents()).length).toBeGreaterThan(2);
  }, 120_000);
});
