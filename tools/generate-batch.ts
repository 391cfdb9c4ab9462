/**
 * `npm run generate:batch -- --rows 1000000 --format ndjson|csv --encoding utf-8|gb18030
 *   --bad 0.05 --seed 42 --out FILE [--manifest FILE]`
 *
 * Writes a sample court batch of 失信被执行人 rows (test/support/batch-sample)
 * in constant memory, with progress on stderr for big files, and its manifest
 * (what the hub should count) as JSON when --manifest is given.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BAD_KINDS, type BadKind, BATCH_ENCODINGS, type BatchEncoding, type BatchFormat, DEFAULT_BAD_KINDS, writeBatch } from '../test/support/batch-sample/index.js';

/** Files from this many rows up show a progress bar. */
const PROGRESS_FROM = 50_000;

export interface GenerateIo {
  stdout: (text: string) => void;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const processIo: GenerateIo = { stdout: (text) => process.stdout.write(text), stderr: process.stderr };

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('应为非负整数 (a whole number ≥ 0 expected)');
  return n;
}

function seedNumber(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('应为整数 (an integer expected)');
  return n;
}

function shareNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('应为0到1之间的比例 (a share between 0 and 1 expected, such as 0.05)');
  return n;
}

function badKinds(value: string): BadKind[] {
  const kinds = value.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(BAD_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new InvalidArgumentError(`未知的错误行类型 (unknown bad-row kind: ${unknown.join(', ') || '(none given)'}); 可选 (known): ${BAD_KINDS.join(', ')}`);
  }
  return kinds as BadKind[];
}

interface Options {
  rows: number;
  format: BatchFormat;
  encoding: BatchEncoding;
  bad: number;
  badKinds?: BadKind[];
  oversized?: boolean;
  illFormed?: boolean;
  repeats: number;
  removed: number;
  seed: number;
  out: string;
  manifest?: string;
  quiet?: boolean;
}

export function generateBatchProgram(io: GenerateIo = processIo): Command {
  return new Command('generate-batch')
    .description('写出失信被执行人样例批次文件 (write a sample court batch of dishonest judgment debtors)')
    .configureOutput({ writeOut: (t) => io.stderr.write(t), writeErr: (t) => io.stderr.write(t) })
    .exitOverride()
    .requiredOption('--rows <n>', 'number of data rows', wholeNumber)
    .addOption(new Option('--format <format>', 'file format').choices(['ndjson', 'csv']).default('ndjson'))
    .addOption(new Option('--encoding <encoding>', 'text encoding').choices(BATCH_ENCODINGS).default('utf-8'))
    .option('--bad <share>', 'share of bad rows (exactly round(rows × share))', shareNumber, 0)
    .option('--bad-kinds <list>', `comma-separated kinds of bad row (default: ${DEFAULT_BAD_KINDS.join(',')})`, badKinds)
    .option('--oversized', 'add rows over 64 KB to the bad-row kinds')
    .option('--ill-formed', 'add rows with a byte invalid in the encoding (0xFF) to the bad-row kinds')
    .option('--repeats <share>', 'share of rows repeating an earlier caseCode (updated or duplicate content)', shareNumber, 0.01)
    .option('--removed <share>', 'share of new valid rows with status removed', shareNumber, 0.1)
    .option('--seed <n>', 'seed: the same seed, options and day give the same file', seedNumber, 1)
    .requiredOption('--out <file>', 'where to write the batch')
    .option('--manifest <file>', 'where to write the manifest (JSON): counts by outcome, bad rows by kind with line numbers')
    .option('--quiet', 'no progress bar')
    .action(async (o: Options) => {
      const kinds = [...(o.badKinds ?? DEFAULT_BAD_KINDS)];
      if (o.oversized && !kinds.includes('oversized-row')) kinds.push('oversized-row');
      if (o.illFormed && !kinds.includes('ill-formed-bytes')) kinds.push('ill-formed-bytes');
      const bar =
        !o.quiet && o.rows >= PROGRESS_FROM
          ? new SingleBar({ stream: io.stderr, format: '{bar} {percentage}% | {value}/{total} rows | {duration_formatted}', noTTYOutput: true, notTTYSchedule: 5000 })
          : undefined;
      bar?.start(o.rows, 0);
      try {
        const m = await writeBatch(o.out, {
          rows: o.rows,
          format: o.format,
          encoding: o.encoding,
          bad: o.bad,
          badKinds: kinds,
          repeats: o.repeats,
          removed: o.removed,
          seed: o.seed,
          ...(o.manifest ? { manifestPath: o.manifest } : {}),
          ...(bar ? { onProgress: (done: number) => bar.update(done) } : {}),
        });
        bar?.stop();
        io.stdout(
          `${o.out}: ${m.total} rows (${m.valid} valid: ${m.expected.accepted} new, ${m.expected.updated} updated, ${m.expected.duplicates} duplicate; ` +
            `${m.bad} bad), ${m.bytes} bytes, ${m.format} ${m.encoding}, seed ${m.seed}, dates up to ${m.today}` +
            `${o.manifest ? `; manifest ${o.manifest}` : ''}\n`,
        );
      } finally {
        bar?.stop();
      }
    });
}

/** Runs the command; returns the exit status (errors are printed as one line, no stack trace). */
export async function runGenerateBatch(argv: string[], io: GenerateIo = processIo): Promise<number> {
  try {
    await generateBatchProgram(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander has printed the message
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`generate-batch: 失败 (failed): ${message}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await runGenerateBatch(process.argv.slice(2));
