/**
 * The built-in stand-in for the upward platforms (infra/local/platform-receiver.ts), over HTTP on
 * 127.0.0.1: exchange packages checked and kept once per idempotency key (after a restart too), 422 on
 * a key reused with another body, gzip NDJSON, the request checks, the injected faults, loopback only.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { platforms } from '../../infra/catalogue.js';
import { parseReceiverFaults, startPlatformReceiver, type PlatformReceiver } from '../../infra/local/platform-receiver.js';
import { canListSockets, listeningSockets } from '../support/listening-sockets.js';

const dirs: string[] = [];
let dir: string;
let receiver: PlatformReceiver;
const logged: string[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hub-receiver-'));
  dirs.push(dir);
  logged.length = 0;
  receiver = await startPlatformReceiver({ dir, log: (l) => logged.push(l) });
});
afterEach(async () => {
  await receiver.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** A request with node:http (fetch cannot set Host). */
function post(path: string, body: string | Buffer, headers: Record<string, string> = {}, options: { method?: string; timeoutMs?: number; port?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: options.port ?? receiver.port, path, method: options.method ?? 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(options.method === 'GET' ? undefined : body);
  });
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** An exchange package as a connector sends it: bodySha256 over JSON.stringify(body). */
function exchangePackage(records: unknown[], header: Record<string, unknown> = {}): string {
  const body = { records };
  return JSON.stringify({
    header: { packageId: 'pkg-1', senderUscc: '11310000MB2F5R5Q6K', createdAt: new Date().toISOString(), recordCount: records.length, bodySha256: sha256(JSON.stringify(body)), ...header },
    body,
  });
}

const twoRecords = [
  { operation: 'upsert', XK_WSH: '沪市监许〔2026〕1号' },
  { operation: 'delete', CF_WSH: '沪市监罚〔2026〕7号' },
];

describe('exchange packages', () => {
  it('keeps a package once per idempotency key, and answers a repeat with the same answer', async () => {
    const body = exchangePackage(twoRecords);
    const first = await post('/provincial/packages', body, { 'idempotency-key': 'rec_1-provincial-1', 'user-agent': 'hub-connector' });
    expect(first).toMatchObject({ status: 200, json: { received: 2, packageId: 'pkg-1' } });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post('/provincial/packages', body, { 'idempotency-key': 'rec_1-provincial-1' });
    expect(again).toMatchObject({ status: 200, json: { received: 2, packageId: 'pkg-1' } });
    expect(again.headers['idempotent-replayed']).toBe('true');

    const kept = receiver.received('provincial');
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({
      platform: 'provincial',
      idempotencyKey: 'rec_1-provincial-1',
      path: '/provincial/packages',
      format: 'json',
      records: 2,
      packageId: 'pkg-1',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'rec_1-provincial-1', 'user-agent': 'hub-connector' },
      body: JSON.parse(body),
    });
    expect(receiver.received('national')).toEqual([]);
    expect(receiver.receivedRecords()).toEqual(twoRecords.map((record) => ({ platform: 'provincial', idempotencyKey: 'rec_1-provincial-1', packageId: 'pkg-1', record })));
    // One readable file named by the time and the key, nothing else (no temp file).
    const files = readdirSync(join(dir, 'provincial'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z-rec_1-provincial-1\.json$/);
    expect(JSON.parse(readFileSync(join(dir, 'provincial', files[0]!), 'utf8'))).toMatchObject({ idempotencyKey: 'rec_1-provincial-1', body: JSON.parse(body) });
  });

  it('answers 422 to a key used again with another body, and keeps nothing of it', async () => {
    expect((await post('/national', exchangePackage(twoRecords), { 'idempotency-key': 'k1' })).status).toBe(200);
    const other = await post('/national', exchangePackage(twoRecords.slice(0, 1), { packageId: 'pkg-2' }), { 'idempotency-key': 'k1' });
    expect(other).toMatchObject({ status: 422, json: { error: { code: 'idempotency_key_reused' } } });
    expect(receiver.received()).toHaveLength(1);
    // The same key on the other platform is another platform's key.
    expect((await post('/provincial', exchangePackage(twoRecords.slice(0, 1)), { 'idempotency-key': 'k1' })).status).toBe(200);
  });

  it('remembers the keys across a restart', async () => {
    const body = exchangePackage(twoRecords);
    await post('/provincial/packages', body, { 'idempotency-key': 'kept' });
    await receiver.close();
    receiver = await startPlatformReceiver({ dir });
    expect(await post('/provincial/packages', body, { 'idempotency-key': 'kept' })).toMatchObject({ status: 200, json: { received: 2 } });
    expect((await post('/provincial/packages', exchangePackage([]), { 'idempotency-key': 'kept' })).status).toBe(422);
    expect(receiver.received()).toHaveLength(1);
  });

  it('refuses a package whose count or SHA-256 disagrees with its body, saying why', async () => {
    const wrongCount = await post('/provincial', exchangePackage(twoRecords, { recordCount: 3 }), { 'idempotency-key': 'a' });
    expect(wrongCount).toMatchObject({ status: 400, json: { error: { code: 'invalid_body' } } });
    expect(wrongCount.json.error.message).toContain('header.recordCount is 3 but body.records has 2');
    const wrongSha = await post('/provincial', exchangePackage(twoRecords, { bodySha256: sha256('something else') }), { 'idempotency-key': 'b' });
    expect(wrongSha).toMatchObject({ status: 400 });
    expect(wrongSha.json.error.message).toContain('bodySha256 is not the SHA-256 of JSON.stringify(body)');
    // The body serialised with whitespace is another text: its SHA-256 is over JSON.stringify(body), not over any spelling.
    const spaced = JSON.parse(exchangePackage(twoRecords));
    spaced.header.bodySha256 = sha256(JSON.stringify(spaced.body, null, 2));
    expect((await post('/provincial', JSON.stringify(spaced), { 'idempotency-key': 'c' })).status).toBe(400);
    expect((await post('/provincial', JSON.stringify({ records: twoRecords }), { 'idempotency-key': 'd' })).json.error.message).toMatch(/no header object/);
    expect((await post('/provincial', '{"header":', { 'idempotency-key': 'e' })).json.error.code).toBe('malformed_json');
    expect(receiver.received()).toEqual([]);
    expect(logged.filter((l) => l.startsWith('receiver provincial: 400'))).toHaveLength(5);
  });
});

