/**
 * Requests sent at a fixed pace from a separate Node process, so that the
 * pace does not depend on how busy the server (or this test's process) is:
 * `count` GETs, one every `everyMs`, each answer's status and Retry-After, and
 * how long sending took. A request that got no answer has status 0.
 */
import { spawn } from 'node:child_process';

export interface PacedAnswer {
  status: number;
  retryAfter: string | null;
}

export async function sendPacedFromAnotherProcess(
  url: string,
  options: { count: number; everyMs: number; headers?: Record<string, string> },
): Promise<{ sendingSeconds: number; answers: PacedAnswer[] }> {
  const script = `
    const [url, count, everyMs, headers] = JSON.parse(process.argv[1]);
    const started = performance.now();
    const answers = [];
    for (let i = 0; i < count; i++) {
      answers.push(
        fetch(url, { headers }).then(
          async (r) => (await r.arrayBuffer(), { status: r.status, retryAfter: r.headers.get('retry-after') }),
          () => ({ status: 0, retryAfter: null }),
        ),
      );
      const due = started + (i + 1) * everyMs;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    const sendingSeconds = (performance.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ sendingSeconds, answers: await Promise.all(answers) }));`;
  const args = JSON.stringify([url, options.count, options.everyMs, options.headers ?? {}]);
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`the sending process exited with ${code}`);
  return JSON.parse(out);
}
