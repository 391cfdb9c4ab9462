/**
 * The nightly sync end to end against the emulators, through the real AWS SDK: DynamoDB Local (the catalogue's
 * tables: runs, leases and watermarks in `jobs`; package bodies and deliveries, and the byDay and owed indexes, in
 * `deliveries`; record heads and superseded versions in `records`), the local S3 (the package's segments and the
 * lists of the deliveries each carried, written as streams and read back) and the built-in platform receiver
 * standing in for the platform (it checks the header's count and SHA-256). Then a run killed after its upload,
 * before its POST, run again: one package received, under the run id; and a POST whose answer was lost, sent again:
 * stored once. And an invocation that lost its run while still writing a segment: what it writes lands under its
 * own key, and the package the platform receives (and receives again after a resume) is the holder's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformReceiver, type PlatformReceiver } from '../../infra/local/platform-receiver.js';
import { startS3Local, type S3Local } from '../../infra/local/s3-local.js';
import { buckets, tables } from '../../infra/catalogue.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { DynamoJobLeases } from '../../shared/jobs/job-lease.js';
import { newRun } from '../../shared/jobs/run-model.js';
import { DynamoRunsStore } from '../../shared/jobs/runs-store.js';
import { DynamoWatermarks } from '../../shared/jobs/watermark-store.js';
import { DynamoDeliveryPages } from '../../shared/sync/delivery-pages.js';
import { S3PackageSegments } from '../../shared/sync/package-segments.js';
import { runSync, type SyncDeps } from '../../shared/sync/run-sync.js';
import { syncLimits } from '../../shared/sync/sync-limits.js';
import { fetchSyncPost } from '../../shared/sync/sync-post.js';
import { newDelivery, packageKeyOf, type PackageDelivery, type PackageRef } from '../../shared/upward/package-model.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { DynamoRecordVersions } from '../../shared/upward/record-versions.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

const REGION = 'cn-north-1';
const SENDER = '91110000600037341L';
const BUCKET = buckets.exchange.localName;
const JOBS = tables.jobs.localName;
const credentials = { accessKeyId: `HUBTEST${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
const temp = mkdtempSync(join(tmpdir(), 'hub-sync-run-'));
const ACTIVE = { status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };

let dynamo: TestDynamo;
let s3: S3Local;
let client: S3Client;
let receiver: PlatformReceiver;
let clock = Date.parse('2026-03-02T00:00:00.000Z');

beforeAll(async () => {
  dynamo = await startTestDynamo();
  s3 = await startS3Local({ dir: join(temp, 's3'), credentials, onEvent: () => undefined });
  client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: REGION, credentials, forcePathStyle: true }));
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  receiver = await startPlatformReceiver({ dir: join(temp, 'platforms') });
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  client?.destroy();
  await s3?.stop();
  await dynamo?.stop();
  rmSync(temp, { recursive: true, force: true });
});

const runs = () => new DynamoRunsStore(dynamo.doc, JOBS);
const packages = () => new DynamoPackagesStore(dynamo.doc, tables.deliveries.localName);

function deps(over: Partial<SyncDeps> = {}): SyncDeps {
  let tokens = 0;
  return {
    runs: runs(),
    leases: new DynamoJobLeases(dynamo.doc, JOBS),
    watermarks: new DynamoWatermarks(dynamo.doc, JOBS),
    pages: new DynamoDeliveryPages(dynamo.doc, tables.deliveries.localName),
    packages: packages(),
    versions: new DynamoRecordVersions(dynamo.doc, tables.records.localName),
    cipher: async () => ({ decrypt: async () => 'never' }),
    segments: new S3PackageSegments(client, BUCKET),
    post: fetchSyncPost,
    continueLater: async () => {
      throw new Error('not expected');
    },
    baseUrl: (platform) => receiver.baseUrl(platform),
    sender: () => SENDER,
    limits: { ...syncLimits, heartbeatMs: 0, pageSize: 7, maxSegmentRecords: 20 },
    now: () => new Date(clock),
    remainingMs: () => 600_000,
    sleep: async () => undefined,
    random: () => 0,
    newToken: () => `token-${randomBytes(4).toString('hex')}-${++tokens}`,
    ...over,
  };
}

const fieldsOf = (id: string, version: number) => ({ CF_WSH: `罚〔2026〕${id}号`, CF_XDR_MC: version === 1 ? '某某科技有限公司' : `某某科技有限公司（第${version}版）` });

/** Record `id` stored at `version` (its head), the versions before it kept as V# items. */
async function store(id: string, version: number, at: string): Promise<void> {
  const head = {
    id,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    identity: id,
    version,
    subjectKey: 'USCC#x',
    decisionDate: '2026-01-05',
    late: false,
    firstReceivedAt: at,
    receivedAt: at,
    ...ACTIVE,
    fields: fieldsOf(id, version),
    contentHash: 'h',
  } as unknown as StoredHead;
  await dynamo.doc.send(new PutCommand({ TableName: tables.records.localName, Item: { pk: `REC#${id}`, sk: 'HEAD', ...head } }));
  for (let v = 1; v < version; v++) {
    await dynamo.doc.send(new PutCommand({ TableName: tables.records.localName, Item: { pk: `REC#${id}`, sk: `V#${String(v).padStart(10, '0')}`, fields: fieldsOf(id, v), contentHash: 'h' } }));
  }
}

