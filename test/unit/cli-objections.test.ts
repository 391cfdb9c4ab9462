/**
 * `hub objections list|resolve` (cli/objections.ts) against the fake hub: every page of the open objections read
 * (status=open, the cursor followed), the overdue first, with the deadlines as the hub counts them (Chinese
 * working days) and the objector's contact the hub gives the operator; a resolution sending the outcome and the
 * note the API requires; bad arguments refused before anything is sent; refusals one line with their code.
 */
import { describe, expect, it } from 'vitest';
import { overdueFirst, type Objection } from '../../cli/objections.js';
import { runHub } from '../../cli/program.js';
import { displayWidth } from '../../cli/sources.js';
import { expectOneLine, useFakeHub, type Received } from './cli-fake-hub.js';

const fake = useFakeHub();
const { captureIo, sent, expectRefusedBeforeSending } = fake;
const objectionRequests = (r: Received) => r.path.startsWith('/v1/objections');

const OBJ = (c: string) => `obj_${c.repeat(26)}`;
const REC = (c: string) => `pen_${c.repeat(26)}`;
const objection = (c: string, filedAt: string, acceptBy: string, answerBy: string, state: { overdue?: boolean; acceptanceOverdue?: boolean } = {}): Objection => ({
  id: OBJ(c),
  recordId: REC(c),
  reason: `处罚决定已被撤销 ${c}`,
  contact: `1391234567${c.length}`,
  status: 'open',
  filedAt,
  acceptBy,
  answerBy,
  overdue: state.overdue ?? false,
  acceptanceOverdue: state.acceptanceOverdue ?? false,
});

// As the hub lists them: oldest first. Dates are the hub's; the command only shows them.
const late = objection('a', '2026-09-28T02:00:00.000Z', '2026-09-30', '2026-10-19', { overdue: true, acceptanceOverdue: true });
const unaccepted = objection('b', '2026-10-20T02:00:00.000Z', '2026-10-22', '2026-11-03', { acceptanceOverdue: true });
const fresh = objection('c', '2026-10-21T02:00:00.000Z', '2026-10-23', '2026-11-04');
const laterLate = objection('d', '2026-10-22T02:00:00.000Z', '2026-10-26', '2026-11-05', { overdue: true, acceptanceOverdue: true });

