/**
 * One stack per data folder. A second stack on the same HUB_DATA_DIR would
 * start a second DynamoDB Local on the same database file (or stop the first
 * one's), so the stack holds `stack.lock` in the folder while it runs. The
 * file names its owner (pid, start time and boot id, so that a reused pid is
 * not mistaken for it; and its host), the HTTP port once the gateway
 * listens, and when it started. A lock whose owner no longer runs on this
 * host is stale and is taken over; one taken on another host (a shared
 * folder, another container) is never taken over, as it cannot be checked.
 *
 * The file is created atomically with link(2) (all of its content or
 * nothing: a reader never sees it half written); a stale one is removed only
 * under a second such file (`stack.lock.takeover`), so that starts racing for
 * a stale lock cannot remove each other's fresh one.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { identify, isAlive, type ProcessIdentity } from './process-identity.js';

export const LOCK_FILE = 'stack.lock';

export interface DataFolderLockInfo extends ProcessIdentity {
  /** The owner's host name: a folder shared with another machine or container cannot be checked from here. */
  host: string | null;
  /** The HTTP API's port once the gateway listens; null while the stack starts. */
  port: number | null;
  /** When the owner took the lock (ISO 8601). */
  startedAt: string;
}

export interface DataFolderLock {
  file: string;
  info(): DataFolderLockInfo;
  /** Records the HTTP port in the lock file (once the gateway listens). */
  setPort(port: number): void;
  /** Removes the lock file if this process still holds it. */
  release(): void;
}

export class DataFolderLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: DataFolderLockInfo,
  ) {
    const port = holder.port === null ? 'port not listening yet (still starting)' : `port ${holder.port}`;
    const elsewhere = isOtherHost(holder);
    super(
      `数据目录已有本地栈在运行 (a stack is already running on this data folder ${dataDir}: ` +
        `pid ${holder.pid}${elsewhere ? ` on host ${holder.host}` : ''}, ${port}, started ${holder.startedAt}); ` +
        (elsewhere
          ? `先在该主机上停止它, 若它已不在运行则删除 ${join(dataDir, LOCK_FILE)} (stop it on that host first, or delete the lock file if it no longer runs)`
          : `先停止它 (stop it first: kill ${holder.pid}), 或换一个 HUB_DATA_DIR (or use another HUB_DATA_DIR)`),
    );
    this.name = 'DataFolderLockedError';
  }
}

const isOtherHost = (holder: DataFolderLockInfo) => holder.host !== null && holder.host !== hostname();

/** Whether the lock's owner may still run: certainly not when it is gone from this host, but another host's cannot be checked. */
function ownerMayRun(holder: DataFolderLockInfo): boolean {
  return isOtherHost(holder) || isAlive(holder);
}

function parse(raw: string): DataFolderLockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<DataFolderLockInfo>;
    if (!Number.isInteger(v.pid) || typeof v.startedAt !== 'string') return undefined;
    return {
      pid: v.pid!,
      startTime: typeof v.startTime === 'string' ? v.startTime : null,
      bootId: typeof v.bootId === 'string' ? v.bootId : null,
      host: typeof v.host === 'string' ? v.host : null,
      port: Number.isInteger(v.port) ? v.port! : null,
      startedAt: v.startedAt,
    };
  } catch {
    return undefined;
  }
}

function readRaw(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The lock's content, or undefined when there is no (readable) lock in the folder. */
export function readDataFolderLock(dataDir: string): DataFolderLockInfo | undefined {
  const raw = readRaw(join(dataDir, LOCK_FILE));
  return raw === undefined ? undefined : parse(raw);
}

function scratchName(file: string, what: string): string {
  return `${file}.${what}.${process.pid}.${randomUUID()}`;
}

/** Creates the lock file with this content unless one exists; all or nothing. */
function tryCreate(file: string, content: string): boolean {
  const tmp = scratchName(file, 'new');
  writeFileSync(tmp, content, { mode: 0o644 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes a stale lock file. Only the holder of the takeover file (created like the lock, all or
 * nothing) removes a stale lock, and only if it still holds exactly `staleRaw`: no one else removes
 * a lock file meanwhile (its owner is gone), so two starts racing for a stale lock cannot remove each
 * other's fresh one. A takeover file whose holder died (within the microseconds a takeover lasts) is
 * cleared. Returns whether the stale lock is gone.
 */
function removeStale(file: string, staleRaw: string, me: DataFolderLockInfo): boolean {
  const takeover = `${file}.takeover`;
  if (!tryCreate(takeover, JSON.stringify(me))) {
    const raw = readRaw(takeover);
    const holder = raw === undefined ? undefined : parse(raw);
    if (raw !== undefined && !(holder && ownerMayRun(holder))) {
      const aside = scratchName(takeover, 'stale');
      try {
        renameSync(takeover, aside);
        unlinkSync(aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    sleepSync(2); // another start is removing it: look again shortly
    return false;
  }
  try {
    if (readRaw(file) === staleRaw) unlinkSync(file);
  } finally {
    unlinkSync(takeover);
  }
  return true;
}

const sameOwner = (a: DataFolderLockInfo | undefined, b: DataFolderLockInfo) =>
  a !== undefined && a.pid === b.pid && a.startTime === b.startTime && a.bootId === b.bootId && a.host === b.host && a.startedAt === b.startedAt;

/**
 * Takes the data folder's lock for this process, or throws DataFolderLockedError naming the running
 * stack. Call it before touching anything else in the folder.
 */
export function acquireDataFolderLock(dataDir: string, options: { now?: () => Date } = {}): DataFolderLock {
  const file = join(dataDir, LOCK_FILE);
  const me = identify(process.pid)!;
  let info: DataFolderLockInfo = { ...me, host: hostname(), port: null, startedAt: (options.now?.() ?? new Date()).toISOString() };

  const owned = () => sameOwner(readDataFolderLock(dataDir), info);
  const handle: DataFolderLock = {
    file,
    info: () => ({ ...info }),
    setPort(port) {
      if (!owned()) throw new Error(`数据目录锁已不属于本进程 (the lock ${file} is no longer held by this process)`);
      info = { ...info, port };
      const tmp = scratchName(file, 'update');
      writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o644 });
      renameSync(tmp, file);
    },
    release() {
      if (owned()) unlinkSync(file);
    },
  };

  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (tryCreate(file, JSON.stringify(info) + '\n')) return handle;
    const raw = readRaw(file);
    if (raw === undefined) continue; // released meanwhile: try again
    const holder = parse(raw);
    if (holder && ownerMayRun(holder)) throw new DataFolderLockedError(dataDir, holder);
    // The owner is gone (or the file names no owner at all): the lock is stale.
    removeStale(file, raw, info);
  }
  throw new Error(`无法取得数据目录锁 (could not take the lock ${file}: it keeps changing)`);
}