let packagesMade = 0;

/** A package of `refs` opened `at` as the fan-out makes it (body opened, claimed, closed), and its delivery to the provincial platform. */
async function packageOf(refs: PackageRef[], at: string, state: 'pending' | 'delivered' = 'pending'): Promise<PackageDelivery> {
  const pkgs = packages();
  const key = packageKeyOf({ sequenceNumber: String(++packagesMade).padStart(21, '0'), recordId: refs[0]!.recordId, version: refs[0]!.version });
  await pkgs.openBody(key, refs, at);
  for (const r of refs) expect(await pkgs.claim(r.recordId, r.version, key, at)).toBe(key);
  await pkgs.closeBody(key, refs);
  const d = newDelivery(key, refs.length, 'provincial', '', new Date(at));
  expect(await pkgs.createDelivery(d)).toEqual({ created: true });
  if (state === 'delivered') await pkgs.markDelivered(d, at, 0);
  return d;
}

/** A record's head and a package of that one version, created `at`. */
async function change(id: string, at: string, state: 'pending' | 'delivered' = 'pending'): Promise<PackageDelivery> {
  await store(id, 1, at);
  return packageOf([{ recordId: id, version: 1, operation: 'upsert' }], at, state);
}

async function ask(runId: string): Promise<string> {
  await runs().create(newRun({ runId, job: 'sync-provincial', requestedBy: 'operator', now: new Date(clock) }));
  return runId;
}

/** `target` with some methods replaced (the others bound to it: the adapters have private fields). */
function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get: (t, p) => (p in overrides ? overrides[p as keyof T] : typeof t[p as keyof T] === 'function' ? (t[p as keyof T] as Function).bind(t) : t[p as keyof T]),
  });
}

const receivedFor = (key: string) => receiver.received('provincial').filter((p) => p.idempotencyKey === key);

