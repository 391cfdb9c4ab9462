/**
 * The submissions function against DynamoDB Local, through the real AWS SDK:
 * a push that runs out of time stops and answers 503 without writing after
 * its answer; an Idempotency-Key makes a retry get the first answer and
 * write nothing (409 while the first is in flight, 422 with another body).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environment, tables } from '../../infra/catalogue.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { generateApiKey, hashApiKey } from '../../shared/auth/api-keys.js';
import { ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring } from '../../shared/crypto/local-keyring.js';
import { DEADLINE_MARGIN_MS, DeadlineExceededError } from '../../shared/http/deadline.js';
import { submitRecords } from '../../shared/ingest/submit.js';
import { DynamoRecordsStore, type RecordsStore } from '../../shared/store/records-store.js';
import { DynamoSourcesStore, type KeyPrincipal } from '../../shared/store/sources-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { license, SOURCE_USCC } from '../support/fixtures.js';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

let db: TestDynamo;
let handler: Handler;
const keyDir = mkdtempSync(join(tmpdir(), 'hub-keys-'));
const keys: Record<string, string> = { a: generateApiKey(), b: generateApiKey() };

beforeAll(async () => {
  db = await startTestDynamo();
  ensureLocalKeys(keyDir);
  Object.assign(process.env, {
    AWS_REGION: 'cn-north-1',
    AWS_ACCESS_KEY_ID: db.emulator.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: db.emulator.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: db.emulator.endpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_LAMBDA_FUNCTION_NAME: 'credit-hub-submissions',
    [environment.localKeyDir]: keyDir,
  });
  for (const spec of Object.values(tables)) process.env[spec.envVar] = spec.localName;
  const sources = new DynamoSourcesStore(db.doc, tables.sources.localName);
  const now = new Date().toISOString();
  for (const id of ['a', 'b']) {
    await sources.create({ id: `dept-${id}`, name: `部门${id}`, uscc: SOURCE_USCC, role: 'department', kinds: ['license'], createdAt: now, keyRotatedAt: now }, hashApiKey(keys[id]!));
  }
  ({ handler } = (await import('../../functions/submissions/handler.js')) as unknown as { handler: Handler });
});

afterAll(async () => {
  await db?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

let requestNo = 0;
function pushEvent(source: string, records: unknown[], idempotencyKey?: string): APIGatewayProxyEventV2 {
  const body = JSON.stringify({ records });
  const requestId = `req-${++requestNo}`;
  return {
    version: '2.0',
    routeKey: 'POST /v1/submissions/{kind}',
    rawPath: '/v1/submissions/license',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[source]}`, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    pathParameters: { kind: 'license' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'it',
      domainName: 'hub.test',
      domainPrefix: 'hub',
      http: { method: 'POST', path: '/v1/submissions/license', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId,
      routeKey: 'POST /v1/submissions/{kind}',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

async function call(event: APIGatewayProxyEventV2, remainingMs = 29_000) {
  const result = await handler(event, lambdaContext('credit-hub-submissions', 1024, event.requestContext.requestId, Date.now() + remainingMs));
  return { status: result.statusCode!, headers: result.headers ?? {}, body: JSON.parse(result.body ?? 'null') };
}

async function recordItems(): Promise<number> {
  let count = 0;
  let start: Record<string, any> | undefined;
  do {
    const page = await db.client.send(new ScanCommand({ TableName: tables.records.localName, Select: 'COUNT', ExclusiveStartKey: start }));
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

const batch = (prefix: string, n: number, overrides: Record<string, unknown> = {}) => Array.from({ length: n }, (_, i) => license(`${prefix}-${i}`, overrides));

describe('a push that runs out of time', () => {
  it('stops before the deadline, answers 503 with Retry-After, and writes nothing after answering', async () => {
    const records = batch('deadline', 1000);
    // Far too little time left for 1,000 records: the deadline fires while they are being stored.
    const res = await call(pushEvent('a', records), DEADLINE_MARGIN_MS + 150);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body.error.code).toBe('unavailable');
    const atAnswer = await recordItems();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await recordItems()).toBe(atAnswer);
    // The whole request sent again with time to spare: everything is stored once.
    const retry = await call(pushEvent('a', records));
    expect(retry.status).toBe(200);
    expect(retry.body.accepted + retry.body.duplicates).toBe(1000);
    expect(retry.body.duplicates).toBe(atAnswer);
  });
});

describe('Idempotency-Key', () => {
  it('gives a retry with the same key and body the first answer, and writes nothing', async () => {
    const records = batch('idem', 20);
    const first = await call(pushEvent('a', records, 'key-1'));
    expect(first.status).toBe(200);
    expect(first.body.accepted).toBe(20);
    const items = await recordItems();
    const again = await call(pushEvent('a', records, 'key-1'));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await recordItems()).toBe(items);
    // Without the key the same push is answered from the store: all duplicates.
    expect((await call(pushEvent('a', records))).body.duplicates).toBe(20);
  });

  it('answers 422 when the key comes back with another body', async () => {
    await call(pushEvent('a', batch('reuse', 2), 'key-2'));
    const res = await call(pushEvent('a', batch('reuse', 2, { XK_NR: '改过的内容' }), 'key-2'));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_key_reused');
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    const records = batch('inflight', 1000);
    const first = call(pushEvent('a', records, 'key-3'));
    await new Promise((r) => setTimeout(r, 150));
    const second = await call(pushEvent('a', records, 'key-3'));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('idempotency_in_progress');
    expect((await first).status).toBe(200);
    // Once the first has answered, the same request gets its answer.
    expect((await call(pushEvent('a', records, 'key-3'))).body).toEqual((await first).body);
  });

  it('scopes keys to the caller: another source with the same key is another request', async () => {
    const mine = await call(pushEvent('a', batch('scope-a', 1), 'shared-key'));
    const theirs = await call(pushEvent('b', batch('scope-b', 1), 'shared-key'));
    expect(theirs.status).toBe(200);
    expect(theirs.body.results[0].id).not.toBe(mine.body.results[0].id);
  });

  it('refuses an empty or over-long key with 400', async () => {
    for (const key of [' ', 'k'.repeat(256), '密钥']) {
      const res = await call(pushEvent('a', batch('badkey', 1), key));
      expect(res.status, key).toBe(400);
      expect(res.body.error.code).toBe('invalid_idempotency_key');
    }
  });
});

describe('a keyed push cut off part-way', () => {
  it('is not applied twice by its retry, even after another push changed the records it had written', async () => {
    const keyring = new LocalKeyring(keyDir);
    const store = new DynamoRecordsStore(db.doc, tables.records.localName);
    const deps = { store, cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
    const source: KeyPrincipal = { sourceId: 'dept-a', name: '部门a', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] };
    const spec = PUSH_KINDS.license;
    const mine = batch('cutoff', 500);

    // The deadline fires after the first 200 records are written.
    const controller = new AbortController();
    const cutting: RecordsStore = {
      getHeads: (ids, signal) => store.getHeads(ids, signal),
      getRecord: (id) => store.getRecord(id),
      write: async (changes, signal) => {
        const first = await store.write(changes.slice(0, 200), signal);
        controller.abort(new DeadlineExceededError());
        return [...first, ...(await store.write(changes.slice(200), signal))];
      },
    };
    await expect(submitRecords(spec, source, mine, { ...deps, store: cutting, signal: controller.signal, requestKey: 'req-cut' })).rejects.toThrow();

    // Another push changes every record in between: 200 exist already, 300 are new.
    const other = await submitRecords(spec, source, batch('cutoff', 500, { XK_NR: '另一个系统的内容' }), { ...deps, requestKey: 'req-other' });
    expect([other.updated, other.accepted]).toEqual([200, 300]);

    // The retry reports what the first attempt applied, writes nothing for those, and applies the rest.
    const retry = await submitRecords(spec, source, mine, { ...deps, requestKey: 'req-cut' });
    expect(retry.results.slice(0, 200).every((r) => r.status === 'accepted')).toBe(true);
    expect(retry.results.slice(200).every((r) => r.status === 'updated')).toBe(true);
    const written = await store.getRecord(retry.results[0]!.id!);
    expect(written!.head.version).toBe(2);
    expect(written!.head.fields.XK_NR).toBe('另一个系统的内容');
    const appliedNow = await store.getRecord(retry.results[300]!.id!);
    expect(appliedNow!.head.version).toBe(2);
    expect(appliedNow!.head.fields.XK_NR).toBe(mine[300]!.XK_NR);
  });
});
