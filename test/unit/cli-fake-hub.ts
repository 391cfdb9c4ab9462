/**
 * A small stand-in for the hub's HTTP API, for the `hub` command line's unit
 * tests: what API.md pins, no more. Pushes (`POST /v1/submissions/{kind}`:
 * records identified by their document number, accepted / updated /
 * duplicate / rejected, Idempotency-Key with first answers kept, 409 while in
 * progress, 422 for another body), sources, and the court-batch contract
 * (`POST /v1/batches` → an upload URL on this server, PUT, a status that
 * moves from waiting through processing to completed, rejects to download).
 *
 * Tests script failures (`answerNext`), hold requests (`hold`), and read
 * every request received (`requests`).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { runHub, type CliIo } from '../../cli/program.js';
import { silentProgress } from '../../cli/progress.js';

export const GOOD_KEY = 'hub_good-key';
export const OPERATOR_KEY = 'hub_operator-key';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  bytes: number;
  /** Parsed JSON body, when it was JSON (not kept for uploads). */
  json?: any;
}

export interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Close the connection without answering. */
  hangUp?: boolean;
}

interface BatchState {
  id: string;
  format: string;
  encoding: string;
  uploaded?: { bytes: number; headers: IncomingMessage['headers']; firstLine: string };
  reads: number;
  outcome: 'completed' | 'failed';
}

export interface FakeHub {
  url: string;
  requests: Received[];
  /** Records stored, by kind and document number: how many times each was written (1 = applied once). */
  writes: Map<string, number>;
  stored: Map<string, string>;
  /** Idempotency-Keys answered from the kept answer (a replay). */
  replayed: string[];
  /** Answers given to the next matching requests instead of the real ones. */
  answerNext(match: (r: Received) => boolean, ...answers: Scripted[]): void;
  /** Holds matching requests (after doing their work) until `release()` is called. */
  hold(match: (r: Received) => boolean): { reached: Promise<Received>; release: () => void };
  /** Court batches: what the next batch will end as; its rows. */
  batchPlan: { outcome: 'completed' | 'failed'; total: number; rejected: number; reason?: string; rejects: string };
  batches: Map<string, BatchState>;
  close(): Promise<void>;
}

const IDENTITY: Record<string, string> = { penalty: 'CF_WSH', license: 'XK_WSH', 'dishonest-debtor': 'caseCode' };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

const error = (code: string, message: string) => ({ error: { code, message, details: [] } });

