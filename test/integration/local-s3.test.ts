/**
 * The local stack's S3 (infra/local/s3-local.ts, s3rver-process.mjs) and its bucket notifications
 * (infra/local/s3-events.ts): the emulator listens on 127.0.0.1 only, keeps objects across restarts,
 * takes a presigned PUT as a court sends it (a plain PUT, no other header) and stores the exact bytes,
 * is stopped when its stack dies, and the relay gives the notified function the event S3 would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BucketSpec } from '../../infra/catalogue.js';
import { isRunning } from '../../infra/local/process-identity.js';
import { provisionBuckets } from '../../infra/local/provision.js';
import { asyncInvocations } from '../../infra/local/lambda-async.js';
import { localServicesEnvironment } from '../../infra/local/event-services.js';
import { workerInvoker, type FunctionInvoker, type InvokeOutcome } from '../../infra/local/lambda-runtime.js';
import { s3EventRelay } from '../../infra/local/s3-events.js';
import { expireObjects } from '../../infra/local/s3-lifecycle.js';
import { s3Paths, startS3Local, type S3Local } from '../../infra/local/s3-local.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { encodeGb18030 } from '../support/gb18030.js';
import { describeOrphanedEmulator, until } from '../support/orphaned-emulator-suite.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: `HUBTEST${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
const root = resolve(import.meta.dirname, '../..');
const temp = mkdtempSync(join(tmpdir(), 'hub-s3-'));
const dir = join(temp, 's3');
const probe = resolve(import.meta.dirname, '../support/lambda-handlers/probe.ts');
const reader = resolve(import.meta.dirname, '../support/lambda-handlers/s3-reader.ts');

/** The notifications under test: the catalogue's shape, pointed at the probe handler. */
const testBuckets: Record<string, BucketSpec> = {
  batches: {
    envVar: 'HUB_BATCH_BUCKET',
    localName: 'hub-batches',
    description: 'test',
    notifications: [
      { event: 'ObjectCreated', prefix: 'uploads/', function: 'probe' },
      { event: 'ObjectCreated', prefix: 'reads/', function: 'reader' },
    ],
  },
};

const runtime = workerInvoker({
  log: () => undefined,
  functions: { probe: { entry: probe, memoryMb: 128, timeoutSeconds: 5 }, reader: { entry: reader, memoryMb: 256, timeoutSeconds: 10 } },
});
const delivered: { fn: string; event: S3Event; outcome: InvokeOutcome }[] = [];
const recording: FunctionInvoker = {
  invoke: async (fn, event, requestId) => {
    const outcome = await runtime.invoke(fn, event, requestId);
    delivered.push({ fn, event: event as S3Event, outcome });
    return outcome;
  },
  close: () => runtime.close(),
};
const invocations = asyncInvocations({ invoker: recording, retryDelaysMs: [50, 50], log: () => undefined });
const relay = s3EventRelay({ region: REGION, buckets: testBuckets, hasFunction: (fn) => fn === 'probe' || fn === 'reader', invokeAsync: (fn, event, source) => invocations.invoke(fn, event, source), log: () => undefined });

let s3: S3Local | undefined;
let client: S3Client;
let createdAtStart: string[] = [];
const others: ChildProcess[] = [];

const start = () => startS3Local({ dir, credentials, onEvent: (event) => relay.deliver(event) });
const newClient = (endpoint: string) => new S3Client(s3ClientConfig({ endpoint, region: REGION, credentials, forcePathStyle: true }));

beforeAll(async () => {
  s3 = await start();
  client = newClient(s3.endpoint);
  createdAtStart = await provisionBuckets(client, testBuckets);
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  for (const c of others) c.kill('SIGKILL');
  invocations.close();
  await runtime.close();
  rmSync(temp, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function body(key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: 'hub-batches', Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** A presigned PUT URL as POST /v1/batches will hand it out. */
const presignPut = (key: string) => getSignedUrl(client, new PutObjectCommand({ Bucket: 'hub-batches', Key: key }), { expiresIn: 900 });

/** Whether a TCP connection to host:port is refused. */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), r(false)));
    socket.once('timeout', () => (socket.destroy(), r(true)));
    socket.once('error', () => r(true));
  });
}

