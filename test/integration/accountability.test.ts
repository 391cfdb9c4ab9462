/**
 * Issue 6 against DynamoDB Local, through the real AWS SDK: the operator key
 * kept only as a hash and replaced in one transaction (store, `hub` command
 * line, handlers: a replaced key fails at once); the per-key counters; the
 * append-only audit of reads.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRead } from '../../contracts/audit.js';
import { api, environment, tables } from '../../infra/catalogue.js';
import { LOCAL_REGION } from '../../infra/local/dynamodb-local.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { generateApiKey, hashApiKey } from '../../shared/auth/api-keys.js';
import { installOperatorKey, rotateOperatorKey } from '../../shared/auth/operator-key.js';
import { ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { DynamoAuditStore } from '../../shared/store/audit-store.js';
import { DynamoSourcesStore, KeyInUseError } from '../../shared/store/sources-store.js';
import { DynamoThrottleStore } from '../../shared/store/throttle-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { SOURCE_USCC } from '../support/fixtures.js';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const ROOT = resolve(import.meta.dirname, '../..');
const REGION = LOCAL_REGION;
let db: TestDynamo;
let sources: DynamoSourcesStore;
let throttle: DynamoThrottleStore;
let audit: DynamoAuditStore;
let sourcesHandler: Handler;
const keyDir = mkdtempSync(join(tmpdir(), 'hub-keys-'));

beforeAll(async () => {
  db = await startTestDynamo();
  ensureLocalKeys(keyDir);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: db.emulator.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: db.emulator.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: db.emulator.endpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [environment.localKeyDir]: keyDir,
  });
  for (const spec of Object.values(tables)) process.env[spec.envVar] = spec.localName;
  sources = new DynamoSourcesStore(db.doc, tables.sources.localName);
  throttle = new DynamoThrottleStore(db.doc, tables.throttle.localName);
  audit = new DynamoAuditStore(db.doc, tables.audit.localName);
  ({ handler: sourcesHandler } = (await import('../../functions/sources/handler.js')) as unknown as { handler: Handler });
});

afterAll(async () => {
  await db?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

/** The operator-key items of the sources table: the principal items with role operator, and the pointer. */
async function operatorItems() {
  const all = (await db.doc.send(new ScanCommand({ TableName: tables.sources.localName, ConsistentRead: true }))).Items ?? [];
  return {
    keys: all.filter((i) => i.role === 'operator').map((i) => i.pk as string),
    pointer: all.find((i) => i.pk === 'OPERATOR' && i.sk === 'CURRENT'),
    all,
  };
}