describe('hub objections list', () => {
  it('reads every open objection (status=open, the cursor followed) and prints them the overdue first, with their deadlines and contact', async () => {
    fake.hub.answerNext(objectionRequests, { status: 200, body: { items: [late, unaccepted], next: 'cur-1' } }, { status: 200, body: { items: [fresh, laterLate] } });
    const io = captureIo();
    expect(await runHub(['objections', 'list'], io)).toBe(0);
    expect(sent().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/objections?status=open&limit=200', 'GET /v1/objections?status=open&limit=200&cursor=cur-1']);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toBe('未处理的异议 open objections 4, 答复逾期 answer overdue 2, 受理逾期 acceptance overdue 1');
    expect(lines[1]).toContain('deadlines in Chinese working days after filing: accept within 2, answer within 10');
    expect(lines[2]).toMatch(/^ID\s+记录 record\s+提出 filed\s+受理期限 accept by\s+答复期限 answer by\s+状态 state\s+联系方式 contact\s+理由 reason$/);
    const rows = lines.slice(3).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[0])).toEqual([OBJ('a'), OBJ('d'), OBJ('b'), OBJ('c')]);
    expect(rows[0]).toEqual([OBJ('a'), REC('a'), '2026-09-28T02:00:00Z', '2026-09-30', '2026-10-19', '答复逾期 answer overdue', '13912345671', '处罚决定已被撤销 a']);
    expect(rows[2]![5]).toBe('受理逾期 acceptance overdue');
    expect(rows[3]![5]).toBe('-');
    const column = (line: string, text: string) => displayWidth(line.slice(0, line.indexOf(text)));
    expect(column(lines[3]!, '2026-10-19')).toBe(column(lines[6]!, '2026-11-04'));
    expect(io.err).toBe('');
  });

  it('--json prints every item, the overdue first', async () => {
    fake.hub.answerNext(objectionRequests, { status: 200, body: { items: [fresh, laterLate] } });
    const io = captureIo();
    expect(await runHub(['objections', 'list', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ items: [laterLate, fresh] });
  });

  it('says so when none is open', async () => {
    fake.hub.answerNext(objectionRequests, { status: 200, body: { items: [] } });
    const io = captureIo();
    expect(await runHub(['objections', 'list'], io)).toBe(0);
    expect(io.out).toBe('（没有未处理的异议 no open objections）\n');
  });

  it('shows what the objector wrote on one line, without control characters', async () => {
    fake.hub.answerNext(objectionRequests, { status: 200, body: { items: [{ ...fresh, reason: '第一行\n第二行\u001b]0;title\u0007' }] } });
    const io = captureIo();
    expect(await runHub(['objections', 'list'], io)).toBe(0);
    expect(io.out).not.toMatch(/[\u001b\u0007]/);
    expect(io.out).toContain('第一行 第二行 ]0;title');
  });

  it('reports a 403 as one line naming the operator key, and an answer that is not a page: exit 1', async () => {
    fake.hub.answerNext(objectionRequests, { status: 403, body: { error: { code: 'forbidden', message: '此操作需要以下角色之一: operator', details: [] } } }, { status: 200, body: { items: [{ id: 'x' }] } });
    const io = captureIo();
    expect(await runHub(['objections', 'list'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('读取未处理的异议失败 (reading the open objections failed)');
    expect(io.err).toContain('needs the operator key');
    const bad = captureIo();
    expect(await runHub(['objections', 'list'], bad)).toBe(1);
    expectOneLine(bad.err);
    expect(bad.err).toContain('unexpected answer to GET /v1/objections');
  });

  it('overdueFirst keeps the hub’s order within the overdue, the acceptance-overdue and the rest', () => {
    expect(overdueFirst([fresh, unaccepted, late, laterLate]).map((o) => o.id)).toEqual([OBJ('a'), OBJ('d'), OBJ('b'), OBJ('c')]);
  });
});

describe('hub objections resolve', () => {
  it('sends the outcome and the note, and prints what it means for the record', async () => {
    fake.hub.answerNext(objectionRequests, { status: 200, body: { id: OBJ('a'), status: 'resolved', outcome: 'revoked', recordVersion: 7 } });
    const io = captureIo();
    expect(await runHub(['objections', 'resolve', OBJ('a'), '--outcome', 'revoked', '--note', '经核实，处罚决定已撤销'], io)).toBe(0);
    expect(sent().map((r) => [r.method, r.path, r.json])).toEqual([['POST', `/v1/objections/${OBJ('a')}/resolve`, { outcome: 'revoked', note: '经核实，处罚决定已撤销' }]]);
    expect(io.out).toBe(`异议 objection ${OBJ('a')}: 已处理 resolved — 撤销 revoked: 公示已结束 (publication ended; the platforms are told to delete it); 记录版本 record version 7\n`);
  });

  it('--json prints the hub’s answer', async () => {
    const body = { id: OBJ('b'), status: 'resolved', outcome: 'upheld', recordVersion: 3 };
    fake.hub.answerNext(objectionRequests, { status: 200, body });
    const io = captureIo();
    expect(await runHub(['objections', 'resolve', OBJ('b'), '--outcome', 'upheld', '--note', '记录无误', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out)).toEqual(body);
  });

  it.each([
    [['objections', 'resolve', OBJ('a'), '--outcome', 'dismissed', '--note', 'x'], "argument 'dismissed' is invalid. Allowed choices are upheld, corrected, revoked"],
    [['objections', 'resolve', OBJ('a'), '--note', 'x'], "required option '--outcome <outcome>' not specified"],
    [['objections', 'resolve', OBJ('a'), '--outcome', 'upheld'], "required option '--note <text>' not specified"],
    [['objections', 'resolve', OBJ('a'), '--outcome', 'upheld', '--note', ' '], '--note must not be empty'],
    [['objections', 'resolve', 'obj_1', '--outcome', 'upheld', '--note', 'x'], 'not an objection id'],
  ])('refuses %j before asking the hub: one line, exit 1', async (args, message) => {
    await expectRefusedBeforeSending(args, message);
  });

  it('reports an objection already resolved (409) and an unknown one (404) as one line with the code', async () => {
    fake.hub.answerNext(
      objectionRequests,
      { status: 409, body: { error: { code: 'objection_state', message: '该异议已处理 (the objection is already resolved)', details: [] } } },
      { status: 404, body: { error: { code: 'not_found', message: '没有这项异议 (unknown objection id)', details: [] } } },
    );
    const io = captureIo();
    expect(await runHub(['objections', 'resolve', OBJ('a'), '--outcome', 'upheld', '--note', 'x'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain(`处理异议${OBJ('a')}失败 (resolving objection ${OBJ('a')} failed)`);
    expect(io.err).toContain('[HTTP 409 objection_state]');
    const unknown = captureIo();
    expect(await runHub(['objections', 'resolve', OBJ('z'), '--outcome', 'corrected', '--note', 'x'], unknown)).toBe(1);
    expectOneLine(unknown.err);
    expect(unknown.err).toContain('[HTTP 404 not_found]');
    expect(unknown.err).toContain('hub objections list');
  });

  it('shows the field the hub names in a 400', async () => {
    fake.hub.answerNext(objectionRequests, {
      status: 400,
      body: { error: { code: 'invalid_body', message: '请求内容有误 (invalid request body)', details: [{ field: 'note', message: '不能超过2000个字符 (at most 2000 characters)' }] } },
    });
    const io = captureIo();
    expect(await runHub(['objections', 'resolve', OBJ('a'), '--outcome', 'upheld', '--note', 'x'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('note: 不能超过2000个字符');
    expect(io.err).toContain('note is --note');
  });
});