describe('a nightly sync against DynamoDB Local, S3 and a platform', () => {
  it('sends the changes (paged, in segments) and the owed as one gzip NDJSON package the platform accepts; marks them delivered; moves the watermark', async () => {
    const made: PackageDelivery[] = [];
    for (let i = 0; i < 30; i++) made.push(await change(`pen_S${String(i).padStart(2, '0')}`, new Date(Date.parse('2026-03-01T00:00:00.000Z') + i * 60_000).toISOString(), i % 3 === 0 ? 'delivered' : 'pending'));
    // A package of two versions of one record (the first superseded: read from its V# item) and another record.
    await store('pen_V', 2, '2026-03-01T01:00:00.000Z');
    await store('pen_W', 1, '2026-03-01T01:00:00.000Z');
    const multi = await packageOf(
      [
        { recordId: 'pen_V', version: 1, operation: 'upsert' },
        { recordId: 'pen_V', version: 2, operation: 'upsert' },
        { recordId: 'pen_W', version: 1, operation: 'upsert' },
      ],
      '2026-03-01T01:00:00.000Z',
    );
    made.push(multi);
    // Still owed from before the window (the first run's lookback): reconciled through the owed index.
    const owed = await change('pen_OWED', '2025-01-10T00:00:00.000Z');
    made.push(owed);
    const runId = await ask('run_integrationfirstaaaaaaaa');
    expect(await runSync({ runId }, deps())).toEqual({ [runId]: 'completed' });

    const [pkg] = receivedFor(runId);
    expect(pkg).toMatchObject({ format: 'ndjson', records: 34, packageId: runId, headers: { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' } });
    const [header, ...lines] = pkg!.body as any[];
    expect(header.header).toMatchObject({ packageId: runId, sender: SENDER, platform: 'provincial', recordCount: 34, to: new Date(clock).toISOString() });
    const ids = Array.from({ length: 30 }, (_, i) => `pen_S${String(i).padStart(2, '0')}`);
    // By createdAt: the package of three (opened at 01:00) comes last of the window; then the owed one.
    expect(lines.map((l) => `${l.recordId}@${l.version}`)).toEqual([...ids.map((id) => `${id}@1`), 'pen_V@1', 'pen_V@2', 'pen_W@1', 'pen_OWED@1']);
    expect(lines[1]).toEqual({ operation: 'upsert', kind: 'penalty', recordId: 'pen_S01', version: 1, sourceId: 'shi-scjgj', packageId: made[1]!.packageId, fields: { CF_WSH: '罚〔2026〕pen_S01号', CF_XDR_MC: '某某科技有限公司' } });
    expect(lines.slice(30).map((l) => [l.fields.CF_XDR_MC, l.packageId])).toEqual([
      ['某某科技有限公司', multi.packageId],
      ['某某科技有限公司（第2版）', multi.packageId],
      ['某某科技有限公司', multi.packageId],
      ['某某科技有限公司', owed.packageId],
    ]);

    const run = (await runs().get(runId))!;
    expect(run).toMatchObject({ status: 'completed', counts: { changes: 33, owed: 1, records: 34 } });
    expect(run.checkpoint!.body).toMatchObject({ segments: 2, records: 34 }); // 21 + 13 lines, in pages of 7 deliveries: closed at 20 or more
    // One writer, the invocation that ran it: its segments under its own keys.
    const [writer, ...others] = run.checkpoint!.body.writers!;
    expect(others).toEqual([]);
    const stored = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `sync/provincial/${runId}/` }));
    expect(stored.Contents?.map((o) => o.Key).sort()).toEqual(
      [1, 2].flatMap((n) => [`sync/provincial/${runId}/${writer!.id}/0000${n}.carried.gz`, `sync/provincial/${runId}/${writer!.id}/0000${n}.ndjson.gz`]),
    );
    expect(await new DynamoWatermarks(dynamo.doc, JOBS).get('provincial')).toMatchObject({ at: run.to, runId });
    for (const d of made) {
      const now = await packages().getDelivery(d);
      expect(now).toMatchObject({ state: 'delivered' });
      expect(now!.owedBy).toBeUndefined();
    }
  }, 120_000);

  it('killed after the upload, before the POST: run again once its lease lapsed, one package arrives under the run id; a POST whose answer was lost is stored once', async () => {
    clock += 3600_000;
    await change('pen_K1', new Date(clock - 1000).toISOString());
    await change('pen_K2', new Date(clock - 500).toISOString());
    const runId = await ask('run_integrationkilledaaaaaaa');
    const store = runs();
    const killing = deps({
      runs: overriding(store, {
        save: async (...args: Parameters<DynamoRunsStore['save']>) => {
          if (args[2].sendAttempts === 1) throw new Error('SIGKILL');
          return store.save(...args);
        },
      }),
      // A killed invocation releases nothing.
      leases: overriding(new DynamoJobLeases(dynamo.doc, JOBS), { release: async () => 'ok' as const }),
    });
    await expect(runSync({ runId }, killing)).rejects.toThrow('SIGKILL');
    expect((await runs().get(runId))!.checkpoint).toMatchObject({ phase: 'uploaded', header: { recordCount: 2 } });
    expect(receivedFor(runId)).toEqual([]);

    // Before the lease lapses, the run is being run (as far as anyone can tell): left alone.
    expect(await runSync({ runId }, deps())).toEqual({ [runId]: 'elsewhere' });
    clock += syncLimits.leaseMs + 1;
    // The platform takes it, but the invocation dies before it has saved the answer: the run is still "uploaded".
    const losing = deps({
      runs: overriding(store, {
        save: async (...args: Parameters<DynamoRunsStore['save']>) => {
          if (args[2].phase === 'sent') throw new Error('SIGKILL after the POST');
          return store.save(...args);
        },
      }),
      leases: overriding(new DynamoJobLeases(dynamo.doc, JOBS), { release: async () => 'ok' as const }),
    });
    await expect(runSync({ runId }, losing)).rejects.toThrow('SIGKILL after the POST');
    expect((await runs().get(runId))!.checkpoint!.phase).toBe('uploaded');
    // Sent once and kept: its body is what was uploaded before the kill.
    expect(receivedFor(runId)).toHaveLength(1);
    const first = receivedFor(runId)[0]!;
    clock += syncLimits.leaseMs + 1;
    expect(await runSync({ runId }, deps())).toEqual({ [runId]: 'completed' });
    const kept = receivedFor(runId);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.bodySha256).toBe(first.bodySha256);
    expect((kept[0]!.body as any[]).slice(1).map((l) => l.recordId)).toEqual(['pen_K1', 'pen_K2']);
    expect(readdirSync(join(temp, 'platforms', 'provincial')).filter((f) => f.includes(runId) && f.endsWith('.ndjson'))).toHaveLength(1);
    expect((await runs().get(runId))!.status).toBe('completed');
  }, 120_000);
});

