import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residentIdProblem } from '../../shared/domain/identifiers.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { renderFullSite } from '../../shared/site/full-site.js';
import { pageHash, type SitePage } from '../../shared/site/page.js';
import { hrefOf, INDEX_PATH, listKeysFor, recordPath, subjectPath } from '../../shared/site/paths.js';
import { type PublicRecord, toListEntry, toPublicRecord } from '../../shared/site/public-record.js';
import {
  renderIndex,
  renderKindPage,
  renderListPage,
  renderMonthPage,
  renderNotFound,
  renderRecordPage,
  renderSubjectPage,
  staticAssets,
  subjectOfEntries,
} from '../../shared/site/render.js';
import { addDays } from '../support/dates.js';
import { seededRandom } from '../support/seeded-random.js';
import {
  approved,
  companyUscc,
  daysAgo,
  debtor,
  debtorRaw,
  governmentUscc,
  headFactory,
  type HeadFactory,
  licence,
  licenceRaw,
  penalty,
  penaltyRaw,
  personId,
  personLicenceRaw,
  personPenaltyRaw,
} from '../support/site-heads.js';

let factory: HeadFactory;
beforeAll(() => {
  factory = headFactory();
});
afterAll(() => factory.dispose());

const AS_OF = daysAgo(1);
const publicOf = async (head: Promise<Parameters<typeof approved>[0]>): Promise<PublicRecord> => {
  const record = toPublicRecord(approved(await head), AS_OF);
  if (!record) throw new Error('fixture is not public');
  return record;
};

/** Every href in an HTML page. */
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);

/** Any 18-character string in `text` that is a valid resident identity number. */
function identityNumbersIn(text: string): string[] {
  return [...text.matchAll(/(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])/g)].map((m) => m[0]).filter((id) => residentIdProblem(id, todayInChina()) === null);
}

describe('escaping', () => {
  const HOSTILE = `<script>alert("x")</script>&'"<img src=x onerror=alert(1)>`;

  it('a name and texts with markup render as text on every page that shows them', async () => {
    const record = await publicOf(penalty(factory.deps, penaltyRaw(1, daysAgo(10), { CF_XDR_MC: HOSTILE, CF_SY: HOSTILE, CF_WSH: `罚〔2026〕"><b>1</b>` })));
    const entry = toListEntry(record);
    const pages = [
      renderRecordPage(record),
      renderSubjectPage(subjectOfEntries([entry]), [entry]),
      ...listKeysFor(record).map((key) => renderListPage(key, [entry])),
    ];
    for (const page of pages) {
      expect(page.body, page.path).not.toContain('<script>alert');
      expect(page.body, page.path).not.toContain('<img');
      expect(page.body, page.path).not.toContain('<b>1</b>');
      expect(page.body, page.path).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&quot;&lt;img src=x onerror=alert(1)&gt;');
    }
    // The <title> too.
    expect(pages[0]!.body).toMatch(/<title>[^<]*&lt;b&gt;1&lt;\/b&gt;[^<]*<\/title>/);
  });
});

describe('no full identity number on any page', () => {
  it('a site of person subjects (licences, penalties, court listings, an id typed into free text) shows none, nor any birth date of theirs', async () => {
    const random = seededRandom(101);
    const ids: string[] = [];
    const records: PublicRecord[] = [];
    for (let i = 0; i < 6; i++) {
      const id = personId(random, 25 + i * 7);
      ids.push(id);
      const decided = daysAgo(3 + i);
      records.push(await publicOf(licence(factory.deps, personLicenceRaw(`L${i}`, decided, id))));
      records.push(await publicOf(penalty(factory.deps, personPenaltyRaw(`P${i}`, decided, id, { CF_SY: `当事人身份证号${id}，住址略`, BZ: `证件 ${id}` }))));
      records.push(await publicOf(debtor(factory.deps, debtorRaw(`D${i}`, decided, id, { iname: `被执行人${i}`, duty: `被执行人（${id}）给付货款` }))));
    }
    const pages = renderFullSite(records);
    expect(pages.length).toBeGreaterThan(records.length);
    for (const page of pages) {
      expect(identityNumbersIn(page.body), page.path).toEqual([]);
      for (const id of ids) {
        expect(page.body, page.path).not.toContain(id);
        expect(page.body, page.path).not.toContain(id.slice(6, 14));
      }
    }
    // The check can fail: an id in a page is found.
    expect(identityNumbersIn(`x${ids[0]}y`)).toEqual([ids[0]]);
  });
});

