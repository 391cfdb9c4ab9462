import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { it } from 'vitest';
import { penalty } from '/work/main/test/support/fixtures.js';
import { GOOD_KEY, startFakeHub } from '/work/main/test/unit/cli-fake-hub.js';
it('probe', async () => {
  const hub = await startFakeHub({ storeRecords: false });
  const file = '/tmp/memprobe.ndjson';
  const out = createWriteStream(file);
  for (let i = 0; i < Number(process.env.PROBE_N); i++) { if (!out.write(JSON.stringify(penalty(`m-${i}`)) + '\n')) await new Promise(r => out.once('drain', r)); }
  await new Promise(r => out.end(r));
  console.log('size', statSync(file).size);
  const t = Date.now();
  const child = spawn(process.execPath, [...(process.env.PROBE_HEAP ? [`--max-old-space-size=${process.env.PROBE_HEAP}`] : []), '--import', 'tsx', 'bin/hub.ts', 'push', file, '--kind', 'penalty', '--json'], { cwd: '/work/main', env: { ...process.env, HUB_URL: hub.url, HUB_KEY: GOOD_KEY } });
  let peak = 0; let stdout = ''; let stderr = ''; child.stderr.on('data', d => stderr += d);
  child.stdout.on('data', d => stdout += d);
  const timer = setInterval(() => { try { const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8')); if (m) peak = Math.max(peak, +m[1]); } catch {} }, 50);
  await new Promise(r => child.once('close', r));
  clearInterval(timer);
  console.log('peak MB', peak / 1024, 'ms', Date.now() - t, stdout.slice(0,300), stderr.slice(-300));
  rmSync(file); await hub.close();
}, 300_000);
