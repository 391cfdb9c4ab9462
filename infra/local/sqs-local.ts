/**
 * SQS on this machine: fauxqs 2.4.1 (fauxqs-process.mjs) as a child process on 127.0.0.1, queues,
 * redrive policies and messages in SQLite in `<dir>/fauxqs.db` (kept across restarts), its pid file
 * and log beside it. Like the other emulators (dynamodb-local.ts, s3-local.ts) it runs in a process
 * group of its own, is sent SIGTERM when the stack dies (setpriv --pdeathsig, where available) and
 * stops by itself when its IPC channel to the stack closes (everywhere); a start first stops an
 * emulator that a gone stack left running on the same folder, and only that (emulator-process.ts).
 *
 * How clients must talk to it (localSqsClientConfig): with an explicit endpoint and
 * `useQueueUrlAsEndpoint: false`, since the queue URLs fauxqs hands out name a host
 * `sqs.<region>.localhost:<port of the run that created the queue>` that is not where it listens now.
 * The URLs this module hands out (localQueueUrl) are on the endpoint itself, which fauxqs resolves by
 * queue name, so they reach it from any client. Every client signs with the same region (the queue's
 * ARN is made from the region of the request's signature).
 *
 * Defects of this fauxqs version that the stack's code avoids: ChangeMessageVisibility to 0 with
 * persistence on answers 500 and loses the message until the next restart (use 1 s or more, or leave
 * the message to its visibility timeout); StartMessageMoveTask is unknown.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { CONNECTION_TIMEOUT_MS, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from '../../shared/aws/client-config.js';
import { runsEntryOn, startNodeEmulator, stopOrphanedEmulator } from './emulator-process.js';

export interface SqsLocal {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_SQS and every client's `endpoint` must be. */
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface SqsLocalOptions {
  /** The emulator's folder (HUB_DATA_DIR/sqs): the database, the pid file and the log. */
  dir: string;
  /** The port to listen on (default: any free one). */
  port?: number;
  /** The region of queue URLs and ARNs when a request names none (every client of the stack signs with LOCAL_REGION). */
  region?: string;
  /** How long start-up may take (default 30 s). */
  startTimeoutMs?: number;
}

const ENTRY = fileURLToPath(new URL('./fauxqs-process.mjs', import.meta.url));
const PID_FILE = 'fauxqs.pid';
const LOG_FILE = 'fauxqs.log';
/** How long the emulator gets to close on SIGTERM (it gives itself 10 s) before it is killed. */
const STOP_GRACE_MS = 15_000;

export const sqsPaths = (dir: string) => ({
  data: resolve(dir),
  database: join(resolve(dir), 'fauxqs.db'),
  pidFile: join(resolve(dir), PID_FILE),
  log: join(resolve(dir), LOG_FILE),
});

/** Stops an SQS emulator left running on this folder by a stack that is gone (see stopOrphanedEmulator); returns the pids stopped. */
export function stopStaleSqs(dir: string): Promise<number[]> {
  const paths = sqsPaths(dir);
  return stopOrphanedEmulator({ name: 'SQS (fauxqs)', folderZh: '数据目录', folder: paths.data, pidFile: paths.pidFile, runsOn: runsEntryOn('fauxqs-process.mjs', '--data-dir', paths.data), graceMs: STOP_GRACE_MS });
}

/** How long a long poll may be held open by the server (SQS: WaitTimeSeconds ≤ 20). */
export const LONG_POLL_MAX_SECONDS = 20;

export interface SqsConnection {
  endpoint: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Constructor options of an SQS client of the local emulator: its endpoint, `useQueueUrlAsEndpoint:
 * false` (the host in fauxqs's own queue URLs is not where it listens), and the hub's timeouts
 * (client-config.ts). `longPolls`: a client that sends ReceiveMessage with WaitTimeSeconds up to 20
 * needs a request timeout past that, or the SDK abandons every idle long poll.
 */
export function localSqsClientConfig(connection: SqsConnection, options: { longPolls?: boolean } = {}): SQSClientConfig {
  return {
    endpoint: connection.endpoint,
    region: connection.region,
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    useQueueUrlAsEndpoint: false,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: options.longPolls ? (LONG_POLL_MAX_SECONDS + 5) * 1000 : REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
}

export async function startSqsLocal(options: SqsLocalOptions): Promise<SqsLocal> {
  const paths = sqsPaths(options.dir);
  mkdirSync(paths.data, { recursive: true, mode: 0o700 });
  chmodSync(paths.data, 0o700);
  await stopStaleSqs(options.dir);

  // process.execPath: the project's Node 24 (fauxqs needs node:sqlite, Node ≥ 22.5).
  const { port, pid, stop } = await startNodeEmulator({
    label: 'SQS',
    // node:sqlite is still marked experimental: one warning per start in the log says nothing useful.
    nodeOptions: ['--disable-warning=ExperimentalWarning'],
    entry: ENTRY,
    args: ['--data-dir', paths.data, '--port', String(options.port ?? 0), '--region', options.region ?? 'cn-north-1'],
    folder: paths.data,
    pidFile: paths.pidFile,
    log: paths.log,
    graceMs: STOP_GRACE_MS,
    startTimeoutMs: options.startTimeoutMs,
  });
  return { endpoint: `http://127.0.0.1:${port}`, port, pid, stop };
}
