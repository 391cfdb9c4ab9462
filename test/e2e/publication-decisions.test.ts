/**
 * Issue 9, review, objections, repair and expiry, end to end over HTTP against the local stack (`npm start`'s
 * stack, with its built-in platform receiver):
 *
 * 1. The operator makes one source approved on arrival (PUT /v1/publication-policy); another source's penalties
 *    wait in GET /v1/reviews (paged with the cursor, oldest first), its own arrive approved.
 * 2. approve → withhold (a reason is required: 400 naming it) → the record is withheld, its decisions kept.
 * 3. An objection with no key on a published record → 202, the record marked (objection on the record view, the
 *    operator's list with deadlines and the contact); on a record not on the site → 404; resolved revoked → ended.
 * 4. repair → 409 before the grade's minimum period, 200 after it (decision dates computed from today).
 * 5. The expire job (asOf today) ends the approved record whose period is over.
 * 6. The upward platforms receive the revoked and the repaired records as deletes (the receiver's packages).
 *
 * Dates come from today in China and the hub's own period rules; polls have deadlines; no sleep is an assertion.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths, todayInChina } from '../../shared/domain/dates.js';
import { addWorkingDays } from '../../shared/domain/workdays.js';
import { penalty } from '../support/fixtures.js';
import { pause, registerSource, callStack as call } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const OPERATOR_KEY = `hub_${randomUUID().replaceAll('-', '')}e2epub`;
const SETTLE_MS = 120_000;
const AUTO_USCC = '91110000600037341L';
type Json = any;

async function until<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = SETTLE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 2000)} after ${timeoutMs} ms`);
    await pause(500);
  }
}

/** Every record line the built-in receiver kept for `platform`: {recordId, version, operation}. */
function received(dataDir: string, platform: string): { recordId: string; version: number; operation: string }[] {
  const folder = join(dataDir, 'platforms', platform);
  let files: string[];
  try {
    files = readdirSync(folder).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    const kept = JSON.parse(readFileSync(join(folder, f), 'utf8')) as { format: string; body?: { body?: { records?: { recordId: string; version: number; operation: string }[] } } };
    return kept.format === 'json' ? (kept.body?.body?.records ?? []) : [];
  });
}

