/**
 * The ingest of a court batch (API.md "Court batches"): the upload is read as
 * a stream from the checkpoint's byte offset, cut into rows on the raw bytes,
 * and pushed in chunks through the same path as POST /v1/submissions
 * (shared/ingest/submit.ts), as the court that created the batch.
 *
 * Exactly once, whatever crashes:
 * - each chunk is pushed with the request key `batch:<id>:<chunk offset>`: a
 *   chunk pushed again after a crash finds its own changes in the records'
 *   applied-requests ledger and reports the statuses the first attempt had,
 *   writing nothing again;
 * - its rejected rows go to a reject part keyed by the same offset (pushed
 *   again, it is replaced, never doubled);
 * - then the checkpoint (offset, line, counts, parts) advances, on condition
 *   of the previous offset and of this worker's lease.
 * So a chunk counts once, in the checkpoint that follows it.
 *
 * One worker at a time holds the batch's lease; another invocation exits
 * quietly. A worker with less than `marginMs` left after a chunk releases the
 * lease and asks to be continued; one that died is continued by the sweep
 * (sweep-batches.ts) once its lease has expired.
 */
import { randomUUID } from 'node:crypto';
import { pushKind, type PushKindSpec } from '../../contracts/kinds.js';
import type { FieldError } from '../http/errors.js';
import { applySubmission, prepareSubmission, readAhead, type PreparedSubmission, type SubmitDeps } from '../ingest/submit.js';
import { addCounts, isFinished, NO_COUNTS, type Batch, type BatchCounts, type BatchObject, type Checkpoint } from './batch-model.js';
import { readCsvHeader } from './csv-header.js';
import { REASONS } from './failure-reasons.js';
import { byteOrderMarkProblem, formatProblem } from './format-probe.js';
import { ObjectChangedError, type BatchStore, type Continuer, type ObjectSource, type RejectedRow, type RejectSink } from './ports.js';
import { chunkRows } from './row-chunks.js';
import { MAX_ROW_BYTES, readRows, type RawRow } from './row-reader.js';
import { rowRecord, type RowContext, type RowRecord } from './row-record.js';

export interface IngestLimits {
  /** Rows pushed (and checkpointed) together. */
  chunkRows: number;
  /** A chunk closes once its rows reach this many bytes. */
  chunkBytes: number;
  /** How long a lease lasts without renewal; renewed at every checkpoint. */
  leaseMs: number;
  /** Below this much time left after a chunk, the worker stops and asks to be continued. */
  marginMs: number;
  maxRowBytes: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  chunkRows: 500,
  chunkBytes: 1024 * 1024,
  leaseMs: 3 * 60_000,
  marginMs: 90_000,
  maxRowBytes: MAX_ROW_BYTES,
};

export interface IngestDeps {
  store: BatchStore;
  objects: ObjectSource;
  rejects: RejectSink;
  continuer: Continuer;
  /** The push path's own dependencies: records store, cipher, hasher, clock. */
  push: Omit<SubmitDeps, 'requestKey' | 'signal'>;
  /** Milliseconds this invocation has left (Lambda: context.getRemainingTimeInMillis()). */
  remainingMs: () => number;
  now?: () => number;
  /** This worker's lease owner id (a random one by default). */
  owner?: string;
  /** The push specification of a kind (PUSH_KINDS by default). */
  kinds?: (kind: string) => PushKindSpec | undefined;
  limits?: Partial<IngestLimits>;
}

export type IngestOutcome =
  | { outcome: 'completed'; counts: BatchCounts; rejectsKey?: string }
  | { outcome: 'failed'; reason: string; counts: BatchCounts }
  /** Out of time: the checkpoint is saved and a continuation asked for. */
  | { outcome: 'continued'; checkpoint: Checkpoint }
  /** Another worker holds the lease. */
  | { outcome: 'busy' }
  /** The lease was lost on the way (another worker took over): this one stops, the other goes on. */
  | { outcome: 'lost-lease' }
  /** Already completed or failed: nothing to do. */
  | { outcome: 'finished' }
  | { outcome: 'not-found' }
  /** Waiting, and nothing uploaded yet. */
  | { outcome: 'no-upload' };

class LostLease extends Error {}