describe('an invocation that lost its run while still working, against the emulators', () => {
  it('writes its segment after the takeover under its own key: the package goes out, and again after a resume, with the bytes the holder sealed; the platform keeps it once', async () => {
    clock += 3600_000;
    const ids = Array.from({ length: 6 }, (_, i) => `pen_L${i}`);
    for (const [i, id] of ids.entries()) await change(id, new Date(clock - 6000 + i * 1000).toISOString());
    const runId = await ask('run_integrationstalewriteraa');
    const limits = { ...syncLimits, heartbeatMs: 0, pageSize: 2, maxSegmentRecords: 3 };
    // The first invocation stalls as it writes its second segment (its writes: segment 1, its carried list, segment 2).
    const real = new S3PackageSegments(client, BUCKET);
    let writes = 0;
    let stalled!: () => void;
    let wake!: () => void;
    const stalling = new Promise<void>((resolve) => (stalled = resolve));
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const stalls = overriding(real, {
      write: async (key: string, lines: AsyncIterable<string>) => {
        if (++writes !== 3) return real.write(key, lines);
        stalled();
        await woken;
        return real.write(key, (async function* () {
          yield '{"stale":true}\n';
        })());
      },
    });
    const first = runSync({ runId }, deps({ limits, segments: stalls }));
    await stalling;

    // Its lease lapsed: the next invocation takes the run over, POSTs the package and dies before saving the answer.
    clock += syncLimits.leaseMs + 1;
    const store = runs();
    const killed = deps({
      limits,
      runs: overriding(store, {
        save: async (...args: Parameters<DynamoRunsStore['save']>) => {
          if (args[2].phase === 'sent') throw new Error('SIGKILL after the POST');
          return store.save(...args);
        },
      }),
      leases: overriding(new DynamoJobLeases(dynamo.doc, JOBS), { release: async () => 'ok' as const }),
    });
    await expect(runSync({ runId }, killed)).rejects.toThrow('SIGKILL after the POST');
    const sealed = (await runs().get(runId))!.checkpoint!;
    expect(sealed).toMatchObject({ phase: 'uploaded', body: { segments: 2, records: 6 } });
    const [stale, holder] = sealed.body.writers!;
    expect(sealed.body.writers!.map((w) => w.from)).toEqual([1, 2]);
    expect(receivedFor(runId)).toHaveLength(1);

    // The stalled invocation wakes: its segment lands in S3 under its own key; its save finds the run gone.
    wake();
    expect(await first).toEqual({ [runId]: 'lease-lost' });
    expect((await runs().get(runId))!.checkpoint).toEqual(sealed);

    // Resumed once the lease lapsed: the same bytes (the platform answers as before, keeps one), then completed.
    clock += syncLimits.leaseMs + 1;
    expect(await runSync({ runId }, deps({ limits }))).toEqual({ [runId]: 'completed' });
    // Kept once: a second body under the same key would have been refused (422 idempotency_key_reused), failing the run.
    const kept = receivedFor(runId);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ records: 6 });
    const [head, ...lines] = kept[0]!.body as any[];
    expect(head.header.bodySha256).toBe(sealed.header!.bodySha256); // the receiver checked the body against it
    expect(lines.map((l) => l.recordId)).toEqual(ids);
    expect(await runs().get(runId)).toMatchObject({ status: 'completed', attempts: 3 });
    // Both second segments are in S3; the package was made of the holder's (left for the bucket's expiry: never named).
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `sync/provincial/${runId}/` }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(`sync/provincial/${runId}/${stale!.id}/00002.ndjson.gz`);
    expect(listed.Contents?.map((o) => o.Key)).toContain(`sync/provincial/${runId}/${holder!.id}/00002.ndjson.gz`);
  }, 120_000);
});

