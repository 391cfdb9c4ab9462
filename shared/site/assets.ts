/**
 * The site's static files: its stylesheet and the small search script. Files, not inline
 * blocks, so that `Content-Security-Policy: default-src 'self'` holds; the script only
 * enhances the search page (every record is reachable by links without it), builds results
 * with DOM text nodes (never innerHTML), and fetches a shard's list of pieces and then
 * only the pieces a query needs (search-index.ts).
 */
import { SEARCH_FUNCTIONS_SOURCE } from './search-index.js';

/** Results shown at a time: more pieces are read when the reader asks for more. */
export const SEARCH_RESULTS_PAGE = 50;

export const STYLESHEET = `:root {
  --text: #1b1b1b;
  --muted: #4a4a4a;
  --link: #0b4f9c;
  --accent: #9e1b1b;
  --line: #c9c9c9;
  --band: #f3f5f8;
  --objection-bg: #fff3e0;
  --objection-text: #7a3200;
  font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif;
  line-height: 1.6;
  color: var(--text);
  background: #ffffff;
}
body { margin: 0; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, main:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
.skip-link { position: absolute; left: 0.5rem; top: -3rem; background: #ffffff; color: var(--link); padding: 0.5rem 1rem; border: 2px solid var(--link); z-index: 10; }
.skip-link:focus { top: 0.5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.site-header { background: var(--accent); color: #ffffff; padding: 0.75rem 1rem; }
.site-header a { color: #ffffff; }
.site-name { margin: 0 0 0.5rem; font-size: 1.35rem; font-weight: bold; }
.site-name a { text-decoration: none; }
.site-nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; }
.site-nav a[aria-current] { font-weight: bold; text-decoration-thickness: 3px; }
.breadcrumbs { background: var(--band); padding: 0.5rem 1rem; font-size: 0.95rem; }
.breadcrumbs ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; }
.breadcrumbs li + li::before { content: "›"; padding: 0 0.5rem; color: var(--muted); }
main { display: block; max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.3; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border: 1px solid var(--line); padding: 0.5rem 0.75rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: var(--band); }
.fields th { width: 30%; background: var(--band); font-weight: normal; color: var(--muted); }
.subject-label { display: block; color: var(--muted); font-size: 0.9rem; }
.badge { display: inline-block; padding: 0 0.5rem; border: 1px solid var(--line); border-radius: 0.25rem; background: var(--band); }
.objection-badge { border-color: var(--objection-text); background: var(--objection-bg); color: var(--objection-text); }
.notice.objection { border-left: 0.4rem solid var(--objection-text); background: var(--objection-bg); color: var(--objection-text); padding: 0.5rem 1rem; margin: 1rem 0; }
.record-meta { color: var(--muted); }
.link-list { padding-left: 1.25rem; }
.link-list li { margin: 0.25rem 0; }
.search-form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 1rem 0; }
.search-form label { flex-basis: 100%; }
.search-form input { flex: 1 1 16rem; font-size: 1rem; padding: 0.4rem; border: 1px solid var(--muted); }
.search-form button { font-size: 1rem; padding: 0.4rem 1.2rem; background: var(--link); color: #ffffff; border: 0; }
.search-status { color: var(--muted); }
#search-more { font-size: 1rem; padding: 0.4rem 1.2rem; background: var(--link); color: #ffffff; border: 0; }
#search-more[hidden] { display: none; }
.site-footer { border-top: 1px solid var(--line); color: var(--muted); font-size: 0.9rem; padding: 1rem; max-width: 72rem; margin: 2rem auto 0; }
@media (max-width: 40rem) {
  .entries thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .entries tr { display: block; border: 1px solid var(--line); margin-bottom: 0.75rem; }
  .entries td { display: block; border: 0; padding: 0.25rem 0.75rem; }
  .fields th, .fields td { display: block; width: auto; border: 0; }
  .fields tr { display: block; border-bottom: 1px solid var(--line); }
}
`;

/**
 * The search page's script. It reads the query (from the form, or `?q=` when a search link
 * is followed), fetches the shard its first two characters name, then the pieces of that
 * shard whose range may hold names beginning with the query, one after another until a page
 * of results is found (a "more" button fetches the next ones), and lists the entries whose
 * subject name begins with the query.
 */
