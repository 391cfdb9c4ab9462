/**
 * The `hub` command line's commands, wired with commander: what each command
 * takes and prints, and its exit code (`hub --help` lists them). What the
 * commands do is in the other modules of cli/; bin/hub.ts only runs this.
 *
 * Through the HTTP API (API.md), with `--url`/`--key` or HUB_URL/HUB_KEY:
 *   hub push FILE --kind penalty|license|dishonest-debtor   records in requests of at most 1,000, resumable
 *   hub batch upload FILE, hub batch status ID              court batches
 *   hub sources add|list|rotate-key                         sources (operator key)
 *   hub jobs run JOB [--wait], hub jobs status RUN           the nightly syncs, on demand (operator key)
 *   hub dlq list|redrive PLATFORM                           an upward platform's dead letters (operator key)
 *   hub reviews|records|policy|objections …                 review, repair, policy, objections (operator key: cli/publication-commands.ts)
 *
 * With the caller's own AWS credentials (the standard chain), never a function's role:
 *   hub operator rotate-key --table <SourcesTableName> [--region <region>]
 * makes a new operator key: writes its SHA-256 (never the key) to the
 * sources table, replacing the previous operator key in one transaction —
 * that key stops working with its next request — and prints the new key
 * once, alone on stdout, so that it can be piped into a password manager.
 * The first deployment has no operator key until this is run (the
 * first-deploy step in the README). Needs dynamodb:GetItem, PutItem,
 * DeleteItem and UpdateItem on the table.
 *
 * Keys and results go to stdout; messages and progress to stderr. Every
 * failure is one line in Chinese and English, without a stack trace.
 */
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Argument, Command, CommanderError, Option } from 'commander';
import { formatBatchStatus, followBatch, getBatch, isFinished, type BatchStatus } from './batch-status.js';
import { uploadBatch, saveRejects } from './batch-upload.js';
import { resolveConnection, type ConnectionFlags } from './connection.js';
import { formatDeadLetters, formatRedrive, listDeadLetters, PLATFORMS, redriveDeadLetters, type Platform } from './dlq.js';
import { CliError, describeError, EXIT } from './errors.js';
import { HubClient, type ClientOptions } from './http-client.js';
import { followRun, formatRunStatus, getRun, startJob, type JobRunStatus } from './jobs.js';
import { terminalProgress, trackingProgress, type ProgressFactory } from './progress.js';
import { PUSH_LIMITS } from './push-chunks.js';
import { formatPushSummary, pushFile, type PushSummary } from './push-file.js';
import { progressPathFor } from './push-state.js';
import { addPublicationCommands } from './publication-commands.js';
import { FILE_ENCODINGS, FILE_FORMATS, formatFromPath, type FileEncoding, type FileFormat } from './record-reader.js';
import { addSource, listSources, parseKinds, parseRole, rotateSourceKey, sourcesTable } from './sources.js';
import { isHelp, usageMessage } from './usage-errors.js';
import { PUSH_KINDS, type PushKind } from '../contracts/kinds.js';
import { rotateOperatorKey } from '../shared/auth/operator-key.js';
import { dynamoClientConfig } from '../shared/aws/client-config.js';
import { DynamoSourcesStore, KeyInUseError, type SourcesStore } from '../shared/store/sources-store.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The sources store of `table` (DynamoDB with the caller's credentials unless a test gives another). */
  sourcesStore: (table: string, region: string | undefined) => { store: Pick<SourcesStore, 'setOperatorKey'>; close: () => void };
  /** Where HUB_URL and HUB_KEY are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** Progress on stderr (a bar on a terminal, periodic lines elsewhere). */
  progress: ProgressFactory;
  /** Aborted when the user interrupts (Ctrl-C). */
  signal?: AbortSignal;
  /** The HTTP client's retry settings (tests shorten the waits). */
  client?: ClientOptions;
  /** Between two reads of a followed batch's status (default 2 s). */
  batchPollMs?: number;
  /** Between two reads of a followed job run's status (default 2 s). */
  jobPollMs?: number;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  sourcesStore: (table, region) => {
    const client = new DynamoDBClient(dynamoClientConfig(region ? { region } : {}));
    return { store: new DynamoSourcesStore(DynamoDBDocumentClient.from(client), table), close: () => client.destroy() };
  },
  env: process.env,
  progress: terminalProgress(process.stderr),
};

