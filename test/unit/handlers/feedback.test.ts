/**
 * POST /v1/feedback (functions/feedback/handler.ts) with a mocked DynamoDB: only a platform's key may report, the
 * platform is the key's source id, each outcome is a conditional update of the record version's claim, in the
 * platform's own attribute (a version never packaged, without a claim, is reported unknown, never a 5xx), the body is validated item by item, the platform's words are kept with identity numbers
 * redacted, and the request's log line carries counts only.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// First: it sets the environment the handlers and the logger read.
import { DELIVERIES_TABLE, DEPARTMENT_KEY, OPERATOR_KEY, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems, principal } from './support.js';
import { logger } from '../../../shared/logger.js';
import type { KeyPrincipal } from '../../../shared/store/sources-store.js';
import { claimKey } from '../../../shared/upward/package-model.js';
import { handler } from '../../../functions/feedback/handler.js';

const NATIONAL_KEY = 'hub_national-platform-key-for-unit-tests-0123';
const PROVINCIAL_KEY = 'hub_provincial-platform-key-for-unit-tests-01';
const MISNAMED_PLATFORM_KEY = 'hub_misnamed-platform-key-for-unit-tests-01';
const national: KeyPrincipal = principal({ sourceId: 'national', name: '全国信用信息共享平台', role: 'platform', kinds: [] });
const REC_A = 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa';
const REC_B = 'pen_bbbbbbbbbbbbbbbbbbbbbbbbbb';
const REC_UNKNOWN = 'lic_zzzzzzzzzzzzzzzzzzzzzzzzzz';
const IDENTITY_NUMBER = '110102199101010078';

const post = (body: unknown, key = NATIONAL_KEY) => invoke(handler, apiEvent('POST /v1/feedback', { key, body: body as object }));
const feedbackUpdates = () => ddb.commandCalls(UpdateCommand, { TableName: DELIVERIES_TABLE }).map((c) => c.args[0].input);

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  mockKey(NATIONAL_KEY, national);
  mockKey(PROVINCIAL_KEY, principal({ sourceId: 'provincial', name: '省信用信息共享平台', role: 'platform', kinds: [] }));
  mockKey(MISNAMED_PLATFORM_KEY, principal({ sourceId: 'sheng-pingtai', role: 'platform', kinds: [] }));
  // Claimed versions (packaged for the platforms): REC_A v1 and v2, REC_B v3; anything else fails the condition.
  ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
  for (const [recordId, version] of [
    [REC_A, 1],
    [REC_A, 2],
    [REC_B, 3],
  ] as const) {
    ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE, Key: claimKey(recordId, version) }).resolves({});
  }
});

describe('POST /v1/feedback: who may report', () => {
  it('answers 401 without a key', async () => {
    const res = await invoke(handler, apiEvent('POST /v1/feedback', { body: { items: [] } }));
    expect(res.status).toBe(401);
  });

  it.each([
    ['a department', DEPARTMENT_KEY],
    ['the operator', OPERATOR_KEY],
  ])('answers 403 to %s (role platform only), writing nothing', async (_who, key) => {
    const res = await post({ items: [{ recordId: REC_A, version: 1, outcome: 'received' }] }, key);
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
    expect(feedbackUpdates()).toHaveLength(0);
  });

  it('answers 403 to a platform key whose source id is not a platform name: it cannot say which platform speaks', async () => {
    const res = await post({ items: [{ recordId: REC_A, version: 1, outcome: 'received' }] }, MISNAMED_PLATFORM_KEY);
    expect(res.status).toBe(403);
    expect(errorOf(res).message).toContain('provincial or national');
    expect(feedbackUpdates()).toHaveLength(0);
  });
});

describe('POST /v1/feedback: outcomes kept on the claims of their versions', () => {
  it('keeps each outcome on the version’s claim, in the key’s platform’s attribute, by a conditional update; 200 with the count', async () => {
    const res = await post({
      items: [
        { recordId: REC_A, version: 1, outcome: 'received', at: '2026-05-01T16:00:00+08:00' },
        { recordId: REC_B, version: 3, outcome: 'applied', measure: '限制参与政府采购', at: '2026-05-02T01:00:00Z' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ recorded: 2, unknown: [] });
    const updates = feedbackUpdates();
    expect(updates).toHaveLength(2);
    const byRecord = Object.fromEntries(updates.map((u) => [u.Key!.pk as string, u]));
    expect(byRecord[`REC#${REC_A}`]).toMatchObject({
      Key: { pk: `REC#${REC_A}`, sk: 'V#0000000001' },
      ConditionExpression: 'attribute_exists(pk)',
      UpdateExpression: 'SET #feedback = :feedback',
      // One attribute per platform: the other platform's feedback on the same version is left as it is.
      ExpressionAttributeNames: { '#feedback': 'feedback_national' },
      // The platform's time in UTC, and when the hub received it.
      ExpressionAttributeValues: { ':feedback': { outcome: 'received', at: '2026-05-01T08:00:00.000Z', receivedAt: expect.any(String) } },
    });
    expect(byRecord[`REC#${REC_B}`]!.Key).toEqual(claimKey(REC_B, 3));
    expect(byRecord[`REC#${REC_B}`]!.ExpressionAttributeValues![':feedback']).toMatchObject({ outcome: 'applied', measure: '限制参与政府采购', at: '2026-05-02T01:00:00.000Z' });
  });

  it('keeps the provincial platform’s outcome on the same claim, in its own attribute', async () => {
    const res = await post({ items: [{ recordId: REC_A, version: 1, outcome: 'received' }] }, PROVINCIAL_KEY);
    expect(res.body).toEqual({ recorded: 1, unknown: [] });
    expect(feedbackUpdates()).toEqual([
      expect.objectContaining({ Key: claimKey(REC_A, 1), ExpressionAttributeNames: { '#feedback': 'feedback_provincial' }, ConditionExpression: 'attribute_exists(pk)' }),
    ]);
  });

  it('takes the receive time as the outcome’s time when the platform gives none', async () => {
    const before = Date.now();
    expect((await post({ items: [{ recordId: REC_A, version: 2, outcome: 'rejected', reason: '字段缺失' }] })).status).toBe(200);
    const kept = feedbackUpdates()[0]!.ExpressionAttributeValues![':feedback'] as { at: string; receivedAt: string };
    expect(kept.at).toBe(kept.receivedAt);
    expect(Date.parse(kept.receivedAt)).toBeGreaterThanOrEqual(before);
    expect(kept).toMatchObject({ outcome: 'rejected', reason: '字段缺失' });
  });

  it('lists the items about a version never packaged (no claim) as unknown (index, record, version) and keeps the others: 200, never 5xx', async () => {
    const res = await post({
      items: [
        { recordId: REC_UNKNOWN, version: 1, outcome: 'received' },
        { recordId: REC_A, version: 1, outcome: 'received' },
        { recordId: REC_A, version: 9, outcome: 'received' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      recorded: 1,
      unknown: [
        { index: 0, recordId: REC_UNKNOWN, version: 1 },
        { index: 2, recordId: REC_A, version: 9 },
      ],
    });
  });

  it('writes the items about one version in the order given: the later replaces the earlier', async () => {
    const res = await post({
      items: [
        { recordId: REC_A, version: 1, outcome: 'received' },
        { recordId: REC_B, version: 3, outcome: 'received' },
        { recordId: REC_A, version: 1, outcome: 'rejected', reason: '重复' },
      ],
    });
    expect(res.body).toEqual({ recorded: 3, unknown: [] });
    const onA = feedbackUpdates().filter((u) => u.Key!.pk === `REC#${REC_A}`);
    expect(onA.map((u) => (u.ExpressionAttributeValues![':feedback'] as { outcome: string }).outcome)).toEqual(['received', 'rejected']);
  });

  it('keeps a reason or measure with identity numbers redacted (they are shown to the source and the operator)', async () => {
    await post({ items: [{ recordId: REC_A, version: 1, outcome: 'rejected', reason: `身份证号${IDENTITY_NUMBER}与姓名不符` }] });
    const kept = JSON.stringify(feedbackUpdates());
    expect(kept).not.toContain(IDENTITY_NUMBER);
    expect(kept).toContain('与姓名不符');
  });

  it('answers 503 with Retry-After when the deliveries table is throttled (the same request may be sent again)', async () => {
    ddb.on(UpdateCommand, { TableName: DELIVERIES_TABLE }).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: {} }));
    const res = await post({ items: [{ recordId: REC_A, version: 1, outcome: 'received' }] });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('POST /v1/feedback: the body', () => {
  const item = { recordId: REC_A, version: 1, outcome: 'received' };

  it.each([
    ['no items', { items: [] }, 'items'],
    ['more than 1,000 items', { items: Array.from({ length: 1001 }, () => item) }, 'items'],
    ['another key', { items: [item], extra: 1 }, 'extra'],
    ['a rejection without a reason', { items: [item, { ...item, outcome: 'rejected' }] }, 'items.1.reason'],
    ['a measure with an outcome other than applied', { items: [{ ...item, measure: '限制高消费' }] }, 'items.0.measure'],
    ['an unknown outcome', { items: [{ ...item, outcome: 'ignored' }] }, 'items.0.outcome'],
    ['a record id that is not one', { items: [{ ...item, recordId: 'nothing' }] }, 'items.0.recordId'],
    ['a version that is not a positive integer', { items: [{ ...item, version: 0 }] }, 'items.0.version'],
    ['a time that is not ISO 8601', { items: [{ ...item, at: '2026年5月1日' }] }, 'items.0.at'],
    ['a reason over 500 characters', { items: [{ ...item, outcome: 'rejected', reason: '长'.repeat(501) }] }, 'items.0.reason'],
    ['an unknown key in an item', { items: [{ ...item, platform: 'provincial' }] }, 'items.0.platform'],
  ])('answers 400 invalid_feedback for %s, naming %s, and writes nothing', async (_what, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('invalid_feedback');
    expect(errorOf(res).details.map((d) => d.field)).toContain(field);
    expect(feedbackUpdates()).toHaveLength(0);
  });

  it('answers 400 malformed_json for a body that is not JSON', async () => {
    const res = await post('{"items": [');
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('malformed_json');
  });

  it('takes 1,000 items in one request', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ recordId: i % 2 ? REC_A : REC_B, version: i % 2 ? 1 : 3, outcome: 'received' }));
    const res = await post({ items });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ recorded: 1000, unknown: [] });
  });
});

describe('POST /v1/feedback: the log', () => {
  let written: string[];
  beforeEach(() => {
    logger.setLogLevel('INFO');
    written = [];
    const capture = (chunk: unknown) => (written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });

  it('writes counts only: no record id, reason or measure', async () => {
    await post({ items: [{ recordId: REC_A, version: 1, outcome: 'rejected', reason: '统一社会信用代码不存在' }, { recordId: REC_UNKNOWN, version: 1, outcome: 'received' }] });
    const text = written.join('');
    expect(text).toContain('"feedback":{"items":2,"recorded":1,"unknown":1}');
    expect(text).not.toContain(REC_A);
    expect(text).not.toContain(REC_UNKNOWN);
    expect(text).not.toContain('统一社会信用代码不存在');
  });
});