describe('request checks', () => {
  it('requires an Idempotency-Key', async () => {
    expect(await post('/provincial', exchangePackage(twoRecords))).toMatchObject({ status: 400, json: { error: { code: 'invalid_idempotency_key' } } });
    expect((await post('/provincial', exchangePackage(twoRecords), { 'idempotency-key': 'x'.repeat(256) })).status).toBe(400);
  });

  it('serves POSTs under the two platforms only, of JSON or NDJSON, gzip or plain, within the size limit', async () => {
    const body = exchangePackage(twoRecords);
    expect((await post('/elsewhere', body, { 'idempotency-key': 'k' })).status).toBe(404);
    expect((await post('/provincialx', body, { 'idempotency-key': 'k' })).status).toBe(404);
    const get = await post('/provincial', '', {}, { method: 'GET' });
    expect(get).toMatchObject({ status: 405, json: { error: { code: 'method_not_allowed' } } });
    expect(get.headers.allow).toBe('POST');
    expect((await post('/provincial', body, { 'idempotency-key': 'k', 'content-type': 'text/plain' })).status).toBe(400);
    expect(await post('/provincial', body, { 'idempotency-key': 'k', 'content-encoding': 'br' })).toMatchObject({ status: 415, json: { error: { code: 'unsupported_encoding' } } });
    expect(await post('/provincial', Buffer.from('not gzip'), { 'idempotency-key': 'k', 'content-encoding': 'gzip' })).toMatchObject({ status: 400, json: { error: { code: 'malformed_text' } } });
    await receiver.close();
    receiver = await startPlatformReceiver({ dir, maxBodyBytes: 1024 });
    expect((await post('/provincial', 'x'.repeat(2048), { 'idempotency-key': 'k' })).status).toBe(413);
    expect((await post('/provincial', gzipSync(' '.repeat(4096)), { 'idempotency-key': 'k', 'content-encoding': 'gzip' })).status).toBe(413);
    expect(receiver.received()).toEqual([]);
  });

  it('accepts a gzip JSON package like a plain one', async () => {
    const body = exchangePackage(twoRecords);
    expect(await post('/national/packages', gzipSync(body), { 'idempotency-key': 'gz', 'content-encoding': 'gzip' })).toMatchObject({ status: 200, json: { received: 2 } });
    // The same package sent plain is the same body: a repeat, not a conflict.
    expect((await post('/national/packages', body, { 'idempotency-key': 'gz' })).headers['idempotent-replayed']).toBe('true');
    expect(receiver.received('national')[0]).toMatchObject({ headers: { 'content-encoding': 'gzip' }, body: JSON.parse(body) });
  });
});