export async function startFakeHub(options: { storeRecords?: boolean } = {}): Promise<FakeHub> {
  const requests: Received[] = [];
  const writes = new Map<string, number>();
  const stored = new Map<string, string>();
  const replayed: string[] = [];
  const scripted: { match: (r: Received) => boolean; answers: Scripted[] }[] = [];
  const holds: { match: (r: Received) => boolean; reached: (r: Received) => void; released: Promise<void> }[] = [];
  const answers = new Map<string, { fingerprint: string; status: number; body: unknown } | 'in-progress'>();
  const batches = new Map<string, BatchState>();
  const sources = new Map<string, any>();
  let url = '';

  const hub: FakeHub = {
    url: '',
    requests,
    writes,
    stored,
    replayed,
    batches,
    batchPlan: { outcome: 'completed', total: 3, rejected: 1, rejects: '{"line":3,"reasons":[{"field":"cardNum","message":"校验位错误 (check digit)"}]}\n' },
    answerNext(match, ...list) {
      scripted.push({ match, answers: list });
    },
    hold(match) {
      let reached!: (r: Received) => void;
      let release!: () => void;
      const reachedP = new Promise<Received>((r) => (reached = r));
      const released = new Promise<void>((r) => (release = r));
      holds.push({ match, reached, released });
      return { reached: reachedP, release };
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };

  function push(kind: string, records: any[]): any {
    const identity = IDENTITY[kind]!;
    const results = records.map((record, index) => {
      if (typeof record !== 'object' || record === null) return { index, status: 'rejected', errors: [{ field: '', message: '不是对象 (not an object)' }] };
      if (record.bad !== undefined) return { index, status: 'rejected', errors: [{ field: 'bad', message: '未知字段 (unknown field)' }] };
      const id = record[identity];
      if (typeof id !== 'string' || id === '') return { index, status: 'rejected', errors: [{ field: identity, message: '必填 (required)' }] };
      const key = `${kind}:${id}`;
      const content = JSON.stringify(record);
      const before = stored.get(key);
      if (before === content) return { index, status: 'duplicate', id: key };
      if (options.storeRecords !== false) stored.set(key, content);
      writes.set(key, (writes.get(key) ?? 0) + 1);
      return { index, status: before === undefined ? 'accepted' : 'updated', id: key, ...(record.late ? { late: true } : {}) };
    });
    const n = (s: string) => results.filter((r) => r.status === s).length;
    return { accepted: n('accepted'), updated: n('updated'), duplicates: n('duplicate'), rejected: n('rejected'), results };
  }

  async function route(req: IncomingMessage, res: ServerResponse, raw: Buffer, received: Received): Promise<void> {
    const path = received.path.split('?')[0]!;
    // Presigned URLs: no key.
    let m = /^\/upload\/([\w-]+)$/.exec(path);
    if (m && req.method === 'PUT') {
      const batch = batches.get(m[1]!);
      if (!batch) return send(res, 404, '<Error><Code>NoSuchUpload</Code></Error>');
      if (!received.path.includes('sig=ok')) return send(res, 403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      batch.uploaded = { bytes: received.bytes, headers: req.headers, firstLine: raw.subarray(0, 200).toString('utf8').split('\n')[0]! };
      return send(res, 200, '');
    }
    m = /^\/rejects\/([\w-]+)$/.exec(path);
    if (m && req.method === 'GET') return send(res, 200, hub.batchPlan.rejects);

    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (key !== GOOD_KEY && key !== OPERATOR_KEY) return send(res, 401, error('unauthorized', '缺少或无效的密钥 (missing or unknown API key)'));

    m = /^\/v1\/submissions\/([\w-]+)$/.exec(path);
    if (m && req.method === 'POST') {
      const kind = m[1]!;
      if (!IDENTITY[kind]) return send(res, 404, error('unknown_kind', `没有这个种类 (unknown kind ${kind})`));
      if (key !== GOOD_KEY) return send(res, 403, error('forbidden', `此数据源不能报送${kind} (this source may not push ${kind})`));
      if (raw.length > 6 * 1024 * 1024) return send(res, 413, error('payload_too_large', '请求体超过6 MB (body over 6 MB)'));
      const records = received.json?.records;
      if (!Array.isArray(records) || records.length === 0 || records.length > 1000) return send(res, 400, error('invalid_submission', 'records: 1 to 1000'));
      const idem = req.headers['idempotency-key'] as string | undefined;
      const fingerprint = createHash('sha256').update(raw).digest('hex');
      if (idem) {
        const scope = `${key}\u0000${kind}\u0000${idem}`;
        const kept = answers.get(scope);
        if (kept === 'in-progress') return send(res, 409, error('idempotency_in_progress', '仍在处理中 (still being processed)'));
        if (kept) {
          if (kept.fingerprint !== fingerprint) return send(res, 422, error('idempotency_key_reused', '此Idempotency-Key已用于另一个请求体 (reused)'));
          replayed.push(idem);
          return send(res, kept.status, kept.body);
        }
        answers.set(scope, 'in-progress');
        const body = push(kind, records);
        answers.set(scope, { fingerprint, status: 200, body });
        return send(res, 200, body);
      }
      return send(res, 200, push(kind, records));
    }

    if (path === '/v1/sources' || /^\/v1\/sources\/[^/]+\/keys$/.test(path)) {
      if (key !== OPERATOR_KEY) return send(res, 403, error('forbidden', '仅限运营方 (operator only)'));
      if (req.method === 'GET' && path === '/v1/sources') return send(res, 200, { items: [...sources.values()].sort((a, b) => (a.id < b.id ? -1 : 1)) });
      if (req.method === 'POST' && path === '/v1/sources') {
        const s = received.json;
        if (sources.has(s.id)) return send(res, 409, error('source_exists', `数据源标识${s.id}已被使用 (source id already taken)`));
        if (!/^[0-9A-Z]{18}$/.test(s.uscc)) return send(res, 400, { error: { code: 'invalid_source', message: '数据源信息有误 (invalid source)', details: [{ field: 'uscc', message: '统一社会信用代码校验位错误 (USCC check digit)' }] } });
        const now = new Date().toISOString();
        sources.set(s.id, { ...s, createdAt: now, keyRotatedAt: now });
        return send(res, 201, { id: s.id, apiKey: `hub_key-of-${s.id}` });
      }
      const id = decodeURIComponent(path.split('/')[3]!);
      if (req.method === 'POST' && sources.has(id)) return send(res, 201, { apiKey: `hub_new-key-of-${id}` });
      return send(res, 404, error('not_found', '没有这个数据源 (unknown source)'));
    }

    if (path === '/v1/batches' && req.method === 'POST') {
      const id = `b_${batches.size + 1}`;
      const idem = req.headers['idempotency-key'] as string | undefined;
      const existing = [...batches.values()].find((b) => (b as any).key === idem && idem);
      if (existing) return send(res, 201, { batchId: existing.id, uploadUrl: `${url}/upload/${existing.id}?sig=ok`, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
      batches.set(id, Object.assign({ id, format: received.json.format, encoding: received.json.encoding ?? 'utf-8', reads: 0, outcome: hub.batchPlan.outcome }, { key: idem }));
      return send(res, 201, { batchId: id, uploadUrl: `${url}/upload/${id}?sig=${hub.batchPlan.reason === 'expired-url' ? 'old' : 'ok'}`, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    }
    m = /^\/v1\/batches\/([\w-]+)$/.exec(path);
    if (m && req.method === 'GET') {
      const batch = batches.get(m[1]!);
      if (!batch) return send(res, 404, error('not_found', '没有这个批次 (unknown batch)'));
      const plan = hub.batchPlan;
      const zero = { total: 0, accepted: 0, updated: 0, duplicates: 0, rejected: 0 };
      if (!batch.uploaded) return send(res, 200, { status: 'waiting', ...zero });
      batch.reads++;
      if (batch.reads === 1) return send(res, 200, { status: 'processing', ...zero });
      if (batch.reads === 2) return send(res, 200, { status: 'processing', ...zero, total: 1, accepted: 1 });
      if (plan.outcome === 'failed') return send(res, 200, { status: 'failed', ...zero, total: 1, accepted: 1, reason: plan.reason });
      return send(res, 200, {
        status: 'completed',
        total: plan.total,
        accepted: plan.total - plan.rejected,
        updated: 0,
        duplicates: 0,
        rejected: plan.rejected,
        ...(plan.rejected > 0 ? { rejectsUrl: `${url}/rejects/${batch.id}?sig=ok` } : {}),
      });
    }
    return send(res, 404, error('no_route', `没有这个接口 (no route ${req.method} ${path})`));
  }

  const server: Server = createServer((req, res) => {
    const pieces: Buffer[] = [];
    // Uploads are counted, not kept (they may be gigabytes); their first bytes are kept.
    const upload = req.method === 'PUT';
    let uploaded = 0;
    req.on('data', (d: Buffer) => {
      if (upload && uploaded >= 4096) uploaded += d.length;
      else (pieces.push(d), (uploaded += d.length));
    });
    req.on('end', async () => {
      const raw = Buffer.concat(pieces);
      const received: Received = { method: req.method!, path: req.url!, headers: req.headers, bytes: upload ? uploaded : raw.length };
      if ((req.headers['content-type'] ?? '').includes('json')) {
        try {
          received.json = JSON.parse(raw.toString('utf8'));
        } catch {
          // left undefined
        }
      }
      requests.push(received);
      const script = scripted.find((s) => s.match(received) && s.answers.length > 0);
      if (script) {
        const answer = script.answers.shift()!;
        if (answer.hangUp) return void req.socket.destroy();
        return send(res, answer.status, answer.body ?? error(answer.status === 503 ? 'unavailable' : 'too_many_requests', `HTTP ${answer.status}`), answer.headers);
      }
      const hold = holds.find((h) => h.match(received));
      if (hold) {
        holds.splice(holds.indexOf(hold), 1);
        // The work is done (as the hub finishes a request whose client went away); the answer waits.
        const answer = { status: 0, body: undefined as unknown, headers: {} as Record<string, string> };
        const fakeRes = {
          writeHead: (status: number, headers: Record<string, string>) => ((answer.status = status), (answer.headers = headers)),
          end: (text: string) => (answer.body = text),
        } as unknown as ServerResponse;
        await route(req, fakeRes, raw, received);
        hold.reached(received);
        await hold.released;
        if (!res.destroyed && !req.socket.destroyed) (res.writeHead(answer.status, answer.headers), res.end(answer.body as string));
        return;
      }
      await route(req, res, raw, received);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.url = url;
  return hub;
}

/**
 * The command line's input and output for a test: what it prints is kept in `out` and `err`, the
 * environment is `env` (the hub's URL and key), no progress bars, no waiting between retries;
 * `overrides` for the rest.
 */
export function captureIo(env: Record<string, string | undefined>, overrides: Partial<CliIo> = {}): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    sourcesStore: () => {
      throw new Error('not used');
    },
    env,
    progress: silentProgress,
    client: { sleep: async () => undefined },
    ...overrides,
  };
  return io;
}

/** A failure of the command line as it must print it: one line, `hub: ` first, no stack trace. */
export function expectOneLine(text: string): void {
  expect(text).toMatch(/^hub: [^\n]+\n$/);
  expect(text).not.toMatch(/\bat .+:\d+:\d+/);
}

export interface FakeHubFile {
  /** The hub, started before the file's first test and closed after its last. */
  readonly hub: FakeHub;
  /** `captureIo` with the hub's URL and the operator's key, or with `env`. */
  captureIo(env?: Record<string, string | undefined>, overrides?: Partial<CliIo>): CliIo & { out: string; err: string };
  /** The requests the hub received since the current test began, or since `forgetSent()`. */
  sent(): Received[];
  /** `sent()` counts from now on. */
  forgetSent(): void;
  /** `hub ARGS` with the operator's key is refused before anything is sent: exit 1, one line on stderr that contains `message`. */
  expectRefusedBeforeSending(args: readonly string[], message: string): Promise<void>;
}

/**
 * One fake hub for the tests of a file (call it at the top of the file): started in `beforeAll`, closed in
 * `afterAll`, and what each test sent counted from its start.
 */
export function useFakeHub(options: { storeRecords?: boolean } = {}): FakeHubFile {
  let hub: FakeHub | undefined;
  let seen = 0;
  beforeAll(async () => {
    hub = await startFakeHub(options);
  });
  afterAll(() => hub?.close());
  beforeEach(() => {
    seen = started().requests.length;
  });
  const started = (): FakeHub => {
    if (!hub) throw new Error('the fake hub starts in beforeAll: use it in a test or a hook');
    return hub;
  };
  const file: FakeHubFile = {
    get hub() {
      return started();
    },
    captureIo: (env = { HUB_URL: started().url, HUB_KEY: OPERATOR_KEY }, overrides = {}) => captureIo(env, overrides),
    sent: () => started().requests.slice(seen),
    forgetSent: () => void (seen = started().requests.length),
    async expectRefusedBeforeSending(args, message) {
      const io = file.captureIo();
      expect(await runHub(args, io)).toBe(1);
      expectOneLine(io.err);
      expect(io.err).toContain(message);
      expect(file.sent()).toEqual([]);
    },
  };
  return file;
}
