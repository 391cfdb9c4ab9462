/**
 * The per-key limit (issue 6, finding 5): every authenticated request counts
 * once in its key's one-second window in the throttle table, with the
 * catalogue's limit; over it, 429 too_many_requests with Retry-After: 1
 * before the handler does anything else. Unknown keys cost nothing.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEPARTMENT_KEY, OPERATOR_KEY, THROTTLE_TABLE, apiEvent, ddb, department, errorOf, invoke, mockKey, mockNoItems, throttleCalls } from './support.js';
import { api, functions, routes } from '../../../infra/catalogue.js';
import { hashApiKey } from '../../../shared/auth/api-keys.js';
import { handler as audit } from '../../../functions/audit/handler.js';
import { handler as batches } from '../../../functions/batches/handler.js';
import { handler as dlq } from '../../../functions/dlq/handler.js';
import { handler as feedback } from '../../../functions/feedback/handler.js';
import { handler as jobs } from '../../../functions/jobs/handler.js';
import { handler as objections } from '../../../functions/objections/handler.js';
import { handler as publication } from '../../../functions/publication/handler.js';
import { handler as records } from '../../../functions/records/handler.js';
import { handler as sources } from '../../../functions/sources/handler.js';
import { handler as submissions } from '../../../functions/submissions/handler.js';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const NOW = Date.parse('2026-11-28T08:00:00.250Z');
const SECOND = Math.floor(NOW / 1000);

const overLimit = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
  mockNoItems();
  mockKey(DEPARTMENT_KEY, department);
  ddb.on(QueryCommand).resolves({ Items: [] });
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the per-key limit', () => {
  it('is below the stage-wide limit for every key, the operator key included', () => {
    expect(api.perKey.source.ratePerSecond).toBeLessThan(api.throttle.ratePerSecond);
    expect(api.perKey.operator.ratePerSecond).toBeLessThan(api.throttle.ratePerSecond);
  });

  it("counts a source key's request once in its one-second window: conditional ADD, the catalogue's limit, a TTL a minute on", async () => {
    const res = await invoke(records, apiEvent('GET /v1/records/{id}', { key: DEPARTMENT_KEY, pathParameters: { id: 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa' } }));
    expect(res.status).toBe(404);
    const calls = throttleCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      TableName: THROTTLE_TABLE,
      Key: { pk: `RATE#${hashApiKey(DEPARTMENT_KEY)}#${SECOND}` },
      UpdateExpression: 'ADD n :one SET expiresAt = :expires',
      ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
      ExpressionAttributeValues: { ':one': 1, ':limit': api.perKey.source.ratePerSecond, ':expires': SECOND + 60 },
    });
    expect(JSON.stringify(calls[0]!.args[0].input)).not.toContain(DEPARTMENT_KEY);
  });

  it("gives the operator key the operator's own limit", async () => {
    expect((await invoke(sources, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }))).status).toBe(200);
    expect(throttleCalls()[0]!.args[0].input).toMatchObject({
      Key: { pk: `RATE#${hashApiKey(OPERATOR_KEY)}#${SECOND}` },
      ExpressionAttributeValues: { ':limit': api.perKey.operator.ratePerSecond },
    });
  });

  it('costs an unknown key nothing: no counter is touched', async () => {
    const res = await invoke(sources, apiEvent('GET /v1/sources', { key: 'hub_never-issued-key-000000000000000000000000' }));
    expect(res.status).toBe(401);
    expect(throttleCalls()).toHaveLength(0);
    expect((await invoke(sources, apiEvent('GET /v1/sources'))).status).toBe(401);
    expect(throttleCalls()).toHaveLength(0);
  });

  const authenticating = Object.entries(functions).filter(([, spec]) => spec.authenticates);
  const handlers: Record<string, { handler: Handler; routeKey: string; key: string; pathParameters?: Record<string, string>; body?: object }> = {
    sources: { handler: sources, routeKey: 'POST /v1/sources', key: OPERATOR_KEY, body: { id: 'qu-x', name: 'x', uscc: department.uscc, role: 'checker' } },
    submissions: { handler: submissions, routeKey: 'POST /v1/submissions/{kind}', key: DEPARTMENT_KEY, pathParameters: { kind: 'license' }, body: { records: [{}] } },
    records: { handler: records, routeKey: 'GET /v1/records/{id}', key: DEPARTMENT_KEY, pathParameters: { id: 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa' } },
    audit: { handler: audit, routeKey: 'GET /v1/audit/reads', key: OPERATOR_KEY },
    batches: { handler: batches, routeKey: 'POST /v1/batches', key: DEPARTMENT_KEY, body: { kind: 'dishonest-debtor', format: 'ndjson' } },
    // The limit comes before the role check: a department's key is counted (and refused) before it would get 403.
    feedback: { handler: feedback, routeKey: 'POST /v1/feedback', key: DEPARTMENT_KEY, body: { items: [] } },
    dlq: { handler: dlq, routeKey: 'GET /v1/dlq/{platform}', key: OPERATOR_KEY, pathParameters: { platform: 'national' } },
    jobs: { handler: jobs, routeKey: 'POST /v1/jobs/{name}', key: OPERATOR_KEY, pathParameters: { name: 'sync-national' }, body: {} },
    publication: { handler: publication, routeKey: 'GET /v1/reviews', key: OPERATOR_KEY },
    // The operator's side; POST /v1/objections has no key and its own per-client limit (test/unit/handlers/objections.test.ts).
    objections: { handler: objections, routeKey: 'GET /v1/objections', key: OPERATOR_KEY },
  };

  it('covers every function that authenticates', () => {
    expect(authenticating.map(([name]) => name).sort()).toEqual(Object.keys(handlers).sort());
    for (const { routeKey } of Object.values(handlers)) expect(routes.map((r) => r.routeKey)).toContain(routeKey);
  });

  it.each(Object.entries(handlers))('%s: over the limit is 429 too_many_requests with Retry-After: 1, and the request does nothing else', async (_name, h) => {
    ddb.on(UpdateCommand, { TableName: THROTTLE_TABLE }).rejects(overLimit());
    const res = await invoke(h.handler, apiEvent(h.routeKey, { key: h.key, ...(h.pathParameters ? { pathParameters: h.pathParameters } : {}), ...(h.body ? { body: h.body } : {}) }));
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    const error = errorOf(res);
    expect(error.code).toBe('too_many_requests');
    expect(error.message).toContain(String(h.key === OPERATOR_KEY ? api.perKey.operator.ratePerSecond : api.perKey.source.ratePerSecond));
    // Only the key lookup and the counter: no query, no write.
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the counter cannot be reached: no request goes uncounted', async () => {
    ddb.on(UpdateCommand, { TableName: THROTTLE_TABLE }).rejects(new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: {} }));
    const res = await invoke(sources, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('counts in the window of the current second', async () => {
    await invoke(sources, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    vi.setSystemTime(NOW + 1000);
    await invoke(sources, apiEvent('GET /v1/sources', { key: OPERATOR_KEY }));
    expect(throttleCalls().map((c) => c.args[0].input.Key!.pk)).toEqual([`RATE#${hashApiKey(OPERATOR_KEY)}#${SECOND}`, `RATE#${hashApiKey(OPERATOR_KEY)}#${SECOND + 1}`]);
  });
});
