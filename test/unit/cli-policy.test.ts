/**
 * `hub policy show|set` (cli/policy.ts) against the fake hub: the policy shown as text or JSON; a change read
 * from the current policy and written back whole (PUT replaces it), only when it changes something; bad
 * arguments refused before anything is sent; the hub's refusals one line naming the field.
 */
import { describe, expect, it } from 'vitest';
import { changedPolicy, samePolicy } from '../../cli/policy.js';
import { runHub } from '../../cli/program.js';
import { expectOneLine, useFakeHub, type Received } from './cli-fake-hub.js';

const fake = useFakeHub();
const { captureIo, sent, expectRefusedBeforeSending } = fake;
const policyRequests = (r: Received) => r.path === '/v1/publication-policy';

const policy = (kinds: string[], sources: string[], updated = true) => ({
  approvedOnArrival: { kinds, sources },
  ...(updated ? { updatedBy: 'operator', updatedAt: '2026-06-01T08:00:00.000Z' } : {}),
});

/** The hub answers the GET with `current` and a PUT with what was sent (as the real one does). */
function answerPolicy(current: ReturnType<typeof policy>) {
  fake.hub.answerNext((r) => policyRequests(r) && r.method === 'GET', { status: 200, body: current });
}
function answerPut(stored: ReturnType<typeof policy>) {
  fake.hub.answerNext((r) => policyRequests(r) && r.method === 'PUT', { status: 200, body: stored });
}

