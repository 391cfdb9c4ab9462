/**
 * An upward platform (省/全国信用信息共享平台) standing in for the real one in the test process: a real HTTP
 * server on 127.0.0.1 that takes exchange packages (`POST <base URL>/packages`, shared/upward/exchange-package.ts)
 * as a platform that honours Idempotency-Key would, with the faults the reliability tests need:
 *
 * - `failShare` of requests answered 500 (nothing kept), `hangShare` held past the sender's timeout (`hangMs`)
 *   — the package is kept first, as by a platform that took it but answered too late, so the sender's retry of
 *   that key meets it again;
 * - a package whose body contains `poison` is refused 400 (a record the platform rejects, whatever the try);
 * - a key sent again with the same body is answered 200 again (a replay: not kept twice); with another body, 422.
 *
 * Which fault a request meets is drawn from the seed, the key and how many times that key was sent before
 * (SHA-256 of the three), not from arrival order: the same seed gives every key the same fates on every run,
 * however the connectors' requests interleave.
 *
 * Every request is logged (its key, the SHA-256 of its body, the record versions it carries and the answer), so
 * that a test can say: each version under one key, each key with one body, nothing accepted twice.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePlatformOptions {
  /** The platform's name: its base URL is `http://127.0.0.1:<port>/<name>`. */
  name: string;
  seed: number;
  /** Share of requests answered 500 (0 … 1). */
  failShare?: number;
  /** Share of requests held for `hangMs` before their (late) answer. */
  hangShare?: number;
  hangMs?: number;
  /** A text whose presence in the body makes the platform refuse the package (400). */
  poison?: string;
}

/** How a request was answered. */
export type Answer = 'accepted' | 'replayed' | 'failed' | 'hung' | 'refused' | 'conflict' | 'invalid';

/** One record version a package carries. */
export interface CarriedVersion {
  recordId: string;
  version: number;
  operation: string;
}

export interface PlatformRequest {
  key: string;
  bodySha256: string;
  /** This key's n-th request (1 for the first). */
  attempt: number;
  answer: Answer;
  versions: CarriedVersion[];
  /** performance.now() when its body had arrived. */
  at: number;
}

export interface AcceptedPackage {
  key: string;
  bodySha256: string;
  versions: CarriedVersion[];
  /** performance.now() when it was first kept. */
  at: number;
}

export interface FakePlatform {
  readonly name: string;
  /** `http://127.0.0.1:<port>/<name>`: what HUB_<NAME>_URL is set to. */
  readonly url: string;
  /** Every request, in arrival order. */
  requests(): readonly PlatformRequest[];
  /** The packages kept, by key (each once, however often it was sent again). */
  accepted(): ReadonlyMap<string, AcceptedPackage>;
  /** Faults on or off (poison included); on at start unless the options ask for none. */
  setFaults(on: boolean): void;
  /** Closes the server, cutting held requests short. */
  close(): Promise<void>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A number in [0, 1) from the seed, the key and the attempt: the request's fate. */
export function fateOf(seed: number, key: string, attempt: number): number {
  return createHash('sha256').update(`${seed}\u0000${key}\u0000${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The versions a package carries, or why it is not a well-formed package (header, hash, count, key). */
export function readPackage(body: Buffer, key: string): { versions: CarriedVersion[] } | { problem: string } {
  let parsed: any;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'not JSON' };
  }
  const header = parsed?.header;
  const records = parsed?.body?.records;
  if (!header || !Array.isArray(records)) return { problem: 'no header or no body.records' };
  if (header.packageId !== key) return { problem: 'the Idempotency-Key is not the package id' };
  if (header.recordCount !== records.length) return { problem: 'recordCount disagrees with the records' };
  if (header.bodySha256 !== sha256(JSON.stringify(parsed.body))) return { problem: 'bodySha256 disagrees with the body' };
  return { versions: records.map((r: any) => ({ recordId: String(r.recordId), version: Number(r.version), operation: String(r.operation) })) };
}

export async function startFakePlatform(options: FakePlatformOptions): Promise<FakePlatform> {
  const failShare = options.failShare ?? 0;
  const hangShare = options.hangShare ?? 0;
  const hangMs = options.hangMs ?? 0;
  let faults = true;
  const log: PlatformRequest[] = [];
  const kept = new Map<string, AcceptedPackage>();
  const sentBefore = new Map<string, number>();
  const held = new Set<NodeJS.Timeout>();
  const prefix = `/${options.name}/`;

  const answer = (res: ServerResponse, status: number, body: unknown, delayMs = 0) => {
    const send = () => {
      if (res.destroyed) return;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    if (delayMs <= 0) return send();
    const timer = setTimeout(() => {
      held.delete(timer);
      send();
    }, delayMs);
    held.add(timer);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.method !== 'POST' || !req.url?.startsWith(prefix) || !req.url.endsWith('/packages')) return answer(res, 404, { error: 'not found' });
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return answer(res, 400, { error: 'Idempotency-Key missing' });
    const attempt = (sentBefore.get(key) ?? 0) + 1;
    sentBefore.set(key, attempt);
    const bodySha256 = sha256(body);
    const read = readPackage(body, key);
    const versions = 'versions' in read ? read.versions : [];
    const entry: PlatformRequest = { key, bodySha256, attempt, answer: 'accepted', versions, at: performance.now() };
    log.push(entry);
    if ('problem' in read) {
      entry.answer = 'invalid';
      return answer(res, 400, { error: read.problem });
    }
    if (faults && options.poison && body.includes(options.poison)) {
      entry.answer = 'refused';
      return answer(res, 400, { error: '记录内容不符合标准 (the platform refuses this record)' });
    }
    const fate = faults ? fateOf(options.seed, key, attempt) : 1;
    if (fate < failShare) {
      entry.answer = 'failed';
      return answer(res, 500, { error: 'internal error' });
    }
    const before = kept.get(key);
    if (before && before.bodySha256 !== bodySha256) {
      entry.answer = 'conflict';
      return answer(res, 422, { error: 'Idempotency-Key reused with another body' });
    }
    if (!before) kept.set(key, { key, bodySha256, versions, at: entry.at });
    else entry.answer = 'replayed';
    if (fate < failShare + hangShare) {
      entry.answer = 'hung';
      return answer(res, 200, { received: versions.length }, hangMs);
    }
    return answer(res, 200, { received: versions.length });
  };

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.once('end', () => handle(req, res, Buffer.concat(parts)));
    req.once('error', () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}/${options.name}`,
    requests: () => log,
    accepted: () => kept,
    setFaults: (on) => {
      faults = on;
    },
    close: async () => {
      for (const timer of held) clearTimeout(timer);
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
