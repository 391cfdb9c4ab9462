/**
 * The search index's shards and pieces (shared/site/search-index.ts) and their incremental upkeep
 * (shared/site-publishing/search-pieces.ts), on names as a credit office meets them (test/support/subject-names.ts:
 * clustered on 上海…, 北京…, 广州市…; 个体工商户; government bodies):
 * - no piece holds more than PIECE_MAX entries, however names cluster;
 * - a query of any prefix of two characters or more finds every subject whose name begins with it;
 * - one entry entering changes its piece, and the shard's list of pieces only when its name is a cut name;
 * - after any sequence of changes applied piecewise, the files equal a full render, and a change reads the names
 *   around it, not the shard.
 */
import { describe, expect, it } from 'vitest';
import { pageHash, type SitePage } from '../../shared/site/page.js';
import type { ListEntry } from '../../shared/site/public-record.js';
import {
  compareKeys,
  nameOfSortKey,
  PIECE_MAX,
  piecesFor,
  renderSearchShardPages,
  SEARCH_FUNCTIONS_SOURCE,
  searchKey,
  searchShardOf,
  searchShardPath,
  searchSortKey,
  startsPiece,
} from '../../shared/site/search-index.js';
import { writePages } from '../../shared/site-publishing/page-writer.js';
import { piecesPartition, searchPartition, searchPieces } from '../../shared/site-publishing/search-pieces.js';
import type { Member } from '../../shared/site-publishing/site-index-store.js';
import { MemorySiteBucket, MemorySiteIndex } from '../support/memory-site.js';
import { applySearchChange, searchEntry } from '../support/search-entries.js';
import { seededRandom } from '../support/seeded-random.js';
import { subjectNames } from '../support/subject-names.js';

interface ShardFiles {
  list: [string, string][];
  pieces: Map<string, { name: string; href: string }[]>;
}

function filesOf(pages: SitePage[]): Map<string, ShardFiles> {
  const shards = new Map<string, ShardFiles>();
  const shard = (xx: string) => shards.get(xx) ?? (shards.set(xx, { list: [], pieces: new Map() }), shards.get(xx)!);
  for (const page of pages) {
    const list = /^search\/([0-9a-f]{2})\.json$/.exec(page.path);
    const piece = /^search\/([0-9a-f]{2})\/([0-9a-f]{12})\.json$/.exec(page.path);
    if (list) shard(list[1]!).list = (JSON.parse(page.body) as { pieces: [string, string][] }).pieces;
    else if (piece) shard(piece[1]!).pieces.set(piece[2]!, (JSON.parse(page.body) as { items: { name: string; href: string }[] }).items);
    else throw new Error(`not a search file: ${page.path}`);
  }
  return shards;
}

function fullRender(entries: readonly ListEntry[]): SitePage[] {
  const byShard = new Map<string, ListEntry[]>();
  for (const e of entries) byShard.set(searchShardOf(e.subjectName), [...(byShard.get(searchShardOf(e.subjectName)) ?? []), e]);
  return [...byShard].flatMap(([shard, list]) => renderSearchShardPages(shard, list));
}

/** What the browser finds for a query: the pieces piecesFor names, their items beginning with it. */
function find(files: Map<string, ShardFiles>, query: string): string[] {
  const key = searchKey(query);
  const shard = files.get(searchShardOf(key));
  if (!shard) return [];
  return piecesFor(shard.list, key).flatMap((id) => (shard.pieces.get(id) ?? []).filter((item) => searchKey(item.name).startsWith(key)).map((item) => item.href));
}

