/**
 * Court batches end to end, over HTTP against the local stack (API.md "Court batches"): a court opens a
 * batch, PUTs a generated file to the presigned URL with a plain fetch (no other header), and follows
 * GET /v1/batches/{id} to the end; the counts are the sample manifest's, the rejects download lists the
 * bad rows by line with reasons and no identity number in full. Who may read a batch; files that cannot
 * be ingested fail with a reason; an upload after expiresAt fails. And the crash test (issue 7, item 5):
 * the stack is killed (SIGKILL) while a batch is processing, started again on the same data folder, and
 * the batch finishes by itself with exact counts: no row lost, none counted or stored twice.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_ID_PATTERN } from '../../contracts/batches.js';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { environment } from '../../infra/catalogue.js';
import { REASONS } from '../../shared/batch/failure-reasons.js';
import { recordId } from '../../shared/domain/record-model.js';
import { writeBatch, type BatchManifest, type BatchOptions } from '../support/batch-sample/index.js';
import { SOURCE_USCC, ORGAN_USCC } from '../support/fixtures.js';
import { getRecord, pause, registerSource } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';
import { scanRecordsTable, tornParts } from '../support/stack-records-table.js';

const OPERATOR_KEY = `hub_${randomUUID().replaceAll('-', '')}e2ebatches`;
/** The upload URLs of the first stack work this long: long enough to upload right away, short enough to see one expire. */
const UPLOAD_SECONDS = 20;
const files = mkdtempSync(join(tmpdir(), 'hub-e2e-batch-files-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));

const COURTS = {
  a: { id: 'bj-1zy', name: '北京市第一中级人民法院', uscc: ORGAN_USCC, role: 'court', kinds: ['dishonest-debtor'] },
  b: { id: 'sh-2zy', name: '上海市第二中级人民法院', uscc: ORGAN_USCC, role: 'court', kinds: ['dishonest-debtor'] },
} as const;

type Json = any;

async function call(url: string, key: string, init: RequestInit = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const openBatch = (api: string, key: string, declared: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call(`${api}/v1/batches`, key, { method: 'POST', body: JSON.stringify(declared), headers });
const readBatch = (api: string, key: string, id: string) => call(`${api}/v1/batches/${id}`, key);

/** A plain PUT of the file, as `curl -T` sends it: the body and its length, no other header. */
async function upload(url: string, path: string): Promise<number> {
  const res = await fetch(url, { method: 'PUT', body: await openAsBlob(path) });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Polls the batch until `done` holds; fails when its status and count have not moved for `stallMs` (a stuck
 * batch, not a slow machine). Every answer must keep the counts adding up.
 */
async function follow(api: string, key: string, id: string, done: (b: Json) => boolean, stallMs: number): Promise<Json> {
  let moved = Date.now();
  let last = '';
  for (;;) {
    const { status, body } = await readBatch(api, key, id);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.accepted + body.updated + body.duplicates + body.rejected).toBe(body.total);
    if (done(body)) return body;
    const progress = `${body.status} ${body.total}`;
    if (progress !== last) {
      last = progress;
      moved = Date.now();
    }
    if (Date.now() - moved > stallMs) throw new Error(`batch ${id} still ${JSON.stringify(body)}, unchanged for ${stallMs} ms`);
    await pause(500);
  }
}
const finished = (b: Json) => b.status === 'completed' || b.status === 'failed';

async function sample(name: string, options: BatchOptions): Promise<{ path: string; manifest: BatchManifest }> {
  const path = join(files, name);
  return { path, manifest: await writeBatch(path, options) };
}

/** Every line number of the manifest's listed bad rows (complete when fewer than listLimit of each kind). */
const badLines = (m: BatchManifest) => Object.values(m.badByKind).flatMap((l) => l!.first.map((r) => r.line));
/** An identity number in full: 6 digits, a birth date, 3 digits and a check character. */
const FULL_IDENTITY_NUMBER = /(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/;

describe('court batches over HTTP', () => {
  let stack: StackProcess;
  let api: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startStackProcess({ HUB_DATA_DIR: tempDataDir('hub-e2e-batches-'), HUB_OPERATOR_KEY: OPERATOR_KEY, [environment.batchUploadSeconds]: String(UPLOAD_SECONDS) });
    api = stack.url;
    keys.a = await registerSource(api, OPERATOR_KEY, { ...COURTS.a, kinds: [...COURTS.a.kinds] });
    keys.b = await registerSource(api, OPERATOR_KEY, { ...COURTS.b, kinds: [...COURTS.b.kinds] });
    keys.department = await registerSource(api, OPERATOR_KEY, { id: 'shi-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['penalty'] });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop('SIGINT');
  }, 60_000);

  /** Ingests a sample as `court`: each sample goes to a court of its own, since the same court and caseCode are the same record across batches. */
  async function ingestSample(court: 'a' | 'b', name: string, options: BatchOptions, declared: Record<string, unknown>) {
    const { path, manifest } = await sample(name, options);
    const key = keys[court]!;
    const opened = await openBatch(api, key, declared);
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body.batchId).toMatch(BATCH_ID_PATTERN);
    expect(new URL(opened.body.uploadUrl).protocol).toMatch(/^https?:$/);
    expect((await readBatch(api, key, opened.body.batchId)).body).toMatchObject({ status: 'waiting', total: 0, expiresAt: opened.body.expiresAt });
    expect(await upload(opened.body.uploadUrl, path)).toBe(200);
    const uploaded = Date.now();
    const done = await follow(api, key, opened.body.batchId, finished, 180_000);
    const seconds = (Date.now() - uploaded) / 1000;
    process.stdout.write(`[court-batches] ${name}: ${manifest.total} rows in ${seconds.toFixed(1)} s after the upload = ${Math.round(manifest.total / seconds)} rows/s\n`);
    return { batchId: opened.body.batchId as string, done, manifest };
  }

  async function rejectsOf(done: Json): Promise<Json[]> {
    expect(done.rejectsUrl).toBeDefined();
    const res = await fetch(done.rejectsUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(FULL_IDENTITY_NUMBER);
    return text.trimEnd().split('\n').map((l) => JSON.parse(l));
  }

  it('an NDJSON file in UTF-8: completed with the manifest’s counts; the rejects list each bad row by line, with reasons, masked', async () => {
    const { done, manifest } = await ingestSample('a', 'debtors.ndjson', { rows: 3000, format: 'ndjson', bad: 0.05, repeats: 0.03, seed: 701 }, { kind: 'dishonest-debtor', format: 'ndjson' });
    expect(done).toMatchObject({ status: 'completed', ...manifest.expected, encoding: 'utf-8', format: 'ndjson', kind: 'dishonest-debtor' });
    expect(manifest.expected.rejected).toBeGreaterThan(0);
    const rejects = await rejectsOf(done);
    expect(rejects).toHaveLength(manifest.expected.rejected);
    for (const r of rejects) {
      expect(Number.isInteger(r.line)).toBe(true);
      expect(r.reasons.length).toBeGreaterThan(0);
      for (const reason of r.reasons) expect(typeof reason.message).toBe('string');
    }
    expect(rejects.map((r) => r.line).sort((x, y) => x - y)).toEqual(badLines(manifest).sort((x, y) => x - y));
  }, 240_000);

  it('a CSV file in GB18030: completed with the manifest’s counts (rare characters and all)', async () => {
    const { done, manifest } = await ingestSample('b', 'debtors.csv', { rows: 2500, format: 'csv', encoding: 'gb18030', bad: 0.04, repeats: 0.03, rareNames: 0.1, seed: 702 }, { kind: 'dishonest-debtor', format: 'csv', encoding: 'gb18030' });
    expect(done).toMatchObject({ status: 'completed', ...manifest.expected, encoding: 'gb18030', format: 'csv' });
    expect(await rejectsOf(done)).toHaveLength(manifest.expected.rejected);
  }, 240_000);

  it('the court that opened a batch and the operator read it; another court’s key gets 404 exactly as for an unknown id', async () => {
    const opened = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'ndjson' });
    const id = opened.body.batchId as string;
    expect((await readBatch(api, OPERATOR_KEY, id)).body).toMatchObject({ batchId: id, status: 'waiting' });
    const other = await readBatch(api, keys.b!, id);
    const unknown = await readBatch(api, keys.b!, 'bat_' + 'a'.repeat(26));
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(other.body.error.code).toBe(unknown.body.error.code);
    expect(other.body.error.message.replace(id, 'ID')).toBe(unknown.body.error.message.replace('bat_' + 'a'.repeat(26), 'ID'));
    expect((await readBatch(api, keys.department!, id)).status).toBe(404);
  });

  it('only a court opens batches, of a kind it may push; a wrong declaration is 400 naming the field; an Idempotency-Key gives the same batch again', async () => {
    expect((await openBatch(api, keys.department!, { kind: 'dishonest-debtor', format: 'ndjson' })).status).toBe(403);
    expect((await openBatch(api, OPERATOR_KEY, { kind: 'dishonest-debtor', format: 'ndjson' })).status).toBe(403);
    expect((await openBatch(api, keys.a!, { kind: 'penalty', format: 'csv' })).status).toBe(403);
    const wrong = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'xlsx' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'invalid_batch', details: [expect.objectContaining({ field: 'format' })] });
    const key = randomUUID();
    const first = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'csv' }, { 'idempotency-key': key });
    const again = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'csv' }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
  });

  it('an empty file, and a CSV with a column the kind does not have, fail with a reason', async () => {
    const empty = join(files, 'empty.ndjson');
    writeFileSync(empty, '');
    const a = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'ndjson' });
    expect(await upload(a.body.uploadUrl, empty)).toBe(200);
    expect(await follow(api, keys.a!, a.body.batchId, finished, 60_000)).toMatchObject({ status: 'failed', reason: REASONS.emptyFile, total: 0 });

    const { path } = await sample('extra-column.csv', { rows: 20, format: 'csv', seed: 703 });
    const { readFileSync } = await import('node:fs');
    const [header, ...rest] = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [`${header},sexName`, ...rest].join('\n'));
    const b = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'csv' });
    expect(await upload(b.body.uploadUrl, path)).toBe(200);
    const failed = await follow(api, keys.a!, b.body.batchId, finished, 60_000);
    expect(failed).toMatchObject({ status: 'failed', total: 0 });
    expect(failed.reason).toContain('sexName');
  }, 120_000);

  it('an upload after expiresAt is refused by S3, and the batch is failed: no upload before expiresAt', async () => {
    const { path } = await sample('late.ndjson', { rows: 10, seed: 704 });
    const opened = await openBatch(api, keys.a!, { kind: 'dishonest-debtor', format: 'ndjson' });
    const wait = Date.parse(opened.body.expiresAt) - Date.now() + 1500;
    expect(wait).toBeLessThanOrEqual(UPLOAD_SECONDS * 1000 + 1500);
    await pause(wait);
    expect(await upload(opened.body.uploadUrl, path)).toBe(403);
    const { body } = await readBatch(api, keys.a!, opened.body.batchId);
    expect(body).toMatchObject({ status: 'failed', reason: REASONS.expired(opened.body.expiresAt), total: 0 });
    expect(body.expiresAt).toBeUndefined();
  }, 60_000);
});

