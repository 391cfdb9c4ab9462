/**
 * The site's Eta templates, as string constants so that esbuild bundles them into a Lambda
 * with no file loader (infra/bundling.ts) and nothing is read from disk at run time.
 *
 * Every value goes through `<%= %>`, which Eta HTML-escapes (autoEscape, & < > " '). The only
 * raw output, `<%~ %>`, inserts what Eta itself rendered: a page body into the layout, and a
 * partial. Templates get view models with every href and label computed (render.ts): no
 * HTML is built by string concatenation anywhere.
 *
 * No inline script, no style attribute, no inline event handler: the pages work under
 * `Content-Security-Policy: default-src 'self'`.
 */

export const LAYOUT = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %> - <%= it.siteName %></title>
<link rel="stylesheet" href="<%= it.stylesheet %>">
<% if (it.script) { %><script src="<%= it.script %>" defer></script>
<% } %></head>
<body>
<a class="skip-link" href="#main">跳到正文</a>
<header class="site-header">
<p class="site-name"><a href="<%= it.home %>"><%= it.siteName %></a></p>
<nav class="site-nav" aria-label="栏目">
<ul>
<% it.nav.forEach(function (item) { %><li><a href="<%= item.href %>"<% if (item.current) { %> aria-current="true"<% } %>><%= item.label %></a></li>
<% }) %></ul>
</nav>
</header>
<% if (it.breadcrumbs.length > 0) { %><nav class="breadcrumbs" aria-label="当前位置">
<ol>
<% it.breadcrumbs.forEach(function (crumb) { %><li><a href="<%= crumb.href %>"><%= crumb.label %></a></li>
<% }) %><li aria-current="page"><%= it.heading %></li>
</ol>
</nav>
<% } %><main id="main" tabindex="-1">
<%~ it.body %>
</main>
<footer class="site-footer">
<p>本站公示的信用信息经认定部门报送并经审核。对公示信息有异议的，可向信用主管部门提出异议申请。</p>
<p>公示信息中的身份证件号码已作隐藏处理。</p>
</footer>
</body>
</html>
`;

/** A table of list entries; `it.entries` are view models (entryView), `it.caption` names the table, `it.showSubject` adds the subject column. */
export const ENTRIES = `<% if (it.entries.length === 0) { %><p>暂无公示信息。</p>
<% } else { %><table class="entries">
<caption><%= it.caption %></caption>
<thead>
<tr><th scope="col">类别</th><th scope="col">决定文书</th><% if (it.showSubject) { %><th scope="col">主体</th><% } %><th scope="col">日期</th><th scope="col">状态</th></tr>
</thead>
<tbody>
<% it.entries.forEach(function (e) { %><tr>
<td><%= e.kindLabel %></td>
<td><a href="<%= e.href %>"><%= e.title %></a></td>
<% if (it.showSubject) { %><td><a href="<%= e.subjectHref %>"><%= e.subjectName %></a><span class="subject-label"><%= e.subjectLabel %></span></td>
<% } %><td><%= e.decisionDate %></td>
<td><% if (e.underObjection) { %><strong class="badge objection-badge">异议处理中</strong><% } else { %>公示中<% } %></td>
</tr>
<% }) %></tbody>
</table>
<% } %>`;

export const RECORD = `<% layout('@layout', it.page) %><article>
<h1><%= it.record.title %></h1>
<% if (it.record.underObjection) { %><div class="notice objection" role="note">
<p><strong>异议处理中</strong>：该信息已有异议申请，正在核实处理；处理完毕前以下内容可能被更正或撤销。</p>
</div>
<% } %><p class="record-meta"><span class="badge"><%= it.kindLabel %></span> 主体：<a href="<%= it.subjectHref %>"><%= it.record.subjectName %></a>（<%= it.record.subjectLabel %>）</p>
<section aria-labelledby="content-heading">
<h2 id="content-heading">公示内容</h2>
<table class="fields">
<caption class="visually-hidden"><%= it.record.title %>的公示内容</caption>
<tbody>
<% it.record.fields.forEach(function (f) { %><tr><th scope="row"><%= f.label %></th><td><%= f.value %></td></tr>
<% }) %></tbody>
</table>
</section>
<section aria-labelledby="period-heading">
<h2 id="period-heading">公示期限</h2>
<p><% if (it.record.until) { %>自 <%= it.record.from %> 起至 <%= it.record.until %> 止。<% } else { %>自 <%= it.record.from %> 起，至许可失效时止。<% } %></p>
</section>
<p class="up-links"><a href="<%= it.dayHref %>"><%= it.dayLinkLabel %></a></p>
</article>
`;

export const SUBJECT = `<% layout('@layout', it.page) %><h1><%= it.subject.name %></h1>
<p class="record-meta"><%= it.subject.label %></p>
<section aria-labelledby="records-heading">
<h2 id="records-heading">公示信息</h2>
<%~ include('@entries', { entries: it.entries, caption: it.caption, showSubject: false }) %>
</section>
`;

export const LIST = `<% layout('@layout', it.page) %><h1><%= it.heading %></h1>
<p>共 <%= it.entries.length %> 条。</p>
<%~ include('@entries', { entries: it.entries, caption: it.caption, showSubject: true }) %>
<p class="up-links"><a href="<%= it.monthHref %>"><%= it.monthLinkLabel %></a></p>
`;

/** A page of links: month page (its days), kind page (its months). */
export const LINKS = `<% layout('@layout', it.page) %><h1><%= it.heading %></h1>
<% if (it.intro) { %><p><%= it.intro %></p>
<% } %><% if (it.links.length === 0) { %><p>暂无公示信息。</p>
<% } else { %><ul class="link-list">
<% it.links.forEach(function (l) { %><li><a href="<%= l.href %>"><%= l.label %></a></li>
<% }) %></ul>
<% } %>`;

export const INDEX = `<% layout('@layout', it.page) %><h1><%= it.heading %></h1>
<p>本站公示经审核的行政许可、行政处罚、失信被执行人等公共信用信息，以及政务诚信专栏。可按类别和决定日期浏览，或<a href="<%= it.searchHref %>">按名称搜索</a>。</p>
<% it.sections.forEach(function (s) { %><section aria-labelledby="<%= s.id %>">
<h2 id="<%= s.id %>"><%= s.label %></h2>
<% if (s.intro) { %><p><%= s.intro %></p>
<% } %><% if (s.months.length === 0) { %><p>暂无公示信息。</p>
<% } else { %><ul class="link-list">
<% s.months.forEach(function (m) { %><li><a href="<%= m.href %>"><%= m.label %></a></li>
<% }) %></ul>
<% } %><p><a href="<%= s.href %>"><%= s.allLabel %></a></p>
</section>
<% }) %>`;

export const NOT_FOUND = `<% layout('@layout', it.page) %><h1><%= it.heading %></h1>
<p>您访问的页面不存在，或该信息已不在公示期内（已撤销、已修复或公示期满的信息不再公示）。</p>
<p><a href="<%= it.home %>">返回首页</a></p>
`;

export const SEARCH = `<% layout('@layout', it.page) %><h1><%= it.heading %></h1>
<form class="search-form" id="search-form" action="<%= it.action %>" method="get" role="search">
<label for="search-query">主体名称（至少两个字，按名称开头匹配）</label>
<input id="search-query" name="q" type="search" minlength="2" maxlength="100" autocomplete="off">
<button type="submit">搜索</button>
</form>
<noscript><p>搜索需要启用 JavaScript。也可以<a href="<%= it.home %>">按类别和日期浏览</a>全部公示信息。</p></noscript>
<p id="search-status" class="search-status" role="status"></p>
<ul id="search-results" class="link-list"></ul>
`;