describe('the DynamoDB adapters’ conditions', () => {
  it('a lease: taken when free, refused while another invocation holds it, taken over once lapsed (the previous holder comes back); only its holder renews or releases it', async () => {
    const leases = new DynamoJobLeases(dynamo.doc, JOBS);
    expect(await leases.take('test-job', 'run_a', 'tok-a', 2000, 1000)).toEqual({ taken: true });
    expect(await leases.take('test-job', 'run_b', 'tok-b', 2500, 1500)).toEqual({ taken: false, current: { holder: 'run_a', token: 'tok-a', until: 2000 } });
    expect(await leases.renew('test-job', 'tok-b', 9999)).toBe('lost');
    expect(await leases.renew('test-job', 'tok-a', 3000)).toBe('ok');
    expect(await leases.take('test-job', 'run_b', 'tok-b', 4000, 3001)).toEqual({ taken: true, previous: { holder: 'run_a', token: 'tok-a', until: 3000 } });
    expect(await leases.release('test-job', 'tok-a')).toBe('lost');
    expect(await leases.hold('test-job', 'run_c', 'tok-b', 5000)).toBe('ok');
    expect(await leases.release('test-job', 'tok-b')).toBe('ok');
    expect(await leases.take('test-job', 'run_d', 'tok-d', 6000, 1)).toEqual({ taken: true, previous: { holder: 'run_c', token: 'tok-b', until: 0 } });
  });

  it('a watermark moves only from the value a run started from; a resumed run finds its own move done', async () => {
    const marks = new DynamoWatermarks(dynamo.doc, JOBS);
    expect(await marks.advance('national', undefined, 'T1', 'run_1', 'x')).toBe('moved');
    expect(await marks.advance('national', undefined, 'T1', 'run_1', 'x')).toBe('already');
    expect(await marks.advance('national', 'T0', 'T2', 'run_2', 'x')).toBe('lost');
    expect(await marks.advance('national', 'T1', 'T2', 'run_2', 'x')).toBe('moved');
    expect(await marks.get('national')).toMatchObject({ at: 'T2', runId: 'run_2' });
  });

  it('a run’s checkpoint is saved only over the step it was read at; a waiting run can be failed, a finished one not', async () => {
    const store = runs();
    const run = newRun({ runId: 'run_conditionsaaaaaaaaaaaaaa', job: 'sync-national', requestedBy: 'schedule', now: new Date(clock) });
    await store.create(run);
    await expect(store.create(run)).rejects.toThrow();
    const checkpoint = { phase: 'building' as const, step: 0, cursor: { pass: 'owed' as const }, body: { segments: 0, records: 0, bytes: 0 } };
    expect(await store.countAttempt(run.runId)).toBe(1);
    expect(await store.begin(run.runId, { from: 'F', startedAt: 'S', checkpoint })).toBe('ok');
    expect(await store.begin(run.runId, { from: 'F', startedAt: 'S', checkpoint })).toBe('lost');
    const counts = { changes: 1, owed: 0, skipped: 0, records: 1, bytes: 0 };
    expect(await store.save(run.runId, 0, { ...checkpoint, step: 1, cursor: { pass: 'owed', startKey: { owedBy: 'national', owedSince: 'x', pk: 'PKG#a', sk: 'national#01' } } }, counts)).toBe('ok');
    expect(await store.save(run.runId, 0, { ...checkpoint, step: 1 }, counts)).toBe('lost');
    expect((await store.get(run.runId))!.checkpoint!.cursor).toEqual({ pass: 'owed', startKey: { owedBy: 'national', owedSince: 'x', pk: 'PKG#a', sk: 'national#01' } });
    expect(await store.complete(run.runId, 1, counts, 'E')).toBe('ok');
    expect(await store.fail(run.runId, 'late', 'E', ['waiting', 'running'])).toBe('lost');
    expect(await store.countAttempt(run.runId)).toBeUndefined();
    expect(await store.replaceWaiting({ ...run, status: 'failed' })).toBe('lost');
  });
});