describe('search shards cut into pieces', () => {
  const names = subjectNames(seededRandom(91), 20_000);
  const entries = names.map(searchEntry);
  const files = filesOf(fullRender(entries));

  it('the names cluster as a credit office sees them: one shard holds a large share of all names', () => {
    const perShard = new Map<string, number>();
    for (const name of names) perShard.set(searchShardOf(name), (perShard.get(searchShardOf(name)) ?? 0) + 1);
    expect(Math.max(...perShard.values())).toBeGreaterThan(names.length / 5);
  });

  it('no piece holds more than PIECE_MAX entries, and every shard file lists its pieces in key order', () => {
    let largest = 0;
    for (const shard of files.values()) {
      for (const items of shard.pieces.values()) largest = Math.max(largest, items.length);
      const froms = shard.list.map(([from]) => from);
      expect([...froms].sort(compareKeys)).toEqual(froms);
      expect(new Set(shard.list.map(([, id]) => id))).toEqual(new Set(shard.pieces.keys()));
    }
    expect(largest).toBeLessThanOrEqual(PIECE_MAX);
    // The hot shard is many pieces, not one file.
    expect(Math.max(...[...files.values()].map((s) => s.list.length))).toBeGreaterThan(20);
  });

  it('any prefix of two characters or more finds every subject whose name begins with it, and only those', () => {
    const random = seededRandom(5);
    const keys = entries.map((e) => ({ key: searchKey(e.subjectName), href: `/records/${e.id}.html` }));
    for (let i = 0; i < 150; i++) {
      const name = random.pick(names);
      for (let length = 2; length <= name.length; length += random.int(1, 3)) {
        const prefix = name.slice(0, length);
        const expected = keys.filter((k) => k.key.startsWith(searchKey(prefix))).map((k) => k.href);
        expect(find(files, prefix).sort(), prefix).toEqual(expected.sort());
      }
    }
    // Full-width letters, spaces around and upper case are the same query.
    const latin = filesOf(fullRender([searchEntry('ＡＢＣ贸易有限公司', 1)]));
    expect(find(latin, ' abc贸易 ')).toEqual([`/records/${searchEntry('', 1).id}.html`]);
  });

  it('the browser runs the same functions: shard, order and pieces from the source the script embeds', () => {
    const browser = new Function(`${SEARCH_FUNCTIONS_SOURCE}\nreturn { shardOf: shardOf, compareKeys: compareKeys, piecesFor: piecesFor };`)() as {
      shardOf: (name: string) => string;
      compareKeys: (a: string, b: string) => number;
      piecesFor: typeof piecesFor;
    };
    for (const name of ['上海某某科技有限公司', '张三', '某县某局', 'ＡＢＣ公司', 'abc', '李', '']) expect(browser.shardOf(name)).toBe(searchShardOf(name));
    expect(searchShardOf('上海某某科技有限公司')).toBe(searchShardOf('上海另一家公司'));
    const shard = [...files.values()].sort((a, b) => b.list.length - a.list.length)[0]!;
    expect(browser.piecesFor(shard.list, '上海市')).toEqual(piecesFor(shard.list, '上海市'));
  });

  it('keys sort in code-point order, as DynamoDB sorts strings (not UTF-16 order)', () => {
    const samples = ['上海', '上海市', 'a', 'ab', '\u{20000}', '\uffe0', '𠀀甲', 'z', ''];
    const byUtf8 = [...samples].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...samples].sort(compareKeys)).toEqual(byUtf8);
    expect(nameOfSortKey(searchSortKey(searchEntry('上海某某', 3)))).toBe('上海某某');
  });

  it('one entry entering changes its piece, and the shard file and the piece before only when its name is a cut name', () => {
    const hot = entries.filter((e) => searchShardOf(e.subjectName) === searchShardOf('上海'));
    const before = new Map(renderSearchShardPages(searchShardOf('上海'), hot).map((p) => [p.path, pageHash(p)]));
    const random = seededRandom(12);
    let listChanges = 0;
    let single = 0;
    for (let i = 0; i < 60; i++) {
      const newcomer = searchEntry(`上海${random.pick(names).slice(2)}${i}`, 100_000 + i);
      const after = renderSearchShardPages(searchShardOf('上海'), [...hot, newcomer]);
      const changed = after.filter((p) => before.get(p.path) !== pageHash(p)).map((p) => p.path);
      const gone = [...before.keys()].filter((path) => !after.some((p) => p.path === path));
      // Its piece; when its name cuts (a run, or a part of a long one), the piece it is cut from and the list too.
      // (A part it makes longer than PIECE_MAX is cut anew: rare.)
      expect(changed.length + gone.length, newcomer.subjectName).toBeLessThanOrEqual(startsPiece(searchKey(newcomer.subjectName)) ? 4 : 3);
      if (changed.length + gone.length === 1) single++;
      if (changed.includes(searchShardPath(searchShardOf('上海')))) listChanges++;
    }
    expect(single).toBeGreaterThanOrEqual(50);
    expect(listChanges).toBeLessThan(10);
  });
});