describe('publication decisions end to end', () => {
  const dataDir = tempDataDir('hub-e2e-publication-');
  const today = todayInChina();
  const run = randomUUID().slice(0, 8);
  let stack: StackProcess;
  let reviewedKey: string;
  let autoKey: string;
  const ids: Record<'fresh' | 'published' | 'recent' | 'repairable' | 'over', string> = { fresh: '', published: '', recent: '', repairable: '', over: '' };

  beforeAll(async () => {
    stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY });
    reviewedKey = await registerSource(stack.url, OPERATOR_KEY, { id: 'pub-reviewed', name: '市市场监督管理局', uscc: '91310115MA1K3BTP2B', role: 'department', kinds: ['penalty'] });
    autoKey = await registerSource(stack.url, OPERATOR_KEY, { id: 'pub-auto', name: '市商务局', uscc: AUTO_USCC, role: 'department', kinds: ['penalty'] });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop('SIGINT');
  }, 60_000);

  it('the policy: one source approved on arrival; the other source’s records wait in the review queue, oldest first, paged', async () => {
    expect((await call(stack, 'GET', '/v1/publication-policy', OPERATOR_KEY)).body).toEqual({ approvedOnArrival: { kinds: [], sources: [] } });
    const set = await call(stack, 'PUT', '/v1/publication-policy', OPERATOR_KEY, { approvedOnArrival: { kinds: [], sources: ['pub-auto'] } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);

    // 一般 penalties: decided today; 2 months ago (minimum period not over); 4 months ago (minimum period over).
    const recent = addMonths(today, -2);
    const older = addMonths(today, -4);
    expect(addMonths(recent, 3) > today && addMonths(older, 3) <= today).toBe(true);
    for (const [name, decided] of [['fresh', today], ['published', today], ['recent', recent], ['repairable', older]] as const) {
      const pushed = await call(stack, 'POST', '/v1/submissions/penalty', reviewedKey, { records: [penalty(`pub-${run}-${name}`, { CF_JDRQ: decided })] });
      expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
      ids[name] = pushed.body.results[0].id;
    }
    // Decided 13 months ago: its 1-year period is over; approved on arrival by the policy (never on the site).
    const over = addMonths(today, -13);
    const auto = await call(stack, 'POST', '/v1/submissions/penalty', autoKey, { records: [penalty(`pub-${run}-over`, { CF_JDRQ: over })] });
    expect(auto.status, JSON.stringify(auto.body)).toBe(200);
    ids.over = auto.body.results[0].id;
    const overView = await call(stack, 'GET', `/v1/records/${ids.over}`, OPERATOR_KEY);
    expect(overView.body.publication).toMatchObject({ state: 'approved', until: addMonths(over, 12), decisions: [{ action: 'auto-approve', by: 'policy' }] });

    const listed: Json[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(stack, 'GET', `/v1/reviews?limit=2${cursor ? `&cursor=${cursor}` : ''}`, OPERATOR_KEY);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      listed.push(...page.body.items);
      cursor = page.body.next;
    } while (cursor);
    expect(listed.map((i) => i.id)).toEqual([ids.fresh, ids.published, ids.recent, ids.repairable]);
    expect(listed.map((i) => i.waitingSince)).toEqual([...listed.map((i) => i.waitingSince)].sort());
    expect(listed[0]).toMatchObject({ kind: 'penalty', source: 'pub-reviewed', grade: '2' });
  });

  it('approve, then withhold (a reason required): withheld, out of the queue, every decision kept', async () => {
    const approved = await call(stack, 'POST', `/v1/records/${ids.fresh}/approve`, OPERATOR_KEY, { note: '核实无误' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.publication.state).toBe('approved');
    const noReason = await call(stack, 'POST', `/v1/records/${ids.fresh}/withhold`, OPERATOR_KEY, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details.map((d: Json) => d.field)).toEqual(['reason']);
    const withheld = await call(stack, 'POST', `/v1/records/${ids.fresh}/withhold`, OPERATOR_KEY, { reason: '当事人身份待核实' });
    expect(withheld.status).toBe(200);
    const view = await call(stack, 'GET', `/v1/records/${ids.fresh}`, OPERATOR_KEY);
    expect(view.body.publication.state).toBe('withheld');
    expect(view.body.publication.decisions.map((d: Json) => [d.action, d.by, d.note])).toEqual([
      ['approve', 'operator', '核实无误'],
      ['withhold', 'operator', '当事人身份待核实'],
    ]);
    const again = await call(stack, 'POST', `/v1/records/${ids.fresh}/withhold`, OPERATOR_KEY, { reason: 'x' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('publication_state');
    const queue = await call(stack, 'GET', '/v1/reviews?limit=200', OPERATOR_KEY);
    expect(queue.body.items.map((i: Json) => i.id)).not.toContain(ids.fresh);
  });

  it('an objection with no key: 202, the record marked; not on the site: 404; the operator sees deadlines and the contact; resolved revoked: ended', async () => {
    for (const id of [ids.published, ids.recent, ids.repairable]) expect((await call(stack, 'POST', `/v1/records/${id}/approve`, OPERATOR_KEY)).status).toBe(200);
    const notPublished = await call(stack, 'POST', '/v1/objections', undefined, { recordId: ids.fresh, reason: '有误', contact: '13912345678' });
    expect(notPublished.status).toBe(404);
    const filed = await call(stack, 'POST', '/v1/objections', undefined, { recordId: ids.published, reason: '处罚决定已被撤销', contact: '13912345678' });
    expect(filed.status, JSON.stringify(filed.body)).toBe(202);
    const { objectionId } = filed.body;
    const marked = await call(stack, 'GET', `/v1/records/${ids.published}`, OPERATOR_KEY);
    expect(marked.body.objection).toMatchObject({ count: 1 });

    const open = await call(stack, 'GET', '/v1/objections?status=open', OPERATOR_KEY);
    expect(open.status).toBe(200);
    expect(open.body.items).toEqual([
      expect.objectContaining({ id: objectionId, recordId: ids.published, contact: '13912345678', acceptBy: addWorkingDays(today, 2), answerBy: addWorkingDays(today, 10), overdue: false }),
    ]);
    expect((await call(stack, 'GET', '/v1/objections', reviewedKey)).status).toBe(403);

    const resolved = await call(stack, 'POST', `/v1/objections/${objectionId}/resolve`, OPERATOR_KEY, { outcome: 'revoked', note: '经核实，原处罚已撤销' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    const view = await call(stack, 'GET', `/v1/records/${ids.published}`, OPERATOR_KEY);
    expect(view.body.publication).toMatchObject({ state: 'ended', endReason: 'revoked', endedOn: todayInChina() });
    expect(view.body.objection).toBeUndefined();
    expect((await call(stack, 'POST', `/v1/objections/${objectionId}/resolve`, OPERATOR_KEY, { outcome: 'upheld', note: 'x' })).status).toBe(409);
    expect((await call(stack, 'GET', '/v1/objections', OPERATOR_KEY)).body.items).toEqual([]);
  });

  it('repair: 409 before the minimum period, 200 after it (ended, repaired)', async () => {
    const early = await call(stack, 'POST', `/v1/records/${ids.recent}/repair`, OPERATOR_KEY, { reason: '已整改' });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('repair_too_early');
    const repaired = await call(stack, 'POST', `/v1/records/${ids.repairable}/repair`, OPERATOR_KEY, { reason: '已整改并作出信用承诺' });
    expect(repaired.status, JSON.stringify(repaired.body)).toBe(200);
    expect(repaired.body.publication).toMatchObject({ state: 'ended', endReason: 'repaired' });
  });

  it('the expire job as of today ends the approved record past its end, and only that one', async () => {
    const started = await call(stack, 'POST', '/v1/jobs/expire', OPERATOR_KEY, { asOf: todayInChina() });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const done = await until(
      'the expire run',
      async () => (await call(stack, 'GET', `/v1/jobs/runs/${started.body.runId}`, OPERATOR_KEY)).body,
      (r) => r.status === 'completed' || r.status === 'failed',
    );
    expect(done).toMatchObject({ job: 'expire', status: 'completed', counts: { expired: 1 } });
    expect((await call(stack, 'GET', `/v1/records/${ids.over}`, OPERATOR_KEY)).body.publication).toMatchObject({ state: 'ended', endReason: 'expired' });
    expect((await call(stack, 'GET', `/v1/records/${ids.recent}`, OPERATOR_KEY)).body.publication.state).toBe('approved');
  });

  it('the upward platforms receive the revoked, repaired and expired records as deletes, and the withheld one as an update', async () => {
    for (const platform of ['provincial', 'national']) {
      const lines = await until(
        `${platform} deliveries`,
        () => received(dataDir, platform),
        (l) => [ids.published, ids.repairable, ids.over].every((id) => l.some((r) => r.recordId === id && r.operation === 'delete')) && l.some((r) => r.recordId === ids.fresh && r.version === 3),
      );
      expect(lines.find((r) => r.recordId === ids.fresh && r.version === 3)!.operation).toBe('upsert');
    }
  });
});
