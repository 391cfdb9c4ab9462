/**
 * The site's static files: its stylesheet and the small search script. Files, not inline
 * blocks, so that `Content-Security-Policy: default-src 'self'` holds; the script only
 * enhances the search page (every record is reachable by links without it), builds results
 * with DOM text nodes (never innerHTML), and fetches one index shard per query
 * (search-index.ts).
 */
import { SEARCH_SHARDS, SHARD_FUNCTION_SOURCE } from './search-index.js';

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
 * is followed), fetches the one shard its first two characters name, and lists the entries
 * whose subject name begins with it.
 */
export const SEARCH_SCRIPT = `'use strict';
(function () {
${SHARD_FUNCTION_SOURCE}
  var SHARDS = ${SEARCH_SHARDS};
  var SAFE_HREF = /^\\/records\\/[a-z0-9_]+\\.html$/;
  var KINDS = { 'license': '行政许可', 'penalty': '行政处罚', 'dishonest-debtor': '失信被执行人' };
  var form = document.getElementById('search-form');
  var input = document.getElementById('search-query');
  var status = document.getElementById('search-status');
  var results = document.getElementById('search-results');
  if (!form || !input || !status || !results || SHARDS < 1) return;

  function normal(text) { return String(text).normalize('NFKC').trim().toLowerCase(); }

  function show(items, query) {
    while (results.firstChild) results.removeChild(results.firstChild);
    var found = items.filter(function (item) { return normal(item.name).indexOf(query) === 0 && SAFE_HREF.test(item.href); });
    status.textContent = found.length === 0 ? '未找到名称以“' + query + '”开头的公示信息。' : '找到 ' + found.length + ' 条公示信息。';
    found.forEach(function (item) {
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
    });
  }

  function search(raw) {
    var query = normal(raw);
    if (query.length < 2) {
      status.textContent = '请输入至少两个字。';
      return;
    }
    status.textContent = '正在搜索……';
    fetch('/search/' + shardOf(query) + '.json', { headers: { accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 404) return { items: [] };
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (shard) { show(Array.isArray(shard.items) ? shard.items : [], query); })
      .catch(function () { status.textContent = '搜索暂时不可用，请按类别浏览。'; });
  }

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