describe('the pages', () => {
  it('are Chinese, have a stable title, a skip link to main, one h1, breadcrumbs, and need no inline script or style', async () => {
    const random = seededRandom(201);
    const records = [
      await publicOf(licence(factory.deps, licenceRaw(1, daysAgo(40)))),
      await publicOf(penalty(factory.deps, penaltyRaw(2, daysAgo(3)))),
      await publicOf(debtor(factory.deps, debtorRaw(3, daysAgo(3), governmentUscc(random), { iname: '某县某局', businessEntity: '赵六' }))),
    ];
    const pages = renderFullSite(records).filter((p) => p.contentType.startsWith('text/html'));
    for (const page of pages) {
      const html = page.body;
      expect(html.startsWith('<!doctype html>\n<html lang="zh-CN">'), page.path).toBe(true);
      expect(html).toMatch(/<title>[^<]+ - 公共信用信息公示<\/title>/);
      expect(html).toContain('<a class="skip-link" href="#main">跳到正文</a>');
      expect(html).toContain('<main id="main" tabindex="-1">');
      expect(html.match(/<h1[ >]/g), page.path).toHaveLength(1);
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      // CSP default-src 'self': scripts only from files, no style attributes, no handlers, no javascript: links.
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/\son[a-z]+=/);
      expect(html).not.toContain('javascript:');
      if (page.path !== INDEX_PATH) expect(html, page.path).toContain('<nav class="breadcrumbs" aria-label="当前位置">');
      // Table headers are header cells with a scope, and every table has a caption.
      expect((html.match(/<table/g) ?? []).length).toBe((html.match(/<caption/g) ?? []).length);
      expect(html).not.toMatch(/<th(?=[\s>])(?![^>]*scope=)/);
    }
  });

  it('a record page shows its fields, its period, links to its subject and its day, and 异议处理中 only while an objection is open', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(4, daysAgo(10))));
    const quiet = renderRecordPage(toPublicRecord(head, AS_OF)!).body;
    const marked = renderRecordPage(toPublicRecord({ ...head, objection: { openSince: `${AS_OF}T02:00:00Z`, count: 1 } }, AS_OF)!).body;
    expect(quiet).not.toContain('异议处理中');
    expect(marked).toContain('<strong>异议处理中</strong>');
    expect(quiet).toContain('<th scope="row">违法事实</th><td>经查，当事人销售的食品不符合食品安全标准。</td>');
    expect(quiet).toContain(`自 ${head.publication.from} 起至 ${head.publication.until} 止`);
    const record = toPublicRecord(head, AS_OF)!;
    expect(hrefs(quiet)).toEqual(expect.arrayContaining([hrefOf(subjectPath(record.subjectSlug)), hrefOf(`lists/penalty/${record.decisionDate.replaceAll('-', '/')}.html`)]));
    // List pages mark it too.
    const entry = toListEntry(toPublicRecord({ ...head, objection: { openSince: `${AS_OF}T02:00:00Z`, count: 1 } }, AS_OF)!);
    expect(renderListPage(listKeysFor(entry)[0]!, [entry]).body).toContain('异议处理中');
    expect(renderListPage(listKeysFor(entry)[0]!, [toListEntry(record)]).body).not.toContain('异议处理中');
  });

  it('a licence without an end of validity is published until it lapses', async () => {
    const record = await publicOf(licence(factory.deps, licenceRaw(5, daysAgo(10))));
    expect(record.until).toBeUndefined();
    expect(renderRecordPage(record).body).toContain(`自 ${record.from} 起，至许可失效时止。`);
  });

  it('month, section and index pages list days and months newest first, and empty ones say so', () => {
    const month = renderMonthPage('penalty', '2026-03', ['2026-03-02', '2026-03-30', '2026-03-15']).body;
    expect(hrefs(month).filter((h) => h.startsWith('/lists/penalty/2026/03/') && !h.endsWith('index.html'))).toEqual([
      '/lists/penalty/2026/03/30.html',
      '/lists/penalty/2026/03/15.html',
      '/lists/penalty/2026/03/02.html',
    ]);
    expect(() => renderMonthPage('penalty', '2026-03', ['2026-04-01'])).toThrow(RangeError);
    const kind = renderKindPage('gov', ['2025-12', '2026-02']).body;
    expect(kind).toContain('政务诚信专栏');
    expect(hrefs(kind)).toEqual(expect.arrayContaining(['/lists/gov/2026/02/index.html', '/lists/gov/2025/12/index.html']));
    expect(kind.indexOf('2026年2月')).toBeLessThan(kind.indexOf('2025年12月'));
    expect(renderKindPage('license', []).body).toContain('暂无公示信息');
    const index = renderIndex({ months: { penalty: ['2026-01', '2026-02', '2025-01', '2025-02', '2025-03', '2025-04', '2025-05'] } }).body;
    expect(index).toContain('/lists/penalty/2026/02/index.html');
    expect(index).not.toContain('/lists/penalty/2025/01/index.html');
    expect(renderNotFound().body).toContain('页面不存在');
  });
});