describe('the S3 emulator', () => {
  it('creates the buckets it is given once, and leaves them (and their objects) alone after', async () => {
    expect(createdAtStart).toEqual(['hub-batches']);
    expect(await provisionBuckets(client, testBuckets)).toEqual([]);
  });

  it('answers on 127.0.0.1 only: a connection to any other address of this machine is refused', async () => {
    const port = s3!.port;
    expect(await refused('127.0.0.1', port)).toBe(false);
    // Another loopback address (always there on Linux) and every address of the machine's interfaces.
    const others = ['127.0.0.2', ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => !a.internal).map((a) => a.address))];
    for (const host of others) expect(await refused(host, port), `${host}:${port}`).toBe(true);
  });

  it('keeps its objects in a folder of the owner’s only', () => {
    expect(statSync(dir).mode & 0o077).toBe(0);
    expect(statSync(s3Paths(dir).log).mode & 0o077).toBe(0);
  });

  it('gives a presigned PUT URL no checksum parameter (the SDK default would presign a CRC32 of an empty body)', async () => {
    const url = new URL(await presignPut('uploads/plain.csv'));
    const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
    expect(names.filter((k) => k.startsWith('x-amz-checksum-') || k === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    // What this guards against: a client left with the SDK's defaults puts them in.
    const defaults = new S3Client({ endpoint: s3!.endpoint, region: REGION, credentials, forcePathStyle: true });
    const risky = new URL(await getSignedUrl(defaults, new PutObjectCommand({ Bucket: 'hub-batches', Key: 'uploads/x' }), { expiresIn: 900 }));
    defaults.destroy();
    expect([...risky.searchParams.keys()]).toContain('x-amz-sdk-checksum-algorithm');
  });

  it('takes a plain PUT to a presigned URL (no other header) and stores the exact bytes of a GB18030 file', async () => {
    const file = encodeGb18030('iname,cardNum,courtName\n张𠮷,110102199101010078,北京市第一中级人民法院\n"王, 五",91110000600037341L,上海市浦东新区人民法院\n');
    const response = await fetch(await presignPut('uploads/gb18030.csv'), { method: 'PUT', body: file });
    expect(response.status).toBe(200);
    expect((await body('uploads/gb18030.csv')).equals(file)).toBe(true);
  });

  it('refuses a presigned PUT once its URL has expired, and stores nothing', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'hub-batches', Key: 'uploads/late.csv' }), { expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    const response = await fetch(url, { method: 'PUT', body: 'too late' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
    await expect(client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: 'uploads/late.csv' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('streams a 50 MB body through a presigned PUT and stores exactly it, readable in full as soon as the PUT is answered', async () => {
    const path = join(temp, 'big.ndjson');
    const out = createWriteStream(path);
    const hash = createHash('sha256');
    for (let i = 0; i < 50; i++) {
      const chunk = randomBytes(1024 * 1024);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await finished(out);
    const expected = hash.digest('hex');
    const size = 50 * 1024 * 1024;

    const url = new URL(await presignPut('uploads/big.ndjson'));
    const status = await new Promise<number>((resolveStatus, reject) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': size } }, (res) => {
        res.resume();
        res.once('end', () => resolveStatus(res.statusCode!));
      });
      req.once('error', reject);
      createReadStream(path).pipe(req);
    });
    expect(status).toBe(200);
    rmSync(path);

    const head = await client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: 'uploads/big.ndjson' }));
    expect(head.ContentLength).toBe(size);
    const got = await client.send(new GetObjectCommand({ Bucket: 'hub-batches', Key: 'uploads/big.ndjson' }));
    const streamed = createHash('sha256');
    for await (const chunk of got.Body as AsyncIterable<Buffer>) streamed.update(chunk);
    expect(streamed.digest('hex')).toBe(expected);
  });

  it('shows an object only once its upload is complete: none while it runs, none after it was cut short', async () => {
    const key = 'uploads/cut-short.csv';
    const url = new URL(await presignPut(key));
    const req = request(url, { method: 'PUT', headers: { 'content-length': 10 * 1024 * 1024 } });
    req.on('error', () => undefined);
    req.write(randomBytes(1024 * 1024));
    await new Promise((r) => setTimeout(r, 300));
    const head = () => client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: key })).then(() => 'found', (e: Error) => e.name);
    expect(await head()).toBe('NotFound');
    req.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect(await head()).toBe('NotFound');
  });

  it('stores a streamed PutObject of a handler as its bytes, not framed in aws-chunked encoding', async () => {
    const data = Buffer.from('{"iname":"李四"}\n'.repeat(1000));
    const { Readable } = await import('node:stream');
    await client.send(new PutObjectCommand({ Bucket: 'hub-batches', Key: 'rejects/streamed.ndjson', Body: Readable.from([data]), ContentLength: data.length }));
    expect(sha256(await body('rejects/streamed.ndjson'))).toBe(sha256(data));
  });

  it('reads a range on condition of the ETag (If-Match), and refuses with PreconditionFailed once the object was replaced', async () => {
    const key = 'uploads/if-match.csv';
    await client.send(new PutObjectCommand({ Bucket: 'hub-batches', Key: key, Body: 'first version\n' }));
    const { ETag } = await client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: key }));
    const ranged = await client.send(new GetObjectCommand({ Bucket: 'hub-batches', Key: key, Range: 'bytes=6-', IfMatch: ETag }));
    expect(await ranged.Body!.transformToString()).toBe('version\n');
    await client.send(new PutObjectCommand({ Bucket: 'hub-batches', Key: key, Body: 'second version\n' }));
    await expect(client.send(new GetObjectCommand({ Bucket: 'hub-batches', Key: key, Range: 'bytes=6-', IfMatch: ETag }))).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    await expect(client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: key, IfMatch: ETag }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    const current = await client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: key }));
    expect((await client.send(new HeadObjectCommand({ Bucket: 'hub-batches', Key: key, IfMatch: current.ETag }))).ContentLength).toBe(15);
  });

  it('lists past its first page (its continuation tokens need the legacy OpenSSL provider of its own process)', async () => {
    const first = await client.send(new ListObjectsV2Command({ Bucket: 'hub-batches', MaxKeys: 1 }));
    expect(first.IsTruncated).toBe(true);
    const next = await client.send(new ListObjectsV2Command({ Bucket: 'hub-batches', MaxKeys: 1, ContinuationToken: first.NextContinuationToken }));
    expect(next.Contents?.[0]?.Key).not.toBe(first.Contents?.[0]?.Key);
  });

  it('keeps its objects across a restart, and its pid file names only the running emulator', async () => {
    const before = await body('uploads/gb18030.csv');
    const firstPid = s3!.pid;
    // What an upload cut short by a crash of the emulator leaves: removed at the next start.
    const partial = join(s3Paths(dir).objects, 'hub-batches', 'uploads', 'crashed.csv._S3rver_object.0c0ffee0.partial');
    writeFileSync(partial, 'half a file');
    await s3!.stop();
    expect(isRunning(firstPid)).toBe(false);
    expect(existsSync(s3Paths(dir).pidFile)).toBe(false);
    s3 = await start();
    client.destroy();
    client = newClient(s3.endpoint);
    expect(JSON.parse(readFileSync(s3Paths(dir).pidFile, 'utf8')).emulator.pid).toBe(s3.pid);
    expect((await body('uploads/gb18030.csv')).equals(before)).toBe(true);
    expect(existsSync(partial)).toBe(false);
  });
});

