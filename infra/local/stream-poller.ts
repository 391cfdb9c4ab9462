/**
 * Lambda's DynamoDB Streams event-source mapping on this machine, for the catalogue's `eventSources`
 * of type `dynamodb-stream`: it reads the table's stream in DynamoDB Local through the real Streams
 * API (DescribeTable → LatestStreamArn, DescribeStream, GetShardIterator, GetRecords) and invokes the
 * function with the event Lambda would send, with Lambda's semantics:
 *
 * - shards: every shard of the stream, all pages of DescribeStream, listed again every few seconds; a
 *   child shard is read only once its parent is finished (a closed shard is finished when GetRecords
 *   returns no NextShardIterator), so the changes of one item reach the function in order;
 * - batches: up to `batchSize` records (and 6 MB), waiting up to `maxBatchingWindowSeconds` for more; records of
 *   a shard are processed in order, one batch at a time;
 * - filtering (`newImageEquals`, Lambda event filtering on `dynamodb.NewImage`): a record passes when
 *   its new image has each attribute as that string; one without a new image (a REMOVE) never does.
 *   Filtered records are skipped and the position moves past them;
 * - failures: a function error, a timeout or a crashed environment retries the same batch, with
 *   exponential back-off, `retryAttempts` times (-1: until it succeeds or its records are older than
 *   `maximumRecordAgeSeconds`, or than the stream keeps them, 24 hours); `bisectBatchOnError` splits
 *   a failing batch in two and retries each half; nothing later in the shard is delivered before it.
 *   A batch given up is skipped, with a log line, and reported to the mapping's `onFailure` queue as
 *   Lambda's failure record (shared/streams/failure-record.ts: shard, first and last sequence numbers,
 *   no record content); the position moves past it only once the queue has taken the record, so a
 *   report is never lost (at a stop before that, the batch is delivered again at the next start).
 *   Unlike Lambda, the record age is looked at only when a batch fails: records that waited while the
 *   local stack was stopped are delivered, not given up;
 * - `reportBatchItemFailures`: `{batchItemFailures:[{itemIdentifier:<SequenceNumber>}]}` checkpoints
 *   just before the first failed record and retries from there; an identifier that is empty or not in
 *   the batch fails the whole batch, as on Lambda.
 *
 * The position survives restarts, which shard iterators do not: after each processed batch the last
 * sequence number done per shard is written to `STREAM_POSITIONS_FILE` in the data folder (a temp file
 * renamed over it), and reading resumes AFTER_SEQUENCE_NUMBER; a shard never seen is read from
 * TRIM_HORIZON; the mapping's `startingPosition` applies at its very first start only. Delivery is at
 * least once (a batch whose invocation was under way at stop() is delivered again), exactly as on
 * Lambda: the function must be idempotent.
 *
 * Logs one line per failed invocation (function, shard, sequence numbers, error type), never the
 * records.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamApiRecord,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../../shared/aws/client-config.js';
import { redactText } from '../../shared/logger.js';
import { streamFailureRecord, type StreamFailureRecord } from '../../shared/streams/failure-record.js';
import { lambdaAttributeValue, lambdaStreamEvent, lambdaStreamRecord, passesFilter } from '../../shared/streams/lambda-event.js';
import { eventSources as catalogueEventSources, localFunctionName, tables as catalogueTables, type EventSourceSpec } from '../catalogue.js';
import type { LocalCredentials } from './dynamodb-local.js';
import type { FunctionInvoker, InvokeOutcome } from './lambda-runtime.js';
import { localSqsClientConfig, type SqsConnection } from './sqs-local.js';

/** One stream event-source mapping of the catalogue. */
export type StreamEventSourceSpec = Extract<EventSourceSpec, { type: 'dynamodb-stream' }>;

/** Where in the data folder the mappings' positions are kept. */
export const STREAM_POSITIONS_FILE = 'stream-positions.json';

// ---------------------------------------------------------------------------------------------------
// The event Lambda sends (shared/streams/lambda-event.ts)

export { lambdaAttributeValue, lambdaStreamEvent, lambdaStreamRecord, passesFilter };

