/**
 * `npm start`: the whole hub on this machine, no Docker, no cloud account.
 *   PORT          HTTP API port (default 3000)
 *   SITE_PORT     the public disclosure site's port (default 3001): the site bucket as CloudFront serves it
 *   HUB_DATA_DIR  state folder (default .hub-data/), kept across restarts; one stack per folder (stack.lock)
 *   HUB_OPERATOR_KEY  the credit office's key (default: generated once, kept in HUB_DATA_DIR)
 *
 * This process is the stack's main pid (the start script execs it: no shell or wrapper in between).
 * SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the whole stack — HTTP API, function environments,
 * DynamoDB Local — and exit 0; a signal during start-up stops it as soon as it has started; another
 * signal more than 2 s later, while stopping, exits at once (DynamoDB Local is killed on exit). Should this process be
 * killed outright (SIGKILL), DynamoDB Local dies with it where the platform allows, and the next start
 * stops an emulator that was orphaned all the same. Started by `npm start`, it also stops when npm
 * itself is killed, since npm can then no longer pass signals on.
 */
import { localSite, queues, tables } from '../catalogue.js';
import { startLocalStack, type LocalStack } from './stack.js';

const port = Number(process.env.PORT ?? 3000);
const sitePort = Number(process.env[localSite.portEnvVar] ?? localSite.defaultPort);
const dataDir = process.env.HUB_DATA_DIR || '.hub-data';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number, got ${process.env.PORT}\n`);
  process.exit(2);
}
if (!Number.isInteger(sitePort) || sitePort < 0 || sitePort > 65535) {
  process.stderr.write(`${localSite.portEnvVar} must be a port number, got ${process.env[localSite.portEnvVar]}\n`);
  process.exit(2);
}

// A closed terminal (SIGHUP) or pipe must not turn the shutdown messages into a crash.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
const say = (line: string) => process.stdout.write(`[hub] ${line}\n`);

let stack: LocalStack | undefined;
let stopReason: string | undefined;

async function stopAndExit(running: LocalStack): Promise<never> {
  say(`${stopReason}: stopping …`);
  try {
    await running.stop();
    say('stopped; state is kept in the data folder.');
    process.exit(0);
  } catch (e) {
    process.stderr.write(`[hub] could not stop cleanly: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

/** A Ctrl-C in a terminal reaches npm and this process at once, and npm passes its copy on: repeats this soon are one signal. */
const REPEAT_GRACE_MS = 2000;
let stopRequestedAt = 0;

function requestStop(reason: string): void {
  if (stopReason !== undefined) {
    if (Date.now() - stopRequestedAt < REPEAT_GRACE_MS) return;
    say(`${reason} while stopping: exiting now.`);
    process.exit(1); // the 'exit' listeners kill DynamoDB Local
  }
  stopReason = reason;
  stopRequestedAt = Date.now();
  if (stack) void stopAndExit(stack);
  else say(`${reason}: stopping as soon as start-up has finished …`);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => requestStop(signal));

/** When `npm start` ran this process directly, stop if npm is killed (this process is then re-parented). */
function stopWhenNpmIsGone(): void {
  if (process.env.npm_lifecycle_event !== 'start' || !process.env.npm_lifecycle_script?.includes('infra/local/main.ts')) return;
  const npm = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === npm) return;
    clearInterval(watch);
    if (stopReason === undefined) requestStop(`npm (pid ${npm}) is gone`);
  }, 500);
  watch.unref();
}

try {
  stopWhenNpmIsGone();
  stack = await startLocalStack({ port, sitePort, dataDir, operatorKey: process.env.HUB_OPERATOR_KEY || undefined, log: say });
  say(`data folder:   ${stack.dataDir}   (stack pid ${process.pid})`);
  say(`DynamoDB Local: ${stack.dynamoEndpoint}   (tables: ${Object.values(tables).map((t) => t.localName).join(', ')})`);
  say(`S3 (s3rver):   ${stack.s3Endpoint}   (path-style, objects in ${stack.dataDir}/s3; Lambda Invoke API: ${stack.lambdaEndpoint})`);
  say(`SQS (fauxqs):  ${stack.sqsEndpoint}   (queues: ${Object.values(queues).map((q) => q.localName).join(', ')}; messages in ${stack.dataDir}/sqs)`);
  if (stack.receiver) say(`platforms:     ${stack.receiver.url}/provincial and /national (built-in receiver: HUB_PROVINCIAL_URL / HUB_NATIONAL_URL unset); what they receive is kept in ${stack.receiver.dir}/<platform>/`);
  say(`HTTP API:      ${stack.apiUrl}   (health: ${stack.apiUrl}/health, OpenAPI: ${stack.apiUrl}/openapi.json)`);
  say(`public site:   ${stack.siteUrl}/index.html   (the site bucket as CloudFront serves it)`);
  say(
    process.env.HUB_OPERATOR_KEY
      ? 'operator key:  from HUB_OPERATOR_KEY'
      : `operator key:  ${stack.operatorKey}   (${stack.operatorKeyGenerated ? 'new, ' : ''}kept in ${stack.dataDir}/operator.key)`,
  );
  if (stopReason !== undefined) await stopAndExit(stack);
  say('ready. Ctrl-C stops.');
} catch (e) {
  process.stderr.write(`[hub] could not start: ${(e as Error).message}\n`);
  process.exit(1);
}