/** Why the program stopped when the user pressed Ctrl-C. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

const EXIT_CODES_HELP = `
Environment:
  HUB_URL   the hub API's base URL, e.g. http://127.0.0.1:3000 (or --url)
  HUB_KEY   the API key (or --key; prefer the variable: a --key is visible in the process list)

Exit codes (退出码):
  0    done: every record or row answered, none rejected (全部完成，无拒收)
  1    failure: usage error, unreadable or invalid file, hub unreachable or refusing (401, 403,
       404, 413 …), retries used up, a failed batch or job run (失败；push 可重新运行以续传)
  2    done, but some records or rows were rejected: see the rejects file (部分记录被拒收)
  130  interrupted (Ctrl-C); run the same push again to resume (已中断)

Resumable pushes: while a push runs, <FILE>.hub-push.json records how far it got. Running the
same command again (same file, unchanged) continues from there: chunks already answered are not
sent again, and those that were in flight go again with the same Idempotency-Keys, so the hub
gives their first answers back and applies nothing twice. A finished push removes the file; pushing the
same file again then reports unchanged records as duplicates.
`;

const connectionOptions = (command: Command) =>
  command
    .option('--url <url>', "the hub API's base URL (default: HUB_URL)")
    .option('--key <key>', 'API key (default: HUB_KEY)');

const formatOption = () => new Option('--format <format>', 'file format (default: from the extension: .ndjson, .jsonl, .csv)').choices(FILE_FORMATS);
const encodingOption = () => new Option('--encoding <encoding>', 'text encoding of the file').choices(FILE_ENCODINGS).default('utf-8');

function formatOf(file: string, given: FileFormat | undefined): FileFormat {
  const format = given ?? formatFromPath(file);
  if (!format) throw new CliError(`无法从扩展名判断文件格式 (cannot tell the format of ${file} from its extension: give --format ndjson or --format csv)`);
  return format;
}

function positiveInteger(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${name} 须为1到${max}的整数 (${name} must be an integer from 1 to ${max})`);
  return n;
}

/** The exit code a command chose (0 unless it says otherwise). */
export interface Outcome {
  exitCode: number;
}