describe('lifecycle expiration', () => {
  it('deletes the objects older than the bucket’s expireAfterDays (from midnight UTC after), and no others', async () => {
    const expiring: Record<string, BucketSpec> = {
      batches: { ...testBuckets.batches!, expireAfterDays: 30 },
      kept: { envVar: 'X', localName: 'hub-kept', description: 'no expiry', notifications: [] },
    };
    await provisionBuckets(client, expiring);
    await client.send(new PutObjectCommand({ Bucket: 'hub-kept', Key: 'old.txt', Body: 'kept' }));
    const before = (await client.send(new ListObjectsV2Command({ Bucket: 'hub-batches' }))).Contents!;
    expect(before.length).toBeGreaterThan(2); // the objects of the tests above, all written minutes ago at most
    const written = Math.max(...before.map((o) => o.LastModified!.getTime()));

    const day = 86_400_000;
    expect(await expireObjects(client, new Date(written + 30 * day - 1), expiring)).toEqual({ 'hub-batches': 0 });
    expect(await expireObjects(client, new Date(Math.ceil((written + 30 * day) / day) * day), expiring)).toEqual({ 'hub-batches': before.length });
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'hub-batches' }))).KeyCount).toBe(0);
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'hub-kept' }))).KeyCount).toBe(1);
  });
});

