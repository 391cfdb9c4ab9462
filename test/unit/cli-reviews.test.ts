/**
 * `hub reviews list|approve|withhold` (cli/reviews.ts, cli/decisions.ts, wired in cli/publication-commands.ts)
 * against the fake hub: the queue read one page or every page (the cursor followed), shown as a table or JSON;
 * approve and withhold sending what the API takes; bad arguments refused before anything is sent; every refusal
 * of the hub one line naming the field, exit 1.
 */
import { describe, expect, it } from 'vitest';
import { runHub } from '../../cli/program.js';
import { displayWidth } from '../../cli/sources.js';
import { cellText } from '../../cli/terminal-text.js';
import { expectOneLine, OPERATOR_KEY, useFakeHub, type Received } from './cli-fake-hub.js';

const fake = useFakeHub();
const { captureIo, sent, expectRefusedBeforeSending } = fake;
const reviewRequests = (r: Received) => r.path.startsWith('/v1/reviews');
const decisionRequests = (r: Received) => r.path.startsWith('/v1/records/');

const ID = (c: string) => `pen_${c.repeat(26)}`;
const item = (c: string, waitingSince: string, extra: Record<string, unknown> = {}) => ({
  id: ID(c),
  kind: 'penalty',
  source: 'shi-scjgj',
  version: 1,
  name: '上海某某科技有限公司',
  document: `沪市监罚〔2026〕${c}号`,
  decisionDate: '2026-05-01',
  grade: '2',
  from: '2026-05-01',
  until: '2027-05-01',
  waitingSince,
  underObjection: false,
  ...extra,
});

