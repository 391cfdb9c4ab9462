/**
 * The built-in stand-in for the upward platforms (API.md: "when unset the local stack runs a built-in
 * receiver and says where it keeps what it received"): one HTTP server on 127.0.0.1 that answers for
 * both platforms, the provincial one under `/provincial/…` and the national one under `/national/…`
 * (base URLs `<url>/provincial` and `<url>/national`, `environment()`).
 *
 * What it accepts: POSTs of JSON or NDJSON (`Content-Type: application/json` | `application/x-ndjson`),
 * optionally `Content-Encoding: gzip`, each with an `Idempotency-Key` header (400 without).
 *
 * - A JSON body is an exchange package (GB/T 39443 practice: a header and a body):
 *   `{"header":{"packageId","recordCount","bodySha256",…},"body":{"records":[…]}}`. The receiver checks
 *   that `recordCount` is the number of records and that `bodySha256` is the SHA-256, in lower-case hex,
 *   of the UTF-8 bytes of `JSON.stringify(body)` — the body exactly as a sender serialises it when it
 *   sends `JSON.stringify({header, body})` (no whitespace, keys in the sender's order). 400 when either
 *   disagrees, with the reason.
 * - An NDJSON body (the nightly sync) is counted by its non-empty lines, each of which must be JSON. When
 *   its first line is a header `{"header":{"recordCount","bodySha256",…}}`, that line is checked like a
 *   package's: `recordCount` lines follow it, and `bodySha256` is the SHA-256 of the bytes after the
 *   header line's newline.
 *
 * It answers 200 `{"received": <records>, "packageId"?: …}` and keeps what it received under its folder
 * (`HUB_DATA_DIR/platforms/<platform>/`), one file per idempotency key, `<received-at>-<key>.json`
 * (the headers of interest, the answer and the decoded body; an NDJSON body goes beside it as
 * `<received-at>-<key>.ndjson`, decompressed), each written to a temp file renamed into place. A key
 * sent again with the same (decoded) body gets the same answer (and `Idempotent-Replayed: true`) and
 * is not stored twice — after a restart too: the folder is read at start; the same key with another
 * body is 422.
 *
 * For tests, faults (`addFault`, `failNext`, or the rules of HUB_RECEIVER_FAULTS): answer a status
 * instead (503, 429 with Retry-After, 400 …) or answer late, for some requests, every n-th one, or
 * those whose body contains a text (a poison record). Only through this module, never over the
 * network.
 *
 * Only this machine can reach it (it listens on 127.0.0.1), and only under a loopback Host name (a web
 * page cannot reach it through DNS rebinding; nor can it send a cross-origin POST with these headers
 * and content types without a CORS preflight, which this server does not answer).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzip } from 'node:zlib';
import * as z from 'zod';
import type { ErrorCode } from '../../contracts/errors.js';
import { platforms as cataloguePlatforms, type PlatformName } from '../catalogue.js';

/** The environment variable with fault rules for the built-in receiver (a JSON array of ReceiverFault). */
export const RECEIVER_FAULTS_ENV = 'HUB_RECEIVER_FAULTS';

const platformNames = Object.keys(cataloguePlatforms) as PlatformName[];

const faultSchema = z
  .object({
    /** Only requests to this platform (both when absent). */
    platform: z.enum(platformNames as [PlatformName, ...PlatformName[]]).optional(),
    /** Answer this status instead, storing nothing; absent: answer normally (after the delay). */
    status: z.number().int().min(400).max(599).optional(),
    /** Wait this long before answering (a slow platform; longer than the sender's timeout: a hang). */
    delayMs: z.number().int().min(0).optional(),
    /** A Retry-After header (seconds) with the status. */
    retryAfterSeconds: z.number().int().min(0).optional(),
    /** How many requests it applies to; every matching one when absent. */
    times: z.number().int().min(1).optional(),
    /** Only every n-th matching request (the n-th, the 2n-th, …). */
    every: z.number().int().min(1).optional(),
    /** Only requests whose decoded body contains this text. */
    bodyContains: z.string().min(1).optional(),
  })
  .strict()
  .refine((f) => f.status !== undefined || f.delayMs !== undefined, { message: 'a fault needs a status or a delayMs' });

