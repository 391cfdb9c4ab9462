/**
 * `hub batch upload` and `hub batch status` (cli/batch-upload.ts, cli/batch-status.ts,
 * cli/upload-file.ts) against a small local server implementing API.md's court-batch contract:
 * POST /v1/batches → 201 with an upload URL on the same server, PUT of the file (streamed, its
 * length and no other header), a status moving from waiting through processing to completed or
 * failed, and the rejected rows to download.
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHub, type CliIo } from '../../cli/program.js';
import { CliError } from '../../cli/errors.js';
import { HubClient } from '../../cli/http-client.js';
import { silentProgress, type ProgressFactory } from '../../cli/progress.js';
import { followBatch } from '../../cli/batch-status.js';
import { putFile, storageError } from '../../cli/upload-file.js';
import { csvHeader, csvRecord, ndjsonLine, sampleRows } from '../support/batch-sample/index.js';
import { captureIo as captureIoWith, GOOD_KEY, startFakeHub, type FakeHub } from './cli-fake-hub.js';

const dir = mkdtempSync(join(tmpdir(), 'hub-cli-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub();
});
afterEach(() => hub.close());

function debtorFile(name: string, rows = 20, format: 'ndjson' | 'csv' = 'ndjson'): string {
  const path = join(dir, name);
  const sample = [...sampleRows({ rows, seed: 7, format })];
  const text = format === 'csv' ? csvHeader() + sample.map((r) => csvRecord(r.fields)).join('') : sample.map((r) => ndjsonLine(r.fields)).join('');
  writeFileSync(path, text);
  return path;
}

const captureIo = (overrides: Partial<CliIo> = {}) => captureIoWith({ HUB_URL: hub.url, HUB_KEY: GOOD_KEY }, { batchPollMs: 1, ...overrides });

const batchRequests = () => hub.requests.filter((r) => r.path.startsWith('/v1/batches'));

describe('hub batch upload', () => {
  it('creates the batch with an Idempotency-Key, PUTs the file with its length and no other header, follows it to the end and saves the rejects', async () => {
    const file = debtorFile('court.ndjson');
    const io = captureIo();
    const code = await runHub(['batch', 'upload', file], io);
    expect(code).toBe(2);
    const create = batchRequests()[0]!;
    expect(create).toMatchObject({ method: 'POST', path: '/v1/batches', json: { kind: 'dishonest-debtor', format: 'ndjson', encoding: 'utf-8' } });
    expect(create.headers['idempotency-key']).toMatch(/^hub-batch:[0-9a-f-]{36}$/);
    const put = hub.requests.find((r) => r.method === 'PUT')!;
    expect(put.bytes).toBe(readFileSync(file).length);
    expect(put.headers['content-length']).toBe(String(readFileSync(file).length));
    // No key (the URL is presigned), no content type, nothing chunked.
    expect(put.headers.authorization).toBeUndefined();
    expect(put.headers['content-type']).toBeUndefined();
    expect(put.headers['transfer-encoding']).toBeUndefined();
    // Followed until completed; the counts and where the rejects went on stdout.
    expect(batchRequests().filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(3);
    expect(io.out).toMatch(/批次 batch b_1: 已完成 completed\n {2}行 rows\s+3\n {2}新增 accepted\s+2\n[\s\S]*拒收 rejected\s+1\n/);
    expect(io.out).toContain(`(line numbers and reasons of the rejected rows): ${file}.rejects.ndjson`);
    expect(readFileSync(`${file}.rejects.ndjson`, 'utf8')).toBe(hub.batchPlan.rejects);
    expect(io.err).toContain('batch created): b_1');
  });

  it('takes the format from the extension, --encoding as given, --rejects where to save; exit 0 without rejected rows', async () => {
    const file = debtorFile('court.csv', 20, 'csv');
    hub.batchPlan = { ...hub.batchPlan, rejected: 0 };
    const io = captureIo();
    expect(await runHub(['batch', 'upload', file, '--rejects', join(dir, 'elsewhere.ndjson'), '--json'], io)).toBe(0);
    expect(batchRequests()[0]!.json).toEqual({ kind: 'dishonest-debtor', format: 'csv', encoding: 'utf-8' });
    expect(JSON.parse(io.out)).toEqual({ batchId: 'b_1', status: 'completed', total: 3, accepted: 3, updated: 0, duplicates: 0, rejected: 0 });
    expect(existsSync(join(dir, 'elsewhere.ndjson'))).toBe(false);
  });

  it('exits 1 with the reason when the batch fails', async () => {
    const file = debtorFile('failing.ndjson');
    hub.batchPlan = { ...hub.batchPlan, outcome: 'failed', reason: '文件不是声明的utf-8编码 (the file is not in the declared encoding utf-8)' };
    const io = captureIo();
    expect(await runHub(['batch', 'upload', file], io)).toBe(1);
    expect(io.out).toContain('失败 failed');
    expect(io.out).toContain('原因 (reason): 文件不是声明的utf-8编码');
    expect(io.err).toContain('hub: 批次失败 (batch b_1 failed): 文件不是声明的utf-8编码 (the file is not in the declared encoding utf-8)\n');
  });

  it('checks the start of the file before creating a batch: an invalid file creates none', async () => {
    const file = join(dir, 'not-debtors.csv');
    writeFileSync(file, 'name,amount\n张三,1\n');
    const io = captureIo();
    expect(await runHub(['batch', 'upload', file], io)).toBe(1);
    expect(io.err).toMatch(/^hub: 文件无效 \(invalid file\) .*unknown columns "name", "amount"/);
    expect(batchRequests()).toHaveLength(0);
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '');
    const io2 = captureIo();
    expect(await runHub(['batch', 'upload', empty], io2)).toBe(1);
    expect(io2.err).toBe(`hub: 文件无效 (invalid file) ${empty}: 文件为空 (empty file)\n`);
  });

  it('says when the upload URL is refused (expired), naming the batch', async () => {
    const file = debtorFile('late.ndjson');
    hub.batchPlan = { ...hub.batchPlan, reason: 'expired-url' };
    const io = captureIo();
    expect(await runHub(['batch', 'upload', file], io)).toBe(1);
    expect(io.err).toContain('上传被拒绝 (the upload was refused: HTTP 403 AccessDenied: Request has expired) 上传地址可能已过期或已用过 (the upload URL may have expired or been used already) (batch b_1)');
  });

  it('sends POST /v1/batches again after a 503 with the same key: one batch', async () => {
    const file = debtorFile('retry.ndjson');
    hub.answerNext((r) => r.path === '/v1/batches', { status: 503, headers: { 'retry-after': '1' } });
    const io = captureIo();
    expect(await runHub(['batch', 'upload', file], io)).toBe(2);
    const creates = batchRequests().filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(2);
    expect(creates[0]!.headers['idempotency-key']).toBe(creates[1]!.headers['idempotency-key']);
    expect(hub.batches.size).toBe(1);
  });

  it('needs a format it can tell', async () => {
    const file = join(dir, 'rows.txt');
    writeFileSync(file, '{}\n');
    const io = captureIo();
    expect(await runHub(['batch', 'upload', file], io)).toBe(1);
    expect(io.err).toBe(`hub: 无法从扩展名判断文件格式 (cannot tell the format of ${file} from its extension: give --format ndjson or --format csv)\n`);
  });
});

describe('hub batch status', () => {
  it('shows the status once, or follows it to the end with --follow; saves the rejects with --rejects', async () => {
    const file = debtorFile('status.ndjson');
    expect(await runHub(['batch', 'upload', file], captureIo())).toBe(2);
    const once = captureIo();
    expect(await runHub(['batch', 'status', 'b_1', '--json'], once)).toBe(2);
    expect(JSON.parse(once.out)).toMatchObject({ batchId: 'b_1', status: 'completed', rejected: 1, rejectsUrl: expect.stringContaining('/rejects/b_1') });
    const saved = join(dir, 'status-rejects.ndjson');
    const withRejects = captureIo();
    expect(await runHub(['batch', 'status', 'b_1', '--rejects', saved], withRejects)).toBe(2);
    expect(readFileSync(saved, 'utf8')).toBe(hub.batchPlan.rejects);
  });

  it('a waiting batch is shown with exit 0; an unknown one is a 404 in one line', async () => {
    const create = await new HubClient({ url: hub.url, key: GOOD_KEY }).request<{ batchId: string }>('POST', '/v1/batches', { action: { zh: 'x', en: 'x' }, json: { kind: 'dishonest-debtor', format: 'csv' } });
    const io = captureIo();
    expect(await runHub(['batch', 'status', create.body.batchId], io)).toBe(0);
    expect(io.out).toContain('等待上传 waiting');
    const missing = captureIo();
    expect(await runHub(['batch', 'status', 'b_404'], missing)).toBe(1);
    expect(missing.err).toBe('hub: 查询批次b_404失败 (reading batch b_404 failed): 没有这个批次 (unknown batch) [HTTP 404 not_found]\n');
  });

  it('follows with a progress line of rows done (the total unknown until the end)', async () => {
    const file = debtorFile('progress.ndjson');
    const client = new HubClient({ url: hub.url, key: GOOD_KEY });
    const { body } = await client.request<{ batchId: string; uploadUrl: string }>('POST', '/v1/batches', { action: { zh: 'x', en: 'x' }, json: { kind: 'dishonest-debtor', format: 'ndjson' } });
    await putFile(body.uploadUrl, file);
    const lines: string[] = [];
    const progress: ProgressFactory = (view, total, payload) => {
      lines.push(view.render({ value: 0, total, eta: NaN }, payload, undefined));
      return { update: (v, p) => void lines.push(view.render({ value: v, total, eta: NaN }, p, undefined)), setTotal() {}, note() {}, stop() {} };
    };
    const status = await followBatch(client, body.batchId, { progress, pollMs: 1 });
    expect(status.status).toBe('completed');
    expect(lines[0]).toMatch(/^导入 ingest 导入中 processing \| 0 行 rows \| 新增 accepted 0/);
    expect(lines.some((l) => l.includes('| 1 行 rows |'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^导入 ingest 已完成 completed \| 3 行 rows \| 新增 accepted 2 更新 updated 0 重复 duplicates 0 拒收 rejected 1/);
  });

  it('gives up on a batch whose status has not changed for the allowed time, saying how to check later', async () => {
    const client = new HubClient({ url: hub.url, key: GOOD_KEY });
    const { body } = await client.request<{ batchId: string }>('POST', '/v1/batches', { action: { zh: 'x', en: 'x' }, json: { kind: 'dishonest-debtor', format: 'ndjson' } });
    let clock = 0;
    const e = await followBatch(client, body.batchId, { progress: silentProgress, pollMs: 1, stallMs: 60_000, now: () => (clock += 10_000), sleep: async () => undefined }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).message).toContain(`still waiting): 稍后用 hub batch status ${body.batchId} --follow 查看`);
  });
});

describe('putFile', () => {
  it('streams the file: what arrives is the file, byte for byte', async () => {
    const file = join(dir, 'big.bin');
    const block = Buffer.alloc(1024 * 1024, 7);
    writeFileSync(file, Buffer.concat(Array.from({ length: 12 }, () => block)));
    const client = new HubClient({ url: hub.url, key: GOOD_KEY });
    const { body } = await client.request<{ uploadUrl: string; batchId: string }>('POST', '/v1/batches', { action: { zh: 'x', en: 'x' }, json: { kind: 'dishonest-debtor', format: 'ndjson' } });
    const seen: number[] = [];
    await putFile(body.uploadUrl, file, { onProgress: (sent) => seen.push(sent) });
    expect(hub.batches.get(body.batchId)!.uploaded!.bytes).toBe(12 * 1024 * 1024);
    expect(seen.at(-1)).toBe(12 * 1024 * 1024);
    expect(seen.length).toBeGreaterThan(5);
    // Read from disk as a stream (never whole in memory): chunks of at most 1 MB.
    expect(Math.max(...seen.map((s, i) => s - (seen[i - 1] ?? 0)))).toBeLessThanOrEqual(1024 * 1024);
    createReadStream(file).destroy();
  });

  it('tries a cut connection again from the start; gives up after the attempts allowed', async () => {
    const file = debtorFile('cut.ndjson');
    const client = new HubClient({ url: hub.url, key: GOOD_KEY });
    const { body } = await client.request<{ uploadUrl: string; batchId: string }>('POST', '/v1/batches', { action: { zh: 'x', en: 'x' }, json: { kind: 'dishonest-debtor', format: 'ndjson' } });
    hub.answerNext((r) => r.method === 'PUT', { status: 0, hangUp: true });
    const retries: string[] = [];
    await putFile(body.uploadUrl, file, { sleep: async () => undefined, onRetry: (reason) => void retries.push(reason) });
    expect(retries).toHaveLength(1);
    expect(hub.batches.get(body.batchId)!.uploaded!.bytes).toBe(readFileSync(file).length);
    hub.answerNext((r) => r.method === 'PUT', ...Array.from({ length: 2 }, () => ({ status: 500, body: '<Error><Code>InternalError</Code></Error>' })));
    await expect(putFile(body.uploadUrl, file, { sleep: async () => undefined, attempts: 2 })).rejects.toThrow('上传失败 (the upload failed after 2 attempts: HTTP 500 InternalError)');
  });

  it('storageError reads S3-style XML errors', () => {
    expect(storageError('<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature …</Message></Error>')).toBe('SignatureDoesNotMatch: The request signature …');
    expect(storageError('plain\n text')).toBe('plain text');
  });
});
