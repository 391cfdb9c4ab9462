/**
 * DynamoDB Local (AWS's own emulator, full API including transactions and
 * streams), run with the JVM from the jar that the npm package
 * `amplify-dynamodb-simulator` ships. State lives in `dbPath` (or in memory).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { findProcesses, identify, isAlive, isRunning, type ProcessIdentity } from './process-identity.js';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('Java 17 or later is needed to run DynamoDB Local (Debian: apt-get install -y openjdk-17-jre-headless).');
  }
}

export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'cn-north-1', credentials: localCredentials, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode} during start-up`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms`);
  } finally {
    client.destroy();
  }
}

const PID_FILE = 'dynamodb-local.pid';
/** How long DynamoDB Local gets to shut down on SIGTERM before it is killed (which can lose acknowledged writes). */
const STOP_GRACE_MS = 15_000;

/** What the pid file in the database folder records: the emulator and the stack that owns it. */
interface EmulatorRecord {
  emulator: ProcessIdentity;
  owner: ProcessIdentity;
  dbPath: string;
}

export { isRunning };

function readRecord(dbPath: string): EmulatorRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dbPath, PID_FILE), 'utf8')) as EmulatorRecord;
    return Number.isInteger(record?.emulator?.pid) && Number.isInteger(record?.owner?.pid) ? record : undefined;
  } catch {
    return undefined; // none, or an older plain-pid file that does not name its owner
  }
}

/** Whether an argv is DynamoDB Local's, run on exactly this database folder. */
function isEmulatorOn(argv: string[], dbPath: string): boolean {
  const at = argv.indexOf('-dbPath');
  return argv.some((a) => a.endsWith('DynamoDBLocal.jar')) && at >= 0 && argv[at + 1] === dbPath;
}

async function waitUntilGone(identity: ProcessIdentity, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (!isAlive(identity)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(identity);
}

/**
 * Stops a DynamoDB Local left running on this database folder by a stack that ended without
 * stopping it (kill -9 where the emulator could not be tied to its parent, a crash), since two
 * emulators on one database file would fight over it. Only an emulator that is provably orphaned
 * is stopped: it is the one the pid file records (pid and start time, so not a process that reused
 * the pid), its command line names this folder, and the stack that started it no longer runs.
 * Any other emulator on the folder is left alone and reported. Call it only while holding the
 * data folder's lock (data-folder-lock.ts). Returns the pids it stopped.
 */
export async function stopStaleEmulator(dbPath: string): Promise<number[]> {
  const record = readRecord(dbPath);
  const running = findProcesses((argv) => isEmulatorOn(argv, dbPath));
  const stopped: number[] = [];
  for (const { pid } of running) {
    const known = record && record.emulator.pid === pid && isAlive(record.emulator) ? record : undefined;
    if (!known || isAlive(known.owner)) {
      const owner = known ? `its stack, pid ${known.owner.pid}, still runs` : 'no stack of this folder is known to have started it';
      throw new Error(
        `DynamoDB Local 已在使用此数据库目录 (DynamoDB Local pid ${pid} is already running on ${dbPath} and ${owner}); ` +
          `未触动它 (left untouched): 停止它后再启动 (stop it, e.g. kill ${pid}, then start again)`,
      );
    }
    process.kill(pid, 'SIGTERM');
    if (!(await waitUntilGone(known.emulator, STOP_GRACE_MS))) {
      if (isAlive(known.emulator)) process.kill(pid, 'SIGKILL');
      await waitUntilGone(known.emulator, 5_000);
    }
    stopped.push(pid);
  }
  if (record && !isAlive(record.emulator)) rmSync(join(dbPath, PID_FILE), { force: true });
  return stopped;
}

/**
 * How to run a command so that the kernel sends it SIGTERM when this process dies, even by SIGKILL
 * (PR_SET_PDEATHSIG through util-linux's setpriv); no prefix where that is not available. SIGTERM,
 * not SIGKILL: DynamoDB Local killed outright loses writes it has already acknowledged, while on
 * SIGTERM it shuts down cleanly.
 */
let deathSignalPrefix: string[] | undefined;
export function dieWithParentPrefix(): string[] {
  if (deathSignalPrefix === undefined) {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'TERM', 'true'], { stdio: 'ignore' });
    deathSignalPrefix = probe.error || probe.status !== 0 ? [] : ['setpriv', '--pdeathsig', 'TERM'];
  }
  return deathSignalPrefix;
}

/**
 * Starts DynamoDB Local on a free port (or the given one). The emulator runs in a process group of
 * its own (a Ctrl-C in the terminal reaches the stack, which stops the HTTP API before the store),
 * is sent SIGTERM when this process dies, even by SIGKILL, where the platform allows (setpriv
 * --pdeathsig), and when this process exits without stop(). With a dbPath, the pid file there
 * names the emulator and its owner (stopStaleEmulator reads it).
 */
export async function startDynamoDbLocal(options: { dbPath?: string; logFile?: string; port?: number }): Promise<DynamoDbLocal> {
  checkJava();
  if (options.dbPath) {
    mkdirSync(options.dbPath, { recursive: true });
    await stopStaleEmulator(options.dbPath);
  }
  const port = options.port ?? (await freePort());
  const dir = emulatorDir();
  const args = [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-Xmx1g', '-jar', join(dir, 'DynamoDBLocal.jar'), '-port', String(port), '-sharedDb'];
  args.push(...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']));
  const [command, ...prefixArgs] = [...dieWithParentPrefix(), 'java'];
  // The log file is handed to the JVM directly, so its output does not depend on this process.
  const logFd = options.logFile ? openSync(options.logFile, 'a') : undefined;
  let child: ChildProcess;
  try {
    child = spawn(command!, [...prefixArgs, ...args], { cwd: dir, detached: true, stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'ignore'] });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  if (child.pid === undefined) {
    const error = await new Promise<Error>((r) => child.once('error', r));
    throw new Error(`DynamoDB Local could not be started (${command}): ${error.message}`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const pidFile = options.dbPath ? join(options.dbPath, PID_FILE) : undefined;
  const emulator = child.pid ? identify(child.pid) : undefined;
  if (pidFile && emulator) {
    const record: EmulatorRecord = { emulator, owner: identify(process.pid)!, dbPath: options.dbPath! };
    writeFileSync(pidFile, JSON.stringify(record) + '\n');
  }
  // If this process ends without stop() (an uncaught error, process.exit), the emulator stops too: SIGTERM
  // (it then shuts down cleanly on its own), never SIGKILL, which loses acknowledged writes.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    if (pidFile && emulator && readRecord(options.dbPath!)?.emulator.pid === emulator.pid) rmSync(pidFile, { force: true });
  };
  try {
    await waitUntilReady(endpoint, child, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, port, pid: child.pid!, stop };
}