let requestNo = 0;
function listSources(key: string): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = `it-${++requestNo}`;
  const event = {
    version: '2.0',
    routeKey: 'GET /v1/sources',
    rawPath: '/v1/sources',
    rawQueryString: '',
    headers: { authorization: `Bearer ${key}` },
    requestContext: {
      accountId: '000000000000',
      apiId: 'it',
      domainName: 'hub.test',
      domainPrefix: 'hub',
      http: { method: 'GET', path: '/v1/sources', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId,
      routeKey: 'GET /v1/sources',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
  return sourcesHandler(event, lambdaContext('credit-hub-sources', 512, requestId, Date.now() + 10_000));
}

describe('the operator key, stored only as a hash', () => {
  it('is installed, kept, and replaced in one transaction: the old hash stops authenticating, one operator key item remains', async () => {
    const first = generateApiKey();
    expect(await installOperatorKey(sources, first)).toBe('created');
    expect(await sources.principalForKey(hashApiKey(first))).toEqual({ role: 'operator' });
    expect(await installOperatorKey(sources, first)).toBe('unchanged');

    const second = generateApiKey();
    expect(await installOperatorKey(sources, second, new Date('2026-11-28T08:00:00.000Z'))).toBe('replaced');
    expect(await sources.principalForKey(hashApiKey(first))).toBeUndefined();
    expect(await sources.principalForKey(hashApiKey(second))).toEqual({ role: 'operator' });
    const { keys, pointer, all } = await operatorItems();
    expect(keys).toEqual([`KEY#${hashApiKey(second)}`]);
    expect(pointer).toEqual({ pk: 'OPERATOR', sk: 'CURRENT', keyHash: hashApiKey(second), rotatedAt: '2026-11-28T08:00:00.000Z' });
    // Hashes only: neither key is anywhere in the table.
    expect(JSON.stringify(all)).not.toContain(first);
    expect(JSON.stringify(all)).not.toContain(second);
  });

  it('refuses to make a source key the operator key, and changes nothing', async () => {
    const sourceKey = generateApiKey();
    const now = new Date().toISOString();
    await sources.create({ id: 'dept-op', name: '部门', uscc: SOURCE_USCC, role: 'department', kinds: ['license'], createdAt: now, keyRotatedAt: now }, hashApiKey(sourceKey));
    const before = await operatorItems();
    await expect(installOperatorKey(sources, sourceKey)).rejects.toBeInstanceOf(KeyInUseError);
    expect(await sources.principalForKey(hashApiKey(sourceKey))).toMatchObject({ sourceId: 'dept-op', role: 'department' });
    expect(await operatorItems()).toEqual(before);
  });

  it('survives concurrent rotations: exactly one operator key works afterwards, the one the pointer names', async () => {
    const rotations = await Promise.allSettled(Array.from({ length: 6 }, () => rotateOperatorKey(sources)));
    const issued = rotations.filter((r) => r.status === 'fulfilled').map((r) => r.value.key);
    expect(issued.length).toBeGreaterThan(0);
    const working = [];
    for (const key of issued) if ((await sources.principalForKey(hashApiKey(key)))?.role === 'operator') working.push(key);
    expect(working).toHaveLength(1);
    const { keys, pointer } = await operatorItems();
    expect(keys).toEqual([`KEY#${hashApiKey(working[0]!)}`]);
    expect(pointer?.keyHash).toBe(hashApiKey(working[0]!));
  });

  it('stops working in the handlers with the very next request after a rotation (no cache)', async () => {
    const { key: before } = await rotateOperatorKey(sources);
    expect((await listSources(before)).statusCode).toBe(200);
    const { key: after } = await rotateOperatorKey(sources);
    expect((await listSources(before)).statusCode).toBe(401);
    expect((await listSources(after)).statusCode).toBe(200);
  });
});

describe('hub operator rotate-key (the command line)', () => {
  const run = promisify(execFile);
  const hub = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'bin/hub.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: db.emulator.endpoint, AWS_ACCESS_KEY_ID: db.emulator.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: db.emulator.credentials.secretAccessKey },
    });

  it('writes the new hash with the caller’s credentials and prints the key once, alone on stdout; the previous key fails at once', async () => {
    const { key: previous } = await rotateOperatorKey(sources);
    const { stdout, stderr } = await hub(['operator', 'rotate-key', '--table', tables.sources.localName, '--region', REGION]);
    expect(stdout).toMatch(/^hub_[A-Za-z0-9_-]{43}\n$/);
    const key = stdout.trim();
    expect(stderr).toContain('previous operator key no longer works');
    expect(stderr).not.toContain(key);
    expect(await sources.principalForKey(hashApiKey(key))).toEqual({ role: 'operator' });
    expect((await listSources(previous)).statusCode).toBe(401);
    expect((await listSources(key)).statusCode).toBe(200);
  }, 60_000);

  it('fails with exit code 1 and prints no key when the table does not exist; usage errors print no key either', async () => {
    const failed = await hub(['operator', 'rotate-key', '--table', 'no-such-table', '--region', REGION]).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe('');
    expect(failed?.stderr).toMatch(/^hub: failed: /);
    const usage = await hub(['operator', 'rotate-key']).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(usage?.code).toBe(1);
    expect(usage?.stdout).toBe('');
    expect(usage?.stderr).toContain("required option '--table <name>'");
  }, 60_000);
});