describe('a batch survives a SIGKILL of the stack', () => {
  /** Enough rows that the kill comes part-way (after the first 1,000), few enough for a loaded CI machine. */
  const ROWS = 15_000;
  const dataDir = tempDataDir('hub-e2e-batch-crash-');
  let stack: StackProcess | undefined;

  afterAll(async () => {
    await stack?.stop('SIGINT');
  }, 60_000);

  it('killed while processing, started again on the same data folder: the batch completes by itself, no row lost, none counted or stored twice', async () => {
    const env = { HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY };
    stack = await startStackProcess(env);
    const court = await registerSource(stack.url, OPERATOR_KEY, { ...COURTS.a, kinds: [...COURTS.a.kinds] });
    const { path, manifest } = await sample('crash.ndjson', { rows: ROWS, format: 'ndjson', bad: 0.02, repeats: 0.02, seed: 705 });
    const opened = await openBatch(stack.url, court, { kind: 'dishonest-debtor', format: 'ndjson' });
    expect(await upload(opened.body.uploadUrl, path)).toBe(200);
    const id = opened.body.batchId as string;

    const before = await follow(stack.url, court, id, (b) => b.status !== 'waiting' && b.total >= 1000, 180_000);
    expect(before.status).toBe('processing');
    expect(before.total).toBeLessThan(ROWS);
    expect(await stack.stop('SIGKILL')).toBeNull();
    process.stdout.write(`[court-batches] crash: killed the stack at ${before.total} of ${ROWS} rows\n`);

    const restarted = Date.now();
    stack = await startStackProcess(env);
    // Nothing is redone: the batch goes on from its last checkpoint, which the kill did not undo.
    const atRestart = (await readBatch(stack.url, court, id)).body;
    expect(atRestart).toMatchObject({ status: 'processing' });
    expect(atRestart.total).toBeGreaterThanOrEqual(before.total);
    // Once the dead worker's lease has lapsed, the sweep (at start, then every minute) continues it.
    const resumed = await follow(stack.url, court, id, (b) => b.total > atRestart.total || finished(b), 300_000);
    const resumedAt = Date.now();
    const done = await follow(stack.url, court, id, finished, 180_000);
    const rate = (ROWS - resumed.total) / ((Date.now() - resumedAt) / 1000);
    process.stdout.write(
      `[court-batches] crash: resumed ${((resumedAt - restarted) / 1000).toFixed(1)} s after the restart (from row ${atRestart.total}), ` +
        `completed ${((Date.now() - restarted) / 1000).toFixed(1)} s after it, ${Math.round(rate)} rows/s once resumed\n`,
    );
    expect(done).toMatchObject({ status: 'completed', ...manifest.expected });

    // What is stored: one head per distinct caseCode (the accepted rows), one superseded version per update, nothing torn.
    const items = await scanRecordsTable(stack.output(), dataDir);
    const heads = [...items.entries()].filter(([recordIdOf, r]) => recordIdOf && r.head?.sourceId === COURTS.a.id);
    expect(heads).toHaveLength(manifest.expected.accepted);
    expect(new Set(heads.map(([, r]) => r.head!.fields.caseCode)).size).toBe(manifest.expected.accepted);
    expect(heads.reduce((n, [, r]) => n + r.versions.size, 0)).toBe(manifest.expected.updated);
    expect(heads.flatMap(([recordIdOf, r]) => tornParts(recordIdOf, r))).toEqual([]);

    // A sample read back through the API, by the ids the hub derives from court and caseCode.
    const spec = PUSH_KINDS['dishonest-debtor'];
    for (const [, r] of heads.filter((_, i) => i % Math.ceil(heads.length / 20) === 0)) {
      const recordIdOf = recordId(spec.idPrefix, spec.kind, COURTS.a.id, r.head!.fields.caseCode);
      const read = await getRecord(stack.url, court, recordIdOf);
      expect(read.status).toBe(200);
      expect(read.body.fields.caseCode).toBe(r.head!.fields.caseCode);
    }
  }, 900_000);
});
