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
import type { Segment, SyncHeader } from './sync-model.js';

const EMPTY_SHA256 = createHash('sha256').digest('hex');

async function* bodyOf(segments: readonly Segment[], store: Pick<PackageSegments, 'open'>): AsyncGenerator<Buffer> {
  for (const segment of segments) {
    for await (const chunk of await store.open(segment.key)) yield chunk as Buffer;
  }
}

/** The SHA-256 (hex) and size of the body made of `segments`: their own when there is one, else read back from S3. */
export async function bodyDigest(segments: readonly Segment[], store: Pick<PackageSegments, 'open'>): Promise<{ sha256: string; bytes: number; records: number }> {
  const records = segments.reduce((n, s) => n + s.records, 0);
  const bytes = segments.reduce((n, s) => n + s.bytes, 0);
  if (segments.length === 0) return { sha256: EMPTY_SHA256, bytes: 0, records: 0 };
  if (segments.length === 1) return { sha256: segments[0]!.sha256, bytes, records };
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of bodyOf(segments, store)) {
    hash.update(chunk);
    read += chunk.length;
  }
  if (read !== bytes) throw new Error(`the package body read back from S3 has ${read} bytes, its segments say ${bytes}`);
  return { sha256: hash.digest('hex'), bytes, records };
}

/** The gzip stream of the whole package (header line, then the body); `sent()` counts the bytes it has given out. */
export function packageStream(header: SyncHeader, segments: readonly Segment[], store: Pick<PackageSegments, 'open'>): { stream: Readable; sent: () => number } {
  let sent = 0;
  async function* whole(): AsyncGenerator<Buffer> {
    yield Buffer.from(headerLine(header), 'utf8');
    yield* bodyOf(segments, store);
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
