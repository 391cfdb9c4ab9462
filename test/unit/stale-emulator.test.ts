/**
 * stopStaleEmulator (infra/local/dynamodb-local.ts): only a provably orphaned DynamoDB Local on the
 * data folder is stopped. Stand-in emulators are node processes whose command line looks like
 * DynamoDB Local's on a folder (that is what the check reads), so no JVM is needed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stopStaleEmulator } from '../../infra/local/dynamodb-local.js';
import { identify, isRunning, type ProcessIdentity } from '../../infra/local/process-identity.js';

const folders: string[] = [];
const fakes: ChildProcess[] = [];
let dbPath: string;
let pidFile: string;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'hub-stale-'));
  folders.push(dir);
  dbPath = join(dir, 'dynamodb');
  mkdirSync(dbPath);
  pidFile = join(dbPath, 'dynamodb-local.pid');
});

afterEach(() => {
  for (const f of fakes.splice(0)) f.kill('SIGKILL');
});

afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A process whose command line reads like DynamoDB Local's on `folder`. */
async function fakeEmulator(folder: string): Promise<ProcessIdentity> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', '/opt/emulator/DynamoDBLocal.jar', '-port', '1', '-dbPath', folder], { stdio: 'ignore' });
  fakes.push(child);
  await new Promise((r) => child.once('spawn', r));
  return identify(child.pid!)!;
}

function deadOwner(): ProcessIdentity {
  const ran = spawnSync(process.execPath, ['-e', '']);
  return { pid: ran.pid!, startTime: '1', bootId: identify(process.pid)!.bootId };
}

const record = (emulator: ProcessIdentity, owner: ProcessIdentity) => writeFileSync(pidFile, JSON.stringify({ emulator, owner, dbPath }));

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !isRunning(pid);
}

describe('stopStaleEmulator', () => {
  it('stops the recorded emulator on this folder when the stack that started it is gone, and removes the pid file', async () => {
    const emulator = await fakeEmulator(dbPath);
    record(emulator, deadOwner());
    expect(await stopStaleEmulator(dbPath)).toEqual([emulator.pid]);
    expect(await gone(emulator.pid)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('leaves an emulator whose stack still runs, and says so', async () => {
    const emulator = await fakeEmulator(dbPath);
    record(emulator, identify(process.pid)!);
    await expect(stopStaleEmulator(dbPath)).rejects.toThrow(new RegExp(`pid ${emulator.pid} is already running on .*its stack, pid ${process.pid}, still runs`));
    expect(isRunning(emulator.pid)).toBe(true);
    expect(existsSync(pidFile)).toBe(true);
  });

  it('leaves an emulator the pid file does not prove is the recorded one (the pid was reused: another start time)', async () => {
    const emulator = await fakeEmulator(dbPath);
    record({ ...emulator, startTime: '1' }, deadOwner());
    await expect(stopStaleEmulator(dbPath)).rejects.toThrow(/no stack of this folder is known to have started it/);
    expect(isRunning(emulator.pid)).toBe(true);
  });

  it('leaves an emulator on this folder that no pid file names (or an older plain-pid file)', async () => {
    const emulator = await fakeEmulator(dbPath);
    writeFileSync(pidFile, String(emulator.pid));
    await expect(stopStaleEmulator(dbPath)).rejects.toThrow(`kill ${emulator.pid}`);
    rmSync(pidFile);
    await expect(stopStaleEmulator(dbPath)).rejects.toThrow(`kill ${emulator.pid}`);
    expect(isRunning(emulator.pid)).toBe(true);
  });

  it('never touches an emulator on another folder, even one whose path starts the same', async () => {
    const other = await fakeEmulator(`${dbPath}-2`);
    const nested = await fakeEmulator(join(dbPath, 'x'));
    record(other, deadOwner());
    expect(await stopStaleEmulator(dbPath)).toEqual([]);
    expect(isRunning(other.pid) && isRunning(nested.pid)).toBe(true);
  });

  it('never signals a process that took over the recorded pid; the outdated pid file is removed', async () => {
    record({ pid: process.ppid, startTime: '1', bootId: null }, deadOwner());
    expect(await stopStaleEmulator(dbPath)).toEqual([]);
    expect(isRunning(process.ppid)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });
});