describe('hub reviews list', () => {
  it('reads one page (limit 50) and prints id, kind, source and since when each record waits, columns lined up; says on stderr that there is more', async () => {
    fake.hub.answerNext(reviewRequests, {
      status: 200,
      body: { items: [item('a', '2026-05-01T01:02:03.456Z'), item('b', '2026-05-02T00:00:00.000Z', { underObjection: true, source: '市局' })], next: 'cursor-1' },
    });
    const io = captureIo();
    expect(await runHub(['reviews', 'list'], io)).toBe(0);
    expect(sent().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/reviews?limit=50']);
    expect(sent()[0]!.headers.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+种类 kind\s+数据源 source\s+等待自 waiting since\s+异议 objection\s+文书号 document$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([
      [ID('a'), 'penalty', 'shi-scjgj', '2026-05-01T01:02:03Z'],
      [ID('b'), 'penalty', '市局', '2026-05-02T00:00:00Z'],
    ]);
    const column = (line: string, text: string) => displayWidth(line.slice(0, line.indexOf(text)));
    expect(column(lines[1]!, '2026-05-01T')).toBe(column(lines[2]!, '2026-05-02T'));
    expect(lines[2]).toContain('异议处理中 open');
    expect(io.err).toBe('hub: 还有更多待审核的记录 (more records wait for review: hub reviews list --all, or --cursor cursor-1)\n');
  });

  it('--all follows the cursor to the last page, with the page size of --limit; --json prints every item and no next', async () => {
    fake.hub.answerNext(
      reviewRequests,
      { status: 200, body: { items: [item('a', '2026-05-01T00:00:00Z'), item('b', '2026-05-02T00:00:00Z')], next: 'c/1+=' } },
      { status: 200, body: { items: [item('c', '2026-05-03T00:00:00Z')] } },
    );
    const io = captureIo();
    expect(await runHub(['reviews', 'list', '--all', '--limit', '2', '--json'], io)).toBe(0);
    expect(sent().map((r) => r.path)).toEqual(['/v1/reviews?limit=2', '/v1/reviews?limit=2&cursor=c%2F1%2B%3D']);
    expect(JSON.parse(io.out)).toEqual({ items: [item('a', '2026-05-01T00:00:00Z'), item('b', '2026-05-02T00:00:00Z'), item('c', '2026-05-03T00:00:00Z')] });
    expect(io.err).toBe('');
  });

  it('--json of one page keeps its next; --cursor continues from it', async () => {
    fake.hub.answerNext(reviewRequests, { status: 200, body: { items: [item('c', '2026-05-03T00:00:00Z')], next: 'cursor-2' } });
    const io = captureIo();
    expect(await runHub(['reviews', 'list', '--cursor', 'cursor-1', '--limit', '1', '--json'], io)).toBe(0);
    expect(sent().map((r) => r.path)).toEqual(['/v1/reviews?limit=1&cursor=cursor-1']);
    expect(JSON.parse(io.out)).toEqual({ items: [item('c', '2026-05-03T00:00:00Z')], next: 'cursor-2' });
    expect(io.err).toBe('');
  });

  it('says so when nothing waits', async () => {
    fake.hub.answerNext(reviewRequests, { status: 200, body: { items: [] } });
    const io = captureIo();
    expect(await runHub(['reviews', 'list'], io)).toBe(0);
    expect(io.out).toBe('（没有待审核的记录 nothing waits for review）\n');
  });

  it('shows what a source sent on one line, without the control characters a terminal would act on', async () => {
    fake.hub.answerNext(reviewRequests, { status: 200, body: { items: [item('a', '2026-05-01T00:00:00Z', { document: '沪\u001b[31m罚\n1号\u202e' })] } });
    const io = captureIo();
    expect(await runHub(['reviews', 'list'], io)).toBe(0);
    expect(io.out).not.toMatch(/[\u001b\u202e]/);
    expect(io.out.trimEnd().split('\n')).toHaveLength(2);
    expect(io.out).toContain('沪 [31m罚 1号');
    expect(cellText('a'.repeat(300), 10)).toBe(`${'a'.repeat(9)}…`);
  });

  it.each([['0'], ['201'], ['ten'], ['1.5']])('refuses --limit %s before asking the hub: one line, exit 1', async (limit) => {
    await expectRefusedBeforeSending(['reviews', 'list', '--limit', limit], '--limit must be an integer from 1 to 200');
  });

  it('reports a refusal of the hub as one line with its code and the fields at fault: exit 1', async () => {
    fake.hub.answerNext(reviewRequests, {
      status: 400,
      body: { error: { code: 'invalid_query', message: '查询参数有误 (invalid query parameter)', details: [{ field: 'cursor', message: '不是本列表的游标 (not a cursor of this list)' }] } },
    });
    const io = captureIo();
    expect(await runHub(['reviews', 'list', '--cursor', 'nope'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('读取待审核记录失败 (reading the review queue failed)');
    expect(io.err).toContain('cursor: 不是本列表的游标');
    expect(io.err).toContain('[HTTP 400 invalid_query]');
    expect(io.out).toBe('');
  });

  it('names the operator key when the hub answers 403', async () => {
    fake.hub.answerNext(reviewRequests, { status: 403, body: { error: { code: 'forbidden', message: '此操作需要以下角色之一: operator', details: [] } } });
    const io = captureIo();
    expect(await runHub(['reviews', 'list'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('[HTTP 403 forbidden]');
    expect(io.err).toContain('needs the operator key');
  });

  it('reports an answer that is not a page as one line: exit 1', async () => {
    fake.hub.answerNext(reviewRequests, { status: 200, body: { items: [{ id: 1 }] } });
    const io = captureIo();
    expect(await runHub(['reviews', 'list'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('unexpected answer to GET /v1/reviews');
  });
});

const result = (id: string, publication: Record<string, unknown>, version = 2) => ({ id, version, publication });

describe('hub reviews approve', () => {
  it('sends an empty body without --note, the note with it, and prints the record’s publication', async () => {
    fake.hub.answerNext(
      decisionRequests,
      { status: 200, body: result(ID('a'), { state: 'approved', from: '2026-05-01', minUntil: '2026-08-01', until: '2027-05-01' }) },
      { status: 200, body: result(ID('b'), { state: 'approved', from: '2026-05-01', until: '2027-05-01' }, 3) },
    );
    const io = captureIo();
    expect(await runHub(['reviews', 'approve', ID('a')], io)).toBe(0);
    expect(await runHub(['reviews', 'approve', ID('b'), '--note', ' 核实无误 '], io)).toBe(0);
    expect(sent().map((r) => [r.method, r.path, r.json])).toEqual([
      ['POST', `/v1/records/${ID('a')}/approve`, {}],
      ['POST', `/v1/records/${ID('b')}/approve`, { note: '核实无误' }],
    ]);
    const lines = io.out.split('\n');
    expect(lines[0]).toBe(`记录 record ${ID('a')}: 已批准公示 approved (版本 version 2)`);
    expect(lines[1]).toMatch(/^  公示期 period +2026-05-01 → 2027-05-01$/);
    expect(lines[2]).toMatch(/^  最短公示期至 minimum until +2026-08-01$/);
    const valueColumn = (line: string) => displayWidth(line.slice(0, line.indexOf('2026-')));
    expect(valueColumn(lines[1]!)).toBe(valueColumn(lines[2]!));
    expect(io.out).toContain(`记录 record ${ID('b')}: 已批准公示 approved (版本 version 3)`);
    expect(io.err).toBe('');
  });

  it('--json prints the hub’s answer', async () => {
    const body = result(ID('a'), { state: 'approved', from: '2026-05-01', until: '2027-05-01' });
    fake.hub.answerNext(decisionRequests, { status: 200, body });
    const io = captureIo();
    expect(await runHub(['reviews', 'approve', ID('a'), '--json'], io)).toBe(0);
    expect(JSON.parse(io.out)).toEqual(body);
  });

  it.each([
    [['reviews', 'approve', 'pen_short'], 'not a record id'],
    [['reviews', 'approve', ID('a'), '--note', '  '], '--note must not be empty'],
    [['reviews', 'approve'], "missing required argument 'id'"],
  ])('refuses %j before asking the hub: one line, exit 1', async (args, message) => {
    await expectRefusedBeforeSending(args, message);
  });

  it('reports a 409 of the hub (the record’s state does not allow it) as one line with its code: exit 1', async () => {
    fake.hub.answerNext(decisionRequests, { status: 409, body: { error: { code: 'publication_state', message: '记录已公示结束，不能批准公示 (the publication has ended)', details: [] } } });
    const io = captureIo();
    expect(await runHub(['reviews', 'approve', ID('a')], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain(`批准公示记录${ID('a')}失败 (approving record ${ID('a')} failed): 记录已公示结束`);
    expect(io.err).toContain('[HTTP 409 publication_state]');
    expect(io.out).toBe('');
  });

  it('reports an unknown record (404) with a pointer to the queue', async () => {
    fake.hub.answerNext(decisionRequests, { status: 404, body: { error: { code: 'not_found', message: '没有这条记录 (unknown record id)', details: [] } } });
    const io = captureIo();
    expect(await runHub(['reviews', 'approve', ID('z')], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('[HTTP 404 not_found]');
    expect(io.err).toContain('hub reviews list');
  });
});

describe('hub reviews withhold', () => {
  it('sends the reason the API requires and prints the record withheld', async () => {
    fake.hub.answerNext(decisionRequests, { status: 200, body: result(ID('a'), { state: 'withheld', from: '2026-05-01', until: '2027-05-01' }, 4) });
    const io = captureIo();
    expect(await runHub(['reviews', 'withhold', ID('a'), '--reason', '当事人身份待核实'], io)).toBe(0);
    expect(sent().map((r) => [r.method, r.path, r.json])).toEqual([['POST', `/v1/records/${ID('a')}/withhold`, { reason: '当事人身份待核实' }]]);
    expect(io.out).toContain(`记录 record ${ID('a')}: 暂缓公示 withheld (版本 version 4)`);
  });

  it.each([
    [['reviews', 'withhold', ID('a')], "required option '--reason <text>' not specified"],
    [['reviews', 'withhold', ID('a'), '--reason', ''], '--reason must not be empty'],
    [['reviews', 'withhold', 'lic_0000', '--reason', 'x'], 'not a record id'],
  ])('refuses %j before asking the hub: one line, exit 1', async (args, message) => {
    await expectRefusedBeforeSending(args, message);
  });

  it('shows the field the hub names in a 400 and which option it is', async () => {
    fake.hub.answerNext(decisionRequests, {
      status: 400,
      body: { error: { code: 'invalid_body', message: '请求内容有误 (invalid request body)', details: [{ field: 'reason', message: '不能超过2000个字符 (at most 2000 characters)' }] } },
    });
    const io = captureIo();
    expect(await runHub(['reviews', 'withhold', ID('a'), '--reason', 'x'.repeat(2001)], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('reason: 不能超过2000个字符 (at most 2000 characters)');
    expect(io.err).toContain('[HTTP 400 invalid_body]');
    expect(io.err).toContain('reason is --reason');
  });
});
