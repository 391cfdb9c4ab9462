/**
 * `hub records repair ID --reason TEXT` (cli/decisions.ts) against the fake hub: the reason sent, the ended
 * publication printed; a repair refused before the grade's minimum period (409 repair_too_early) says from which
 * day it is possible when the hub's answer names it; other refusals one line with their code.
 */
import { describe, expect, it } from 'vitest';
import { repairPossibleFrom } from '../../cli/decisions.js';
import { runHub } from '../../cli/program.js';
import { expectOneLine, useFakeHub, type Received } from './cli-fake-hub.js';

const fake = useFakeHub();
const { captureIo, sent, expectRefusedBeforeSending } = fake;
const repairs = (r: Received) => /^\/v1\/records\/[^/]+\/repair$/.test(r.path);
const ID = `pen_${'q'.repeat(26)}`;

describe('hub records repair', () => {
  it('sends the reason and prints the publication ended as repaired', async () => {
    fake.hub.answerNext(repairs, {
      status: 200,
      body: { id: ID, version: 5, publication: { state: 'ended', from: '2026-01-05', minUntil: '2026-04-05', until: '2027-01-05', endedOn: '2026-06-01', endReason: 'repaired' } },
    });
    const io = captureIo();
    expect(await runHub(['records', 'repair', ID, '--reason', '已履行行政处罚决定并作出信用承诺'], io)).toBe(0);
    expect(sent().map((r) => [r.method, r.path, r.json])).toEqual([['POST', `/v1/records/${ID}/repair`, { reason: '已履行行政处罚决定并作出信用承诺' }]]);
    expect(io.out).toContain(`记录 record ${ID}: 公示已结束 ended (版本 version 5)`);
    expect(io.out).toMatch(/结束于 ended on +2026-06-01 \(信用修复 repaired\)\n/);
    expect(io.err).toBe('');
  });

  it('a repair too early says from which day it is possible, as the hub’s answer gives it: exit 1', async () => {
    fake.hub.answerNext(repairs, {
      status: 409,
      body: { error: { code: 'repair_too_early', message: '最短公示期至2027-03-01，此前不能信用修复 (repair is possible from 2027-03-01, the end of the grade\'s minimum period)', details: [] } },
    });
    const io = captureIo();
    expect(await runHub(['records', 'repair', ID, '--reason', '已整改'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toBe(
      `hub: 记录${ID}尚不能信用修复：最短公示期至2027-03-01，自2027-03-01起可申请 (record ${ID} cannot be repaired yet: possible from 2027-03-01, the end of its grade's minimum publication period) [HTTP 409 repair_too_early]\n`,
    );
    expect(io.out).toBe('');
  });

  it('a repair too early without a date in the answer still says why', async () => {
    fake.hub.answerNext(repairs, { status: 409, body: { error: { code: 'repair_too_early', message: 'too early', details: [] } } });
    const io = captureIo();
    expect(await runHub(['records', 'repair', ID, '--reason', '已整改'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain("its grade's minimum publication period is not over");
    expect(io.err).toContain('[HTTP 409 repair_too_early]');
  });

  it('another 409 (no minimum period, or already ended) is the hub’s message with its code', async () => {
    fake.hub.answerNext(repairs, {
      status: 409,
      body: { error: { code: 'publication_state', message: '此类记录没有最短公示期，不适用信用修复 (this record has no minimum publication period)', details: [] } },
    });
    const io = captureIo();
    expect(await runHub(['records', 'repair', ID, '--reason', '已整改'], io)).toBe(1);
    expectOneLine(io.err);
    expect(io.err).toContain('this record has no minimum publication period');
    expect(io.err).toContain('[HTTP 409 publication_state]');
    expect(io.err).not.toContain('possible from');
  });

  it.each([
    [['records', 'repair', ID], "required option '--reason <text>' not specified"],
    [['records', 'repair', ID, '--reason', ' \t '], '--reason must not be empty'],
    [['records', 'repair', 'PEN_X', '--reason', 'x'], 'not a record id'],
  ])('refuses %j before asking the hub: one line, exit 1', async (args, message) => {
    await expectRefusedBeforeSending(args, message);
  });

  it('reads the day from the hub’s message only when it names one', () => {
    expect(repairPossibleFrom('repair is possible from 2027-03-01, the end')).toBe('2027-03-01');
    expect(repairPossibleFrom('too early')).toBeUndefined();
    expect(repairPossibleFrom(undefined)).toBeUndefined();
  });
});
