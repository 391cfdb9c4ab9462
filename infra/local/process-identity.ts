/**
 * Which process is which, robust to pid reuse: a pid plus the process's
 * start time (clock ticks since boot, /proc/<pid>/stat field 22) plus the
 * boot id names one process for good. Linux reads /proc; elsewhere only the
 * pid can be checked (`kill -0`), which is the best the platform offers.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot; null where /proc is not available. */
  startTime: string | null;
  /** /proc/sys/kernel/random/boot_id; null where not available. */
  bootId: string | null;
}

interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, startTime] = [fields[0], fields[1], fields[19]];
  if (state === undefined || ppid === undefined || startTime === undefined) return undefined;
  return { state, ppid: Number(ppid), startTime };
}

function hasProc(): boolean {
  return readStat(process.pid) !== undefined;
}

export function currentBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid runs (a zombie waiting to be reaped does not count). */
export function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (hasProc()) {
    const stat = readStat(pid);
    return stat !== undefined && stat.state !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The identity of a running process, or undefined when it does not run. */
export function identify(pid: number): ProcessIdentity | undefined {
  if (!isRunning(pid)) return undefined;
  return { pid, startTime: readStat(pid)?.startTime ?? null, bootId: currentBootId() };
}

/** Whether the very process an identity names still runs (not another one that got its pid since). */
export function isAlive(identity: ProcessIdentity): boolean {
  if (!isRunning(identity.pid)) return false;
  const bootId = currentBootId();
  if (identity.bootId && bootId && identity.bootId !== bootId) return false;
  const stat = readStat(identity.pid);
  if (identity.startTime && stat && stat.startTime !== identity.startTime) return false;
  return true;
}

/** A process's command line as its argv, or undefined when it cannot be read (gone, or no /proc). */
export function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw ? raw.replace(/\0$/, '').split('\0') : undefined;
  } catch {
    return undefined;
  }
}

/** The parent pid of a running process, or undefined. */
export function parentPid(pid: number): number | undefined {
  return readStat(pid)?.ppid;
}

/** Every running process (pid and argv) whose command line passes the test; empty without /proc. */
export function findProcesses(test: (argv: string[]) => boolean): { pid: number; argv: string[] }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const argv = commandLine(pid);
    if (argv && test(argv) && isRunning(pid)) found.push({ pid, argv });
  }
  return found;
}
