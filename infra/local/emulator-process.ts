/**
 * What the local stack's emulator child processes (DynamoDB Local, s3rver) have in common: they die
 * with the stack where the platform allows, a pid file in the emulator's folder names the emulator and
 * the stack that started it, and a new start first stops an emulator left running on the same folder
 * by a stack that is gone — only when that is provable, since two emulators on one folder would fight
 * over its files, and a process that merely looks like one must never be killed.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