export type ReceiverFault = z.infer<typeof faultSchema>;

/** The fault rules of HUB_RECEIVER_FAULTS (a JSON array of ReceiverFault); none when unset or empty. Throws on a wrong value. */
export function parseReceiverFaults(text: string | undefined): ReceiverFault[] {
  if (!text?.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${RECEIVER_FAULTS_ENV} is not JSON (a JSON array of fault rules expected)`);
  }
  const result = z.array(faultSchema).safeParse(parsed);
  if (!result.success) throw new Error(`${RECEIVER_FAULTS_ENV} is wrong: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** What the receiver keeps of one request it accepted. */
export interface ReceivedPackage {
  platform: PlatformName;
  idempotencyKey: string;
  receivedAt: string;
  /** The request path (`/provincial/packages`). */
  path: string;
  /** The headers of interest, as sent. */
  headers: Record<string, string>;
  format: 'json' | 'ndjson';
  /** SHA-256 (hex) of the decoded body: what a repeated key is compared by. */
  bodySha256: string;
  records: number;
  packageId?: string;
  /** What the receiver answered (again for a repeated key). */
  answer: { received: number; packageId?: string };
  /** A JSON body: the package as parsed. NDJSON: its non-empty lines, parsed (the header line included). */
  body: unknown;
  /** The file it is kept in. */
  file: string;
}

/** One record as received: a package's `body.records[i]` or an NDJSON line (not the header line). */
export interface ReceivedRecord {
  platform: PlatformName;
  idempotencyKey: string;
  packageId?: string;
  record: unknown;
}

export interface PlatformReceiverOptions {
  /** The folder (HUB_DATA_DIR/platforms): what a platform received is kept in `<dir>/<platform>/`. */
  dir: string;
  /** The port on 127.0.0.1; 0 (any free port) by default. */
  port?: number;
  /** Fault rules from the start (parseReceiverFaults(process.env.HUB_RECEIVER_FAULTS)). */
  faults?: readonly ReceiverFault[];
  /** Largest body, before and after decompression (413 above). */
  maxBodyBytes?: number;
  now?: () => Date;
  /** One line per refused request (status and reason, never the body). */
  log?: (line: string) => void;
}

export interface PlatformReceiver {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Where it keeps what it received (`<dir>/<platform>/`). */
  readonly dir: string;
  /** A platform's base URL: `<url>/<platform>`. */
  baseUrl(platform: PlatformName): string;
  /** The platforms' base URLs in their variables (HUB_PROVINCIAL_URL, HUB_NATIONAL_URL). */
  environment(): Record<string, string>;
  /** What it has received (read from its folder: what it received before a restart too), oldest first. */
  received(platform?: PlatformName): ReceivedPackage[];
  /** Every record received, in the order received. */
  receivedRecords(platform?: PlatformName): ReceivedRecord[];
  /** Adds a fault rule; returns a function that removes it. */
  addFault(fault: ReceiverFault): () => void;
  /** The next `count` requests to the platform are answered `status` (with Retry-After, or late, as asked). */
  failNext(platform: PlatformName, status: number, count?: number, options?: { retryAfterSeconds?: number; delayMs?: number }): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
const KEPT_HEADERS = ['content-type', 'content-encoding', 'content-length', 'idempotency-key', 'user-agent'];
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?$/i;
/** The IETF draft's key: printable ASCII, 1-255 characters (as the hub's own, shared/http). */
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The error code an injected fault answers with (the hub's own vocabulary: a real platform has its own). */
function faultCode(status: number): ErrorCode {
  if (status === 429) return 'too_many_requests';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'bad_request';
}

/** Checks an exchange package; returns its record count and id. */
export function verifyPackage(doc: unknown): { records: number; packageId: string } {
  const fail = (why: string): never => {
    throw new Refusal(400, 'invalid_body', `not a valid exchange package: ${why}`);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail('a JSON object {header, body} expected');
  const { header, body } = doc as { header?: unknown; body?: unknown };
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('no header object');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('no body object');
  const { packageId, recordCount, bodySha256 } = header as { packageId?: unknown; recordCount?: unknown; bodySha256?: unknown };
  if (typeof packageId !== 'string' || packageId === '') return fail('header.packageId is not a non-empty string');
  if (typeof recordCount !== 'number' || !Number.isInteger(recordCount) || recordCount < 0) return fail('header.recordCount is not a whole number');
  if (typeof bodySha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(bodySha256)) return fail('header.bodySha256 is not 64 hex digits');
  const records = (body as { records?: unknown }).records;
  if (!Array.isArray(records)) return fail('body.records is not an array');
  if (records.length !== recordCount) return fail(`header.recordCount is ${recordCount} but body.records has ${records.length}`);
  const actual = sha256(JSON.stringify(body));
  if (actual !== bodySha256.toLowerCase()) return fail(`header.bodySha256 is not the SHA-256 of JSON.stringify(body) (${actual})`);
  return { records: recordCount, packageId };
}

/** Whether an NDJSON line is a header line: an object with a `header`. */
const isHeaderLine = (line: unknown) => line !== null && typeof line === 'object' && !Array.isArray(line) && 'header' in line;

/** Counts and parses an NDJSON body; checks its header line when it has one. */
export function verifyNdjson(text: string): { records: number; lines: unknown[]; packageId?: string } {
  const lines: unknown[] = [];
  const raw = text.split('\n');
  raw.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      lines.push(JSON.parse(line));
    } catch {
      throw new Refusal(400, 'malformed_json', `NDJSON line ${i + 1} is not JSON`);
    }
  });
  if (!isHeaderLine(lines[0])) return { records: lines.length, lines };
  const header = (lines[0] as { header: unknown }).header as { packageId?: unknown; recordCount?: unknown; bodySha256?: unknown } | null;
  const fail = (why: string): never => {
    throw new Refusal(400, 'invalid_body', `the NDJSON header line is wrong: ${why}`);
  };
  if (header === null || typeof header !== 'object') return fail('header is not an object');
  const records = lines.length - 1;
  if (typeof header.recordCount !== 'number' || header.recordCount !== records) return fail(`header.recordCount is ${String(header.recordCount)} but ${records} lines follow it`);
  if (header.bodySha256 !== undefined) {
    const rest = text.slice(text.indexOf('\n') + 1);
    const actual = sha256(rest);
    if (typeof header.bodySha256 !== 'string' || header.bodySha256.toLowerCase() !== actual) return fail(`header.bodySha256 is not the SHA-256 of the lines after it (${actual})`);
  }
  return { records, lines, ...(typeof header.packageId === 'string' ? { packageId: header.packageId } : {}) };
}

/** A file name part for a key: itself when it is plain, else its plain characters and a hash. */
function keyFileName(key: string): string {
  const plain = key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  return plain === key ? key : `${plain}-${sha256(key).slice(0, 12)}`;
}

function writeAtomically(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flush: true });
  renameSync(tmp, file);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(new Refusal(413, 'payload_too_large', `the body is over ${limit} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function decode(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return Promise.resolve(body);
  if (e !== 'gzip') return Promise.reject(new Refusal(415, 'unsupported_encoding', `Content-Encoding ${e} is not gzip or identity`));
  return new Promise((resolve, reject) =>
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(new Refusal(413, 'payload_too_large', `the body is over ${limit} bytes decompressed`));
      else reject(new Refusal(400, 'malformed_text', 'the body is not valid gzip'));
    }),
  );
}

interface KeptAnswer {
  bodySha256: string;
  answer: ReceivedPackage['answer'];
}

interface FaultState {
  rule: ReceiverFault;
  seen: number;
  left: number;
}

export async function startPlatformReceiver(options: PlatformReceiverOptions): Promise<PlatformReceiver> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const folder = (p: PlatformName) => join(options.dir, p);
  const kept = new Map<PlatformName, Map<string, KeptAnswer>>();
  for (const p of platformNames) {
    mkdirSync(folder(p), { recursive: true, mode: 0o700 });
    const byKey = new Map<string, KeptAnswer>();
    for (const name of readdirSync(folder(p)).filter((f) => f.endsWith('.json')).sort()) {
      const doc = JSON.parse(readFileSync(join(folder(p), name), 'utf8')) as ReceivedPackage;
      byKey.set(doc.idempotencyKey, { bodySha256: doc.bodySha256, answer: doc.answer });
    }
    kept.set(p, byKey);
  }

  let faults: FaultState[] = [];
  const addFault = (fault: ReceiverFault) => {
    const state: FaultState = { rule: faultSchema.parse(fault), seen: 0, left: fault.times ?? Number.POSITIVE_INFINITY };
    faults.push(state);
    return () => {
      faults = faults.filter((f) => f !== state);
    };
  };
  for (const f of options.faults ?? []) addFault(f);

  /** The fault for this request, if any (the first rule that applies; its counters move). */
  const faultFor = (platform: PlatformName, body: Buffer): ReceiverFault | undefined => {
    for (const state of faults) {
      const { rule } = state;
      if (rule.platform && rule.platform !== platform) continue;
      if (rule.bodyContains && !body.includes(rule.bodyContains)) continue;
      state.seen++;
      if (rule.every && state.seen % rule.every !== 0) continue;
      state.left--;
      if (state.left <= 0) faults = faults.filter((f) => f !== state);
      return rule;
    }
    return undefined;
  };

  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const accept = (platform: PlatformName, req: IncomingMessage, decoded: Buffer): { status: number; answer: KeptAnswer['answer']; replayed: boolean } => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new Refusal(400, 'invalid_idempotency_key', 'an Idempotency-Key header of 1-255 printable ASCII characters is required');
    }
    const bodySha256 = sha256(decoded);
    const byKey = kept.get(platform)!;
    const earlier = byKey.get(key);
    if (earlier) {
      if (earlier.bodySha256 !== bodySha256) throw new Refusal(422, 'idempotency_key_reused', 'this Idempotency-Key was used with another body');
      return { status: 200, answer: earlier.answer, replayed: true };
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const text = decoded.toString('utf8');
    let format: ReceivedPackage['format'];
    let counted: { records: number; packageId?: string };
    let body: unknown;
    if (type === 'application/json') {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        throw new Refusal(400, 'malformed_json', 'the body is not JSON');
      }
      format = 'json';
      counted = verifyPackage(doc);
      body = doc;
    } else if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') {
      format = 'ndjson';
      const checked = verifyNdjson(text);
      counted = checked;
      body = checked.lines;
    } else {
      throw new Refusal(400, 'invalid_body', `Content-Type ${type || '(none)'} is not application/json or application/x-ndjson`);
    }
    const receivedAt = now().toISOString();
    const base = `${receivedAt.replace(/:/g, '')}-${keyFileName(key)}`;
    const headers = Object.fromEntries(KEPT_HEADERS.filter((h) => typeof req.headers[h] === 'string').map((h) => [h, req.headers[h] as string]));
    const answer = { received: counted.records, ...(counted.packageId !== undefined ? { packageId: counted.packageId } : {}) };
    const record: Omit<ReceivedPackage, 'file' | 'body'> & { body?: unknown; bodyFile?: string } = {
      platform,
      idempotencyKey: key,
      receivedAt,
      path: new URL(req.url ?? '/', 'http://receiver').pathname,
      headers,
      format,
      bodySha256,
      records: counted.records,
      ...(counted.packageId !== undefined ? { packageId: counted.packageId } : {}),
      answer,
    };
    if (format === 'ndjson') {
      writeAtomically(join(folder(platform), `${base}.ndjson`), text);
      record.bodyFile = `${base}.ndjson`;
    } else {
      record.body = body;
    }
    writeAtomically(join(folder(platform), `${base}.json`), JSON.stringify(record, null, 2) + '\n');
    byKey.set(key, { bodySha256, answer });
    return { status: 200, answer, replayed: false };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let platform: PlatformName | undefined;
    try {
      if (!LOOPBACK_HOST.test(req.headers.host ?? '')) throw new Refusal(403, 'forbidden', 'only a loopback Host (127.0.0.1, localhost) is served');
      const path = new URL(req.url ?? '/', 'http://receiver').pathname;
      platform = platformNames.find((p) => path === `/${p}` || path.startsWith(`/${p}/`));
      if (!platform) throw new Refusal(404, 'no_route', `no platform at ${path}: /${platformNames.join('/…, /')}/… are served`);
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new Refusal(405, 'method_not_allowed', `${req.method} is not allowed: POST`);
      }
      const raw = await readBody(req, limit);
      const decoded = await decode(raw, req.headers['content-encoding'], limit);
      const fault = faultFor(platform, decoded);
      if (fault?.delayMs) await wait(fault.delayMs);
      if (fault?.status !== undefined) {
        log(`receiver ${platform}: injected fault ${fault.status}`);
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
        send(res, fault.status, { error: { code: faultCode(fault.status), message: `injected fault: ${fault.status}` } }, headers);
        return;
      }
      const outcome = accept(platform, req, decoded);
      send(res, outcome.status, outcome.answer, outcome.replayed ? { 'idempotent-replayed': 'true' } : {});
    } catch (e) {
      if (e instanceof Refusal) {
        log(`receiver ${platform ?? '-'}: ${e.status} ${e.code}: ${e.message}`);
        send(res, e.status, { error: { code: e.code, message: e.message } });
        return;
      }
      log(`receiver ${platform ?? '-'}: 500: ${(e as Error).message}`);
      send(res, 500, { error: { code: 'internal', message: 'the receiver failed' } });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const received = (platform?: PlatformName): ReceivedPackage[] => {
    const out: ReceivedPackage[] = [];
    for (const p of platform ? [platform] : platformNames) {
      for (const name of readdirSync(folder(p)).filter((f) => f.endsWith('.json')).sort()) {
        const file = join(folder(p), name);
        const doc = JSON.parse(readFileSync(file, 'utf8')) as ReceivedPackage & { bodyFile?: string };
        const body = doc.bodyFile ? verifyNdjson(readFileSync(join(folder(p), doc.bodyFile), 'utf8')).lines : doc.body;
        const { bodyFile: _ignored, ...rest } = doc;
        out.push({ ...rest, body, file });
      }
    }
    return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  };

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    dir: options.dir,
    baseUrl: (platform) => `${url}/${platform}`,
    environment: () => Object.fromEntries(platformNames.map((p) => [cataloguePlatforms[p].urlEnvVar, `${url}/${p}`])),
    received,
    receivedRecords(platform) {
      return received(platform).flatMap((pkg) => {
        const records =
          pkg.format === 'json'
            ? ((pkg.body as { body: { records: unknown[] } }).body.records ?? [])
            : (pkg.body as unknown[]).filter((line, i) => !(i === 0 && isHeaderLine(line)));
        return records.map((record) => ({ platform: pkg.platform, idempotencyKey: pkg.idempotencyKey, ...(pkg.packageId ? { packageId: pkg.packageId } : {}), record }));
      });
    },
    addFault,
    failNext(platform, status, count = 1, more = {}) {
      addFault({ platform, status, times: count, ...more });
    },
    clearFaults() {
      faults = [];
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