describe('per-key counters', () => {
  it('admits exactly the limit in one second, even all at once, and nothing more; another key and the next second are counted apart', async () => {
    const second = Math.floor(Date.now() / 1000);
    const limit = api.perKey.source.ratePerSecond;
    const answers = await Promise.all(Array.from({ length: limit + 20 }, () => throttle.admit('hash-busy', second, limit)));
    expect(answers.filter(Boolean)).toHaveLength(limit);
    expect(await throttle.admit('hash-busy', second, limit)).toBe(false);
    expect(await throttle.admit('hash-quiet', second, limit)).toBe(true);
    expect(await throttle.admit('hash-busy', second + 1, limit)).toBe(true);
    const counter = await db.doc.send(new GetCommand({ TableName: tables.throttle.localName, Key: { pk: `RATE#hash-busy#${second}` }, ConsistentRead: true }));
    expect(counter.Item).toEqual({ pk: `RATE#hash-busy#${second}`, n: limit, expiresAt: second + 60 });
  });

  it('answers 429 with Retry-After: 1 to a key over its limit while another key still gets 200', async () => {
    const busy = generateApiKey();
    const now = new Date().toISOString();
    await sources.create({ id: 'checker-busy', name: '查询机构', uscc: SOURCE_USCC, role: 'checker', kinds: [], createdAt: now, keyRotatedAt: now }, hashApiKey(busy));
    const { key: operator } = await rotateOperatorKey(sources);
    // The busy key has used up this second and the next ones (whatever second its request lands in).
    const second = Math.floor(Date.now() / 1000);
    for (let s = second; s < second + 30; s++) {
      await db.doc.send(new PutCommand({ TableName: tables.throttle.localName, Item: { pk: `RATE#${hashApiKey(busy)}#${s}`, n: api.perKey.source.ratePerSecond, expiresAt: s + 60 } }));
    }
    // Counted before the role check: a key over its limit learns nothing more.
    const refused = await listSources(busy);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(refused.body!).error.code).toBe('too_many_requests');
    expect((await listSources(operator)).statusCode).toBe(200);
  });
});

describe('the audit of reads', () => {
  const read = (recordId: string, at: string, requestId: string): AuditRead => ({
    recordId,
    reader: 'operator',
    readerRole: 'operator',
    at,
    route: 'GET /v1/records/{id}',
    sourceIp: '198.51.100.4',
    userAgent: 'curl/8.5.0',
    requestId,
  });
  const RECORD = 'lic_aaaaaaaaaaaaaaaaaaaaaaaaaa';

  it('adds reads and never overwrites one (append-only)', async () => {
    const first = read(RECORD, '2026-11-01T01:00:00.000Z', 'r-1');
    await audit.recordRead(first);
    await expect(audit.recordRead({ ...first, reader: 'someone-else' })).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((await audit.readsOfRecord(RECORD, {}, 10)).items).toEqual([first]);
  });

  it("lists a record's reads newest first within a time range, and a day's reads of every record through byDay", async () => {
    const RECORD = 'lic_bbbbbbbbbbbbbbbbbbbbbbbbbb';
    // 2026-11-03 in China runs from 2026-11-02T16:00Z to 2026-11-03T16:00Z.
    const reads = [
      read(RECORD, '2026-11-02T15:59:59.999Z', 'r-0'),
      read(RECORD, '2026-11-02T16:00:00.000Z', 'r-1'),
      read(RECORD, '2026-11-03T02:00:00.000Z', 'r-2'),
      read('pen_bbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-11-03T03:00:00.000Z', 'r-3'),
      read(RECORD, '2026-11-03T16:00:00.000Z', 'r-4'),
    ];
    for (const r of reads) await audit.recordRead(r);
    const ofRecord = await audit.readsOfRecord(RECORD, { from: '2026-11-02T16:00:00.000Z', until: '2026-11-03T16:00:00.000Z' }, 10);
    expect(ofRecord.items.map((r) => r.requestId)).toEqual(['r-2', 'r-1']);
    expect((await audit.readsOfRecord(RECORD, {}, 10)).items.map((r) => r.requestId)).toEqual(['r-4', 'r-2', 'r-1', 'r-0']);
    const onDay = await audit.readsOnDay('2026-11-03', 10);
    expect(onDay.items.map((r) => r.requestId)).toEqual(['r-3', 'r-2', 'r-1']);
    expect(onDay.items[0]).toEqual(reads[3]);
    const paged = await audit.readsOnDay('2026-11-03', 2);
    expect(paged.items.map((r) => r.requestId)).toEqual(['r-3', 'r-2']);
    expect(paged.lastKey).toBeDefined();
    expect((await audit.readsOnDay('2026-11-03', 2, paged.lastKey)).items.map((r) => r.requestId)).toEqual(['r-1']);
    expect((await audit.readsOnDay('2026-11-04', 10)).items.map((r) => r.requestId)).toEqual(['r-4']);
  });
});