describe('a crawl from /index.html', () => {
  it('reaches every record page and subject page by links, and every link resolves', async () => {
    const random = seededRandom(301);
    const records: PublicRecord[] = [];
    for (let i = 0; i < 8; i++) {
      const decided = addDays(todayInChina(), -(5 + i * 17));
      records.push(await publicOf(licence(factory.deps, licenceRaw(`C${i}`, decided, { XK_XDR_MC: `公司${i % 3}`, XK_XDR_SHXYM: companyUscc(random) }))));
      records.push(await publicOf(penalty(factory.deps, personPenaltyRaw(`C${i}`, decided, personId(random)))));
    }
    records.push(await publicOf(debtor(factory.deps, debtorRaw('G1', daysAgo(9), governmentUscc(random), { iname: '某县某局', businessEntity: '赵六' }))));
    const pages = new Map(renderFullSite(records).map((p) => [hrefOf(p.path), p]));
    const seen = new Set<string>();
    const queue = [hrefOf(INDEX_PATH)];
    const broken: string[] = [];
    while (queue.length > 0) {
      const href = queue.shift()!;
      if (seen.has(href)) continue;
      seen.add(href);
      const page = pages.get(href);
      if (!page) {
        broken.push(href);
        continue;
      }
      if (page.contentType.startsWith('text/html')) for (const link of hrefs(page.body)) if (link.startsWith('/')) queue.push(link.split('#')[0]!);
    }
    expect(broken).toEqual([]);
    for (const record of records) {
      expect(seen.has(hrefOf(recordPath(record.id))), record.id).toBe(true);
      expect(seen.has(hrefOf(subjectPath(record.subjectSlug))), record.subjectSlug).toBe(true);
    }
    expect(seen.has('/lists/gov/index.html')).toBe(true);
  });
});

describe('determinism and hashes', () => {
  it('the same entries in any order give the same bytes and hash; a change gives another hash', async () => {
    const random = seededRandom(401);
    const day = daysAgo(4);
    const records: PublicRecord[] = [];
    for (let i = 0; i < 5; i++) records.push(await publicOf(penalty(factory.deps, penaltyRaw(`D${i}`, day, { CF_XDR_MC: `公司${i}`, CF_XDR_SHXYM: companyUscc(random) }))));
    const entries = records.map(toListEntry);
    const key = listKeysFor(entries[0]!)[0]!;
    const a = renderListPage(key, entries);
    const b = renderListPage(key, random.shuffle(entries));
    expect(b.body).toBe(a.body);
    expect(pageHash(b)).toBe(pageHash(a));
    const changed = renderListPage(key, [{ ...entries[0]!, underObjection: true }, ...entries.slice(1)]);
    expect(pageHash(changed)).not.toBe(pageHash(a));
    expect(pageHash({ ...a, contentType: 'text/plain' })).not.toBe(pageHash(a));
    const hashes = (pages: SitePage[]) => Object.fromEntries(pages.map((p) => [p.path, pageHash(p)]).sort(([x], [y]) => (x! < y! ? -1 : 1)));
    expect(hashes(renderFullSite(random.shuffle(records)))).toEqual(hashes(renderFullSite(records)));
  });

  it('the static assets: a stylesheet, a search script that parses, the search and not-found pages', () => {
    const assets = staticAssets();
    expect(assets.map((a) => [a.path, a.contentType])).toEqual([
      ['assets/site.css', 'text/css; charset=utf-8'],
      ['assets/search.js', 'text/javascript; charset=utf-8'],
      ['search.html', 'text/html; charset=utf-8'],
      ['404.html', 'text/html; charset=utf-8'],
    ]);
    const script = assets[1]!.body;
    expect(() => new Function(script)).not.toThrow();
    expect(script).not.toContain('innerHTML');
    expect(assets[2]!.body).toContain('<script src="/assets/search.js" defer></script>');
    expect(assets[2]!.body).toContain('<noscript>');
  });
});