describe('keeping the pieces up to date, change by change', () => {
  it('after any sequence of entries entering, leaving and renamed, the files equal a full render; a change reads the names around it', async () => {
    const random = seededRandom(33);
    const pool = subjectNames(seededRandom(34), 12_000).filter((name) => searchShardOf(name) === searchShardOf('上海'));
    // A few names shared by many records (shops, people), so that full pieces are cut within one name too.
    const crowded = ['上海市浦东新区华信便利店', '上海市黄浦区小吃店'];
    const index = new MemorySiteIndex();
    const bucket = new MemorySiteBucket();
    const current = new Map<string, ListEntry>();
    let reads = 0;
    const counting = new Proxy(index, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'membersNear') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<MemorySiteIndex['membersNear']>) => {
          const out = await target.membersNear(...args);
          reads += out.length;
          return out;
        };
      },
    });

    const apply = (before: ListEntry | undefined, after: ListEntry | undefined) => applySearchChange({ index, bucket, reader: counting }, before, after);

    // A shard of about 1,500 entries, written whole as a publish run does.
    for (let n = 0; n < 1_500; n++) {
      const e = searchEntry(n % 4 === 0 ? random.pick(crowded) : random.pick(pool), n);
      current.set(e.id, e);
    }
    const pk = searchPartition(searchShardOf('上海'));
    const members: Member[] = [...current.values()].map((e) => ({ sk: searchSortKey(e), data: e as unknown as Record<string, unknown> }));
    await index.putMembers(members.map((m) => ({ pk, ...m })));
    const all = searchPieces.renderAll(pk, members);
    await writePages(all.pages, [], { index, bucket });
    await index.putMembers(all.groupMembers.map((m) => ({ ...m, data: {} })));
    expect(bucket.contents()).toEqual(Object.fromEntries(fullRender([...current.values()]).map((p) => [p.path, p.body])));
    // A name with more records than a piece holds is cut within the name: two pieces begin with it.
    const list = (JSON.parse(bucket.contents()[searchShardPath(searchShardOf('上海'))]!) as { pieces: [string, string][] }).pieces.map(([from]) => from);
    expect(list.some((from, i) => i > 0 && from === list[i - 1])).toBe(true);

    let next = 10_000;
    for (let step = 0; step < 150; step++) {
      const roll = random.int(0, 3);
      const existing = random.pick([...current.values()]);
      if (roll === 0) {
        await apply(existing, undefined);
        current.delete(existing.id);
      } else if (roll === 1) {
        const renamed = { ...existing, subjectName: random.pick(pool) };
        await apply(existing, renamed);
        current.set(renamed.id, renamed);
      } else {
        const added = searchEntry(random.chance(0.3) ? random.pick(crowded) : random.pick(pool), next++);
        await apply(undefined, added);
        current.set(added.id, added);
      }
      expect(bucket.contents(), `after step ${step}`).toEqual(Object.fromEntries(fullRender([...current.values()]).map((p) => [p.path, p.body])));
    }
    // The piece group lists exactly the pieces in the bucket.
    const listed = (await index.members(piecesPartition(searchShardOf('上海')))).length;
    expect(listed).toBe(Object.keys(bucket.contents()).length - 1);
    // Each change read a few runs of names, not the shard (about 1,500 entries).
    expect(reads / 150).toBeLessThan(current.size / 5);
  }, 120_000);

  it('a shard an older publisher wrote (one file, entries keyed by record id) is keyed again and cut into pieces at its first change', async () => {
    const pool = subjectNames(seededRandom(8), 3_000).filter((name) => searchShardOf(name) === searchShardOf('上海'));
    const old = pool.slice(0, 400).map(searchEntry);
    const index = new MemorySiteIndex();
    const bucket = new MemorySiteBucket();
    const pk = searchPartition(searchShardOf('上海'));
    await index.putMembers(old.map((e) => ({ pk, sk: e.id, data: e as unknown as Record<string, unknown> })));
    await bucket.put({ path: searchShardPath(searchShardOf('上海')), body: '{"items":[]}', contentType: 'application/json; charset=utf-8' });
    // One record renamed (its entry now under its new key), one new.
    const renamed = { ...old[0]!, subjectName: '上海改名后的有限公司' };
    const added = searchEntry('上海新来的有限公司', 9_999);
    await index.putMembers([renamed, added].map((e) => ({ pk, sk: searchSortKey(e), data: e as unknown as Record<string, unknown> })));
    const refreshed = await searchPieces.refresh(pk, [searchSortKey(renamed), searchSortKey(added)], index);
    await writePages(refreshed.pages, refreshed.deletions, { index, bucket });
    await refreshed.afterWrites();
    const now = [renamed, ...old.slice(1), added];
    expect(bucket.contents()).toEqual(Object.fromEntries(fullRender(now).map((p) => [p.path, p.body])));
    expect((await index.members(pk)).map((m) => m.sk).sort()).toEqual(now.map(searchSortKey).sort());
    expect((await index.members(piecesPartition(searchShardOf('上海')))).length).toBeGreaterThan(1);
  });

  it('a change cut short at any write converges when it is applied again', async () => {
    const pool = subjectNames(seededRandom(7), 4_000).filter((name) => searchShardOf(name) === searchShardOf('上海'));
    const base = pool.slice(0, 300).map(searchEntry);
    // A cut name entering splits a piece: the most writes a change makes (two pieces, the shard's list, the group).
    const cutName = pool.find((name, i) => i >= 300 && startsPiece(searchKey(name)))!;
    const newcomer = searchEntry(cutName, 5_000);
    for (let failAt = 1; failAt <= 8; failAt++) {
      for (const where of ['bucket', 'index'] as const) {
        const index = new MemorySiteIndex();
        const bucket = new MemorySiteBucket();
        const pk = searchPartition(searchShardOf('上海'));
        const members: Member[] = base.map((e) => ({ sk: searchSortKey(e), data: e as unknown as Record<string, unknown> }));
        await index.putMembers(members.map((m) => ({ pk, ...m })));
        const all = searchPieces.renderAll(pk, members);
        await writePages(all.pages, [], { index, bucket });
        await index.putMembers(all.groupMembers.map((m) => ({ ...m, data: {} })));
        if (where === 'bucket') bucket.failAt = failAt;
        else index.failWriteAt = failAt;
        const change = async () => {
          await index.putMembers([{ pk, sk: searchSortKey(newcomer), data: newcomer as unknown as Record<string, unknown> }]);
          const refreshed = await searchPieces.refresh(pk, [searchSortKey(newcomer)], index);
          await writePages(refreshed.pages, refreshed.deletions, { index, bucket });
          await refreshed.afterWrites();
        };
        try {
          await change();
        } catch {
          await change();
        }
        expect(bucket.contents(), `${where} failing at write ${failAt}`).toEqual(Object.fromEntries(fullRender([...base, newcomer]).map((p) => [p.path, p.body])));
      }
    }
  });
});
