import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEPARTMENT_KEY,
  OPERATOR_KEY,
  SOURCE_USCC,
  SOURCES_TABLE,
  allSentInputs,
  apiEvent,
  ddb,
  department,
  errorOf,
  invoke,
  mockKey,
  mockNoItems,
} from './support.js';
import { hashApiKey } from '../../../shared/auth/api-keys.js';
import { handler } from '../../../functions/sources/handler.js';

const validSource = { id: 'qu-scjgj', name: '区市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license', 'penalty'] };
const create = (body: unknown, key = OPERATOR_KEY) => invoke(handler, apiEvent('POST /v1/sources', { key, body: body as object }));

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
});

describe('authentication (sources handler)', () => {
  it('answers 401 unauthorized with WWW-Authenticate: Bearer when there is no Authorization header', async () => {
    const res = await invoke(handler, apiEvent('GET /v1/sources'));
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('unauthorized');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('answers 401 for a header that is not a bearer key', async () => {
    const res = await invoke(handler, apiEvent('GET /v1/sources', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }));
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('unauthorized');
  });

  it('answers 401 for an unknown key, and looks it up by its SHA-256 hex, never the key itself', async () => {
    const unknown = 'hub_this-key-was-never-issued-to-anybody-000';
    const res = await invoke(handler, apiEvent('GET /v1/sources', { key: unknown }));
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('unauthorized');
    expect(res.headers['www-authenticate']).toBe('Bearer');

    const gets = ddb.commandCalls(GetCommand);
    expect(gets).toHaveLength(1);
    const input = gets[0]!.args[0].input;
    expect(input.TableName).toBe(SOURCES_TABLE);
    expect(input.Key).toEqual({ pk: `KEY#${hashApiKey(unknown)}`, sk: 'KEY' });
    expect(hashApiKey(unknown)).toMatch(/^[0-9a-f]{64}$/);
    expect(allSentInputs()).not.toContain(unknown);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('answers 403 forbidden to a department key on POST /v1/sources, without writing', async () => {
    const res = await create(validSource, DEPARTMENT_KEY);
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input.Key).toEqual({ pk: `KEY#${hashApiKey(DEPARTMENT_KEY)}`, sk: 'KEY' });
    expect(allSentInputs()).not.toContain(DEPARTMENT_KEY);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 403 to a department key on GET /v1/sources and POST keys', async () => {
    expect((await invoke(handler, apiEvent('GET /v1/sources', { key: DEPARTMENT_KEY }))).status).toBe(403);
    expect((await invoke(handler, apiEvent('POST /v1/sources/{id}/keys', { key: DEPARTMENT_KEY, pathParameters: { id: 'shi-scjgj' } }))).status).toBe(403);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('authenticates the operator by the principal item of its key hash (role operator), like any key', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const res = await invoke(handler, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(res.status).toBe(200);
    const gets = ddb.commandCalls(GetCommand);
    expect(gets).toHaveLength(1);
    expect(gets[0]!.args[0].input).toEqual({ TableName: SOURCES_TABLE, Key: { pk: `KEY#${hashApiKey(OPERATOR_KEY)}`, sk: 'KEY' }, ConsistentRead: true });
    expect(allSentInputs()).not.toContain(OPERATOR_KEY);
  });

  it('refuses the operator key once its principal item is gone (rotated): no cache, no environment override', async () => {
    process.env.HUB_OPERATOR_KEY_HASH = hashApiKey(OPERATOR_KEY);
    try {
      ddb.on(GetCommand, { TableName: SOURCES_TABLE, Key: { pk: `KEY#${hashApiKey(OPERATOR_KEY)}`, sk: 'KEY' } }).resolves({});
      const res = await invoke(handler, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
      expect(res.status).toBe(401);
      expect(errorOf(res).code).toBe('unauthorized');
    } finally {
      delete process.env.HUB_OPERATOR_KEY_HASH;
    }
  });
});

describe('POST /v1/sources', () => {
  it('creates the source with two conditional Puts; only the key hash is stored; 201 {id, apiKey}', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const res = await create(validSource);
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['apiKey', 'id']);
    expect(res.body.id).toBe('qu-scjgj');
    const apiKey: string = res.body.apiKey;
    expect(apiKey).toMatch(/^hub_[A-Za-z0-9_-]{43}$/);

    const writes = ddb.commandCalls(TransactWriteCommand);
    expect(writes).toHaveLength(1);
    const items = writes[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item.Put).toBeDefined();
      expect(item.Put!.TableName).toBe(SOURCES_TABLE);
      expect(item.Put!.ConditionExpression).toMatch(/attribute_not_exists\(pk\)/);
    }
    const hash = hashApiKey(apiKey);
    const [sourcePut, keyPut] = items.map((i) => i.Put!.Item!) as [Record<string, unknown>, Record<string, unknown>];
    expect(sourcePut).toMatchObject({ pk: 'SOURCES', sk: 'qu-scjgj', id: 'qu-scjgj', uscc: SOURCE_USCC, role: 'department', kinds: ['license', 'penalty'], keyHash: hash });
    expect(keyPut).toMatchObject({ pk: `KEY#${hash}`, sk: 'KEY', sourceId: 'qu-scjgj', role: 'department', uscc: SOURCE_USCC, kinds: ['license', 'penalty'] });

    // The key itself is never sent to DynamoDB.
    const serialized = JSON.stringify(writes[0]!.args[0].input);
    expect(serialized).not.toContain(apiKey);
    expect(serialized).not.toContain(apiKey.slice(4));
    expect(allSentInputs()).not.toContain(apiKey.slice(4));
  });

  it('issues a different key for every source', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const a = await create(validSource);
    const b = await create({ ...validSource, id: 'qu-scjgj-2' });
    expect(a.body.apiKey).not.toBe(b.body.apiKey);
  });

  it('normalises a full-width, lower-case USCC before storing it', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const res = await create({ ...validSource, uscc: '９１１１００００６０００３７３４１ｌ' });
    expect(res.status).toBe(201);
    const item = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!.Item!;
    expect(item.uscc).toBe(SOURCE_USCC);
  });

  it('rejects an invalid USCC with 400 and details[].field uscc', async () => {
    const res = await create({ ...validSource, uscc: '91110000600037341N' });
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe('invalid_source');
    expect(error.details.map((d) => d.field)).toContain('uscc');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('refuses the reserved id "operator" (any case), which names the credit office in logs and the audit', async () => {
    for (const id of ['operator', 'Operator']) {
      const res = await create({ ...validSource, id });
      expect(res.status).toBe(400);
      expect(errorOf(res).details.map((d) => d.field)).toEqual(['id']);
    }
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('rejects an unknown role with 400 on field role', async () => {
    const res = await create({ ...validSource, role: 'emperor' });
    expect(res.status).toBe(400);
    expect(errorOf(res).details.map((d) => d.field)).toContain('role');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('rejects kinds the role may not push, and an unknown kind, with 400 on kinds', async () => {
    const court = await create({ ...validSource, kinds: ['license', 'dishonest-debtor'] });
    expect(court.status).toBe(400);
    expect(errorOf(court).details.map((d) => d.field)).toContain('kinds.1');

    const unknown = await create({ ...validSource, kinds: ['lottery'] });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown).details.some((d) => d.field.startsWith('kinds'))).toBe(true);

    const none = await create({ ...validSource, kinds: [] });
    expect(none.status).toBe(400);
    expect(errorOf(none).details.map((d) => d.field)).toContain('kinds');

    const twice = await create({ ...validSource, kinds: ['license', 'license'] });
    expect(twice.status).toBe(400);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('accepts a checker with no kinds', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const res = await create({ id: 'checker-1', name: '某银行', uscc: SOURCE_USCC, role: 'checker' });
    expect(res.status).toBe(201);
    expect(ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!.Item!.kinds).toEqual([]);
  });

  it('rejects unknown fields, a bad id, malformed JSON and a non-object body with 400', async () => {
    const extra = await create({ ...validSource, apiKey: 'mine' });
    expect(extra.status).toBe(400);
    expect(errorOf(extra).details.map((d) => d.field)).toContain('apiKey');

    const badId = await create({ ...validSource, id: 'has space' });
    expect(badId.status).toBe(400);
    expect(errorOf(badId).details.map((d) => d.field)).toContain('id');

    const malformed = await invoke(handler, apiEvent('POST /v1/sources', { key: OPERATOR_KEY, body: '{"id": ' }));
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed).code).toBe('malformed_json');

    const array = await invoke(handler, apiEvent('POST /v1/sources', { key: OPERATOR_KEY, body: '[]' }));
    expect(array.status).toBe(400);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 409 when the id is taken (TransactionCanceledException, ConditionalCheckFailed)', async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      }),
    );
    const res = await create(validSource);
    expect(res.status).toBe(409);
    expect(errorOf(res).code).toBe('source_exists');
    expect(res.raw).not.toMatch(/hub_/);
  });

  it('answers 500 internal without internals for an unexpected DynamoDB error', async () => {
    ddb.on(TransactWriteCommand).rejects(Object.assign(new Error('secret table arn:aws:dynamodb:xyz'), { name: 'InternalServerError' }));
    const res = await create(validSource);
    expect(res.status).toBe(500);
    expect(errorOf(res).code).toBe('internal');
    expect(res.raw).not.toContain('arn:aws');
  });
});

describe('GET /v1/sources', () => {
  it('lists the sources sorted by id, without key hashes', async () => {
    const item = (id: string) => ({
      pk: 'SOURCES',
      sk: id,
      id,
      name: `name ${id}`,
      uscc: SOURCE_USCC,
      role: 'department',
      kinds: ['license'],
      createdAt: '2026-01-01T00:00:00.000Z',
      keyRotatedAt: '2026-01-01T00:00:00.000Z',
      keyHash: hashApiKey(`key-${id}`),
    });
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('zeta'), item('alpha')], LastEvaluatedKey: { pk: 'SOURCES', sk: 'alpha' } })
      .resolvesOnce({ Items: [item('mid')] });
    const res = await invoke(handler, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(res.status).toBe(200);
    expect(res.body.items.map((s: { id: string }) => s.id)).toEqual(['alpha', 'mid', 'zeta']);
    expect(res.raw).not.toContain('keyHash');
    expect(res.raw).not.toContain(hashApiKey('key-alpha'));
    expect(res.raw).not.toMatch(/"pk"|"sk"/);
    expect(res.body.items[0]).toEqual({
      id: 'alpha',
      name: 'name alpha',
      uscc: SOURCE_USCC,
      role: 'department',
      kinds: ['license'],
      createdAt: '2026-01-01T00:00:00.000Z',
      keyRotatedAt: '2026-01-01T00:00:00.000Z',
    });
    const queries = ddb.commandCalls(QueryCommand);
    expect(queries).toHaveLength(2);
    expect(queries[0]!.args[0].input).toMatchObject({ TableName: SOURCES_TABLE, ExpressionAttributeValues: { ':pk': 'SOURCES' } });
    expect(queries[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: 'SOURCES', sk: 'alpha' });
  });

  it('answers an empty list when there are no sources', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const res = await invoke(handler, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [] });
  });
});

