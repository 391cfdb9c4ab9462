#!/usr/bin/env -S node --import tsx
/**
 * `hub`: the credit office's command line, run from this project's folder
 * with the caller's own AWS credentials (the standard chain: environment,
 * profile, SSO …) — never with a function's role.
 *
 *   hub operator rotate-key --table <SourcesTableName> [--region <region>]
 *
 * Makes a new operator key: writes its SHA-256 (never the key) to the
 * sources table, replacing the previous operator key in one transaction —
 * that key stops working with its next request — and prints the new key
 * once, alone on stdout, so that it can be piped into a password manager.
 * Everything else goes to stderr. The first deployment has no operator key
 * until this is run (the first-deploy step in the README).
 *
 * Needs dynamodb:GetItem, dynamodb:PutItem, dynamodb:DeleteItem and
 * dynamodb:UpdateItem on the table (TransactWriteItems is authorised per
 * item action).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command, CommanderError } from 'commander';
import { rotateOperatorKey } from '../shared/auth/operator-key.js';
import { dynamoClientConfig } from '../shared/aws/client-config.js';
import { DynamoSourcesStore, KeyInUseError, type SourcesStore } from '../shared/store/sources-store.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The sources store of `table` (DynamoDB with the caller's credentials unless a test gives another). */
  sourcesStore: (table: string, region: string | undefined) => { store: Pick<SourcesStore, 'setOperatorKey'>; close: () => void };
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  sourcesStore: (table, region) => {
    const client = new DynamoDBClient(dynamoClientConfig(region ? { region } : {}));
    return { store: new DynamoSourcesStore(DynamoDBDocumentClient.from(client), table), close: () => client.destroy() };
  },
};

export function hubProgram(io: CliIo = processIo): Command {
  const program = new Command('hub')
    .description("The credit exchange hub's command line for the credit office (公共信用信息交换枢纽)")
    .configureOutput({ writeOut: io.stderr, writeErr: io.stderr })
    .exitOverride();
  const operator = program.command('operator').description("the operator's (credit office's) key");
  operator
    .command('rotate-key')
    .description('make a new operator key; the previous one stops working at once. Prints the new key once, alone on stdout')
    .requiredOption('--table <name>', 'the sources table (the SourcesTableName output of the stack)')
    .option('--region <region>', 'AWS region of the stack (default: AWS_REGION or your profile)')
    .action(async (options: { table: string; region?: string }) => {
      const { store, close } = io.sourcesStore(options.table, options.region);
      try {
        const { key, change } = await rotateOperatorKey(store);
        io.stdout(`${key}\n`);
        io.stderr(
          change === 'replaced'
            ? 'hub: new operator key set; the previous operator key no longer works. It is shown only this once: only its hash is stored.\n'
            : 'hub: operator key set (there was none). It is shown only this once: only its hash is stored.\n',
        );
      } finally {
        close();
      }
    });
  return program;
}

/** Runs the command line; resolves with the exit code. */
export async function runHub(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    await hubProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const reason = e instanceof KeyInUseError ? 'that key is already in use' : (e as Error).message || String(e);
    io.stderr(`hub: failed: ${reason}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await runHub(process.argv.slice(2));
