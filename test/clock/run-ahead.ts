/**
 * The date-sensitive tests again, with the system clock moved 400 days ahead
 * (Debian's `faketime`: libfaketime is preloaded into every process of the
 * run, the local stack of the end-to-end test included), so that a date that
 * only holds today, or a "today" read from the wrong clock, fails now and not
 * on a day in the future. Part of `npm test`.
 *
 * DynamoDB Local is left on the real clock (FAKETIME_SKIP_CMDS=java: the JVM
 * under libfaketime is far too slow, and the emulator keeps no dates the hub
 * reads), and so are monotonic clocks (FAKETIME_DONT_FAKE_MONOTONIC=1), which
 * timeouts and rate limiters use.
 *
 * Without `faketime`: under CI this fails; elsewhere it warns and skips.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const AHEAD_DAYS = 400;
const DAY_MS = 86_400_000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The tests whose outcome could depend on the date: the calendar, validation of dates, lateness, publication periods, and the pushes end to end. */
const DATE_SENSITIVE = [
  'test/unit/dates-workdays.test.ts',
  'test/unit/workdays-calendar.test.ts',
  'test/unit/identifiers.test.ts',
  'test/unit/contracts-fields.test.ts',
  'test/unit/contracts-license.test.ts',
  'test/unit/contracts-penalty.test.ts',
  'test/unit/contracts-dishonest-debtor.test.ts',
  'test/unit/debtor-rules.test.ts',
  'test/unit/prepare-dishonest-debtor.test.ts',
  'test/unit/record-view-dishonest-debtor.test.ts',
  'test/unit/record-model.test.ts',
  'test/unit/prepare.test.ts',
  'test/unit/handlers/submissions.test.ts',
  'test/unit/handlers/records.test.ts',
  'test/integration/store.test.ts',
  'test/e2e/api.test.ts',
  // The upward path and the jobs: sweeps, schedules, sync windows and packages, retries, feedback.
  'test/unit/batch-sweep.test.ts',
  'test/unit/jobs-schedules.test.ts',
  'test/unit/local-schedules.test.ts',
  'test/unit/sync-runner.test.ts',
  'test/unit/sync-package.test.ts',
  'test/unit/handlers/delivery-sweep.test.ts',
  'test/unit/handlers/jobs.test.ts',
  'test/unit/upward-exchange-package.test.ts',
  'test/unit/upward-feedback.test.ts',
  'test/unit/upward-retry-policy.test.ts',
  // Publication decisions: periods, repair dates, objection deadlines, the expire job (issue 9).
  'test/unit/publication-decisions.test.ts',
  'test/unit/handlers/publication.test.ts',
  'test/unit/handlers/objections.test.ts',
  'test/unit/handlers/expire-job.test.ts',
  'test/unit/push-publication-policy.test.ts',
  'test/e2e/publication-decisions.test.ts',
];

function fail(message: string): never {
  console.error(`clock-ahead run: ${message}`);
  process.exit(1);
}

const inCi = Boolean(process.env.CI) && !['false', '0'].includes(process.env.CI!.toLowerCase());
const found = spawnSync('faketime', ['-f', '+0d', 'true'], { stdio: 'ignore' });
if (found.error || found.status !== 0) {
  const why = found.error ? String(found.error.message) : `exit status ${found.status}`;
  if (inCi) fail(`faketime is not usable (${why}); install it (apt-get install -y faketime; .ci/run does)`);
  console.warn(`\n⚠ clock-ahead run SKIPPED: faketime is not usable (${why}). Install it (apt-get install -y faketime) to run the date-sensitive tests ${AHEAD_DAYS} days ahead, as CI does.\n`);
  process.exit(0);
}

const missing = DATE_SENSITIVE.filter((file) => !existsSync(`${ROOT}/${file}`));
if (missing.length) fail(`test files not found (renamed? update test/clock/run-ahead.ts): ${missing.join(', ')}`);
const vitest = `${ROOT}/node_modules/vitest/vitest.mjs`;
if (!existsSync(vitest)) fail(`vitest not found at ${vitest}`);

const offset = `+${AHEAD_DAYS}d`;
const earliest = Date.now() + (AHEAD_DAYS - 1) * DAY_MS;
const env = { ...process.env, FAKETIME_SKIP_CMDS: 'java', FAKETIME_DONT_FAKE_MONOTONIC: '1', HUB_CLOCK_AHEAD_EARLIEST: String(earliest) };

// First: does a process started this way really see the clock moved?
const probe = spawnSync('faketime', ['-f', offset, process.execPath, '-e', 'process.stdout.write(String(Date.now()))'], { env, encoding: 'utf8' });
const seen = Number(probe.stdout);
const latest = Date.now() + (AHEAD_DAYS + 1) * DAY_MS;
if (probe.status !== 0 || !(seen >= earliest && seen <= latest)) {
  const read = seen > 0 ? new Date(seen).toISOString() : `${JSON.stringify(probe.stdout)} ${probe.stderr}`;
  fail(`faketime -f ${offset} did not move the clock of ${process.execPath} ${AHEAD_DAYS} days ahead: it read ${read}`);
}
console.log(`\nclock-ahead run: the date-sensitive tests with the clock at ${new Date(seen).toISOString()} (${offset}, faketime)\n`);

const child = spawn('faketime', ['-f', offset, process.execPath, vitest, 'run', '--config', 'test/clock/vitest.config.ts', ...DATE_SENSITIVE], {
  cwd: ROOT,
  env,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) fail(`the tests were stopped by ${signal}`);
  process.exit(code ?? 1);
});
