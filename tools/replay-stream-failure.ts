/**
 * `npx tsx tools/replay-stream-failure.ts --mapping recordChanges|recordPublishing [--file RECORD.json]`
 *
 * Replays one batch that a stream mapping of the records table gave up and reported to the stream-failures queue
 * (infra/catalogue.ts queues.streamFailures), once the fault is fixed and while the stream still holds its records
 * (24 hours after they were written; the mappings give up after 6): reads the failure record (the SQS message body,
 * JSON) from --file or stdin, reads the batch from the stream again and invokes the mapping's function with it,
 * keeping the mapping's filter (shared/streams/replay.ts). The functions are idempotent: replaying twice is safe.
 *
 * With the caller's own AWS credentials (the standard chain), never a function's role: needs
 * dynamodb:GetShardIterator and dynamodb:GetRecords on the stream, and lambda:InvokeFunction on the function.
 * Prints the result as JSON on stdout (counts and sequence numbers, never record content); delete the message from
 * the queue once it says `failedAgain: []`. A failure is one line in Chinese and English on stderr, exit status 1.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Command, CommanderError, Option } from 'commander';
import { awsClientConfig, httpHandlerOptions } from '../shared/aws/client-config.js';
import { parseStreamFailureRecord } from '../shared/streams/failure-record.js';
import { replayReportedBatch } from '../shared/streams/replay.js';
import { eventSources, functions } from '../infra/catalogue.js';

/** The mappings whose batches can be reported (those with an on-failure queue). */
export const REPLAYABLE_MAPPINGS = Object.entries(eventSources)
  .filter(([, s]) => s.type === 'dynamodb-stream' && 'onFailure' in s)
  .map(([name]) => name);

export interface ReplayIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The failure record when no --file is given. */
  readStdin: () => string;
}

export interface ReplayClients {
  streams: DynamoDBStreamsClient;
  lambda: LambdaClient;
}

const processIo: ReplayIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
};

/** Clients of the caller's account; the synchronous invocation may take as long as the function's timeout. */
function awsClients(mapping: string): ReplayClients {
  const source = eventSources[mapping as keyof typeof eventSources];
  const timeoutSeconds = functions[source.function as keyof typeof functions].timeoutSeconds;
  return {
    streams: new DynamoDBStreamsClient(awsClientConfig()),
    lambda: new LambdaClient(awsClientConfig({ requestHandler: { ...httpHandlerOptions, requestTimeout: (timeoutSeconds + 10) * 1000 } })),
  };
}

/** Runs the command; returns the exit status. `clients` for tests (default: the caller's AWS account). */
export async function runReplayStreamFailure(argv: string[], io: ReplayIo = processIo, clientsFor: (mapping: string) => ReplayClients = awsClients): Promise<number> {
  const program = new Command('replay-stream-failure')
    .description('replay a stream batch reported to the stream-failures queue (the fault fixed, within 24 hours of its records)')
    .addOption(new Option('--mapping <name>', 'the event-source mapping that gave the batch up').choices(REPLAYABLE_MAPPINGS).makeOptionMandatory())
    .option('--file <path>', 'the failure record (the SQS message body); stdin when not given')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  let clients: ReplayClients | undefined;
  try {
    program.parse(argv, { from: 'user' });
    const o = program.opts<{ mapping: string; file?: string }>();
    const batch = parseStreamFailureRecord(o.file ? readFileSync(o.file, 'utf8') : io.readStdin());
    const source = eventSources[o.mapping as keyof typeof eventSources];
    const newImageEquals = 'newImageEquals' in source ? source.newImageEquals : undefined;
    clients = clientsFor(o.mapping);
    const result = await replayReportedBatch(clients, batch, newImageEquals ? { newImageEquals } : {});
    io.stdout(`${JSON.stringify({ mapping: o.mapping, shardId: batch.shardId, startSequenceNumber: batch.startSequenceNumber, endSequenceNumber: batch.endSequenceNumber, ...result })}\n`);
    if (result.failedAgain.length > 0) {
      io.stderr(`replay-stream-failure: 函数再次报告 ${result.failedAgain.length} 条记录失败 (the function reported ${result.failedAgain.length} records failed again): keep the message and replay it once the fault is fixed\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander has printed the message
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`replay-stream-failure: 重放失败 (replay failed): ${message}\n`);
    return 1;
  } finally {
    clients?.streams.destroy();
    clients?.lambda.destroy();
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await runReplayStreamFailure(process.argv.slice(2));
