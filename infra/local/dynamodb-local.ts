/**
 * DynamoDB Local (AWS's own emulator, full API including transactions and
 * streams), run with the JVM from the jar that the npm package
 * `amplify-dynamodb-simulator` ships. State lives in `dbPath` (or in memory).
 *
 * Reachable only with a secret. DynamoDB Local has no option to listen on
 * 127.0.0.1 only: its port is open on every interface, and it checks no
 * signature. What it does keep apart, without `-sharedDb`, is one database per
 * access key id and region (`<accessKeyId>_<region>.db` in `dbPath`). So each
 * data folder gets a random access key id at its first start, kept in
 * `HUB_DATA_DIR/dynamodb-credentials.json` (mode 0600, the folder 0700), and
 * every client of the stack uses it: a caller from the network that does not
 * know it sees an empty database of its own, never the stack's tables. A data
 * folder made while the stack ran with `-sharedDb` has its tables in
 * `shared-local-instance.db`; the first start moves that file to the key's name.
 *
 * Also: `-cors` with an allow-list no web page can match (its default is `*`,
 * which would let any page the operator visits call the emulator on
 * localhost), and `-disableTelemetry` (it reports usage to AWS otherwise).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClientConfig, httpHandlerOptions } from '../../shared/aws/client-config.js';
import { isRunning } from './process-identity.js';
import { dieWithParentPrefix, forgetEmulator, recordEmulator, stopOrphanedEmulator, stopChild } from './emulator-process.js';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  /** The region and credentials that reach this emulator's tables (another key id or region sees other, empty, tables). */
  region: string;
  credentials: LocalCredentials;
  stop(): Promise<void>;
}

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The region every client of the local stack uses: with the key id, it names the database. */
export const LOCAL_REGION = 'cn-north-1';

/** The data folder's DynamoDB Local credentials, beside the database folder. */
export const CREDENTIALS_FILE = 'dynamodb-credentials.json';

/** Where DynamoDB Local run with `-sharedDb` keeps every table. */
export const SHARED_DB_FILE = 'shared-local-instance.db';

/**
 * The CORS allow-list given to DynamoDB Local: one origin under `.invalid`, a top-level
 * domain reserved never to resolve (RFC 6761), so no web page has it; `null` (sandboxed
 * frames, file://) is not in it either.
 */
export const CORS_ALLOW_LIST = 'https://no-browser-access.invalid';

/**
 * New credentials: a 128-bit random access key id (letters and digits, which is what
 * DynamoDB Local accepts as a key id and what it puts in the database file's name), and a
 * random secret (DynamoDB Local checks no signature, but the SDK signs with it).
 */