export const SEARCH_SCRIPT = `'use strict';
(function () {
${SEARCH_FUNCTIONS_SOURCE}
  var PAGE = ${SEARCH_RESULTS_PAGE};
  var SAFE_HREF = /^\\/records\\/[a-z0-9_]+\\.html$/;
  var SAFE_ID = /^[0-9a-f]{12}$/;
  var KINDS = { 'license': '行政许可', 'penalty': '行政处罚', 'dishonest-debtor': '失信被执行人' };
  var form = document.getElementById('search-form');
  var input = document.getElementById('search-query');
  var status = document.getElementById('search-status');
  var results = document.getElementById('search-results');
  if (!form || !input || !status || !results) return;
  var more = document.createElement('button');
  more.type = 'button';
  more.id = 'search-more';
  more.textContent = '显示更多结果';
  more.hidden = true;
  results.parentNode.insertBefore(more, results.nextSibling);
  /** The search under way: its query, shard, the pieces still to read, how many results are shown. */
  var current = null;

  function getJson(url) {
    return fetch(url, { headers: { accept: 'application/json' } }).then(function (response) {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  }

  function append(item) {
    var li = document.createElement('li');
    var link = document.createElement('a');
    link.href = item.href;
    link.textContent = item.title;
    li.appendChild(link);
    var text = '：' + item.name + '（' + item.label + '），' + (KINDS[item.kind] || '') + '，' + item.date;
    li.appendChild(document.createTextNode(text));
    if (item.objection) {
      var mark = document.createElement('strong');
      mark.className = 'badge objection-badge';
      mark.textContent = '异议处理中';
      li.appendChild(document.createTextNode(' '));
      li.appendChild(mark);
    }
    results.appendChild(li);
  }

  function report(search) {
    var rest = search.pieces.length > 0;
    more.hidden = !rest;
    if (search.shown === 0 && !rest) status.textContent = '未找到名称以“' + search.query + '”开头的公示信息。';
    else if (rest) status.textContent = '已显示 ' + search.shown + ' 条公示信息，还有更多。';
    else status.textContent = '找到 ' + search.shown + ' 条公示信息。';
  }

  /** Reads pieces until a page of results is shown or none is left; a newer search stops an older one. */
  function next(search) {
    var target = search.shown + PAGE;
    function step() {
      if (search !== current) return undefined;
      if (search.shown >= target || search.pieces.length === 0) return report(search);
      var id = search.pieces.shift();
      if (!SAFE_ID.test(id)) return step();
      return getJson('/search/' + search.shard + '/' + id + '.json').then(function (piece) {
        if (search !== current) return undefined;
        var items = piece && Array.isArray(piece.items) ? piece.items : [];
        items.forEach(function (item) {
          if (searchKey(item.name).indexOf(search.query) === 0 && SAFE_HREF.test(item.href)) {
            append(item);
            search.shown++;
          }
        });
        return step();
      });
    }
    more.hidden = true;
    status.textContent = '正在搜索……';
    return Promise.resolve()
      .then(step)
      .catch(function () {
        if (search === current) status.textContent = '搜索暂时不可用，请按类别浏览。';
      });
  }

  function search(raw) {
    var query = searchKey(raw);
    while (results.firstChild) results.removeChild(results.firstChild);
    more.hidden = true;
    current = null;
    if (query.length < 2) {
      status.textContent = '请输入至少两个字。';
      return;
    }
    var shard = shardOf(query);
    var started = { query: query, shard: shard, pieces: [], shown: 0 };
    current = started;
    status.textContent = '正在搜索……';
    getJson('/search/' + shard + '.json')
      .then(function (index) {
        if (started !== current) return undefined;
        started.pieces = index && Array.isArray(index.pieces) ? piecesFor(index.pieces, query) : [];
        return next(started);
      })
      .catch(function () {
        if (started === current) status.textContent = '搜索暂时不可用，请按类别浏览。';
      });
  }

  more.addEventListener('click', function () {
    if (current) next(current);
  });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var url = new URL(window.location.href);
    url.searchParams.set('q', input.value);
    window.history.replaceState(null, '', url.pathname + url.search);
    search(input.value);
  });
  var initial = new URL(window.location.href).searchParams.get('q');
  if (initial) {
    input.value = initial;
    search(initial);
  }
})();
`;