/** A chunk ready to push: its raw rows, the records parsed from them, the push prepared. */
interface Staged {
  chunk: RawRow[];
  rows: RowRecord[];
  submission: PreparedSubmission;
}

export async function ingestBatch(batchId: string, deps: IngestDeps): Promise<IngestOutcome> {
  const now = deps.now ?? Date.now;
  const owner = deps.owner ?? randomUUID();
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const found = await deps.store.get(batchId);
  if (!found) return { outcome: 'not-found' };
  if (isFinished(found.status)) return { outcome: 'finished' };
  const batch = await deps.store.takeLease(batchId, owner, now() + limits.leaseMs, now());
  if (!batch) return { outcome: 'busy' };
  try {
    return await new Ingest(batch, owner, deps, limits, now).run();
  } catch (e) {
    if (e instanceof LostLease) return { outcome: 'lost-lease' };
    // Let another worker (a retry, the sweep) take over at once.
    await deps.store.releaseLease(batchId, owner).catch(() => undefined);
    throw e;
  }
}

class Ingest {
  #checkpoint: Checkpoint;
  #stopping = false;

  constructor(
    private readonly batch: Batch,
    private readonly owner: string,
    private readonly deps: IngestDeps,
    private readonly limits: IngestLimits,
    private readonly now: () => number,
  ) {
    this.#checkpoint = batch.checkpoint ?? { offset: 0, line: 1, counts: NO_COUNTS, rejectParts: [] };
  }

  async run(): Promise<IngestOutcome> {
    const { batch, deps } = this;
    const spec = (deps.kinds ?? pushKind)(batch.kind);
    if (!spec) return this.#fail(REASONS.unknownKind(batch.kind));
    // Checked when the batch was created; checked again, for a key whose kinds were changed since.
    if (!batch.source.kinds.includes(batch.kind)) return this.#fail(REASONS.kindNotAllowed(batch.kind, batch.source.sourceId));
    let object = batch.object;
    if (batch.status === 'waiting' || !object) {
      object = await deps.objects.stat(batch.objectKey);
      if (!object) {
        await deps.store.releaseLease(batch.id, this.owner);
        return { outcome: 'no-upload' };
      }
      this.#checkpoint = { offset: 0, line: 1, counts: NO_COUNTS, rejectParts: [] };
      this.#must(await deps.store.begin(batch.id, this.owner, object, this.#checkpoint));
    }
    if (object.size === 0) return this.#fail(REASONS.emptyFile);
    try {
      return await this.#read(spec, object);
    } catch (e) {
      if (e instanceof ObjectChangedError) return this.#fail(REASONS.replaced(this.#checkpoint.line));
      throw e;
    }
  }

  async #read(spec: PushKindSpec, object: BatchObject): Promise<IngestOutcome> {
    const { batch, deps, limits } = this;
    const start = this.#checkpoint;
    const stream = deps.objects.read(batch.objectKey, start.offset, object.etag);
    const rows = readRows(stream, { format: batch.format, encoding: batch.encoding, offset: start.offset, line: start.line, maxRowBytes: limits.maxRowBytes });
    try {
      if (batch.format === 'csv' && !this.#checkpoint.header) {
        const first = await rows.next();
        if (first.done) return await this.#fail(REASONS.noRows);
        const header = readCsvHeader(spec, first.value, batch.encoding);
        if ('reason' in header) return await this.#fail(header.reason);
        await this.#save({ ...this.#checkpoint, offset: first.value.nextOffset, line: first.value.line + first.value.lines, header: header.columns });
      }
      const context: RowContext = { spec, format: batch.format, encoding: batch.encoding, header: this.#checkpoint.header };
      const chunks = chunkRows(rows, { maxRows: limits.chunkRows, maxBytes: limits.chunkBytes });
      // One chunk ahead: the next is read, parsed, prepared and its heads read while this one is written.
      const stageNext = (): Promise<Staged | undefined> => chunks.next().then((r) => (r.done ? undefined : this.#stage(spec, r.value, context)));
      let next = stageNext();
      for (;;) {
        const staged = await next;
        if (!staged) break;
        next = stageNext();
        // Settled before any return below: nothing of this worker runs on once it has given the batch up.
        const settled = next.then(
          () => undefined,
          () => undefined,
        );
        const failed = await this.#chunk(spec, staged).catch(async (e: unknown) => {
          await settled;
          throw e;
        });
        if (failed) {
          await settled;
          return failed;
        }
        if (this.#stopping) {
          await settled;
          // The checkpoint was saved with the lease released: the continuation may take it at once.
          await deps.continuer.continueLater(batch.id);
          return { outcome: 'continued', checkpoint: this.#checkpoint };
        }
      }
    } finally {
      await rows.return(undefined);
    }
    return this.#finish();
  }

  /** A chunk's rows parsed and prepared as a push, with its stored heads read ahead: nothing written. */
  async #stage(spec: PushKindSpec, chunk: RawRow[], context: RowContext): Promise<Staged> {
    const rows = chunk.map((row) => rowRecord(row, context));
    const before = new Map<number, FieldError[]>();
    rows.forEach((r, i) => r.errors && before.set(i, r.errors));
    const push = this.deps.push;
    return { chunk, rows, submission: await readAhead(await prepareSubmission(spec, this.batch.source, rows.map((r) => r.record), push, before), push.store) };
  }