export function randomCredentials(): LocalCredentials {
  return { accessKeyId: `HUB${randomBytes(16).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url') };
}

const KEY_ID = /^[A-Za-z0-9]{16,128}$/;

/** The data folder's credentials, as kept in its CREDENTIALS_FILE; throws when there are none or they are damaged. */
export function readDataFolderCredentials(dataDir: string): LocalCredentials {
  const file = join(dataDir, CREDENTIALS_FILE);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalCredentials>;
  if (typeof parsed.accessKeyId !== 'string' || !KEY_ID.test(parsed.accessKeyId) || typeof parsed.secretAccessKey !== 'string' || !parsed.secretAccessKey) {
    throw new Error(`${file} 已损坏 (is damaged: an accessKeyId of 16-128 letters and digits and a secretAccessKey expected)`);
  }
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
}

/**
 * The data folder's DynamoDB Local credentials: the ones kept in it, or new ones written there
 * (mode 0600) at its first start. Its tables are kept under them: losing the file makes them
 * unreachable (they stay in `dynamodb/<accessKeyId>_<region>.db`).
 */
export function dataFolderCredentials(dataDir: string): LocalCredentials {
  const file = join(dataDir, CREDENTIALS_FILE);
  if (!existsSync(file)) {
    const fresh = randomCredentials();
    const note = 'DynamoDB Local keeps this data folder\'s tables under this access key id; without it they cannot be reached. Keep this file private (mode 0600).';
    try {
      writeFileSync(file, JSON.stringify({ ...fresh, region: LOCAL_REGION, note }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return readDataFolderCredentials(dataDir);
}

/** The file in which DynamoDB Local (without -sharedDb) keeps the database of a key id and region. */
export function databaseFileName(credentials: LocalCredentials, region = LOCAL_REGION): string {
  return `${credentials.accessKeyId}_${region}.db`;
}

/**
 * Moves the tables of a database folder made with `-sharedDb` (`shared-local-instance.db`) to the
 * file DynamoDB Local keeps for these credentials, with its SQLite side files (journal, WAL). Run
 * only while no emulator is on the folder. Refuses, touching nothing, when both files exist (an
 * older stack ran on the folder after the move): which one to keep is for a person to decide.
 * Returns whether it moved anything.
 */
export function migrateSharedDatabase(dbPath: string, credentials: LocalCredentials, region = LOCAL_REGION): boolean {
  const shared = join(dbPath, SHARED_DB_FILE);
  if (!existsSync(shared)) return false;
  const target = join(dbPath, databaseFileName(credentials, region));
  if (existsSync(target)) {
    // The file's name holds the access key id: named by its pattern, never printed.
    throw new Error(
      `数据库目录同时有 ${SHARED_DB_FILE} 和本数据目录自己的数据库 (${dbPath} holds both the tables of a stack run with -sharedDb and this data folder's own, ` +
        `<accessKeyId>_${region}.db with the key id of ${CREDENTIALS_FILE}): 未触动 (left untouched); 保留一个, 把另一个移走 (keep one and move the other away)`,
    );
  }
  for (const suffix of ['-journal', '-wal', '-shm']) {
    if (existsSync(shared + suffix)) renameSync(shared + suffix, target + suffix);
  }
  renameSync(shared, target);
  return true;
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

/** The folder of DynamoDB Local's jar and native libraries. */
export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('Java 17 or later is needed to run DynamoDB Local (Debian: apt-get install -y openjdk-17-jre-headless).');
  }
}

/**
 * What DynamoDB Local writes when its port was taken between freePort() and its own bind (another
 * process's socket got the port in those seconds). It then stays up with no listener (the JVM does
 * not exit), so it is told by its output, and the start is tried again on another port.
 */
const BIND_FAILURE = /Failed to bind|java\.net\.BindException/;

class PortTaken extends Error {}

