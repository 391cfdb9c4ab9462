/** One stack per data folder (infra/local/data-folder-lock.ts): the lock file, staleness, races. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataFolderLock, DataFolderLockedError, LOCK_FILE, readDataFolderLock, type DataFolderLockInfo } from '../../infra/local/data-folder-lock.js';
import { currentBootId } from '../../infra/local/process-identity.js';

const root = resolve(import.meta.dirname, '../..');
const folders: string[] = [];
let dir: string;
let lockFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-lock-'));
  folders.push(dir);
  lockFile = join(dir, LOCK_FILE);
});

afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

function ownStartTime(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** A pid that was just used and no longer runs. */
function deadPid(): number {
  const ran = spawnSync(process.execPath, ['-e', '']);
  return ran.pid!;
}

function writeLock(info: Partial<DataFolderLockInfo>): string {
  const raw = JSON.stringify({ pid: process.pid, startTime: ownStartTime(), bootId: currentBootId(), host: hostname(), port: 3000, startedAt: '2026-01-01T00:00:00.000Z', ...info });
  writeFileSync(lockFile, raw);
  return raw;
}

describe('acquireDataFolderLock', () => {
  it('writes a lock naming this process (pid, start time, boot, host), no port yet, and when it was taken', () => {
    const lock = acquireDataFolderLock(dir, { now: () => new Date('2030-05-06T07:08:09.000Z') });
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toEqual({
      pid: process.pid,
      startTime: ownStartTime(),
      bootId: currentBootId(),
      host: hostname(),
      port: null,
      startedAt: '2030-05-06T07:08:09.000Z',
    });
    expect(lock.info().pid).toBe(process.pid);
    lock.release();
  });

  it('records the port once it is known, and removes the lock on release, leaving no scratch files', () => {
    const lock = acquireDataFolderLock(dir);
    lock.setPort(4321);
    expect(readDataFolderLock(dir)).toMatchObject({ pid: process.pid, port: 4321 });
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
    acquireDataFolderLock(dir).release(); // free again
  });

  it('refuses a second stack while the first runs, naming its pid and port, and leaves its lock as it was', () => {
    const first = acquireDataFolderLock(dir);
    first.setPort(4321);
    const before = readFileSync(lockFile, 'utf8');
    let error: unknown;
    try {
      acquireDataFolderLock(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataFolderLockedError);
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    expect((error as Error).message).toContain('port 4321');
    expect((error as Error).message).toContain(dir);
    expect((error as DataFolderLockedError).holder).toMatchObject({ pid: process.pid, port: 4321 });
    expect(readFileSync(lockFile, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    first.release();
  });

  it('says the first stack is still starting when it has no port yet', () => {
    const first = acquireDataFolderLock(dir);
    expect(() => acquireDataFolderLock(dir)).toThrow(/port not listening yet/);
    first.release();
  });

  it('takes over a lock whose owner no longer runs', () => {
    const dead = deadPid();
    writeLock({ pid: dead, startTime: '12345' });
    const lock = acquireDataFolderLock(dir);
    expect(readDataFolderLock(dir)).toMatchObject({ pid: process.pid, port: null });
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (a different start time)', () => {
    writeLock({ pid: process.ppid, startTime: '1' });
    const lock = acquireDataFolderLock(dir);
    expect(readDataFolderLock(dir)?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock taken before the machine restarted (another boot id), even if the pid and start time match', () => {
    writeLock({ bootId: '00000000-0000-0000-0000-000000000000' });
    const lock = acquireDataFolderLock(dir);
    expect(readDataFolderLock(dir)?.bootId).toBe(currentBootId());
    lock.release();
  });

  it('clears a takeover left by a start that died while removing a stale lock, then takes the lock', () => {
    const dead = deadPid();
    writeLock({ pid: dead, startTime: '5' });
    writeFileSync(`${lockFile}.takeover`, JSON.stringify({ pid: dead, startTime: '5', bootId: currentBootId(), host: hostname(), port: null, startedAt: 'x' }));
    const lock = acquireDataFolderLock(dir);
    expect(readDataFolderLock(dir)?.pid).toBe(process.pid);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
  });

  it('takes over a lock file that names no owner', () => {
    writeFileSync(lockFile, 'not a lock');
    const lock = acquireDataFolderLock(dir);
    expect(readDataFolderLock(dir)?.pid).toBe(process.pid);
    lock.release();
  });

  it('never takes over a lock taken on another host, which it cannot check, and says what to do', () => {
    const raw = writeLock({ pid: deadPid(), host: 'another-host' });
    expect(() => acquireDataFolderLock(dir)).toThrow(DataFolderLockedError);
    expect(() => acquireDataFolderLock(dir)).toThrow(/on host another-host.*delete/);
    expect(readFileSync(lockFile, 'utf8')).toBe(raw);
  });

  it('leaves a lock that is no longer its own: release does not remove it and setPort refuses', () => {
    const lock = acquireDataFolderLock(dir);
    const other = writeLock({ pid: process.ppid, startTime: '999', startedAt: '2026-02-02T00:00:00.000Z' });
    expect(() => lock.setPort(1)).toThrow(/no longer held/);
    lock.release();
    expect(readFileSync(lockFile, 'utf8')).toBe(other);
  });

  it('lets exactly one of several processes racing for a stale lock win, round after round', async () => {
    const rounds = 150;
    const dead = deadPid();
    for (let i = 0; i < rounds; i++) {
      mkdirSync(join(dir, `r${i}`));
      writeFileSync(join(dir, `r${i}`, LOCK_FILE), JSON.stringify({ pid: dead, startTime: '7', bootId: currentBootId(), host: hostname(), port: 1, startedAt: `round ${i}` }));
    }
    // Each racer tries every round at the same instant as the others, and keeps what it won until all are done
    // (a winner that exited would leave a stale lock, which the others may then rightly take over).
    const script = `
      import { join } from 'node:path';
      import { acquireDataFolderLock, DataFolderLockedError } from ${JSON.stringify(join(root, 'infra/local/data-folder-lock.ts'))};
      const [at, base, rounds] = [Number(process.argv[1]), process.argv[2], Number(process.argv[3])];
      const won = [];
      for (let i = 0; i < rounds; i++) {
        while (Date.now() < at + i * 10) {}
        try {
          acquireDataFolderLock(join(base, 'r' + i));
          won.push(i);
        } catch (e) {
          if (!(e instanceof DataFolderLockedError)) throw e;
        }
      }
      process.stdout.write(JSON.stringify(won) + '\\n');
      process.stdin.once('data', () => process.exit(0));`;
    const at = String(Date.now() + 4000);
    const racers = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, at, dir, String(rounds)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      const answered = new Promise<number[]>((r, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.endsWith('\n')) r(JSON.parse(out) as number[]);
        });
        child.once('exit', (code) => reject(new Error(`racer exited with ${code} before answering`)));
      });
      return { child, answered, exited: new Promise((r) => child.once('exit', r)) };
    });
    try {
      const won = await Promise.all(racers.map((r) => r.answered));
      for (let i = 0; i < rounds; i++) {
        const winners = racers.filter((_, k) => won[k]!.includes(i));
        expect(winners.map((w) => w.child.pid), `round ${i}`).toHaveLength(1);
        expect(readDataFolderLock(join(dir, `r${i}`))?.pid, `round ${i}`).toBe(winners[0]!.child.pid);
        expect(readdirSync(join(dir, `r${i}`)), `round ${i}`).toEqual([LOCK_FILE]);
      }
      for (const r of racers) r.child.stdin!.write('done\n');
      await Promise.all(racers.map((r) => r.exited));
    } finally {
      for (const r of racers) r.child.kill('SIGKILL');
    }
  }, 60_000);
});
