/** A Lambda handler for tests of the local runtime: reports its environment, sleeps, writes a file, throws or eats memory on demand. */
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

let invocations = 0;

interface ProbeEvent {
  sleepMs?: number;
  /** Appended to after the sleep: shows whether work went on after the invocation ended. */
  writeFile?: string;
  fail?: string;
  allocateMb?: number;
  /** Allocates this many MB, lets go of them and answers (a peak that the environment's REPORT line shows). */
  touchMb?: number;
}

export async function handler(event: ProbeEvent, context: { getRemainingTimeInMillis(): number; functionName: string }) {
  invocations++;
  const remainingAtStart = context.getRemainingTimeInMillis();
  if (event.fail) throw new Error(event.fail);
  if (event.allocateMb) {
    const hold: number[][] = [];
    for (let i = 0; i < event.allocateMb; i++) hold.push(new Array(128 * 1024).fill(i));
    return { held: hold.length };
  }
  if (event.touchMb) {
    const buffers = Array.from({ length: event.touchMb }, () => Buffer.alloc(1024 * 1024, 1));
    return { touched: buffers.reduce((n, b) => n + b.length, 0), pid: process.pid, invocations };
  }
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.writeFile) appendFileSync(event.writeFile, `written by ${threadId}\n`);
  return {
    threadId,
    pid: process.pid,
    invocations,
    remainingAtStart,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    contextName: context.functionName,
    probeSetting: process.env.PROBE_SETTING,
    // Where this module was loaded from: its source, or its bundle.
    moduleUrl: import.meta.url,
  };
}
