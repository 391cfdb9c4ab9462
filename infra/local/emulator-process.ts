/**
 * What the local stack's emulator child processes (DynamoDB Local, s3rver, fauxqs) have in common: they
 * die with the stack where the platform allows, a pid file in the emulator's folder names the emulator
 * and the stack that started it, and a new start first stops an emulator left running on the same
 * folder by a stack that is gone — only when that is provable, since two emulators on one folder would
 * fight over its files, and a process that merely looks like one must never be killed. The emulators
 * that are Node processes of their own (s3rver, fauxqs) are started and awaited here too
 * (startNodeEmulator); their process side shares emulator-child.mjs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { findProcesses, identify, isAlive, type ProcessIdentity } from './process-identity.js';

/** What an emulator's pid file records: the emulator, the stack that owns it, and the folder it runs on. */
export interface EmulatorRecord {
  emulator: ProcessIdentity;
  owner: ProcessIdentity;
  folder: string;
}

/** The recorded emulator, or undefined (no file, or an older plain-pid file that does not name its owner). */
export function readEmulatorRecord(pidFile: string): EmulatorRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(pidFile, 'utf8')) as EmulatorRecord;
    return Number.isInteger(record?.emulator?.pid) && Number.isInteger(record?.owner?.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Records a just-started emulator as this process's; returns its identity (undefined if it is already gone). */
export function recordEmulator(pidFile: string, pid: number, folder: string): ProcessIdentity | undefined {
  const emulator = identify(pid);
  if (!emulator) return undefined;
  const record: EmulatorRecord = { emulator, owner: identify(process.pid)!, folder };
  writeFileSync(pidFile, JSON.stringify(record) + '\n');
  return emulator;
}

/** Removes the pid file if it still names this emulator (a later start may have replaced it). */
export function forgetEmulator(pidFile: string, emulator: ProcessIdentity | undefined): void {
  if (emulator && readEmulatorRecord(pidFile)?.emulator.pid === emulator.pid) rmSync(pidFile, { force: true });
}

export async function waitUntilGone(identity: ProcessIdentity, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (!isAlive(identity)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(identity);
}

export interface OrphanedEmulatorCheck {
  /** The emulator's name in messages ("DynamoDB Local", "S3 (s3rver)"). */
  name: string;
  /** What its folder is, in Chinese, for messages (数据库目录, 数据目录). */
  folderZh: string;
  folder: string;
  pidFile: string;
  /** Whether an argv is this emulator's, run on exactly this folder. */
  runsOn: (argv: string[]) => boolean;
  /** How long it gets to stop on SIGTERM before SIGKILL. */
  graceMs: number;
}

/**
 * Stops an emulator left running on this folder by a stack that ended without stopping it (kill -9
 * where the emulator could not be tied to its parent, a crash). Only an emulator that is provably
 * orphaned is stopped: it is the one the pid file records (pid and start time, so not a process that
 * reused the pid), its command line names this folder, and the stack that started it no longer runs.
 * Any other emulator on the folder is left alone and reported (an error naming its pid). Call it only
 * while holding the data folder's lock (data-folder-lock.ts). Returns the pids it stopped.
 */
export async function stopOrphanedEmulator(check: OrphanedEmulatorCheck): Promise<number[]> {
  const record = readEmulatorRecord(check.pidFile);
  const running = findProcesses(check.runsOn);
  const stopped: number[] = [];
  for (const { pid } of running) {
    const known = record && record.emulator.pid === pid && isAlive(record.emulator) ? record : undefined;
    if (!known || isAlive(known.owner)) {
      const owner = known ? `its stack, pid ${known.owner.pid}, still runs` : 'no stack of this folder is known to have started it';
      throw new Error(
        `${check.name} 已在使用此${check.folderZh} (${check.name} pid ${pid} is already running on ${check.folder} and ${owner}); ` +
          `未触动它 (left untouched): 停止它后再启动 (stop it, e.g. kill ${pid}, then start again)`,
      );
    }
    process.kill(pid, 'SIGTERM');
    if (!(await waitUntilGone(known.emulator, check.graceMs))) {
      if (isAlive(known.emulator)) process.kill(pid, 'SIGKILL');
      await waitUntilGone(known.emulator, 5_000);
    }
    stopped.push(pid);
  }
  if (record && !isAlive(record.emulator)) rmSync(check.pidFile, { force: true });
  return stopped;
}

/**
 * How to run a command so that the kernel sends it SIGTERM when this process dies, even by SIGKILL
 * (PR_SET_PDEATHSIG through util-linux's setpriv); no prefix where that is not available. SIGTERM,
 * not SIGKILL: an emulator killed outright can lose writes it has already acknowledged, while on
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
 * Stops an emulator child: SIGTERM, so it shuts down cleanly (DynamoDB Local loses acknowledged
 * writes to a SIGKILL), and SIGKILL only if it is still running after `graceMs`.
 */
export async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether an argv runs `entry` (a file name it ends with) with `flag` followed by exactly `folder`. */
export function runsEntryOn(entry: string, flag: string, folder: string): (argv: string[]) => boolean {
  return (argv) => {
    const at = argv.indexOf(flag);
    return argv.some((a) => a.endsWith(entry)) && at >= 0 && argv[at + 1] === folder;
  };
}

export interface NodeEmulatorSpec {
  /** Its name in errors ("SQS", "S3": "SQS emulator exited …"). */
  label: string;
  /** The process entry (an .mjs file) and what goes before it (Node options) and after it (its arguments). */
  entry: string;
  nodeOptions: string[];
  args: string[];
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The folder it runs on, recorded in the pid file. */
  folder: string;
  pidFile: string;
  /** Its stdout and stderr, appended to. */
  log: string;
  /** How long it gets to close on SIGTERM before it is killed. */
  graceMs: number;
  /** How long start-up may take (default 30 s). */
  startTimeoutMs?: number;
  /** Each IPC message other than `{type:'ready'}`. */
  onMessage?: (message: { type?: unknown }) => void;
}

export interface NodeEmulator {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a Node emulator process with this Node (process.execPath) in a process group of its own, sent
 * SIGTERM when this process dies (dieWithParentPrefix, and on 'exit'), its output in its log, recorded
 * in its pid file; resolves with the port it announces (`{type:'ready', port}` over IPC), or stops it
 * and throws when it exits or does not announce one in time. The caller has already stopped a stale
 * emulator on the folder (stopOrphanedEmulator).
 */
export async function startNodeEmulator(spec: NodeEmulatorSpec): Promise<NodeEmulator> {
  const [command, ...prefixArgs] = [...dieWithParentPrefix(), process.execPath];
  const args = [...prefixArgs, ...spec.nodeOptions, spec.entry, ...spec.args];
  // The log file is handed to the child directly, so its output does not depend on this process.
  const logFd = openSync(spec.log, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(command!, args, { ...(spec.env ? { env: spec.env } : {}), detached: true, stdio: ['ignore', logFd, logFd, 'ipc'], serialization: 'json' });
  } finally {
    closeSync(logFd);
  }
  if (child.pid === undefined) {
    const error = await new Promise<Error>((r) => child.once('error', r));
    throw new Error(`${spec.label} emulator could not be started (${command}): ${error.message}`);
  }
  const emulator = recordEmulator(spec.pidFile, child.pid, spec.folder);
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  let readyPort: (port: number) => void = () => undefined;
  const ready = new Promise<number>((r) => (readyPort = r));
  child.on('message', (message: { type?: unknown; port?: number }) => {
    if (message?.type === 'ready') readyPort(message.port!);
    else if (message) spec.onMessage?.(message);
  });
  // The IPC channel must not keep this process alive on its own.
  child.channel?.unref();

  const stop = async () => {
    await stopChild(child, exited, spec.graceMs);
    process.removeListener('exit', killOnExit);
    forgetEmulator(spec.pidFile, emulator);
  };

  const timeoutMs = spec.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const port = await Promise.race([
    ready,
    exited.then(() => new Error(`${spec.label} emulator exited (${child.exitCode ?? child.signalCode}) during start-up; see ${spec.log}`)),
    new Promise<Error>((r) => (timer = setTimeout(() => r(new Error(`${spec.label} emulator did not start within ${timeoutMs} ms; see ${spec.log}`)), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (port instanceof Error) {
    await stop();
    throw port;
  }
  return { port, pid: child.pid, stop };
}
