/**
 * `npm start`: the whole hub on this machine, no Docker, no cloud account.
 *   PORT          HTTP API port (default 3000)
 *   HUB_DATA_DIR  state folder (default .hub-data/), kept across restarts
 *   HUB_OPERATOR_KEY  the credit office's key (default: generated once, kept in HUB_DATA_DIR)
 */
import { tables } from '../catalogue.js';
import { startLocalStack } from './stack.js';

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.HUB_DATA_DIR || '.hub-data';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number, got ${process.env.PORT}\n`);
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`[hub] ${line}\n`);

try {
  const stack = await startLocalStack({ port, dataDir, operatorKey: process.env.HUB_OPERATOR_KEY || undefined, log: say });
  say(`data folder:   ${stack.dataDir}`);
  say(`DynamoDB Local: ${stack.dynamoEndpoint}   (tables: ${Object.values(tables).map((t) => t.localName).join(', ')})`);
  say(`HTTP API:      ${stack.apiUrl}   (health: ${stack.apiUrl}/health, OpenAPI: ${stack.apiUrl}/openapi.json)`);
  say(
    process.env.HUB_OPERATOR_KEY
      ? 'operator key:  from HUB_OPERATOR_KEY'
      : `operator key:  ${stack.operatorKey}   (${stack.operatorKeyGenerated ? 'new, ' : ''}kept in ${stack.dataDir}/operator.key)`,
  );
  say('ready. Ctrl-C stops.');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping …`);
    await stack.stop();
    say('stopped; state is kept in the data folder.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (e) {
  process.stderr.write(`[hub] could not start: ${(e as Error).message}\n`);
  process.exit(1);
}
