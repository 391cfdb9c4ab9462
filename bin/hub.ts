#!/usr/bin/env -S node --import tsx
// `hub`: the command line of the credit exchange hub (`npx hub --help`). The commands are wired in
// cli/program.ts (importable by the tests: a file that starts with "#!" cannot be), this only runs
// them: with the process's streams and environment, and Ctrl-C as an interruption (a second one
// exits at once). Exit codes: 0 done, 1 failure, 2 some records rejected, 130 interrupted.
import { EXIT } from '../cli/errors.js';
import { Interrupted, processIo, runHub } from '../cli/program.js';

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) {
    // A second Ctrl-C: at once, with the cursor and line wrapping a progress bar may have hidden.
    if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\x1b[?7h\n');
    process.exit(EXIT.interrupted);
  }
  interrupt.abort(new Interrupted('interrupted'));
});
process.exitCode = await runHub(process.argv.slice(2), { ...processIo, signal: interrupt.signal });