/**
 * What a function's answer says about a batch (reportBatchItemFailures): `ok`, or the index of the first
 * record to retry from (the lowest failed sequence number), or `all` when the answer names a record that is
 * not in the batch or no record at all (Lambda fails the whole batch then).
 */
export function batchOutcome(result: unknown, sequenceNumbers: readonly string[], reportBatchItemFailures: boolean): { ok: true } | { retryFrom: number } {
  if (!reportBatchItemFailures || result === null || typeof result !== 'object' || !('batchItemFailures' in result)) return { ok: true };
  const failures = (result as { batchItemFailures: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { ok: true };
  if (!Array.isArray(failures)) return { retryFrom: 0 };
  if (failures.length === 0) return { ok: true };
  let first = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const at = typeof id === 'string' && id !== '' ? sequenceNumbers.indexOf(id) : -1;
    if (at < 0) return { retryFrom: 0 };
    first = Math.min(first, at);
  }
  return { retryFrom: first };
}

// ---------------------------------------------------------------------------------------------------
// Positions, kept in the data folder

interface ShardPosition {
  /** The last sequence number processed (the function succeeded, or the record was filtered out). */
  after?: string;
  /** Closed and read to its end: never read again, and its children may be read. */
  finished?: true;
}

interface MappingPositions {
  /** The stream the positions belong to (a table created again has a new stream: its mapping starts again). */
  streamArn: string;
  shards: Record<string, ShardPosition>;
}

interface PositionsDocument {
  note: string;
  mappings: Record<string, MappingPositions>;
}

const NOTE =
  'Where the local stack is in each DynamoDB stream (Lambda event-source mappings, infra/local/stream-poller.ts): per shard, the last sequence number processed. Deleting this file delivers every change still in the streams (24 hours) again.';

/** Compares sequence numbers (decimal strings, possibly of different lengths). */
const seqCompare = (a: string, b: string) => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The positions file: read once, written whole (a temp file renamed over it) at every change. */
export class StreamPositions {
  readonly #file: string;
  readonly #doc: PositionsDocument;

  constructor(dataDir: string) {
    this.#file = join(dataDir, STREAM_POSITIONS_FILE);
    this.#doc = { note: NOTE, mappings: {} };
    if (existsSync(this.#file)) {
      const parsed = JSON.parse(readFileSync(this.#file, 'utf8')) as Partial<PositionsDocument>;
      if (!parsed || typeof parsed.mappings !== 'object' || parsed.mappings === null) throw new Error(`${this.#file} 已损坏 (is damaged: no "mappings")`);
      this.#doc.mappings = parsed.mappings;
    }
  }

  /** The mapping's positions if they belong to this stream. */
  mapping(name: string, streamArn: string): MappingPositions | undefined {
    const m = this.#doc.mappings[name];
    return m && m.streamArn === streamArn ? m : undefined;
  }

  /** Starts a mapping's positions on a stream afresh (its first start), with the given shard positions. */
  begin(name: string, streamArn: string, shards: Record<string, ShardPosition>): MappingPositions {
    const m: MappingPositions = { streamArn, shards };
    this.#doc.mappings[name] = m;
    this.#save();
    return m;
  }

  shard(name: string, shardId: string): ShardPosition | undefined {
    return this.#doc.mappings[name]?.shards[shardId];
  }

  /** Moves a shard's position forward to `sequenceNumber` (never back). */
  advance(name: string, shardId: string, sequenceNumber: string): void {
    const m = this.#doc.mappings[name];
    if (!m) throw new Error(`no positions for ${name}`);
    const current = m.shards[shardId];
    if (current?.after !== undefined && seqCompare(current.after, sequenceNumber) >= 0) return;
    m.shards[shardId] = { ...current, after: sequenceNumber };
    this.#save();
  }

  finish(name: string, shardId: string): void {
    const m = this.#doc.mappings[name];
    if (!m) throw new Error(`no positions for ${name}`);
    m.shards[shardId] = { ...m.shards[shardId], finished: true };
    this.#save();
  }

  /** Forgets the shards the stream no longer has (trimmed after 24 hours). */
  keepOnly(name: string, shardIds: ReadonlySet<string>): void {
    const m = this.#doc.mappings[name];
    if (!m) return;
    const gone = Object.keys(m.shards).filter((id) => !shardIds.has(id));
    if (gone.length === 0) return;
    for (const id of gone) delete m.shards[id];
    this.#save();
  }

  #save(): void {
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#doc, null, 2) + '\n', { mode: 0o600, flush: true });
    renameSync(tmp, this.#file);
  }
}

// ---------------------------------------------------------------------------------------------------
// The pollers

export interface StreamPollerOptions {
  /** DynamoDB Local: its endpoint, and the region and data folder credentials its tables are kept under. */
  endpoint: string;
  region: string;
  credentials: LocalCredentials;
  /** The stack's Lambda runtime. */
  invoker: FunctionInvoker;
  /** The data folder (HUB_DATA_DIR): the positions are kept in STREAM_POSITIONS_FILE there. */
  dataDir: string;
  /** Whether a function exists (mappings to others are not started). */
  hasFunction: (fn: string) => boolean;
  /** The event sources and tables; the catalogue's unless given (tests). */
  eventSources?: Readonly<Record<string, EventSourceSpec>>;
  tables?: Readonly<Record<string, { localName: string }>>;
  log?: (line: string) => void;
  /** How long a shard with nothing new waits before it is read again. */
  idlePollMs?: number;
  /** How often the stream's shards are listed again (new shards after a split or a roll-over). */
  discoverEveryMs?: number;
  /** Waits before retrying a failed batch: the first, doubling up to the longest. */
  retryBackoff?: { firstMs: number; maxMs: number };
  /**
   * The SQS emulator and its queues (by catalogue name, sqs-provision.ts): where a mapping's `onFailure` reports
   * the batches it gives up. Without it, or without the queue a mapping names, they are only logged.
   */
  onFailure?: { connection: SqsConnection; queues: Readonly<Record<string, { url: string }>> };
}

export interface StreamPollers {
  /** The mappings that run. */
  readonly names: readonly string[];
  /** Stops reading and invoking at once: an invocation under way is not waited for, and its batch is delivered again at the next start. */
  stop(): Promise<void>;
}

/** How long a stream keeps a record: a batch failing with retryAttempts -1 is retried until then, as on Lambda. */
const STREAM_RETENTION_MS = 24 * 3600_000;

/** Lambda's payload limit of a synchronous invocation: a batch holds fewer records when they would not fit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 1024;

const DEFAULTS = { idlePollMs: 500, discoverEveryMs: 5_000, retryBackoff: { firstMs: 1_000, maxMs: 30_000 } };

class Stopped extends Error {
  constructor() {
    super('stopped');
  }
}

/** Waits `ms`, or less when the signal aborts (then throws Stopped). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Stopped());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves as `work` does, or throws Stopped as soon as the signal aborts (the work goes on, unheard). */
function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(work).then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

const errorName = (e: unknown) => (e as { name?: string })?.name ?? 'Error';

/** A function's ARN in the failure records of the local stack (its local name, the local account). */
export const localFunctionArn = (fn: string, region: string) => `arn:aws:lambda:${region}:000000000000:function:${localFunctionName(fn)}`;
const shortShard = (shardId: string) => shardId.slice(-8);

function describeOutcome(outcome: InvokeOutcome): string {
  switch (outcome.status) {
    case 'ok':
      return 'returned batch item failures';
    case 'error':
      return `failed with ${outcome.errorType}: ${redactText(outcome.errorMessage).slice(0, 200)}`;
    case 'timeout':
      return `timed out after ${outcome.timeoutSeconds} s`;
    case 'crashed':
      return `crashed: ${redactText(outcome.errorMessage).slice(0, 200)}`;
  }
}

interface MappingDeps {
  name: string;
  spec: StreamEventSourceSpec;
  tableName: string;
  dynamo: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  positions: StreamPositions;
  invoker: FunctionInvoker;
  region: string;
  log: (line: string) => void;
  idlePollMs: number;
  discoverEveryMs: number;
  retryBackoff: { firstMs: number; maxMs: number };
  signal: AbortSignal;
  /** Where the batches given up are reported (the mapping's `onFailure` queue), if it is there. */
  failureDestination?: FailureDestination;
}

interface FailureDestination {
  /** The queue's catalogue name. */
  queue: string;
  send(record: StreamFailureRecord, signal: AbortSignal): Promise<void>;
}

/** One mapping: finds the stream, lists its shards, runs a reader per shard that is ready. */
class StreamMapping {
  readonly #d: MappingDeps;
  readonly #readers = new Map<string, Promise<void>>();
  #streamArn = '';
  #wake: (() => void) | undefined;
  readonly #lastReaderError = new Map<string, string>();

  constructor(deps: MappingDeps) {
    this.#d = deps;
  }

  get #label() {
    return `stream ${this.#d.name} → ${this.#d.spec.function}`;
  }

  async run(): Promise<void> {
    const { signal } = this.#d;
    try {
      this.#streamArn = await this.#findStream();
      let shards = await this.#retrying('list the stream’s shards', async () => {
        const listed = await this.#listShards();
        await this.#initialise(listed);
        return listed;
      });
      for (;;) {
        this.#startReadyReaders(shards);
        await this.#nap();
        shards = await this.#listShardsOrKeep(shards);
      }
    } catch (e) {
      if (!(e instanceof Stopped) && !signal.aborted) this.#d.log(`${this.#label}: stopped by ${errorName(e)}: ${(e as Error).message}`);
    } finally {
      await Promise.all(this.#readers.values());
    }
  }

  /** Waits for the next listing: discoverEveryMs, or less when a shard has just finished. */
  async #nap(): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    await Promise.race([sleep(this.#d.discoverEveryMs, this.#d.signal), woken]);
    this.#wake = undefined;
  }

  /** Runs `work` until it succeeds (one log line for the first failure), every discoverEveryMs. */
  async #retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return await work();
      } catch (e) {
        if (e instanceof Stopped || this.#d.signal.aborted) throw new Stopped();
        if (failures === 0) this.#d.log(`${this.#label}: cannot ${what} (${errorName(e)}: ${(e as Error).message}); trying again`);
      }
      await sleep(this.#d.discoverEveryMs, this.#d.signal);
    }
  }

  async #findStream(): Promise<string> {
    let said = false;
    for (;;) {
      try {
        const out = await untilStopped(this.#d.dynamo.send(new DescribeTableCommand({ TableName: this.#d.tableName }), { abortSignal: this.#d.signal }), this.#d.signal);
        const arn = out.Table?.LatestStreamArn;
        if (arn && out.Table?.StreamSpecification?.StreamEnabled !== false) return arn;
        if (!said) this.#d.log(`${this.#label}: table ${this.#d.tableName} has no stream; waiting for one`);
      } catch (e) {
        if (e instanceof Stopped || this.#d.signal.aborted) throw new Stopped();
        if (!said) this.#d.log(`${this.#label}: cannot describe table ${this.#d.tableName} (${errorName(e)}); trying again`);
      }
      said = true;
      await sleep(this.#d.discoverEveryMs, this.#d.signal);
    }
  }

  /** Every shard of the stream (all pages). */
  async #listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await untilStopped(
        this.#d.streams.send(new DescribeStreamCommand({ StreamArn: this.#streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }), { abortSignal: this.#d.signal }),
        this.#d.signal,
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  async #listShardsOrKeep(previous: Shard[]): Promise<Shard[]> {
    try {
      const shards = await this.#listShards();
      this.#d.positions.keepOnly(this.#d.name, new Set(shards.map((s) => s.ShardId!)));
      return shards;
    } catch (e) {
      if (e instanceof Stopped || this.#d.signal.aborted) throw new Stopped();
      this.#d.log(`${this.#label}: cannot list the stream's shards (${errorName(e)}); trying again`);
      return previous;
    }
  }

  /** The mapping's first start on this stream: TRIM_HORIZON reads everything; LATEST skips what is already there. */
  async #initialise(shards: Shard[]): Promise<void> {
    const { positions, name, spec } = this.#d;
    if (positions.mapping(name, this.#streamArn)) return;
    const begun: Record<string, ShardPosition> = {};
    if (spec.startingPosition === 'LATEST') {
      // Every shard there now counts as read to its end: closed ones are finished, open ones positioned
      // after their last record (kept at once, so a restart before anything new arrives skips them too).
      for (const s of shards) {
        if (s.SequenceNumberRange?.EndingSequenceNumber) begun[s.ShardId!] = { finished: true };
        else {
          const last = await this.#lastSequenceNumber(s.ShardId!);
          begun[s.ShardId!] = last ? { after: last } : {};
        }
      }
    }
    positions.begin(name, this.#streamArn, begun);
  }

  /** The sequence number of the last record an open shard holds now (read from its start). */
  async #lastSequenceNumber(shardId: string): Promise<string | undefined> {
    const { signal, streams } = this.#d;
    const it = await untilStopped(
      streams.send(new GetShardIteratorCommand({ StreamArn: this.#streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }), { abortSignal: signal }),
      signal,
    );
    let iterator = it.ShardIterator;
    let last: string | undefined;
    while (iterator) {
      const out = await untilStopped(streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }), { abortSignal: signal }), signal);
      const records = out.Records ?? [];
      if (records.length === 0) break;
      last = records.at(-1)!.dynamodb!.SequenceNumber!;
      iterator = out.NextShardIterator;
    }
    return last;
  }

  #startReadyReaders(shards: Shard[]): void {
    const listed = new Set(shards.map((s) => s.ShardId!));
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.#readers.has(id) || this.#d.positions.shard(this.#d.name, id)?.finished) continue;
      const parent = shard.ParentShardId;
      const parentDone = !parent || !listed.has(parent) || this.#d.positions.shard(this.#d.name, parent)?.finished === true;
      if (!parentDone) continue;
      const reader = new ShardReader(this.#d, this.#streamArn, id);
      const running = reader.run().then(
        (finished) => {
          this.#readers.delete(id);
          this.#lastReaderError.delete(id);
          if (finished) this.#wake?.();
        },
        (e) => {
          this.#readers.delete(id);
          // Started again at the next listing (not at once: the cause may last); the same cause is said once.
          if (e instanceof Stopped || this.#d.signal.aborted) return;
          const line = `${this.#label}: reader of shard …${shortShard(id)} ended by ${errorName(e)}: ${(e as Error).message}; starting it again`;
          if (this.#lastReaderError.get(id) !== line) this.#d.log(line);
          this.#lastReaderError.set(id, line);
        },
      );
      this.#readers.set(id, running);
    }
  }
}

/** Reads one shard in order and delivers its records in batches. */
class ShardReader {
  readonly #d: MappingDeps;
  readonly #streamArn: string;
  readonly #shardId: string;
  /** Records read and not yet processed, in order. */
  #buffer: StreamApiRecord[] = [];
  /** The last sequence number read into the buffer (where to resume reading when an iterator expires). */
  #lastRead: string | undefined;

  constructor(d: MappingDeps, streamArn: string, shardId: string) {
    this.#d = d;
    this.#streamArn = streamArn;
    this.#shardId = shardId;
  }

  get #label() {
    return `stream ${this.#d.name} → ${this.#d.spec.function} shard …${shortShard(this.#shardId)}`;
  }

  #passes = (r: StreamApiRecord) => passesFilter(r, this.#d.spec.newImageEquals);

  /** Reads until the shard is finished (true) or the poller stops (Stopped). */
  async run(): Promise<boolean> {
    const { signal, spec } = this.#d;
    this.#lastRead = this.#d.positions.shard(this.#d.name, this.#shardId)?.after;
    let iterator: string | undefined;
    try {
      iterator = await this.#iterator();
    } catch (e) {
      if (errorName(e) !== 'ResourceNotFoundException') throw e;
      return this.#gone();
    }
    let ended = false;
    let windowStart: number | undefined;
    const windowMs = spec.maxBatchingWindowSeconds * 1000;
    let readFailures = 0;
    let trimmedInARow = 0;
    for (;;) {
      if (signal.aborted) throw new Stopped();
      let gotNothing = false;
      if (!ended && this.#buffer.filter(this.#passes).length < spec.batchSize) {
        try {
          const out = await untilStopped(this.#d.streams.send(new GetRecordsCommand({ ShardIterator: iterator!, Limit: 1000 }), { abortSignal: signal }), signal);
          readFailures = 0;
          trimmedInARow = 0;
          const records = out.Records ?? [];
          iterator = out.NextShardIterator;
          if (!iterator) ended = true;
          gotNothing = records.length === 0;
          if (records.length > 0) this.#lastRead = records.at(-1)!.dynamodb!.SequenceNumber!;
          this.#buffer.push(...records);
          if (windowStart === undefined && records.some(this.#passes)) windowStart = Date.now();
        } catch (e) {
          if (e instanceof Stopped || signal.aborted) throw new Stopped();
          const name = errorName(e);
          // DynamoDB Local answers an iterator taken on an empty shard with TrimmedDataAccessException once records
          // arrive: a new iterator from the same position reads them.
          if (name === 'ExpiredIteratorException' || (name === 'TrimmedDataAccessException' && trimmedInARow++ === 0)) {
            iterator = await this.#iterator(this.#lastRead);
            continue;
          }
          if (name === 'ResourceNotFoundException') return this.#gone();
          readFailures++;
          if (readFailures === 1) this.#d.log(`${this.#label}: cannot read the stream (${name}: ${(e as Error).message}); trying again`);
          await sleep(Math.min(this.#d.retryBackoff.maxMs, this.#d.idlePollMs * 2 ** Math.min(readFailures, 6)), signal);
          if (readFailures % 5 === 0) iterator = await this.#iterator(this.#lastRead).catch(() => iterator);
          continue;
        }
      }
      const passing = this.#buffer.filter(this.#passes).length;
      const windowOver = windowStart !== undefined && Date.now() - windowStart >= windowMs;
      if (this.#buffer.length > 0 && (passing === 0 || passing >= spec.batchSize || windowOver || ended)) {
        const batch = this.#takeBatch();
        await this.#deliver(batch);
        windowStart = this.#buffer.some(this.#passes) ? Date.now() : undefined;
        continue;
      }
      if (ended && this.#buffer.length === 0) {
        this.#d.positions.finish(this.#d.name, this.#shardId);
        return true;
      }
      if (gotNothing) {
        const wait = windowStart === undefined ? this.#d.idlePollMs : Math.max(0, Math.min(this.#d.idlePollMs, windowStart + windowMs - Date.now()));
        await sleep(wait, signal);
      }
    }
  }

  /** The shard was trimmed away (older than 24 hours) with what it still held: it counts as finished. */
  #gone(): boolean {
    this.#d.log(`${this.#label}: the shard is gone from the stream (trimmed); ${this.#buffer.length} records read but not delivered are dropped`);
    this.#d.positions.finish(this.#d.name, this.#shardId);
    return true;
  }

  /**
   * The buffer's head up to and including its batchSize-th passing record (or all of it), and no more
   * passing records than fit in Lambda's 6 MB invocation payload (at least one).
   */
  #takeBatch(): StreamApiRecord[] {
    let passing = 0;
    let bytes = 0;
    let end = 0;
    while (end < this.#buffer.length && passing < this.#d.spec.batchSize) {
      const r = this.#buffer[end]!;
      if (this.#passes(r)) {
        const size = Buffer.byteLength(JSON.stringify(lambdaStreamRecord(r, this.#streamArn, this.#d.region))) + 1;
        if (passing > 0 && bytes + size > MAX_PAYLOAD_BYTES) break;
        bytes += size;
        passing++;
      }
      end++;
    }
    return this.#buffer.splice(0, end);
  }

  /** An iterator after `sequenceNumber`, or from the shard's start. A position trimmed away reads from the oldest record left. */
  async #iterator(after: string | undefined = this.#lastRead): Promise<string> {
    const { signal } = this.#d;
    const get = async (type: ShardIteratorType, SequenceNumber?: string) => {
      const out = await untilStopped(
        this.#d.streams.send(new GetShardIteratorCommand({ StreamArn: this.#streamArn, ShardId: this.#shardId, ShardIteratorType: type, ...(SequenceNumber ? { SequenceNumber } : {}) }), {
          abortSignal: signal,
        }),
        signal,
      );
      return out.ShardIterator!;
    };
    if (after === undefined) return get('TRIM_HORIZON');
    try {
      return await get('AFTER_SEQUENCE_NUMBER', after);
    } catch (e) {
      if (errorName(e) !== 'TrimmedDataAccessException') throw e;
      this.#d.log(`${this.#label}: the position ${after} is older than the stream keeps: reading from the oldest record left (changes in between are not delivered)`);
      return get('TRIM_HORIZON');
    }
  }

  #checkpoint(record: StreamApiRecord | undefined): void {
    if (!record || this.#d.signal.aborted) return;
    this.#d.positions.advance(this.#d.name, this.#shardId, record.dynamodb!.SequenceNumber!);
  }

  /**
   * Delivers a run of records (the filtered-out ones only move the position) until the function has
   * succeeded for all of them, retrying, bisecting and resuming after partial failures as Lambda does.
   */
  async #deliver(run: StreamApiRecord[]): Promise<void> {
    const { spec, signal } = this.#d;
    let pending = run;
    let attempt = 0;
    for (;;) {
      if (signal.aborted) throw new Stopped();
      const records = pending.filter(this.#passes);
      if (records.length === 0) {
        this.#checkpoint(pending.at(-1));
        return;
      }
      const requestId = randomUUID();
      const outcome = await untilStopped(this.#d.invoker.invoke(spec.function, lambdaStreamEvent(records, this.#streamArn, this.#d.region), requestId), signal);
      if (signal.aborted) throw new Stopped();
      const sequenceNumbers = records.map((r) => r.dynamodb!.SequenceNumber!);
      const verdict = outcome.status === 'ok' ? batchOutcome(outcome.result, sequenceNumbers, spec.reportBatchItemFailures) : { retryFrom: 0 };
      if ('ok' in verdict) {
        this.#checkpoint(pending.at(-1));
        return;
      }
      attempt++;
      const failedRecord = records[verdict.retryFrom]!;
      const at = pending.indexOf(failedRecord);
      const range = `${sequenceNumbers[0]}…${sequenceNumbers.at(-1)}`;
      const partial = outcome.status === 'ok';
      // Everything before the first failed record is done.
      this.#checkpoint(pending[at - 1]);
      pending = pending.slice(at);
      const oldest = pending.find(this.#passes)?.dynamodb?.ApproximateCreationDateTime?.getTime() ?? Date.now();
      const leftTheStream = oldest < Date.now() - STREAM_RETENTION_MS;
      const maxAge = spec.maximumRecordAgeSeconds ?? -1;
      const tooOld = leftTheStream || (maxAge >= 0 && oldest < Date.now() - maxAge * 1000);
      const exhausted = (spec.retryAttempts >= 0 && attempt > spec.retryAttempts) || tooOld;
      const bisect = !partial && spec.bisectBatchOnError && records.length > 1 && !exhausted;
      const wait = Math.min(this.#d.retryBackoff.maxMs, this.#d.retryBackoff.firstMs * 2 ** (attempt - 1));
      const why = leftTheStream ? 'the records have left the stream (24 hours)' : tooOld ? `the records are older than maximumRecordAgeSeconds (${maxAge} s)` : 'retries exhausted';
      const destination = this.#d.failureDestination;
      const skipped = destination ? `they are skipped and reported to the queue ${destination.queue}` : 'they are skipped';
      const next = exhausted ? `${why}: ${skipped}` : bisect ? 'splitting the batch in two' : `retrying from ${failedRecord.dynamodb!.SequenceNumber} in ${wait} ms (attempt ${attempt + 1})`;
      this.#d.log(`${this.#label}: invocation ${requestId} ${describeOutcome(outcome)} for ${records.length} records (${range}); ${next}`);
      if (exhausted) {
        if (destination) {
          const failure = streamFailureRecord({
            requestId,
            functionArn: localFunctionArn(spec.function, this.#d.region),
            condition: tooOld ? 'RecordAgeExceeded' : 'RetryAttemptsExhausted',
            invokeCount: attempt,
            functionError: outcome.status !== 'ok',
            shardId: this.#shardId,
            streamArn: this.#streamArn,
            records: pending.filter(this.#passes).map((r) => ({ sequenceNumber: r.dynamodb!.SequenceNumber!, ...(r.dynamodb?.ApproximateCreationDateTime ? { arrivedAt: r.dynamodb.ApproximateCreationDateTime } : {}) })),
            at: new Date(),
          });
          await this.#report(destination, failure);
        }
        this.#checkpoint(pending.at(-1));
        return;
      }
      if (bisect) {
        const [first, second] = this.#halves(pending);
        await this.#deliver(first);
        await this.#deliver(second);
        return;
      }
      await sleep(wait, signal);
    }
  }

  /** Sends a failure record to the mapping's on-failure queue, trying again (with back-off) until it is taken or the poller stops. */
  async #report(destination: FailureDestination, record: StreamFailureRecord): Promise<void> {
    const { signal, retryBackoff } = this.#d;
    for (let failures = 0; ; failures++) {
      if (signal.aborted) throw new Stopped();
      try {
        await untilStopped(destination.send(record, signal), signal);
        return;
      } catch (e) {
        if (e instanceof Stopped || signal.aborted) throw new Stopped();
        if (failures === 0) this.#d.log(`${this.#label}: cannot report the batch given up to the queue ${destination.queue} (${errorName(e)}: ${(e as Error).message}); trying again`);
        await sleep(Math.min(retryBackoff.maxMs, retryBackoff.firstMs * 2 ** Math.min(failures, 6)), signal);
      }
    }
  }

  /** A run split in two with half of its passing records in each. */
  #halves(run: StreamApiRecord[]): [StreamApiRecord[], StreamApiRecord[]] {
    const half = Math.ceil(run.filter(this.#passes).length / 2);
    let passing = 0;
    let cut = 0;
    while (cut < run.length && passing < half) {
      if (this.#passes(run[cut]!)) passing++;
      cut++;
    }
    return [run.slice(0, cut), run.slice(cut)];
  }
}

/**
 * Starts a poller for each stream event source whose function exists; returns at once (each finds its
 * stream, and waits for the table when it is not there yet).
 */
export function startStreamPollers(options: StreamPollerOptions): StreamPollers {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const sources = options.eventSources ?? catalogueEventSources;
  const tableSpecs = options.tables ?? catalogueTables;
  const controller = new AbortController();
  const positions = new StreamPositions(options.dataDir);
  const clientConfig = awsClientConfig({ endpoint: options.endpoint, region: options.region, credentials: options.credentials });
  const dynamo = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const sqs = options.onFailure ? new SQSClient(localSqsClientConfig(options.onFailure.connection)) : undefined;
  const destinationOf = (name: string, source: StreamEventSourceSpec): FailureDestination | undefined => {
    if (!source.onFailure) return undefined;
    const url = options.onFailure?.queues[source.onFailure]?.url;
    if (!sqs || !url) {
      log(`stream ${name}: its on-failure queue ${source.onFailure} is not there: batches given up are only logged`);
      return undefined;
    }
    return {
      queue: source.onFailure,
      send: async (record, signal) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(record) }), { abortSignal: signal });
      },
    };
  };
  const names: string[] = [];
  const running: Promise<void>[] = [];
  for (const [name, source] of Object.entries(sources)) {
    if (source.type !== 'dynamodb-stream' || !options.hasFunction(source.function)) continue;
    const table = tableSpecs[source.table];
    if (!table) {
      log(`stream ${name}: no table ${source.table} in the catalogue; not started`);
      continue;
    }
    names.push(name);
    const failureDestination = destinationOf(name, source);
    const mapping = new StreamMapping({
      ...(failureDestination ? { failureDestination } : {}),
      name,
      spec: source,
      tableName: table.localName,
      dynamo,
      streams,
      positions,
      invoker: options.invoker,
      region: options.region,
      log,
      idlePollMs: options.idlePollMs ?? DEFAULTS.idlePollMs,
      discoverEveryMs: options.discoverEveryMs ?? DEFAULTS.discoverEveryMs,
      retryBackoff: options.retryBackoff ?? DEFAULTS.retryBackoff,
      signal: controller.signal,
    });
    running.push(mapping.run());
  }
  let stopping: Promise<void> | undefined;
  return {
    names,
    stop() {
      stopping ??= (async () => {
        controller.abort();
        await Promise.all(running);
        dynamo.destroy();
        streams.destroy();
        sqs?.destroy();
      })();
      return stopping;
    },
  };
}
