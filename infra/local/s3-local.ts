/**
 * S3 on this machine: s3rver 3.7.1 (s3rver-process.mjs) as a child process on 127.0.0.1, objects on
 * disk in `<dir>/buckets` (kept across restarts), its pid file and log beside them. Handlers reach it
 * with path-style URLs (HUB_S3_FORCE_PATH_STYLE) and checksums only where required (shared/aws/clients.ts).
 *
 * The emulator is dormant upstream (last release 2021), so nothing outside this file and its process
 * entry knows which emulator it is: the stack sees an endpoint, a stop() and S3 events.
 *
 * Like DynamoDB Local (dynamodb-local.ts), it runs in a process group of its own, is sent SIGTERM
 * when the stack dies (setpriv --pdeathsig, where available) and stops by itself when its IPC channel
 * to the stack closes (everywhere); a start first stops an emulator that a gone stack left running on
 * the same folder, and only that (emulator-process.ts).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runsEntryOn, startNodeEmulator, stopOrphanedEmulator } from './emulator-process.js';

export interface S3Local {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface S3LocalOptions {
  /** The emulator's folder (HUB_DATA_DIR/s3): objects in `buckets/`, the pid file and the log. */
  dir: string;
  /** The port to listen on (default: any free one). */
  port?: number;
  /** The access key the clients sign with (the emulator refuses keys it does not know). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Called with each S3 event the emulator reports (s3rver's notification record: `{Records:[…]}`). */
  onEvent: (event: unknown) => void;
  /** How long start-up may take (default 30 s). */
  startTimeoutMs?: number;
}

const ENTRY = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
const PID_FILE = 's3rver.pid';
const LOG_FILE = 's3rver.log';
/** How long the emulator gets to end the requests in flight on SIGTERM (it gives itself 10 s) before it is killed. */
const STOP_GRACE_MS = 15_000;

export const s3Paths = (dir: string) => ({ objects: join(resolve(dir), 'buckets'), pidFile: join(resolve(dir), PID_FILE), log: join(resolve(dir), LOG_FILE) });

/** Stops an S3 emulator left running on this folder by a stack that is gone (see stopOrphanedEmulator); returns the pids stopped. */
export function stopStaleS3(dir: string): Promise<number[]> {
  const paths = s3Paths(dir);
  return stopOrphanedEmulator({ name: 'S3 (s3rver)', folderZh: '数据目录', folder: paths.objects, pidFile: paths.pidFile, runsOn: runsEntryOn('s3rver-process.mjs', '--directory', paths.objects), graceMs: STOP_GRACE_MS });
}

export async function startS3Local(options: S3LocalOptions): Promise<S3Local> {
  const paths = s3Paths(options.dir);
  // The objects are court files with identity numbers: the folder is the owner's only.
  mkdirSync(paths.objects, { recursive: true, mode: 0o700 });
  chmodSync(resolve(options.dir), 0o700);
  await stopStaleS3(options.dir);

  const { port, pid, stop } = await startNodeEmulator({
    label: 'S3',
    // Only this process gets the legacy provider (s3rver's continuation tokens use DES): never the stack.
    nodeOptions: ['--openssl-legacy-provider'],
    entry: ENTRY,
    args: ['--directory', paths.objects, '--port', String(options.port ?? 0)],
    // The credentials go in the environment, which only this user can read (a command line is visible to all).
    env: { ...process.env, S3RVER_ACCESS_KEY_ID: options.credentials.accessKeyId, S3RVER_SECRET_ACCESS_KEY: options.credentials.secretAccessKey },
    folder: paths.objects,
    pidFile: paths.pidFile,
    log: paths.log,
    graceMs: STOP_GRACE_MS,
    startTimeoutMs: options.startTimeoutMs,
    // s3rver's notification records: {type:'event', event}.
    onMessage: (message) => {
      if (message.type === 'event') options.onEvent((message as { event: unknown }).event);
    },
  });
  return { endpoint: `http://127.0.0.1:${port}`, port, pid, stop };
}
