/**
 * vitest global set-up: a test run leaves no process and no temp folder behind.
 *
 * Every test process (and everything it starts: the local stack, DynamoDB
 * Local) inherits HUB_TEST_RUN and a TMPDIR of the run's own. After the run,
 * any process still carrying the run's mark is reported and killed, and any
 * file left in the run's TMPDIR is reported and removed — and the run fails,
 * so a leak is a test failure, not a surprise on the next machine.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function markedProcesses(mark: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HUB_TEST_RUN=${mark}`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      // vitest's own helpers (its watchdog) end with it.
      if (cmd.startsWith('vitest')) continue;
      found.push({ pid, cmd: cmd.slice(0, 160) });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export default function setup() {
  const mark = `${process.pid}-${Date.now()}`;
  const runTmp = mkdtempSync(join(tmpdir(), 'hub-test-run-'));
  process.env.HUB_TEST_RUN = mark;
  process.env.TMPDIR = runTmp;

  return async () => {
    const problems: string[] = [];
    let left = markedProcesses(mark);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = markedProcesses(mark);
    }
    for (const p of left) {
      problems.push(`process ${p.pid} still running: ${p.cmd}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // tsx keeps its compile cache in the temp folder (tsx-<uid>): the loader's, not a test's.
    const files = readdirSync(runTmp).filter((f) => !f.startsWith('tsx-'));
    for (const f of files) problems.push(`temp folder or file left behind: ${f}`);
    rmSync(runTmp, { recursive: true, force: true });
    if (problems.length > 0 && process.env.HUB_ALLOW_LEAKS !== '1') {
      throw new Error(`the test run left things behind:\n  ${problems.join('\n  ')}`);
    }
  };
}
