/**
 * The package as it goes over the wire, from its segments in S3: the header line, then every segment's lines in
 * order, as one gzip stream (a single gzip member, which every decoder reads), produced as it is sent — memory
 * holds a few chunks whatever the size. And the SHA-256 of a body of several segments, read back the same way.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { headerLine } from './package-lines.js';
import type { PackageSegments } from './package-segments.js';
import type { BodySoFar, SyncHeader } from './sync-model.js';

const EMPTY_SHA256 = createHash('sha256').digest('hex');

async function* bodyOf(keys: readonly string[], store: Pick<PackageSegments, 'open'>): AsyncGenerator<Buffer> {
  for (const key of keys) {
    for await (const chunk of await store.open(key)) yield chunk as Buffer;
  }
}

/**
 * The SHA-256 (hex) and size of the body `body` describes, made of the segments `keys`: the only segment's own
 * when there is one, else read back from S3.
 */
export async function bodyDigest(body: BodySoFar, keys: readonly string[], store: Pick<PackageSegments, 'open'>): Promise<{ sha256: string; bytes: number; records: number }> {
  const { records, bytes } = body;
  if (keys.length !== body.segments) throw new Error(`the body has ${body.segments} segments, ${keys.length} keys were given`);
  if (keys.length === 0) return { sha256: EMPTY_SHA256, bytes: 0, records: 0 };
  if (keys.length === 1 && body.sha256 !== undefined) return { sha256: body.sha256, bytes, records };
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of bodyOf(keys, store)) {
    hash.update(chunk);
    read += chunk.length;
  }
  if (read !== bytes) throw new Error(`the package body read back from S3 has ${read} bytes, its checkpoint says ${bytes}`);
  return { sha256: hash.digest('hex'), bytes, records };
}

/** The gzip stream of the whole package (header line, then the body); `sent()` counts the bytes it has given out. */
export function packageStream(header: SyncHeader, keys: readonly string[], store: Pick<PackageSegments, 'open'>): { stream: Readable; sent: () => number } {
  let sent = 0;
  async function* whole(): AsyncGenerator<Buffer> {
    yield Buffer.from(headerLine(header), 'utf8');
    yield* bodyOf(keys, store);
  }
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      done(null, chunk);
    },
  });
  // An error on the way (S3) destroys the counter: the reader (the POST) fails with it.
  pipeline(Readable.from(whole()), createGzip(), counter).catch(() => undefined);
  return { stream: counter, sent: () => sent };
}