describe('NDJSON (the nightly sync)', () => {
  it('keeps a gzip NDJSON body decompressed beside its description and counts its lines', async () => {
    const lines = ['{"operation":"upsert","XK_WSH":"1"}', '{"operation":"delete","CF_WSH":"2"}', '{"operation":"upsert","XK_WSH":"3"}'];
    const text = lines.join('\n') + '\n';
    const answer = await post('/national/sync', gzipSync(text), { 'idempotency-key': 'sync-run-1', 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(answer).toMatchObject({ status: 200, json: { received: 3 } });
    const files = readdirSync(join(dir, 'national')).sort();
    expect(files).toHaveLength(2);
    expect(files[1]).toMatch(/-sync-run-1\.ndjson$/);
    expect(readFileSync(join(dir, 'national', files[1]!), 'utf8')).toBe(text);
    const [kept] = receiver.received('national');
    expect(kept).toMatchObject({ format: 'ndjson', records: 3, headers: { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' } });
    expect(kept!.body).toEqual(lines.map((l) => JSON.parse(l)));
    expect(receiver.receivedRecords('national').map((r) => r.record)).toEqual(lines.map((l) => JSON.parse(l)));
    // Sent again (the sync resumed): the same answer, kept once.
    expect((await post('/national/sync', gzipSync(text, { level: 1 }), { 'idempotency-key': 'sync-run-1', 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' })).status).toBe(200);
    expect(readdirSync(join(dir, 'national'))).toHaveLength(2);
  });

  it('checks a header line when the NDJSON starts with one', async () => {
    const rest = '{"operation":"upsert","n":1}\n{"operation":"upsert","n":2}\n';
    const header = (h: Record<string, unknown>) => JSON.stringify({ header: { packageId: 'sync-7', recordCount: 2, bodySha256: sha256(rest), ...h } }) + '\n';
    const ndjson = { 'content-type': 'application/x-ndjson' };
    expect(await post('/provincial/sync', header({}) + rest, { ...ndjson, 'idempotency-key': 's1' })).toMatchObject({ status: 200, json: { received: 2, packageId: 'sync-7' } });
    expect(receiver.receivedRecords('provincial').map((r) => r.record)).toEqual([
      { operation: 'upsert', n: 1 },
      { operation: 'upsert', n: 2 },
    ]);
    expect((await post('/provincial/sync', header({ recordCount: 5 }) + rest, { ...ndjson, 'idempotency-key': 's2' })).json.error.message).toMatch(/recordCount is 5 but 2 lines follow/);
    expect((await post('/provincial/sync', header({ bodySha256: sha256('x') }) + rest, { ...ndjson, 'idempotency-key': 's3' })).status).toBe(400);
    expect(await post('/provincial/sync', '{"a":1}\nnot json\n', { ...ndjson, 'idempotency-key': 's4' })).toMatchObject({ status: 400, json: { error: { code: 'malformed_json', message: 'NDJSON line 2 is not JSON' } } });
  });
});

describe('faults for tests', () => {
  it('answers the next requests with a status and Retry-After, storing nothing, then normally', async () => {
    receiver.failNext('provincial', 503, 2, { retryAfterSeconds: 1 });
    const body = exchangePackage(twoRecords);
    const a = await post('/provincial', body, { 'idempotency-key': 'k' });
    expect(a).toMatchObject({ status: 503, json: { error: { code: 'unavailable' } } });
    expect(a.headers['retry-after']).toBe('1');
    // The other platform is not affected.
    expect((await post('/national', body, { 'idempotency-key': 'k' })).status).toBe(200);
    expect((await post('/provincial', body, { 'idempotency-key': 'k' })).status).toBe(503);
    expect(receiver.received('provincial')).toEqual([]);
    expect((await post('/provincial', body, { 'idempotency-key': 'k' })).status).toBe(200);
    receiver.failNext('national', 429, 1, { retryAfterSeconds: 3 });
    const limited = await post('/national', body, { 'idempotency-key': 'k2' });
    expect(limited).toMatchObject({ status: 429, json: { error: { code: 'too_many_requests' } } });
    expect(limited.headers['retry-after']).toBe('3');
  });

  it('refuses a poison record wherever it is, every n-th request, until the fault is removed', async () => {
    const remove = receiver.addFault({ status: 400, bodyContains: 'POISON' });
    receiver.addFault({ platform: 'national', status: 500, every: 3 });
    expect((await post('/provincial', exchangePackage([{ operation: 'upsert', XK_WSH: 'POISON' }]), { 'idempotency-key': 'p' })).status).toBe(400);
    expect((await post('/provincial', exchangePackage([{ operation: 'upsert', XK_WSH: 'POISON' }]), { 'idempotency-key': 'p' })).status).toBe(400);
    expect((await post('/provincial', exchangePackage(twoRecords), { 'idempotency-key': 'good' })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post('/national', exchangePackage(twoRecords), { 'idempotency-key': `n${i}` })).status);
    expect(statuses).toEqual([200, 200, 500, 200, 200, 500]);
    remove();
    expect((await post('/provincial', exchangePackage([{ operation: 'upsert', XK_WSH: 'POISON' }]), { 'idempotency-key': 'p' })).status).toBe(200);
    receiver.clearFaults();
    expect((await post('/national', exchangePackage(twoRecords), { 'idempotency-key': 'n6' })).status).toBe(200);
  });

  it('answers late: a sender that gave up finds the package kept when it sends it again', async () => {
    receiver.addFault({ platform: 'provincial', delayMs: 300, times: 1 });
    const body = exchangePackage(twoRecords);
    await expect(post('/provincial', body, { 'idempotency-key': 'slow' }, { timeoutMs: 50 })).rejects.toThrow(/client timeout/);
    const deadline = Date.now() + 10_000;
    while (receiver.received('provincial').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(receiver.received('provincial')).toHaveLength(1);
    expect((await post('/provincial', body, { 'idempotency-key': 'slow' })).headers['idempotent-replayed']).toBe('true');
  });

  it('closes at once with an answer still being delayed', async () => {
    receiver.addFault({ delayMs: 60_000 });
    const pending = post('/national', exchangePackage(twoRecords), { 'idempotency-key': 'hang' });
    await new Promise((r) => setTimeout(r, 50));
    await receiver.close();
    await expect(pending).rejects.toThrow();
  });

  it('reads fault rules from HUB_RECEIVER_FAULTS and refuses wrong ones', async () => {
    expect(parseReceiverFaults(undefined)).toEqual([]);
    expect(parseReceiverFaults(' ')).toEqual([]);
    const rules = parseReceiverFaults('[{"platform":"national","status":503,"times":1,"retryAfterSeconds":2},{"status":400,"bodyContains":"POISON"}]');
    expect(rules).toHaveLength(2);
    expect(() => parseReceiverFaults('{')).toThrow(/not JSON/);
    expect(() => parseReceiverFaults('[{"platform":"moon","status":503}]')).toThrow(/HUB_RECEIVER_FAULTS is wrong/);
    expect(() => parseReceiverFaults('[{"times":1}]')).toThrow(/a status or a delayMs/);
    expect(() => parseReceiverFaults('[{"status":200}]')).toThrow(/HUB_RECEIVER_FAULTS is wrong/);
    await receiver.close();
    receiver = await startPlatformReceiver({ dir, faults: rules });
    expect((await post('/national', exchangePackage(twoRecords), { 'idempotency-key': 'x' })).status).toBe(503);
    expect((await post('/national', exchangePackage(twoRecords), { 'idempotency-key': 'x' })).status).toBe(200);
  });
});

describe('where it listens', () => {
  it('listens on 127.0.0.1 only, serves loopback Host names only, and gives the platforms’ base URLs', async () => {
    expect(receiver.url).toBe(`http://127.0.0.1:${receiver.port}`);
    expect(receiver.environment()).toEqual({
      [platforms.provincial.urlEnvVar]: `${receiver.url}/provincial`,
      [platforms.national.urlEnvVar]: `${receiver.url}/national`,
    });
    expect(receiver.baseUrl('national')).toBe(`${receiver.url}/national`);
    expect(receiver.dir).toBe(dir);
    if (canListSockets()) {
      const mine = listeningSockets(process.pid).filter((s) => s.port === receiver.port);
      expect(mine).toEqual([{ address: '127.0.0.1', port: receiver.port, loopbackOnly: true }]);
    }
    const rebound = await post('/provincial', exchangePackage(twoRecords), { 'idempotency-key': 'h', host: 'attacker.example' });
    expect(rebound).toMatchObject({ status: 403, json: { error: { code: 'forbidden' } } });
    expect((await post('/provincial', exchangePackage(twoRecords), { 'idempotency-key': 'h', host: `localhost:${receiver.port}` })).status).toBe(200);
  });

  it('keeps a key with characters no file name should have under a safe name', async () => {
    expect((await post('/provincial', exchangePackage(twoRecords), { 'idempotency-key': '../../etc/passwd x' })).status).toBe(200);
    const [file] = readdirSync(join(dir, 'provincial'));
    expect(file).toMatch(/^[A-Za-z0-9._-]+\.json$/);
    expect(file).toContain('.._.._etc_passwd_x-');
    expect(receiver.received('provincial')[0]!.idempotencyKey).toBe('../../etc/passwd x');
  });
});