describe('hub policy show', () => {
  it('prints the kinds and sources approved on arrival, and who set it when', async () => {
    answerPolicy(policy(['license'], ['shi-swj', 'qu-scjgj']));
    const io = captureIo();
    expect(await runHub(['policy', 'show'], io)).toBe(0);
    expect(sent().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/publication-policy']);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toBe('记录须审核后公示，以下到达即批准 (records wait for review, except these, approved on arrival):');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^  种类 kinds +license$/),
      expect.stringMatching(/^  数据源 sources +shi-swj, qu-scjgj$/),
      expect.stringMatching(/^  更新 updated +2026-06-01T08:00:00Z \(operator\)$/),
    ]);
  });

  it('says every record waits for review when nothing is approved on arrival; --json prints the hub’s answer', async () => {
    answerPolicy(policy([], [], false));
    const io = captureIo();
    expect(await runHub(['policy', 'show'], io)).toBe(0);
    expect(io.out.split('\n')[0]).toBe('所有记录均须审核后公示 (every record waits for review: nothing is approved on arrival)');
    answerPolicy(policy(['license'], []));
    const json = captureIo();
    expect(await runHub(['policy', 'show', '--json'], json)).toBe(0);
    expect(JSON.parse(json.out)).toEqual(policy(['license'], []));
  });

  it('reports a 403 as one line naming the operator key', async () => {
    fake.hub.answerNext(policyRequests, { status: 403, body: { error: { code: 'forbidden', message: '此操作需要以下角色之一: operator', details: [] } } });
    const io = captureIo();
    expect(await runHub(['policy', 'show'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('needs the operator key');
  });
});

describe('hub policy set', () => {
  it('--add-kind adds to what the hub has and writes the whole policy back; prints it and when it applies', async () => {
    answerPolicy(policy([], ['shi-swj']));
    answerPut(policy(['license'], ['shi-swj']));
    const io = captureIo();
    expect(await runHub(['policy', 'set', '--add-kind', 'license'], io)).toBe(0);
    expect(sent().map((r) => [r.method, r.path, r.json])).toEqual([
      ['GET', '/v1/publication-policy', undefined],
      ['PUT', '/v1/publication-policy', { approvedOnArrival: { kinds: ['license'], sources: ['shi-swj'] } }],
    ]);
    expect(io.out).toMatch(/种类 kinds +license\n/);
    expect(io.err).toContain('applies to records pushed from now on');
  });

  it('--kinds and --sources replace the lists (\'\' for none); the removals and additions of one call go together', async () => {
    answerPolicy(policy(['license', 'penalty'], ['a1', 'b2']));
    answerPut(policy([], ['c3', 'd4']));
    const io = captureIo();
    expect(await runHub(['policy', 'set', '--kinds', '', '--sources', 'c3, d4', '--json'], io)).toBe(0);
    expect(sent()[1]!.json).toEqual({ approvedOnArrival: { kinds: [], sources: ['c3', 'd4'] } });
    expect(JSON.parse(io.out)).toEqual(policy([], ['c3', 'd4']));

    fake.forgetSent();
    answerPolicy(policy(['license'], ['a1', 'b2']));
    answerPut(policy(['license', 'penalty'], ['b2', 'c3']));
    expect(await runHub(['policy', 'set', '--add-kind', 'penalty', '--remove-source', 'a1', '--add-source', 'c3'], captureIo())).toBe(0);
    expect(sent()[1]!.json).toEqual({ approvedOnArrival: { kinds: ['license', 'penalty'], sources: ['b2', 'c3'] } });
  });

  it('sends nothing when the change changes nothing, and says why', async () => {
    answerPolicy(policy(['license'], []));
    const io = captureIo();
    expect(await runHub(['policy', 'set', '--add-kind', 'license', '--remove-source', 'shi-swj'], io)).toBe(0);
    expect(sent().map((r) => r.method)).toEqual(['GET']);
    expect(io.err).toContain('kind license was already approved on arrival');
    expect(io.err).toContain('source shi-swj was not approved on arrival');
    expect(io.err).toContain('the policy is unchanged: nothing sent');
  });

  it.each([
    [['policy', 'set'], 'nothing to change'],
    [['policy', 'set', '--add-kind', 'fines'], 'unknown kind "fines": --add-kind takes license, penalty'],
    [['policy', 'set', '--kinds', 'license,penalty,license'], '--kinds lists license twice'],
    [['policy', 'set', '--kinds', 'license', '--remove-kind', 'penalty'], '--kinds replaces the list'],
    [['policy', 'set', '--sources', 'a1', '--add-source', 'b2'], '--sources replaces the list'],
    [['policy', 'set', '--add-source', 'bad id!'], '--add-source "bad id!"'],
    [['policy', 'set', '--add-source', 'operator'], 'reserved for the credit office'],
    [['policy', 'set', '--add-kind', 'license', '--remove-kind', 'license'], 'license is both added and removed'],
  ])('refuses %j before asking the hub: one line, exit 1', async (args, message) => {
    await expectRefusedBeforeSending(args, message);
  });

  it('shows the field the hub names when it refuses the policy, and which option it is', async () => {
    answerPolicy(policy([], []));
    fake.hub.answerNext((r) => policyRequests(r) && r.method === 'PUT', {
      status: 400,
      body: { error: { code: 'invalid_body', message: '请求内容有误 (invalid request body)', details: [{ field: 'approvedOnArrival.sources', message: '不能超过500项 (at most 500)' }] } },
    });
    const io = captureIo();
    expect(await runHub(['policy', 'set', '--sources', 'a1'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('设置公示策略失败 (setting the publication policy failed)');
    expect(io.err).toContain('approvedOnArrival.sources: 不能超过500项');
    expect(io.err).toContain('the fields of --kinds and --sources');
  });
});

describe('changedPolicy', () => {
  const current = { kinds: ['license' as const], sources: ['a1'] };

  it('adds once, removes, and keeps what is not named', () => {
    expect(changedPolicy(current, { addKind: ['penalty,penalty'], addSource: ['b2', 'a1'] })).toEqual({
      approvedOnArrival: { kinds: ['license', 'penalty'], sources: ['a1', 'b2'] },
      notes: ['数据源a1已是到达即批准 (source a1 was already approved on arrival)'],
    });
    expect(changedPolicy(current, { removeKind: ['license'] }).approvedOnArrival).toEqual({ kinds: [], sources: ['a1'] });
    expect(changedPolicy(current, { sources: '' }).approvedOnArrival).toEqual({ kinds: ['license'], sources: [] });
  });

  it('refuses more sources than the API keeps', () => {
    const many = Array.from({ length: 501 }, (_, i) => `s${i}`).join(',');
    expect(() => changedPolicy(current, { sources: many })).toThrow('at most 500 sources');
  });

  it('compares lists whatever their order', () => {
    expect(samePolicy({ kinds: ['license', 'penalty'], sources: [] }, { kinds: ['penalty', 'license'], sources: [] })).toBe(true);
    expect(samePolicy({ kinds: ['license'], sources: [] }, { kinds: ['license'], sources: ['a1'] })).toBe(false);
  });
});
