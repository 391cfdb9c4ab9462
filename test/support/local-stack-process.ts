/**
 * Runs the local stack as a child process, as a person or a supervisor would, for end-to-end tests
 * and the benchmark: `node --import tsx infra/local/main.ts` (what the start script execs, so the
 * child's pid is the stack's own process) or `npm start` itself.
 *
 * Under vitest, everything started here is cleaned up after the test file whatever happened to the
 * test: any stack or npm process still running is killed, with every DynamoDB Local on a data folder
 * used here, and the folders made by tempDataDir() are removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDataFolderLock } from '../../infra/local/data-folder-lock.js';
import { findProcesses, identify, isAlive, parentPid, type ProcessIdentity } from '../../infra/local/process-identity.js';

const root = resolve(import.meta.dirname, '../..');

export interface StackProcess {
  url: string;
  /** The public site (SITE_PORT), as the start-up banner names it. */
  siteUrl: string;
  /** The pid a supervisor would signal: the stack's own node process, or npm's with `via: 'npm'`. */
  mainPid: number;
  /** The stack's own node process (main.ts), as its data folder's lock names it. */
  stackPid: number;
  /** DynamoDB Local's pid, as the pid file in the data folder names it. */
  emulatorPid: number;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (null when killed by a signal) once the main process has exited. */
  exited: Promise<number | null>;
  /** Sends a signal to the main pid and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** `node` runs main.ts directly (the default); `npm` runs `npm start` in the project folder. */
  via?: 'node' | 'npm';
}

const started = new Set<{ child: ChildProcess; identity: ProcessIdentity | undefined }>();
const dataDirs = new Set<string>();
const tempDirs = new Set<string>();

/** A fresh temporary data folder, removed after the test file. */
export function tempDataDir(prefix = 'hub-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Starts the stack without waiting for it (see startStackProcess). */
export function launchStackProcess(env: Record<string, string>, via: 'node' | 'npm' = 'node'): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  if (!env.HUB_DATA_DIR) throw new Error('startStackProcess needs HUB_DATA_DIR');
  dataDirs.add(resolve(env.HUB_DATA_DIR));
  const fullEnv = { ...process.env, PORT: '0', SITE_PORT: '0', npm_config_update_notifier: 'false', ...env };
  const child =
    via === 'npm'
      ? // npm would otherwise keep Node's compile cache in the temp folder (module.enableCompileCache).
        spawn('npm', ['start'], { cwd: root, env: { NODE_DISABLE_COMPILE_CACHE: '1', ...fullEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], { cwd: root, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { child, identity: child.pid ? identify(child.pid) : undefined };
  started.add(entry);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      started.delete(entry);
      r(code);
    }),
  );
  return { child, output: () => out, exited };
}

/** Starts the stack and waits until it answers /health. */
export async function startStackProcess(env: Record<string, string>, options: StartOptions = {}): Promise<StackProcess> {
  const { child, output, exited } = launchStackProcess(env, options.via ?? 'node');
  const deadline = Date.now() + 90_000;
  let url: string | undefined;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`local stack exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`local stack did not become healthy:\n${output()}`);
    }
    url ??= /HTTP API:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
    // The public site's line follows the API's in the banner.
    if (url && /public site:/.test(output())) {
      try {
        if ((await fetch(`${url}/health`)).status === 200) break;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const dataDir = resolve(env.HUB_DATA_DIR!);
  const lock = readDataFolderLock(dataDir);
  const emulator = JSON.parse(readFileSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'), 'utf8')) as { emulator: { pid: number } };
  if (!lock) throw new Error(`no lock in ${dataDir} although the stack answers`);
  const siteUrl = /public site:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!;
  return {
    url,
    siteUrl,
    mainPid: child.pid!,
    stackPid: lock.pid,
    emulatorPid: emulator.emulator.pid,
    child,
    output,
    exited,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a start that is expected to end by itself (a refused start); resolves with its exit code and output. */
export async function runStackToExit(env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const { child, output, exited } = launchStackProcess(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

/** Every running descendant of a process (children, their children, …). */
export function descendants(pid: number): number[] {
  const all = findProcesses(() => true).map((p) => ({ pid: p.pid, ppid: parentPid(p.pid) }));
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of all) if (p.ppid === parent && !found.includes(p.pid)) (found.push(p.pid), queue.push(p.pid));
  }
  return found;
}

/** DynamoDB Local processes running on a data folder's database. */
export function emulatorsOn(dataDir: string): number[] {
  const dbPath = join(resolve(dataDir), 'dynamodb');
  return findProcesses((argv) => argv.some((a) => a.endsWith('DynamoDBLocal.jar')) && argv[argv.indexOf('-dbPath') + 1] === dbPath).map((p) => p.pid);
}

/** Kills whatever this module started that still runs, and removes the temporary folders. */
export async function cleanUpStackProcesses(): Promise<string[]> {
  const killed: string[] = [];
  for (const { child, identity } of started) {
    if (!identity || !isAlive(identity)) continue;
    for (const pid of descendants(identity.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(`${pid} (child of ${identity.pid})`);
      } catch {
        // gone meanwhile
      }
    }
    child.kill('SIGKILL');
    killed.push(String(identity.pid));
  }
  started.clear();
  for (const dir of dataDirs) {
    for (const pid of emulatorsOn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(`${pid} (DynamoDB Local on ${dir})`);
      } catch {
        // gone meanwhile
      }
    }
  }
  dataDirs.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
  return killed;
}

if (process.env.VITEST) {
  const { afterAll } = await import('vitest');
  afterAll(async () => {
    const killed = await cleanUpStackProcesses();
    if (killed.length) process.stderr.write(`local-stack-process: killed what a test left running: ${killed.join(', ')}\n`);
  }, 60_000);
}