describe('POST /v1/sources/{id}/keys', () => {
  const oldHash = hashApiKey('hub_old-key');
  const stored = {
    pk: 'SOURCES',
    sk: 'shi-scjgj',
    ...department,
    id: 'shi-scjgj',
    createdAt: '2026-01-01T00:00:00.000Z',
    keyRotatedAt: '2026-01-01T00:00:00.000Z',
    keyHash: oldHash,
  };

  it('issues a new key: 201 {apiKey}; swaps the key items in one transaction, storing only the hash', async () => {
    ddb.on(GetCommand, { Key: { pk: 'SOURCES', sk: 'shi-scjgj' } }).resolves({ Item: stored });
    ddb.on(TransactWriteCommand).resolves({});
    const res = await invoke(handler, apiEvent('POST /v1/sources/{id}/keys', { key: OPERATOR_KEY, pathParameters: { id: 'shi-scjgj' } }));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(['apiKey']);
    const apiKey: string = res.body.apiKey;
    expect(apiKey).toMatch(/^hub_/);

    const writes = ddb.commandCalls(TransactWriteCommand);
    expect(writes).toHaveLength(1);
    const items = writes[0]!.args[0].input.TransactItems!;
    const newHash = hashApiKey(apiKey);
    expect(items.find((i) => i.Update)!.Update).toMatchObject({
      Key: { pk: 'SOURCES', sk: 'shi-scjgj' },
      ConditionExpression: 'keyHash = :old',
      ExpressionAttributeValues: { ':new': newHash, ':old': oldHash },
    });
    expect(items.find((i) => i.Delete)!.Delete!.Key).toEqual({ pk: `KEY#${oldHash}`, sk: 'KEY' });
    expect(items.find((i) => i.Put)!.Put!.Item).toMatchObject({ pk: `KEY#${newHash}`, sk: 'KEY', sourceId: 'shi-scjgj', role: 'department' });
    expect(allSentInputs()).not.toContain(apiKey.slice(4));
  });

  it('answers 404 for an unknown source id, without writing', async () => {
    const res = await invoke(handler, apiEvent('POST /v1/sources/{id}/keys', { key: OPERATOR_KEY, pathParameters: { id: 'nobody' } }));
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('not_found');
    expect(res.raw).not.toMatch(/hub_/);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toContainEqual({ pk: 'SOURCES', sk: 'nobody' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
