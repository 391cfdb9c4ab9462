import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_TABLE, DEPARTMENT_KEY, OPERATOR_KEY, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems } from './support.js';
import { AUDIT_DAYS_MAX, AUDIT_PAGE_DEFAULT } from '../../../contracts/audit.js';
import { todayInChina } from '../../../shared/domain/dates.js';
import { handler } from '../../../functions/audit/handler.js';

const RECORD = 'pen_wobgmpalg34qjcdh5xekqtxjq2';
const list = (query?: Record<string, string>, key = OPERATOR_KEY) => invoke(handler, apiEvent('GET /v1/audit/reads', { key, ...(query ? { query } : {}) }));
const queries = () => ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);

/** A stored audit item of a read at `at`. */
function item(at: string, recordId = RECORD, requestId = `req-${at}`) {
  return {
    pk: `READ#${recordId}`,
    sk: `${at}#${requestId}`,
    day: todayInChina(new Date(at)),
    recordId,
    reader: 'operator',
    readerRole: 'operator',
    at,
    route: 'GET /v1/records/{id}',
    sourceIp: '203.0.113.7',
    userAgent: 'curl/8.5.0',
    requestId,
  };
}

/** `YYYY-MM-DD` n days before `day`. */
const daysBefore = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  ddb.on(QueryCommand).resolves({ Items: [] });
});

describe('GET /v1/audit/reads: who may ask', () => {
  it('answers 401 without a key and 403 to a source key, without querying the audit', async () => {
    const anonymous = await invoke(handler, apiEvent('GET /v1/audit/reads'));
    expect(anonymous.status).toBe(401);
    expect(errorOf(anonymous).code).toBe('unauthorized');
    const departmentAnswer = await list({}, DEPARTMENT_KEY);
    expect(departmentAnswer.status).toBe(403);
    expect(errorOf(departmentAnswer).code).toBe('forbidden');
    expect(queries()).toEqual([]);
  });
});

