/**
 * Pagination keys and change plans: one change touches its record page, its subject page,
 * the day lists it enters or leaves and its search shard, never pages of other days; month,
 * section and index pages only when a day or a month appears or disappears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collection, collectionPath, collectionsOf, pagesAbove, planChange } from '../../shared/site/change-plan.js';
import { renderFullSite } from '../../shared/site/full-site.js';
import { pageHash, type SitePage } from '../../shared/site/page.js';
import {
  kindPagePath,
  listKey,
  listKeysFor,
  listPagePath,
  monthPagePath,
  parseListKey,
  recordPath,
  subjectPath,
} from '../../shared/site/paths.js';
import { type PublicRecord, toListEntry, toPublicRecord } from '../../shared/site/public-record.js';
import { SEARCH_FUNCTIONS_SOURCE, searchShardOf, searchShardPath } from '../../shared/site/search-index.js';
import { addDays } from '../support/dates.js';
import { seededRandom } from '../support/seeded-random.js';
import { approved, daysAgo, debtor, debtorRaw, governmentUscc, headFactory, type HeadFactory, penalty, penaltyRaw } from '../support/site-heads.js';

let factory: HeadFactory;
beforeAll(() => {
  factory = headFactory();
});
afterAll(() => factory.dispose());

const AS_OF = daysAgo(1);
const publicOf = async (head: Promise<Parameters<typeof approved>[0]>): Promise<PublicRecord> => toPublicRecord(approved(await head), AS_OF)!;

describe('pagination keys', () => {
  it('a record is listed on the day page of its kind, and of the 政务诚信专栏 when it belongs there', async () => {
    const day = daysAgo(12);
    const [y, m, d] = day.split('-');
    const company = await publicOf(penalty(factory.deps, penaltyRaw(1, day)));
    expect(listKeysFor(company)).toEqual([`penalty/${y}/${m}/${d}`]);
    expect(listPagePath(listKeysFor(company)[0]!)).toBe(`lists/penalty/${y}/${m}/${d}.html`);
    const gov = await publicOf(debtor(factory.deps, debtorRaw(2, day, governmentUscc(seededRandom(1)), { iname: '某县某局', businessEntity: '赵六' })));
    expect(listKeysFor(gov)).toEqual([`dishonest-debtor/${y}/${m}/${d}`, `gov/${y}/${m}/${d}`]);
    expect(parseListKey(`gov/${y}/${m}/${d}`)).toEqual({ section: 'gov', day });
    expect(monthPagePath('gov', `${y}-${m}`)).toBe(`lists/gov/${y}/${m}/index.html`);
    expect(kindPagePath('gov')).toBe('lists/gov/index.html');
  });

  it('keys and paths refuse what is not a key, an id or a slug', () => {
    expect(() => parseListKey('penalty/2026/11')).toThrow(RangeError);
    expect(() => parseListKey('secret/2026/11/28')).toThrow(RangeError);
    expect(() => listKey('penalty', '2026-1-5')).toThrow(RangeError);
    expect(() => recordPath('../etc/passwd')).toThrow(RangeError);
    expect(() => subjectPath('A B')).toThrow(RangeError);
    expect(() => searchShardPath('zz')).toThrow(RangeError);
  });

  it('a record entering a busy list does not change any other day page (no reshuffle)', async () => {
    const days = [daysAgo(30), daysAgo(20), daysAgo(10)];
    const records: PublicRecord[] = [];
    for (const [i, day] of days.entries()) for (let n = 0; n < 4; n++) records.push(await publicOf(penalty(factory.deps, penaltyRaw(`R${i}-${n}`, day, { CF_XDR_MC: `公司${i}${n}` }))));
    const before = hashes(renderFullSite(records));
    const newcomer = await publicOf(penalty(factory.deps, penaltyRaw('NEW', days[0]!, { CF_XDR_MC: '新公司' })));
    const after = hashes(renderFullSite([...records, newcomer]));
    const changed = Object.keys(after).filter((path) => before[path] !== after[path]);
    // The new record page, its subject page, its day page, files of its search shard (its piece; the shard's list of
    // pieces when it is new or its name starts a piece): nothing else.
    const shard = searchShardOf(newcomer.subjectName);
    const ofShard = (path: string) => path === searchShardPath(shard) || path.startsWith(`search/${shard}/`);
    expect(changed.filter((path) => !ofShard(path)).sort()).toEqual([recordPath(newcomer.id), subjectPath(newcomer.subjectSlug), listPagePath(listKeysFor(newcomer)[0]!)].sort());
    expect(changed.filter(ofShard).length).toBeGreaterThanOrEqual(1);
    expect(changed.filter(ofShard).length).toBeLessThanOrEqual(3);
    // And the plan names exactly those: the search shard by its list of pieces (which piece is the publisher's to find).
    const plan = planChange(undefined, newcomer);
    const planned = [plan.record.action === 'write' ? plan.record.path : '', ...plan.collections.map(collectionPath)];
    expect(planned.filter((path) => !ofShard(path)).sort()).toEqual(changed.filter((path) => !ofShard(path)).sort());
    expect(planned).toContain(searchShardPath(shard));
  });
});

function hashes(pages: SitePage[]): Record<string, string> {
  return Object.fromEntries(pages.map((p) => [p.path, pageHash(p)]));
}

describe('planChange', () => {
  it('enter: the record page is written, the entry put in its day list, subject and search shard; its day may appear', async () => {
    const record = await publicOf(penalty(factory.deps, penaltyRaw(10, daysAgo(8))));
    const plan = planChange(undefined, record);
    expect(plan.record).toEqual({ action: 'write', path: recordPath(record.id), record });
    expect(plan.entry).toEqual(toListEntry(record));
    expect(plan.leave).toEqual([]);
    expect(plan.put).toEqual(collectionsOf(record));
    expect(plan.collections).toEqual(collectionsOf(record));
    expect(plan.mayAppear).toEqual(listKeysFor(record));
    expect(plan.mayDisappear).toEqual([]);
  });

  it('leave (withheld, repaired, revoked, expired): the record page is deleted and the entry taken out everywhere', async () => {
    const record = await publicOf(penalty(factory.deps, penaltyRaw(11, daysAgo(8))));
    const plan = planChange(toListEntry(record), undefined);
    expect(plan.record).toEqual({ action: 'delete', path: recordPath(record.id) });
    expect(plan.entry).toBeUndefined();
    expect(plan.leave).toEqual(collectionsOf(record));
    expect(plan.put).toEqual([]);
    expect(plan.collections).toEqual(collectionsOf(record));
    expect(plan.mayDisappear).toEqual(listKeysFor(record));
    expect(plan.mayAppear).toEqual([]);
  });

  it('a change of content that lists do not show rewrites the record page only', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(12, daysAgo(8))));
    const before = toPublicRecord(head, AS_OF)!;
    const after = toPublicRecord({ ...head, fields: { ...head.fields, CF_SY: '更正后的违法事实' } }, AS_OF)!;
    const plan = planChange(toListEntry(before), after);
    expect(plan.record).toMatchObject({ action: 'write', path: recordPath(after.id) });
    expect([plan.leave, plan.put, plan.collections, plan.mayAppear, plan.mayDisappear]).toEqual([[], [], [], [], []]);
  });

  it('an objection opened: the entry is replaced where it is (record, day list, subject, shard), no day moves', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(13, daysAgo(8))));
    const before = toPublicRecord(head, AS_OF)!;
    const after = toPublicRecord({ ...head, objection: { openSince: `${AS_OF}T01:00:00Z`, count: 1 } }, AS_OF)!;
    const plan = planChange(before, after);
    expect(plan.leave).toEqual([]);
    expect(plan.put).toEqual(collectionsOf(after));
    expect(plan.collections).toEqual(collectionsOf(after));
    expect(plan.mayAppear).toEqual([]);
    expect(plan.mayDisappear).toEqual([]);
  });

  it('moved to another day: leaves the old day page, enters the new one; each may disappear or appear', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(14, daysAgo(40))));
    const before = toPublicRecord(head, AS_OF)!;
    const newDay = addDays(head.decisionDate, 3);
    const after = toPublicRecord({ ...head, decisionDate: newDay, publication: { ...head.publication, from: newDay } }, AS_OF)!;
    const plan = planChange(before, after);
    const oldList: Collection = `list:${listKeysFor(before)[0]}`;
    const newList: Collection = `list:${listKeysFor(after)[0]}`;
    expect(plan.leave).toEqual([oldList]);
    expect(plan.put).toEqual(collectionsOf(after));
    expect(plan.collections).toEqual(expect.arrayContaining([oldList, newList, `subject:${after.subjectSlug}`]));
    expect(plan.collections).toHaveLength(4);
    expect(plan.mayDisappear).toEqual(listKeysFor(before));
    expect(plan.mayAppear).toEqual(listKeysFor(after));
  });

  it('the subject changed (a corrected name and code): leaves the old subject page and search shard, enters the new', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(15, daysAgo(8))));
    const before = toPublicRecord(head, AS_OF)!;
    const renamed = approved(await penalty(factory.deps, penaltyRaw(15, daysAgo(8), { CF_XDR_MC: '北京另一家有限公司', CF_XDR_SHXYM: '91110000600037341L' })));
    const after = toPublicRecord(renamed, AS_OF)!;
    expect(after.id).toBe(before.id);
    const plan = planChange(before, after);
    expect(plan.leave).toEqual(expect.arrayContaining([`subject:${before.subjectSlug}`]));
    expect(plan.leave).not.toContain(`list:${listKeysFor(before)[0]}`);
    expect(plan.put).toEqual(collectionsOf(after));
    expect(plan.collections).toEqual(expect.arrayContaining([`subject:${before.subjectSlug}`, `subject:${after.subjectSlug}`]));
    if (searchShardOf(before.subjectName) !== searchShardOf(after.subjectName)) expect(plan.leave).toContain(`search:${searchShardOf(before.subjectName)}`);
    expect(plan.mayAppear).toEqual([]);
    expect(plan.mayDisappear).toEqual([]);
  });

  it('entering the 政务诚信专栏 puts it in the gov day list too; neither before nor after is refused', async () => {
    const random = seededRandom(7);
    const gov = await publicOf(debtor(factory.deps, debtorRaw(16, daysAgo(8), governmentUscc(random), { iname: '某县某局', businessEntity: '赵六' })));
    const plan = planChange(undefined, gov);
    expect(plan.mayAppear).toEqual(listKeysFor(gov));
    expect(plan.mayAppear.some((k) => k.startsWith('gov/'))).toBe(true);
    expect(() => planChange(undefined, undefined)).toThrow(RangeError);
    const other = await publicOf(penalty(factory.deps, penaltyRaw(17, daysAgo(8))));
    expect(() => planChange(toListEntry(other), gov)).toThrow(RangeError);
  });
});

describe('pagesAbove', () => {
  it('a day appearing or disappearing changes its month page; with its month, also the section page and the index', () => {
    expect(pagesAbove('penalty/2026/03/15', false)).toEqual([{ page: 'month', section: 'penalty', month: '2026-03', path: 'lists/penalty/2026/03/index.html' }]);
    expect(pagesAbove('gov/2026/03/15', true).map((p) => p.path)).toEqual(['lists/gov/2026/03/index.html', 'lists/gov/index.html', 'index.html']);
  });
});

describe('search shards', () => {
  it('the browser and the publisher compute the same shard, from the first two characters of the name', () => {
    const inBrowser = new Function(`${SEARCH_FUNCTIONS_SOURCE}\nreturn shardOf;`)() as (name: string) => string;
    const names = ['上海某某科技有限公司', '张三', '某县某局', 'ＡＢＣ公司', 'abc', '李', ''];
    for (const name of names) {
      expect(searchShardOf(name)).toMatch(/^[0-9a-f]{2}$/);
      expect(inBrowser(name)).toBe(searchShardOf(name));
    }
    expect(searchShardOf('上海某某科技有限公司')).toBe(searchShardOf('上海另一家公司'));
    // Full-width and half-width letters are the same query.
    expect(searchShardOf('ＡＢＣ公司')).toBe(searchShardOf('abc'));
  });
});