  /** Pushes one chunk, stores its rejected rows, advances the checkpoint. A failed batch when the file is not what was declared. */
  async #chunk(spec: PushKindSpec, { chunk, rows, submission }: Staged): Promise<IngestOutcome | undefined> {
    const { batch, deps } = this;
    const previous = this.#checkpoint;
    if (previous.counts.total === 0) {
      const problem = byteOrderMarkProblem(chunk[0]!, batch.encoding) ?? formatProblem(rows.flatMap((r) => (r.probe ? [r.probe] : [])), batch.format, batch.encoding);
      if (problem) return this.#fail(problem);
    }
    const result = await applySubmission(spec, submission, { ...deps.push, requestKey: `batch:${batch.id}:${previous.offset}` });
    const rejected: RejectedRow[] = result.results.flatMap((r) => {
      if (r.status !== 'rejected') return [];
      const row = rows[r.index]!;
      return [{ line: row.line, reasons: r.errors ?? [], ...row.shown() }];
    });
    if (rejected.length > 0) await deps.rejects.putPart(batch.id, previous.offset, rejected);
    const last = chunk[chunk.length - 1]!;
    const counts = addCounts(previous.counts, {
      total: chunk.length,
      accepted: result.accepted,
      updated: result.updated,
      duplicates: result.duplicates,
      rejected: result.rejected,
    });
    const next: Checkpoint = {
      ...previous,
      offset: last.nextOffset,
      line: last.line + last.lines,
      counts,
      rejectParts: rejected.length > 0 ? [...previous.rejectParts, previous.offset] : previous.rejectParts,
    };
    // Out of time: this checkpoint also releases the lease, for the continuation to take.
    this.#stopping = deps.remainingMs() < this.limits.marginMs;
    await this.#save(next, !this.#stopping);
    return undefined;
  }

  async #finish(): Promise<IngestOutcome> {
    const { batch, deps } = this;
    const { counts, rejectParts } = this.#checkpoint;
    if (counts.total === 0) return this.#fail(batch.format === 'csv' && this.#checkpoint.header ? REASONS.noRowsAfterHeader : REASONS.noRows);
    const rejectsKey = rejectParts.length > 0 ? await deps.rejects.concatenate(batch.id, rejectParts) : undefined;
    this.#must(await deps.store.complete(batch.id, this.owner, counts, rejectsKey, new Date(this.now()).toISOString()));
    return { outcome: 'completed', counts, ...(rejectsKey ? { rejectsKey } : {}) };
  }

  async #save(next: Checkpoint, keepLease = true): Promise<void> {
    const until = keepLease ? this.now() + this.limits.leaseMs : undefined;
    this.#must(await this.deps.store.saveCheckpoint(this.batch.id, this.owner, this.#checkpoint.offset, next, until));
    this.#checkpoint = next;
  }

  async #fail(reason: string): Promise<IngestOutcome> {
    this.#must(await this.deps.store.fail(this.batch.id, this.owner, reason, new Date(this.now()).toISOString()));
    return { outcome: 'failed', reason, counts: this.#checkpoint.counts };
  }

  #must(result: 'ok' | 'lost'): void {
    if (result === 'lost') throw new LostLease();
  }
}