async function waitUntilReady(
  endpoint: string,
  credentials: LocalCredentials,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  // Timeouts: whatever else holds the port may accept the connection and never answer.
  // (A first answer from a JVM starting on a loaded machine can be slow: 10 s per probe.)
  const client = new DynamoDBClient(
    dynamoClientConfig({ endpoint, region: LOCAL_REGION, credentials, maxAttempts: 1, requestHandler: { ...httpHandlerOptions, requestTimeout: 10_000 } }),
  );
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode} during start-up`);
      if (BIND_FAILURE.test(output())) throw new PortTaken(`DynamoDB Local could not bind ${endpoint}: the port was taken`);
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

/** What the emulator has written since it started: read back from its log file, or kept from its pipe (the last 16 KB). */
function outputFollower(child: ChildProcess, logFile: string | undefined, logStart: number): () => string {
  if (logFile) {
    return () => {
      try {
        const text = readFileSync(logFile);
        return text.subarray(logStart).toString('utf8');
      } catch {
        return '';
      }
    };
  }
  let kept = '';
  const keep = (chunk: Buffer) => {
    kept = (kept + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => kept;
}

const PID_FILE = 'dynamodb-local.pid';
/** How long DynamoDB Local gets to shut down on SIGTERM before it is killed (which can lose acknowledged writes). */
const STOP_GRACE_MS = 15_000;

export { isRunning };

/** Whether an argv is DynamoDB Local's, run on exactly this database folder. */
function isEmulatorOn(argv: string[], dbPath: string): boolean {
  const at = argv.indexOf('-dbPath');
  return argv.some((a) => a.endsWith('DynamoDBLocal.jar')) && at >= 0 && argv[at + 1] === dbPath;
}

/**
 * Stops a DynamoDB Local left running on this database folder by a stack that ended without
 * stopping it, since two emulators on one database file would fight over it: only one provably
 * orphaned (emulator-process.ts). Call it only while holding the data folder's lock
 * (data-folder-lock.ts). Returns the pids it stopped.
 */
export function stopStaleEmulator(dbPath: string): Promise<number[]> {
  return stopOrphanedEmulator({
    name: 'DynamoDB Local',
    folderZh: '数据库目录',
    folder: dbPath,
    pidFile: join(dbPath, PID_FILE),
    runsOn: (argv) => isEmulatorOn(argv, dbPath),
    graceMs: STOP_GRACE_MS,
  });
}

export type StartOptions = {
  port?: number;
  logFile?: string;
  log?: (line: string) => void;
  /** Where ports come from when none is given (freePort); tests hand out a taken one first. */
  pickPort?: () => Promise<number>;
} & (
  | {
      /** The database folder (created 0700), and the credentials its tables are kept under. */
      dbPath: string;
      credentials: LocalCredentials;
    }
  | {
      /** In memory; reached with the given credentials, or random ones. */
      dbPath?: undefined;
      credentials?: LocalCredentials;
    }
);

/** DynamoDB Local's arguments: one database per key id and region (no -sharedDb), no telemetry, no CORS for any web page. */
export function emulatorArguments(dir: string, port: number, dbPath: string | undefined): string[] {
  return [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-Xmx1g',
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
    '-cors',
    CORS_ALLOW_LIST,
    ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']),
  ];
}

/**
 * Starts DynamoDB Local on a free port (or the given one). The emulator runs in a process group of
 * its own (a Ctrl-C in the terminal reaches the stack, which stops the HTTP API before the store),
 * is sent SIGTERM when this process dies, even by SIGKILL, where the platform allows (setpriv
 * --pdeathsig), and when this process exits without stop(). With a dbPath, the pid file there
 * names the emulator and its owner (stopStaleEmulator reads it), and a database made with
 * -sharedDb is first moved to the credentials' file (migrateSharedDatabase).
 */
export async function startDynamoDbLocal(options: StartOptions): Promise<DynamoDbLocal> {
  checkJava();
  const credentials = options.credentials ?? randomCredentials();
  if (options.dbPath) {
    mkdirSync(options.dbPath, { recursive: true, mode: 0o700 });
    chmodSync(options.dbPath, 0o700); // also a folder made before it was created private
    await stopStaleEmulator(options.dbPath);
    if (migrateSharedDatabase(options.dbPath, credentials)) {
      options.log?.(`DynamoDB Local: moved the tables of ${SHARED_DB_FILE} to the data folder's own database (one per access key id now: ${CREDENTIALS_FILE})`);
    }
  }
  // A port chosen by freePort() can be taken before the JVM binds it: then another port, at most 4 times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnPort(options, credentials, options.port ?? (await (options.pickPort ?? freePort)()));
    } catch (e) {
      if (!(e instanceof PortTaken) || options.port !== undefined || attempt >= 4) throw e;
      options.log?.(`${(e as Error).message}; trying another port`);
    }
  }
}

async function startOnPort(options: StartOptions, credentials: LocalCredentials, port: number): Promise<DynamoDbLocal> {
  const dir = emulatorDir();
  const args = emulatorArguments(dir, port, options.dbPath);
  const [command, ...prefixArgs] = [...dieWithParentPrefix(), 'java'];
  // The log file is handed to the JVM directly, so its output does not depend on this process.
  const logStart = options.logFile && existsSync(options.logFile) ? statSync(options.logFile).size : 0;
  const logFd = options.logFile ? openSync(options.logFile, 'a', 0o600) : undefined;
  let child: ChildProcess;
  try {
    child = spawn(command!, [...prefixArgs, ...args], { cwd: dir, detached: true, stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'] });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  if (child.pid === undefined) {
    const error = await new Promise<Error>((r) => child.once('error', r));
    throw new Error(`DynamoDB Local could not be started (${command}): ${error.message}`);
  }
  const output = outputFollower(child, options.logFile, logStart);
  const endpoint = `http://127.0.0.1:${port}`;
  const pidFile = options.dbPath ? join(options.dbPath, PID_FILE) : undefined;
  const emulator = pidFile ? recordEmulator(pidFile, child.pid, options.dbPath!) : undefined;
  // If this process ends without stop() (an uncaught error, process.exit), the emulator stops too: SIGTERM
  // (it then shuts down cleanly on its own), never SIGKILL, which loses acknowledged writes.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    await stopChild(child, exited, STOP_GRACE_MS);
    process.removeListener('exit', killOnExit);
    if (pidFile) forgetEmulator(pidFile, emulator);
  };
  try {
    await waitUntilReady(endpoint, credentials, child, output, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, port, pid: child.pid!, region: LOCAL_REGION, credentials, stop };
}
