/**
 * The local stack's SQS emulator process (started by sqs-local.ts, never by hand): fauxqs 2.4.1 on
 * 127.0.0.1, its queues, redrive policies and messages in SQLite (`<data-dir>/fauxqs.db`, node:sqlite,
 * Node ≥ 22.5), so they survive a restart.
 *
 *   node fauxqs-process.mjs --data-dir DIR [--port N] [--region R]
 *
 * Talks to the stack over the IPC channel: sends {type:'ready', port} once it listens. Stops cleanly
 * (closes the database) on SIGTERM, SIGINT, or when the IPC channel closes: the stack is gone, even if
 * it was killed outright.
 *
 * Correction to fauxqs, here so that it stays with the emulator: it listens on 0.0.0.0 with no option
 * to do otherwise (startFauxqs passes a fixed `host: "0.0.0.0"` to Fastify's listen), which would
 * open the stack's queues to the network. While it starts, this process makes a listen on the
 * wildcard address listen on 127.0.0.1 instead, and then refuses to serve (exits) unless the server
 * really is bound to 127.0.0.1.
 *
 * And a long poll whose client has gone takes nothing: fauxqs went on waiting for a ReceiveMessage
 * whose connection was closed (the stack's SQS poller aborts its long polls when it stops) and then
 * took the next message that arrived, which stayed invisible for the queue's visibility timeout
 * although nobody received it. Here the wait ends when the connection closes, with nothing dequeued.
 */
import net from 'node:net';
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { announceReady, logger, stopOnSignals } from './emulator-child.mjs';

const LOOPBACK = '127.0.0.1';
const WILDCARD = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);
const STOP_GRACE_MS = 10_000;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    region: { type: 'string', default: 'cn-north-1' },
  },
});
const dataDir = values['data-dir'];
if (!dataDir) {
  process.stderr.write('usage: fauxqs-process.mjs --data-dir DIR [--port N] [--region R]\n');
  process.exit(2);
}

const say = logger('fauxqs');

/** A listen on the wildcard address (or on no address, which is the wildcard too) becomes one on 127.0.0.1. */
function onLoopback(args) {
  const [first] = args;
  if (first && typeof first === 'object' && !first.path) {
    if (first.host === undefined || WILDCARD.has(first.host)) return [{ ...first, host: LOOPBACK }, ...args.slice(1)];
    return args;
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1);
    if (typeof rest[0] === 'string' && !WILDCARD.has(rest[0])) return args;
    return [first, LOOPBACK, ...rest.slice(typeof rest[0] === 'string' ? 1 : 0)];
  }
  return args;
}

// The database and its WAL files are the owner's only, like the folder.
process.umask(0o077);
await mkdir(dataDir, { recursive: true, mode: 0o700 });

/**
 * ReceiveMessage with a long poll, ended without dequeuing anything when the client's connection
 * closes. The first try and the final one are fauxqs's own (WaitTimeSeconds 0: validation, the
 * dequeue, system and message attributes); only the wait in between is this one.
 */
function abandonedLongPollsTakeNothing(receiveMessage) {
  return async function receiveMessageUnlessGone(body, store, request) {
    const queue = body?.QueueUrl ? store.getQueue(body.QueueUrl) : undefined;
    const wait = body?.WaitTimeSeconds ?? (queue ? parseInt(queue.attributes.ReceiveMessageWaitTimeSeconds) : 0);
    const socket = request?.raw?.socket;
    // Anything fauxqs answers by itself (no queue, a wait out of range, no wait) goes to it unchanged.
    if (!queue || !socket || !Number.isInteger(wait) || wait <= 0 || wait > 20) return receiveMessage(body, store, request);
    const now = { ...body, WaitTimeSeconds: 0 };
    const first = await receiveMessage(now, store, request);
    if (first?.Messages?.length) return first;
    let onClose;
    const gone = new Promise((resolve) => {
      onClose = () => resolve(true);
      if (socket.destroyed) resolve(true);
      else socket.once('close', onClose);
    });
    const clientGone = await Promise.race([queue.waitForMessages(wait).then(() => false), gone]);
    socket.removeListener('close', onClose);
    if (clientGone) return {};
    return receiveMessage(now, store, request);
  };
}

// fauxqs registers its actions on its SqsRouter while it builds the server: ReceiveMessage is wrapped there.
const { SqsRouter } = await import(new URL('./sqs/sqsRouter.js', import.meta.resolve('fauxqs')).href);
const originalRegister = SqsRouter.prototype.register;
SqsRouter.prototype.register = function register(action, handler) {
  return originalRegister.call(this, action, action === 'ReceiveMessage' ? abandonedLongPollsTakeNothing(handler) : handler);
};

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  return originalListen.apply(this, onLoopback(args));
};
let server;
try {
  const { startFauxqs } = await import('fauxqs');
  server = await startFauxqs({ port: Number(values.port), logger: false, defaultRegion: values.region, dataDir });
} finally {
  net.Server.prototype.listen = originalListen;
}

const bound = new URL(server.address).hostname;
if (bound !== LOOPBACK) {
  say(`bound to ${bound}, not ${LOOPBACK}: refusing to serve`);
  await server.stop().catch(() => undefined);
  process.exit(1);
}

stopOnSignals({
  say,
  // Closes the connections (long polls included) and then the database. Long polls that were waiting
  // hold timers of up to 20 s: nothing of them is still needed once it has exited.
  close: () => server.stop().catch((e) => say(`stop: ${e?.stack ?? e}`)),
  graceMs: STOP_GRACE_MS,
  late: 'still closing',
});

say(`listening on ${LOOPBACK}:${server.port}, queues and messages in ${dataDir}`);
announceReady(server.port);
