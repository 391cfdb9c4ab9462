/**
 * The tests every Node emulator of the local stack (the S3 and SQS ones) passes about an emulator whose
 * stack is gone (infra/local/emulator-process.ts: stopOrphanedEmulator, dieWithParentPrefix): stopped by
 * the next start when its pid file proves it orphaned, left alone and named otherwise, and stopping by
 * itself when its stack is killed outright. One suite, run by each emulator's test file with its own
 * start, stray process and paths.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identify, isRunning, type ProcessIdentity } from '../../infra/local/process-identity.js';

export interface OrphanedEmulatorSpec {
  /** The emulator's name in the suite's title ("S3", "SQS"). */
  name: string;
  /** The repository root (module paths in the stack script are absolute). */
  root: string;
  /** A folder of the test's own, removed by the test file. */
  temp: string;
  /** Child processes the test file kills at its end. */
  others: ChildProcess[];
  /** Its pid file, its log, and the folder its pid file names, for an emulator folder. */
  paths(folder: string): { pidFile: string; log: string; data: string };
  /** Starts the emulator on a folder as the stack does. */
  start(folder: string): Promise<{ pid: number; stop(): Promise<void> }>;
  /** The emulator's process on a folder, started by no stack (as one left behind would be). */
  stray(folder: string): ChildProcess;
  /** ES module source that starts the emulator on a folder and binds its handle to `emulator` (run by a child "stack" with tsx). */
  startSource(folder: string): string;
}

export async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

/** A process that is surely not running, with this boot's id. */
function deadOwner(): ProcessIdentity {
  const ran = spawnSync(process.execPath, ['-e', '']);
  return { pid: ran.pid!, startTime: '1', bootId: identify(process.pid)!.bootId };
}

export function describeOrphanedEmulator(spec: OrphanedEmulatorSpec): void {
  async function strayEmulator(folder: string): Promise<ProcessIdentity> {
    mkdirSync(folder, { recursive: true });
    const child = spec.stray(folder);
    spec.others.push(child);
    await new Promise((r) => child.once('spawn', r));
    return identify(child.pid!)!;
  }

  describe(`an ${spec.name} emulator whose stack is gone`, () => {
    it('is stopped by the next start when the pid file proves it orphaned', async () => {
      const folder = join(spec.temp, 'orphan');
      const stray = await strayEmulator(folder);
      const paths = spec.paths(folder);
      writeFileSync(paths.pidFile, JSON.stringify({ emulator: stray, owner: deadOwner(), folder: paths.data }));
      const next = await spec.start(folder);
      try {
        expect(isRunning(stray.pid)).toBe(false);
        expect(JSON.parse(readFileSync(paths.pidFile, 'utf8')).emulator.pid).toBe(next.pid);
      } finally {
        await next.stop();
      }
    });

    it('is left alone, and named, when its stack still runs or no pid file proves whose it is', async () => {
      const folder = join(spec.temp, 'owned');
      const stray = await strayEmulator(folder);
      const paths = spec.paths(folder);
      writeFileSync(paths.pidFile, JSON.stringify({ emulator: stray, owner: identify(process.pid), folder: paths.data }));
      await expect(spec.start(folder)).rejects.toThrow(`its stack, pid ${process.pid}, still runs`);
      rmSync(paths.pidFile);
      await expect(spec.start(folder)).rejects.toThrow(`kill ${stray.pid}`);
      expect(isRunning(stray.pid)).toBe(true);
      process.kill(stray.pid, 'SIGTERM');
      expect(await until(() => !isRunning(stray.pid), 10_000)).toBe(true);
    });

    it.each([
      ['with setpriv where there is one', false],
      ['without setpriv: its IPC channel to the stack closes', true],
    ])('stops by itself when its stack is killed outright (%s)', async (_, hideSetpriv) => {
      const folder = join(spec.temp, hideSetpriv ? 'killed-no-setpriv' : 'killed');
      const bin = join(spec.temp, 'no-setpriv');
      if (hideSetpriv && !existsSync(bin)) {
        mkdirSync(bin);
        writeFileSync(join(bin, 'setpriv'), '#!/bin/sh\nexit 1\n');
        chmodSync(join(bin, 'setpriv'), 0o755);
      }
      const script = `${spec.startSource(folder)}
        process.stdout.write(JSON.stringify({ pid: emulator.pid }) + '\\n');
        setInterval(() => {}, 1e9);`;
      const stack = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: spec.root,
        env: { ...process.env, PATH: hideSetpriv ? `${bin}:${process.env.PATH}` : process.env.PATH },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      spec.others.push(stack);
      let out = '';
      stack.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      expect(await until(() => out.includes('\n'), 30_000)).toBe(true);
      const { pid } = JSON.parse(out) as { pid: number };
      expect(isRunning(pid)).toBe(true);
      stack.kill('SIGKILL');
      expect(await until(() => !isRunning(pid), 15_000)).toBe(true);
      expect(readFileSync(spec.paths(folder).log, 'utf8')).toMatch(/stopping[\s\S]*stopped/);
    });
  });
}