describe('bucket notifications (the S3 event relay)', () => {
  beforeAll(() => {
    // What the local stack gives its handlers (event-services.ts); the function environments copy it when they start.
    const env = { ...localServicesEnvironment(s3!.endpoint, 'http://127.0.0.1:9'), AWS_REGION: REGION, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  });

  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('invokes the notified function asynchronously with the S3 event of the upload', async () => {
    const key = 'uploads/批次 2026+1.csv';
    const data = Buffer.from('iname,cardNum\n');
    delivered.length = 0;
    const before = Date.now();
    expect((await fetch(await presignPut(key), { method: 'PUT', body: data })).status).toBe(200);
    expect(await until(() => delivered.length > 0, 10_000)).toBe(true);
    await invocations.idle();

    expect(delivered).toHaveLength(1);
    const [{ fn, event, outcome }] = delivered as [(typeof delivered)[number]];
    expect(fn).toBe('probe');
    // It ran in the function's own execution environment (a worker thread of the local Lambda runtime).
    expect(outcome).toMatchObject({ status: 'ok', result: { functionName: 'credit-hub-probe' } });
    expect(event.Records).toHaveLength(1);
    const record = event.Records[0]!;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: REGION,
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: 'hub-batches', arn: 'arn:aws-cn:s3:::hub-batches' },
        object: { key: 'uploads/%E6%89%B9%E6%AC%A1+2026%2B1.csv', size: data.length, eTag: createHash('md5').update(data).digest('hex') },
      },
    });
    // The key comes back as a handler decodes it.
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    expect(Date.parse(record.eventTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16}$/);
  });

  it('gives a handler what it needs to read the object with the hub’s own S3 client, and to write one', async () => {
    const key = 'reads/法院 批次.csv';
    const data = encodeGb18030('iname,cardNum\n张三,110102199101010078\n');
    delivered.length = 0;
    expect((await fetch(await presignPut(key), { method: 'PUT', body: data })).status).toBe(200);
    expect(await until(() => delivered.length > 0, 15_000)).toBe(true);
    await invocations.idle();
    expect(delivered.map((d) => [d.fn, d.outcome])).toEqual([['reader', { status: 'ok', result: { key, bucket: 'hub-batches', size: data.length, sha256: sha256(data) } }]]);
    expect((await body(`copies/${key}`)).equals(data)).toBe(true);
  });

  it('does not invoke it for objects outside the notification’s prefix', async () => {
    delivered.length = 0;
    expect((await fetch(await presignPut('rejects/b.ndjson'), { method: 'PUT', body: 'x' })).status).toBe(200);
    expect((await fetch(await presignPut('uploads/c.csv'), { method: 'PUT', body: 'y' })).status).toBe(200);
    expect(await until(() => delivered.length > 0, 10_000)).toBe(true);
    await invocations.idle();
    expect(delivered.map((d) => decodeURIComponent(d.event.Records[0]!.s3.object.key))).toEqual(['uploads/c.csv']);
  });
});

describeOrphanedEmulator({
  name: 'S3',
  root,
  temp,
  others,
  paths: (folder) => ({ pidFile: s3Paths(folder).pidFile, log: s3Paths(folder).log, data: s3Paths(folder).objects }),
  start: (folder) => startS3Local({ dir: folder, credentials, onEvent: () => undefined }),
  stray: (folder) => {
    mkdirSync(s3Paths(folder).objects, { recursive: true });
    return spawn(process.execPath, ['--openssl-legacy-provider', join(root, 'infra/local/s3rver-process.mjs'), '--directory', s3Paths(folder).objects], {
      env: { ...process.env, S3RVER_ACCESS_KEY_ID: credentials.accessKeyId, S3RVER_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      stdio: 'ignore',
    });
  },
  startSource: (folder) => `import { startS3Local } from ${JSON.stringify(join(root, 'infra/local/s3-local.ts'))};
      const emulator = await startS3Local({ dir: ${JSON.stringify(folder)}, credentials: ${JSON.stringify(credentials)}, onEvent: () => {} });`,
});