export function hubProgram(io: CliIo = processIo, outcome: Outcome = { exitCode: EXIT.ok }): Command {
  const { progress, note } = trackingProgress(io.progress, (text) => io.stderr(`${text}\n`));
  const clientFor = (flags: ConnectionFlags) =>
    new HubClient(resolveConnection(flags, io.env), {
      ...io.client,
      onRetry: (r) => {
        const why = r.status === undefined ? r.reason : `${r.status} ${r.reason}`;
        note(`hub: ${Math.ceil(r.delayMs / 1000)}秒后重试 (retry ${r.attempt}/${r.attempts - 1} of ${r.action.en} in ${Math.ceil(r.delayMs / 1000)} s: ${why})`);
        io.client?.onRetry?.(r);
      },
    });
  const signal = io.signal ? { signal: io.signal } : {};
  const poll = io.batchPollMs !== undefined ? { pollMs: io.batchPollMs } : {};
  const notice = (line: string) => io.stderr(`${line}\n`);

  const program = new Command('hub')
    .description("The credit exchange hub's command line (公共信用信息交换枢纽命令行)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => undefined })
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();

  connectionOptions(
    program
      .command('push')
      .description('push the records of an NDJSON or CSV file (POST /v1/submissions/{kind}), ≤ 1,000 per request; resumable')
      .argument('<file>', 'NDJSON (one JSON object per line) or CSV (a header row of the field names)')
      .addOption(new Option('--kind <kind>', 'the kind of the records').choices(Object.keys(PUSH_KINDS)).makeOptionMandatory())
      .addOption(formatOption())
      .addOption(encodingOption())
      .option('--rejects <file>', 'where the rejected records (line numbers, reasons) go (default: <file>.rejects.ndjson)')
      .option('--records-per-request <n>', 'records per request, at most 1000', String(PUSH_LIMITS.maxRecords))
      .option('--concurrency <n>', 'requests in flight at once, 1 to 8', '2')
      .option('--json', 'print the summary as JSON'),
  ).action(async (file: string, o: ConnectionFlags & { kind: PushKind; format?: FileFormat; encoding: FileEncoding; rejects?: string; recordsPerRequest: string; concurrency: string; json?: boolean }) => {
    const format = formatOf(file, o.format);
    const maxRecords = positiveInteger('--records-per-request', o.recordsPerRequest, PUSH_LIMITS.maxRecords);
    const concurrency = positiveInteger('--concurrency', o.concurrency, 8);
    const client = clientFor(o);
    const summary: PushSummary = await pushFile(
      {
        file,
        kind: o.kind,
        format,
        encoding: o.encoding,
        rejectsPath: resolve(o.rejects ?? `${file}.rejects.ndjson`),
        progressPath: progressPathFor(file),
        limits: { ...PUSH_LIMITS, maxRecords },
        concurrency,
      },
      { client, progress, notice, ...signal },
    );
    const { counts, ...rest } = summary;
    io.stdout(o.json ? `${JSON.stringify({ ...rest, ...counts })}\n` : formatPushSummary(summary));
    outcome.exitCode = counts.rejected > 0 ? EXIT.rejected : EXIT.ok;
  });

  const batch = program.command('batch').description("court batches of 失信被执行人 rows (POST /v1/batches): upload a file, follow its ingest");
  connectionOptions(
    batch
      .command('upload')
      .description('create a batch, upload the file (up to 5 GB) and follow its ingest to the end; saves the rejected rows')
      .argument('<file>', 'NDJSON or CSV (a header row of the field names) of dishonest-debtor rows')
      .addOption(formatOption())
      .addOption(encodingOption())
      .option('--rejects <file>', 'where the rejected rows go (default: <file>.rejects.ndjson)')
      .option('--json', 'print the outcome as JSON'),
  ).action(async (file: string, o: ConnectionFlags & { format?: FileFormat; encoding: FileEncoding; rejects?: string; json?: boolean }) => {
    const format = formatOf(file, o.format);
    const client = clientFor(o);
    const uploaded = await uploadBatch(
      { file, format, encoding: o.encoding, rejectsPath: resolve(o.rejects ?? `${file}.rejects.ndjson`), ...poll },
      { client, progress, notice, ...signal },
    );
    outcome.exitCode = reportBatch(uploaded.batchId, uploaded.status, uploaded.rejectsPath, o.json);
  });
  connectionOptions(
    batch
      .command('status')
      .description("a batch's status and counts; with --follow, until it is completed or failed")
      .argument('<id>', 'the batchId')
      .option('--follow', 'follow the batch until it is completed or failed')
      .option('--rejects <file>', 'save the rejected rows of a completed batch to this file')
      .option('--json', 'print the status as JSON'),
  ).action(async (id: string, o: ConnectionFlags & { follow?: boolean; rejects?: string; json?: boolean }) => {
    const client = clientFor(o);
    const status = o.follow ? await followBatch(client, id, { progress, ...poll, ...signal }) : await getBatch(client, id, io.signal);
    const rejectsPath = o.rejects ? await saveRejects(status, resolve(o.rejects), io.signal) : undefined;
    outcome.exitCode = reportBatch(id, status, rejectsPath, o.json);
  });

  /** Prints a batch's outcome; its exit code (a failed batch is also reported on stderr). */
  function reportBatch(batchId: string, status: BatchStatus, rejectsPath: string | undefined, json: boolean | undefined): number {
    io.stdout(json ? `${JSON.stringify({ batchId, ...status, ...(rejectsPath ? { rejectsPath } : {}) })}\n` : formatBatchStatus(batchId, status, rejectsPath));
    if (status.status === 'failed') {
      notice(`hub: 批次失败 (batch ${batchId} failed): ${status.reason ?? '未说明原因 (no reason given)'}`);
      return EXIT.failure;
    }
    if (!isFinished(status)) return EXIT.ok;
    return status.rejected > 0 ? EXIT.rejected : EXIT.ok;
  }

  const jobs = program.command('jobs').description('jobs (operator key): run the nightly sync of a platform now, follow a run');
  connectionOptions(
    jobs
      .command('run')
      .description('start a run of a job (sync-provincial, sync-national); prints its runId. With --wait, follows it to its end')
      .argument('<job>', 'sync-provincial or sync-national')
      .option('--as-of <date>', 'YYYY-MM-DD (China): send the changes up to the end of that day (default: up to now)')
      .option('--wait', 'follow the run until it is completed or failed (exit 1 when it failed)')
      .option('--json', 'with --wait, print the final status as JSON'),
  ).action(async (job: string, o: ConnectionFlags & { asOf?: string; wait?: boolean; json?: boolean }) => {
    if (o.asOf !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.asOf)) throw new CliError(`--as-of 须为YYYY-MM-DD (--as-of must be a date YYYY-MM-DD, not "${o.asOf}")`);
    const client = clientFor(o);
    const runId = await startJob(client, job, o.asOf, io.signal);
    if (!o.wait) {
      io.stdout(o.json ? `${JSON.stringify({ runId })}\n` : `${runId}\n`);
      return;
    }
    notice(`hub: 已启动 (started) ${job}: ${runId}`);
    outcome.exitCode = reportRun(await followRun(client, runId, { progress, ...(io.jobPollMs !== undefined ? { pollMs: io.jobPollMs } : {}), ...signal }), o.json);
  });
  connectionOptions(
    jobs
      .command('status')
      .description("a run's status and counts")
      .argument('<runId>', 'the runId that hub jobs run printed')
      .option('--json', 'print the status as JSON'),
  ).action(async (runId: string, o: ConnectionFlags & { json?: boolean }) => {
    outcome.exitCode = reportRun(await getRun(clientFor(o), runId, io.signal), o.json);
  });

  /** Prints a run's status; its exit code (a failed run is also reported on stderr). */
  function reportRun(status: JobRunStatus, json: boolean | undefined): number {
    io.stdout(json ? `${JSON.stringify(status)}\n` : formatRunStatus(status));
    if (status.status !== 'failed') return EXIT.ok;
    notice(`hub: 运行失败 (run ${status.runId} failed): ${status.reason ?? '未说明原因 (no reason given)'}`);
    return EXIT.failure;
  }

  const sources = program.command('sources').description('the sources: departments, courts … (operator key)');
  connectionOptions(
    sources
      .command('add')
      .description('register a source; prints its API key once, alone on stdout')
      .requiredOption('--id <id>', 'the source id (2-64 letters, digits, - or _)')
      .requiredOption('--name <name>', 'its name, e.g. 市市场监督管理局')
      .requiredOption('--uscc <uscc>', 'its unified social credit code (统一社会信用代码)')
      .requiredOption('--role <role>', 'department, court, discipline, checker or platform')
      .option('--kinds <list>', 'kinds it may push, comma-separated (license,penalty …)'),
  ).action(async (o: ConnectionFlags & { id: string; name: string; uscc: string; role: string; kinds?: string }) => {
    const source = { id: o.id, name: o.name, uscc: o.uscc, role: parseRole(o.role), kinds: parseKinds(o.kinds) };
    const key = await addSource(clientFor(o), source);
    io.stdout(`${key}\n`);
    notice(`hub: 数据源${source.id}已登记；密钥只显示这一次 (source ${source.id} registered; its key is shown only this once: only its hash is stored)`);
  });
  connectionOptions(sources.command('list').description('list the sources (without keys)').option('--json', 'print them as JSON')).action(
    async (o: ConnectionFlags & { json?: boolean }) => {
      const items = await listSources(clientFor(o));
      io.stdout(o.json ? `${JSON.stringify({ items })}\n` : sourcesTable(items));
    },
  );
  connectionOptions(
    sources.command('rotate-key').description("give a source a new key; its previous key stops working at once. Prints the new key once").argument('<id>', 'the source id'),
  ).action(async (id: string, o: ConnectionFlags) => {
    const key = await rotateSourceKey(clientFor(o), id);
    io.stdout(`${key}\n`);
    notice(`hub: 数据源${id}的密钥已更换，旧密钥立即失效 (source ${id} has a new key; the previous one no longer works). 只显示这一次 (shown only this once)`);
  });

  const dlq = program.command('dlq').description("an upward platform's dead letters: what it refused or never took (operator key)");
  const platformArgument = () => new Argument('<platform>', 'the upward platform').choices(PLATFORMS);
  connectionOptions(
    dlq.command('list').description("the platform's failed deliveries, oldest first (every page), and its dead-letter queue's depth").addArgument(platformArgument()).option('--json', 'print them as JSON'),
  ).action(async (platform: Platform, o: ConnectionFlags & { json?: boolean }) => {
    const list = await listDeadLetters(clientFor(o), platform, io.signal);
    io.stdout(o.json ? `${JSON.stringify(list)}\n` : formatDeadLetters(list));
  });
  connectionOptions(
    dlq
      .command('redrive')
      .description('send them again: failed deliveries become pending and the dead-letter queue goes back to the platform’s queue (asks again until the hub is done)')
      .addArgument(platformArgument())
      .option('--json', 'print the totals as JSON'),
  ).action(async (platform: Platform, o: ConnectionFlags & { json?: boolean }) => {
    const totals = await redriveDeadLetters(clientFor(o), platform, notice, io.signal);
    io.stdout(o.json ? `${JSON.stringify(totals)}\n` : formatRedrive(totals));
  });

  addPublicationCommands(program, { client: clientFor, stdout: io.stdout, notice, connectionOptions, ...signal });

  const operator = program.command('operator').description("the operator's (credit office's) key, written with your AWS credentials");
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
      } catch (e) {
        if (e instanceof KeyInUseError) throw new CliError('failed: 该密钥已在使用 (that key is already in use)');
        throw new CliError(`failed: 无法写入运营方密钥 (cannot write the operator key to ${options.table}: ${(e as Error).message || String(e)})`);
      } finally {
        close();
      }
    });

  return program;
}

/** Runs the command line; resolves with the exit code (see `hub --help`). */
export async function runHub(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const outcome: Outcome = { exitCode: EXIT.ok };
  try {
    await hubProgram(io, outcome).parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (isHelp(e)) return e.exitCode;
      io.stderr(`hub: ${usageMessage(e)}\n`);
      return EXIT.failure;
    }
    if (e instanceof Interrupted || (io.signal?.aborted && io.signal.reason === e)) {
      io.stderr('hub: 已中断 (interrupted); 重新运行同一命令即可从中断处继续推送 (run the same push again to resume; a batch goes on on the hub: hub batch status ID)\n');
      return EXIT.interrupted;
    }
    io.stderr(`hub: ${describeError(e)}\n`);
    return e instanceof CliError ? e.exitCode : EXIT.failure;
  }
}
