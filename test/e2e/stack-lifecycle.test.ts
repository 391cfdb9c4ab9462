/**
 * The local stack's life as a process: started as a person or a supervisor would (the stack's own
 * node process, or `npm start`), stopped by a signal to the main pid, killed outright, started twice
 * on one data folder. Whatever happens, nothing may keep running: each test checks with /proc that
 * the stack and its DynamoDB Local are gone, and stops what it starts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, readDataFolderLock } from '../../infra/local/data-folder-lock.js';
import { isRunning } from '../../infra/local/process-identity.js';
import { penalty, SOURCE_USCC } from '../support/fixtures.js';
import {
  descendants,
  emulatorsOn,
  launchStackProcess,
  runStackToExit,
  startStackProcess,
  tempDataDir,
  type StackProcess,
} from '../support/local-stack-process.js';

const LONG = 180_000;
const OWN_KEY = 'hub_my-own-operator-key-for-tests';

async function call(url: string, method: string, path: string, key?: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as any) : undefined };
}

/** Registers a department and pushes a penalty twice (two versions); returns its key and the record id. */
async function seed(stack: StackProcess, operatorKey: string): Promise<{ key: string; id: string }> {
  const source = await call(stack.url, 'POST', '/v1/sources', operatorKey, { id: 'scjgj', name: '市场监管局', uscc: SOURCE_USCC, role: 'department', kinds: ['penalty'] });
  expect(source.status).toBe(201);
  const key = source.json.apiKey as string;
  const first = await call(stack.url, 'POST', '/v1/submissions/penalty', key, { records: [penalty(1)] });
  expect(first.json.results[0].status).toBe('accepted');
  const second = await call(stack.url, 'POST', '/v1/submissions/penalty', key, { records: [penalty(1, { CF_NR_FK: '8.50' })] });
  expect(second.json.results[0].status).toBe('updated');
  return { key, id: first.json.results[0].id as string };
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health`);
    return false;
  } catch {
    return true;
  }
}

/** Nothing of the stack runs any more (checked in /proc), its port is closed, and (after a clean stop) its lock is gone. */
async function expectAllGone(pids: number[], dataDir: string, url: string, clean = true): Promise<void> {
  expect(await until(() => pids.every((pid) => !isRunning(pid)), 10_000), `still running: ${pids.filter(isRunning).join(', ')}`).toBe(true);
  expect(emulatorsOn(dataDir)).toEqual([]);
  expect(await refused(url)).toBe(true);
  if (clean) {
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    expect(existsSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'))).toBe(false);
  }
}

describe('restarting', () => {
  it(
    'keeps its state across a stop (SIGINT) and the next start, and SIGINT and SIGTERM to the main pid stop it all',
    async () => {
      const dataDir = tempDataDir();
      const first = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: '' });
      expect(first.mainPid).toBe(first.stackPid); // the child is the stack itself, no wrapper
      expect(descendants(first.stackPid)).toContain(first.emulatorPid);
      const operatorKey = readFileSync(join(dataDir, 'operator.key'), 'utf8').trim();
      const { key, id } = await seed(first, operatorKey);

      expect(await first.stop('SIGINT')).toBe(0);
      expect(first.output()).toMatch(/SIGINT: stopping[\s\S]*stopped; state is kept/);
      await expectAllGone([first.stackPid, first.emulatorPid], dataDir, first.url);

      const second = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: '' });
      expect(second.output()).toContain(operatorKey);
      expect(second.output()).toContain('tables already exist');
      const record = await call(second.url, 'GET', `/v1/records/${id}`, key);
      expect(record.status).toBe(200);
      expect(record.json.version).toBe(2);
      expect((await call(second.url, 'GET', '/v1/sources', operatorKey)).json.items).toHaveLength(1);

      expect(await second.stop('SIGTERM')).toBe(0);
      expect(second.output()).toMatch(/SIGTERM: stopping[\s\S]*stopped; state is kept/);
      await expectAllGone([second.stackPid, second.emulatorPid], dataDir, second.url);
    },
    LONG,
  );

  it(
    'uses HUB_OPERATOR_KEY when it is set, and SIGHUP (the terminal closed) stops it all',
    async () => {
      const dataDir = tempDataDir();
      const stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY });
      expect(stack.output()).toContain('operator key:  from HUB_OPERATOR_KEY');
      expect(stack.output()).not.toContain(OWN_KEY);
      expect((await call(stack.url, 'GET', '/v1/sources', OWN_KEY)).status).toBe(200);
      expect((await call(stack.url, 'GET', '/v1/sources', 'hub_some-other-key')).status).toBe(401);
      expect(existsSync(join(dataDir, 'operator.key'))).toBe(false);

      expect(await stack.stop('SIGHUP')).toBe(0);
      await expectAllGone([stack.stackPid, stack.emulatorPid], dataDir, stack.url);
    },
    LONG,
  );

  it(
    'stops as soon as start-up has finished when a signal comes while it starts',
    async () => {
      const dataDir = tempDataDir();
      const { child, output, exited } = launchStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY });
      expect(await until(() => output().includes('starting DynamoDB Local'), 60_000)).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output()).toMatch(/SIGTERM: stopping as soon as start-up has finished[\s\S]*stopped; state is kept/);
      const url = /HTTP API:\s+(\S+)/.exec(output())![1]!;
      await expectAllGone([child.pid!], dataDir, url);
    },
    LONG,
  );
});

describe('killed outright (SIGKILL of the main pid)', () => {
  it(
    'leaves no DynamoDB Local behind; the next start takes over the stale lock and finds the data intact',
    async () => {
      const dataDir = tempDataDir();
      const first = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY });
      const { key, id } = await seed(first, OWN_KEY);
      expect(await first.stop('SIGKILL')).toBe(null);
      // The emulator is tied to its stack (setpriv --pdeathsig): it goes down with it.
      await expectAllGone([first.stackPid, first.emulatorPid], dataDir, first.url, false);
      expect(readDataFolderLock(dataDir)?.pid).toBe(first.stackPid); // stale: its owner is gone

      const second = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY });
      expect(readDataFolderLock(dataDir)).toMatchObject({ pid: second.stackPid, port: Number(new URL(second.url).port) });
      expect((await call(second.url, 'GET', `/v1/records/${id}`, key)).json.version).toBe(2);
      expect(await second.stop('SIGTERM')).toBe(0);
      await expectAllGone([second.stackPid, second.emulatorPid], dataDir, second.url);
    },
    LONG,
  );

  it(
    'where the emulator cannot be tied to its stack (no setpriv), the next start stops the orphaned emulator first',
    async () => {
      const dataDir = tempDataDir();
      const noSetpriv = tempDataDir('hub-no-setpriv-');
      writeFileSync(join(noSetpriv, 'setpriv'), '#!/bin/sh\nexit 1\n');
      chmodSync(join(noSetpriv, 'setpriv'), 0o755);
      const env = { HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY, PATH: `${noSetpriv}:${process.env.PATH}` };

      const first = await startStackProcess(env);
      const { key, id } = await seed(first, OWN_KEY);
      expect(await first.stop('SIGKILL')).toBe(null);
      expect(await until(() => !isRunning(first.stackPid), 5000)).toBe(true);
      expect(isRunning(first.emulatorPid)).toBe(true); // orphaned
      expect(emulatorsOn(dataDir)).toEqual([first.emulatorPid]);

      const second = await startStackProcess(env);
      expect(isRunning(first.emulatorPid)).toBe(false);
      expect(emulatorsOn(dataDir)).toEqual([second.emulatorPid]);
      expect((await call(second.url, 'GET', `/v1/records/${id}`, key)).json.version).toBe(2);
      expect(await second.stop('SIGINT')).toBe(0);
      await expectAllGone([second.stackPid, second.emulatorPid], dataDir, second.url);
    },
    LONG,
  );
});

describe('one stack per data folder', () => {
  it(
    'refuses a second start on the same folder, naming the running pid and port, and touches nothing of the first',
    async () => {
      const dataDir = tempDataDir();
      const first = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY });
      const port = new URL(first.url).port;
      const files = [LOCK_FILE, 'dynamodb/dynamodb-local.pid'].map((f) => join(dataDir, f));
      const before = files.map((f) => readFileSync(f, 'utf8'));

      const second = await runStackToExit({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY });
      expect(second.code).toBe(1);
      expect(second.output).toContain('a stack is already running on this data folder');
      expect(second.output).toContain(`pid ${first.stackPid}`);
      expect(second.output).toContain(`port ${port}`);
      expect(second.output).not.toContain('starting DynamoDB Local');

      // The first stack is whole: its emulator runs, its files are as they were, and calls that need the store work.
      expect(isRunning(first.emulatorPid)).toBe(true);
      expect(emulatorsOn(dataDir)).toEqual([first.emulatorPid]);
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
      expect((await call(first.url, 'GET', '/health')).status).toBe(200);
      expect((await call(first.url, 'GET', '/v1/sources', OWN_KEY)).status).toBe(200);
      await seed(first, OWN_KEY);

      expect(await first.stop('SIGTERM')).toBe(0);
      await expectAllGone([first.stackPid, first.emulatorPid], dataDir, first.url);
    },
    LONG,
  );
});

describe('npm start, as a person or a supervisor runs it', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to the npm pid stops npm, the stack and DynamoDB Local',
    async (signal) => {
      const dataDir = tempDataDir();
      const stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY }, { via: 'npm' });
      const tree = descendants(stack.mainPid);
      expect(tree).toEqual(expect.arrayContaining([stack.stackPid, stack.emulatorPid]));
      expect((await call(stack.url, 'GET', '/v1/sources', OWN_KEY)).status).toBe(200);

      expect(await stack.stop(signal)).toBe(0);
      expect(stack.output()).toMatch(new RegExp(`${signal}: stopping[\\s\\S]*stopped; state is kept`));
      await expectAllGone([stack.mainPid, ...tree], dataDir, stack.url);
    },
    LONG,
  );

  it(
    'SIGKILL to the npm pid: the stack notices npm is gone and stops cleanly',
    async () => {
      const dataDir = tempDataDir();
      const stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OWN_KEY }, { via: 'npm' });
      const tree = descendants(stack.mainPid);
      expect(await stack.stop('SIGKILL')).toBe(null);
      await expectAllGone([stack.mainPid, ...tree], dataDir, stack.url);
      expect(stack.output()).toMatch(new RegExp(`npm \\(pid ${stack.mainPid}\\) is gone: stopping`));
    },
    LONG,
  );
});
