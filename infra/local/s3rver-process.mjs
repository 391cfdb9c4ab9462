/**
 * The local stack's S3 emulator process (started by s3-local.ts, never by hand): s3rver 3.7.1 on
 * 127.0.0.1, objects on disk in --directory. It must run with --openssl-legacy-provider (its
 * ListObjects continuation tokens use DES, which OpenSSL 3 keeps in the legacy provider); the stack
 * itself does not.
 *
 *   S3RVER_ACCESS_KEY_ID=… S3RVER_SECRET_ACCESS_KEY=… node --openssl-legacy-provider s3rver-process.mjs --directory DIR [--port N]
 *
 * The key is the one the stack's clients sign with (s3rver refuses requests that name a key it does not
 * know; it does not check version-4 signatures).
 *
 * Talks to the stack over the IPC channel: sends {type:'ready', port} once it listens and
 * {type:'event', event} for every S3 event (s3rver's notification records: object created or removed).
 * Stops cleanly (ends the requests in flight, up to STOP_GRACE_MS) on SIGTERM, SIGINT, or when the
 * IPC channel closes: the stack is gone, even if it was killed outright.
 *
 * Corrections to s3rver, here so that they stay with the emulator:
 * - S3 shows an object only once its upload is complete; s3rver wrote the body straight into the
 *   object file, so while an upload ran, and forever after one was cut short, the object read as a
 *   truncated file (and it answered before the file was flushed). Now the body goes to a `.partial`
 *   file beside the object, renamed into place once complete and on disk, and removed when the upload
 *   fails; the `.partial` files left by a crash in mid-upload are removed at start;
 * - S3 answers a GET or HEAD whose If-Match names another ETag with 412 PreconditionFailed (a reader
 *   resuming a file at an offset learns that the file was replaced); s3rver ignored If-Match.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { announceReady, logger, stopOnSignals } from './emulator-child.mjs';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js');
const FilesystemStore = require('s3rver/lib/stores/filesystem.js');

const STOP_GRACE_MS = 10_000;
const PARTIAL = '.partial';

const { values } = parseArgs({
  options: {
    directory: { type: 'string' },
    port: { type: 'string', default: '0' },
  },
});
const { S3RVER_ACCESS_KEY_ID: accessKeyId, S3RVER_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
if (!values.directory || !accessKeyId || !secretAccessKey) {
  process.stderr.write('usage: S3RVER_ACCESS_KEY_ID=… S3RVER_SECRET_ACCESS_KEY=… s3rver-process.mjs --directory DIR [--port N]\n');
  process.exit(2);
}

const say = logger('s3rver');

/** Writes the body to a partial file and renames it into place once complete; the metadata first, so a new object appears whole. */
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const partial = `${objectPath}.${randomUUID()}${PARTIAL}`;
  const md5 = createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      await writeFile(partial, object.content);
    } else {
      const measure = new Transform({
        transform(chunk, _encoding, done) {
          md5.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(object.content, measure, createWriteStream(partial));
    }
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(partial, objectPath);
    return { size, md5: digest };
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
};

async function removePartialUploads(directory) {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(PARTIAL)) await rm(join(entry.parentPath, entry.name), { force: true });
  }
}

// The stack's credentials are the emulator's (it checks that requests name a key it knows).
DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

await mkdir(values.directory, { recursive: true, mode: 0o700 });
await removePartialUploads(values.directory);

/** If-Match on GET and HEAD of an object: 412 PreconditionFailed when the object's ETag is not one of those named. */
function ifMatch(store) {
  return async function ifMatchMiddleware(ctx, next) {
    const expected = ctx.get('if-match');
    if (!expected || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const [, bucket, ...key] = ctx.path.split('/');
    if (!bucket || key.length === 0) return next();
    let etag;
    try {
      etag = (await store.getMetadata(decodeURIComponent(bucket), decodeURIComponent(key.join('/')))).etag; // "<md5>", quoted
    } catch {
      return next(); // no such object: s3rver answers 404
    }
    const named = expected.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (named.some((t) => t === '*' || t === etag || `"${t}"` === etag)) return next();
    ctx.status = 412;
    if (ctx.method === 'GET') {
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
        '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>';
    }
  };
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(values.port),
  directory: values.directory,
  silent: true,
  // Path-style only (http://127.0.0.1:port/bucket/key): no bucket names taken from Host headers.
  vhostBuckets: false,
});
// First of all middleware (Koa composes them when the server starts listening).
server.middleware.unshift(ifMatch(server.store));
server.on('event', (event) => {
  if (process.connected) process.send({ type: 'event', event });
});
server.on('error', (err, ctx) => {
  const status = err?.status ?? 500;
  if (status >= 500) say(`${ctx?.method ?? ''} ${ctx?.path ?? ''}: ${err?.stack ?? err}`);
});

stopOnSignals({
  say,
  // Ends the requests in flight; idle keep-alive connections are closed at once.
  close: async () => {
    const closed = server.close().catch(() => undefined);
    server.httpServer?.closeIdleConnections();
    await closed;
  },
  graceMs: STOP_GRACE_MS,
  late: 'requests still in flight',
});

const { port } = await server.run();
say(`listening on 127.0.0.1:${port}, objects in ${values.directory}`);
announceReady(port);