describe('GET /v1/audit/reads: listing', () => {
  it("lists today's reads in China through the byDay index, newest first, as {items} without storage keys", async () => {
    const today = todayInChina();
    ddb.on(QueryCommand).resolves({ Items: [item('2026-11-28T09:00:00.000Z'), item('2026-11-28T08:00:00.000Z')] });
    const res = await list();
    expect(res.status).toBe(200);
    expect(queries()).toEqual([
      {
        TableName: AUDIT_TABLE,
        IndexName: 'byDay',
        KeyConditionExpression: '#day = :day',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': today },
        ScanIndexForward: false,
        Limit: AUDIT_PAGE_DEFAULT,
      },
    ]);
    expect(res.body).toEqual({
      items: [
        {
          recordId: RECORD,
          reader: 'operator',
          readerRole: 'operator',
          at: '2026-11-28T09:00:00.000Z',
          route: 'GET /v1/records/{id}',
          sourceIp: '203.0.113.7',
          userAgent: 'curl/8.5.0',
          requestId: 'req-2026-11-28T09:00:00.000Z',
        },
        expect.objectContaining({ at: '2026-11-28T08:00:00.000Z' }),
      ],
    });
    expect(res.raw).not.toMatch(/"pk"|"sk"|"day"/);
  });

  it("lists a record's reads by its partition, bounded by the days from and to in China", async () => {
    ddb.on(QueryCommand).resolves({ Items: [item('2026-11-02T01:00:00.000Z')] });
    const res = await list({ record: RECORD, from: '2026-11-01', to: '2026-11-02', limit: '20' });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.next).toBeUndefined();
    expect(queries()).toEqual([
      {
        TableName: AUDIT_TABLE,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :until',
        // 1 November 00:00 in China is 31 October 16:00 UTC; the range ends where 3 November begins.
        ExpressionAttributeValues: { ':pk': `READ#${RECORD}`, ':from': '2026-10-31T16:00:00.000Z', ':until': '2026-11-02T16:00:00.000Z' },
        ScanIndexForward: false,
        Limit: 20,
      },
    ]);
  });

  it("lists all of a record's reads when no days are given", async () => {
    expect((await list({ record: RECORD })).status).toBe(200);
    expect(queries()[0]).toMatchObject({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `READ#${RECORD}` } });
    expect((await list({ record: RECORD, to: '2026-11-02' })).status).toBe(200);
    expect(queries()[1]).toMatchObject({ KeyConditionExpression: 'pk = :pk AND sk < :until', ExpressionAttributeValues: { ':until': '2026-11-02T16:00:00.000Z' } });
  });

  it('pages through a record with an opaque cursor that carries where DynamoDB stopped', async () => {
    const last = { pk: `READ#${RECORD}`, sk: '2026-11-02T01:00:00.000Z#req-9' };
    ddb.on(QueryCommand).resolvesOnce({ Items: [item('2026-11-02T01:00:00.000Z', RECORD, 'req-9')], LastEvaluatedKey: last }).resolvesOnce({ Items: [item('2026-11-01T01:00:00.000Z')] });
    const first = await list({ record: RECORD, limit: '1' });
    expect(first.status).toBe(200);
    expect(first.body.next).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await list({ record: RECORD, limit: '1', cursor: first.body.next });
    expect(second.status).toBe(200);
    expect(second.body.items.map((r: { at: string }) => r.at)).toEqual(['2026-11-01T01:00:00.000Z']);
    expect(second.body.next).toBeUndefined();
    expect(queries()[1]!.ExclusiveStartKey).toEqual(last);
  });

  it('walks the days from to back to from, filling the page across days, and resumes on the right day', async () => {
    const to = '2026-11-03';
    const byDay: Record<string, ReturnType<typeof item>[]> = {
      '2026-11-03': [item('2026-11-03T02:00:00.000Z')],
      '2026-11-02': [],
      '2026-11-01': [item('2026-11-01T05:00:00.000Z'), item('2026-11-01T04:00:00.000Z')],
    };
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: { ':day': string }; Limit: number; ExclusiveStartKey?: { sk: string } }) => {
      const all = byDay[input.ExpressionAttributeValues[':day']] ?? [];
      const start = input.ExclusiveStartKey ? all.findIndex((i) => i.sk === input.ExclusiveStartKey!.sk) + 1 : 0;
      const items = all.slice(start, start + input.Limit);
      const more = start + items.length < all.length;
      const lastItem = items.at(-1);
      return { Items: items, ...(more && lastItem ? { LastEvaluatedKey: { pk: lastItem.pk, sk: lastItem.sk, day: lastItem.day } } : {}) };
    });
    const first = await list({ from: '2026-11-01', to, limit: '2' });
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { at: string }) => r.at)).toEqual(['2026-11-03T02:00:00.000Z', '2026-11-01T05:00:00.000Z']);
    expect(queries().map((q) => [q.ExpressionAttributeValues![':day'], q.Limit])).toEqual([
      ['2026-11-03', 2],
      ['2026-11-02', 1],
      ['2026-11-01', 1],
    ]);
    const second = await list({ from: '2026-11-01', to, limit: '2', cursor: first.body.next });
    expect(second.status).toBe(200);
    expect(second.body.items.map((r: { at: string }) => r.at)).toEqual(['2026-11-01T04:00:00.000Z']);
    expect(second.body.next).toBeUndefined();
  });

  it('answers 503 with Retry-After when the audit store is unavailable', async () => {
    ddb.on(QueryCommand).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: {} }));
    const res = await list();
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('GET /v1/audit/reads: invalid query parameters are 400 invalid_query, naming the parameter', () => {
  const today = todayInChina();
  it.each([
    ['an unknown parameter', { recordId: RECORD }, 'recordId'],
    ['a malformed record id', { record: 'lic_1' }, 'record'],
    ['two record ids (a repeated parameter)', { record: `${RECORD},${RECORD}` }, 'record'],
    ['a date that is not YYYY-MM-DD', { from: '2026/11/01' }, 'from'],
    ['a date that does not exist', { to: '2026-02-30' }, 'to'],
    ['from after to', { from: '2026-11-03', to: '2026-11-01' }, 'from'],
    ['from after today, without to', { from: daysBefore(today, -1) }, 'from'],
    [`more than ${AUDIT_DAYS_MAX} days without a record`, { from: daysBefore(today, AUDIT_DAYS_MAX), to: today }, 'from'],
    ['a limit of 0', { limit: '0' }, 'limit'],
    ['a limit over the maximum', { limit: '1001' }, 'limit'],
    ['a limit that is not a number', { limit: 'ten' }, 'limit'],
    ['a cursor the hub did not write', { cursor: 'bm90IGEgY3Vyc29y' }, 'cursor'],
    ['a cursor that is not base64url', { cursor: '{"v":1}' }, 'cursor'],
  ])('%s', async (_what, query, field) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe('invalid_query');
    expect(error.details.map((d) => d.field)).toContain(field);
    expect(queries()).toEqual([]);
  });

  it(`accepts exactly ${AUDIT_DAYS_MAX} days`, async () => {
    const res = await list({ from: daysBefore(today, AUDIT_DAYS_MAX - 1), to: today, limit: '1000' });
    expect(res.status).toBe(200);
    expect(queries()).toHaveLength(AUDIT_DAYS_MAX);
  });

  it('refuses a cursor sent with another query than the one it came from, or one pointing into another record', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item('2026-11-02T01:00:00.000Z')], LastEvaluatedKey: { pk: `READ#${RECORD}`, sk: '2026-11-02T01:00:00.000Z#x' } });
    const first = await list({ record: RECORD, limit: '1' });
    const cursor: string = first.body.next;
    ddb.resetHistory();
    const other = await list({ record: 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa', limit: '1', cursor });
    expect(other.status).toBe(400);
    expect(errorOf(other).details.map((d) => d.field)).toEqual(['cursor']);
    const withDays = await list({ record: RECORD, from: '2026-11-01', cursor });
    expect(withDays.status).toBe(400);
    // The same cursor with its key moved into another record's partition.
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...decoded, key: { ...decoded.key, pk: 'READ#lic_aaaaaaaaaaaaaaaaaaaaaaaaaa' } })).toString('base64url');
    expect((await list({ record: RECORD, cursor: forged })).status).toBe(400);
    expect(queries()).toEqual([]);
  });
});
