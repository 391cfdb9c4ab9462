/**
 * The process side of the local stack's Node emulators (s3rver-process.mjs, fauxqs-process.mjs; the
 * stack side is startNodeEmulator in emulator-process.ts): log lines to stderr (the emulator's log
 * file), `{type:'ready', port}` to the stack over IPC, and one way to stop — on SIGTERM, SIGINT, or
 * when the IPC channel closes (the stack is gone, even if it was killed outright).
 */

/** A log line writer: `<ISO time> <name>[<pid>] <line>` on stderr. */
export function logger(name) {
  return (line) => process.stderr.write(`${new Date().toISOString()} ${name}[${process.pid}] ${line}\n`);
}

/**
 * Stops once on SIGTERM, SIGINT or IPC disconnect: `close()` (the emulator's own clean shutdown),
 * then disconnects and exits 0; exits 1 if closing has not ended after `graceMs` (`late` says what
 * is still going on, for the log).
 */
export function stopOnSignals({ say, close, graceMs, late }) {
  let stopping = false;
  async function stop(reason) {
    if (stopping) return;
    stopping = true;
    say(`${reason}: stopping`);
    const force = setTimeout(() => {
      say(`${late} after ${graceMs} ms: exiting`);
      process.exit(1);
    }, graceMs);
    force.unref();
    await close();
    if (process.connected) process.disconnect();
    say('stopped');
    process.exit(0);
  }
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('disconnect', () => void stop('the stack is gone (IPC channel closed)'));
}

/** Tells the stack the port it listens on. */
export function announceReady(port) {
  if (process.connected) process.send({ type: 'ready', port });
}
