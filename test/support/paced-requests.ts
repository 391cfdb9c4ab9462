/**
 * Requests sent at a fixed pace from a separate Node process, so that the
 * pace does not depend on how busy the server (or this test's process) is:
 * `count` GETs, one every `everyMs` on average (those already due at once when
 * timers fire late), taking the targets in turn; each answer's
 * status and Retry-After, how long sending took, and how long until the last
 * answer came (the server decided on every request within that time). A
 * request that got no answer has status 0.
 */
import { spawn } from 'node:child_process';

export interface PacedTarget {
  url: string;
  headers?: Record<string, string>;
}

export interface PacedAnswer {
  status: number;
  retryAfter: string | null;
  /** The body of an answer other than 200 (its first 300 characters). */
  body?: string;
}

export async function sendPacedFromAnotherProcess(
  targets: readonly PacedTarget[],
  options: { count: number; everyMs: number },
): Promise<{ sendingSeconds: number; answeredSeconds: number; answers: PacedAnswer[] }> {
  if (targets.length === 0) throw new RangeError('no targets');
  // node:http with a keep-alive agent: about half the CPU of fetch() per request, which keeps the
  // pace on a busy machine (the server under test competes for the same cores).
  const script = `
    import http from 'node:http';
    const [targets, count, everyMs] = JSON.parse(process.argv[1]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const started = performance.now();
    const answers = [];
    for (let i = 0; i < count; i++) {
      const { url, headers } = targets[i % targets.length];
      answers.push(
        new Promise((resolve) => {
          const request = http.get(url, { headers, agent }, (res) => {
            // The body of an answer other than 200 is kept (its first 300 characters): it says who refused.
            let body = '';
            if (res.statusCode === 200) res.resume();
            else res.on('data', (d) => (body = (body + d).slice(0, 300)));
            res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] ?? null, ...(res.statusCode === 200 ? {} : { body }) }));
            res.on('error', () => resolve({ status: 0, retryAfter: null }));
          });
          request.on('error', () => resolve({ status: 0, retryAfter: null }));
        }),
      );
      // Ahead of the pace: wait for the next one's time. Behind it (a busy machine: timers fire late), the
      // requests already due go at once, yielding only every 25 of them so their sockets get written.
      const wait = started + (i + 1) * everyMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (i % 25 === 24) await new Promise((r) => setImmediate(r));
    }
    const sendingSeconds = (performance.now() - started) / 1000;
    const all = await Promise.all(answers);
    const answeredSeconds = (performance.now() - started) / 1000;
    agent.destroy();
    process.stdout.write(JSON.stringify({ sendingSeconds, answeredSeconds, answers: all }));`;
  const args = JSON.stringify([targets.map((t) => ({ url: t.url, headers: t.headers ?? {} })), options.count, options.everyMs]);
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`the sending process exited with ${code}`);
  return JSON.parse(out);
}
