/**
 * Setup file of the clock-ahead run (test/clock/run-ahead.ts): runs inside
 * each test worker before its tests, and fails the file unless this process
 * sees the clock moved ahead as far as the runner asked. A run that silently
 * kept the real clock would prove nothing.
 */
const earliest = Number(process.env.HUB_CLOCK_AHEAD_EARLIEST);
if (!Number.isFinite(earliest) || earliest <= 0) {
  throw new Error('HUB_CLOCK_AHEAD_EARLIEST is not set: run this configuration through test/clock/run-ahead.ts');
}
if (Date.now() < earliest) {
  throw new Error(
    `the clock in this test worker is ${new Date().toISOString()}, not ahead of ${new Date(earliest).toISOString()}: libfaketime is not active here (LD_PRELOAD lost?)`,
  );
}
