/**
 * The batch ingest's ports in memory (shared/batch/ports.ts), with the
 * conditional semantics the DynamoDB and S3 adapters have: leases taken and
 * renewed only by their owner or once expired, checkpoints saved only over
 * the previous offset, reads refused when the object's ETag changed.
 *
 * A crash is simulated by a hook that throws `Crash` and marks the worker
 * dead: like a SIGKILLed process, a dead worker makes no further call (its
 * lease stays until it expires).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { Batch, BatchCounts, BatchObject, Checkpoint } from '../../shared/batch/batch-model.js';
import { ObjectChangedError, type BatchStore, type Conditional, type Continuer, type ObjectSource, type RejectedRow, type RejectSink } from '../../shared/batch/ports.js';

export class Crash extends Error {
  override name = 'Crash';
}

export class MemoryObjectSource implements ObjectSource {
  readonly objects = new Map<string, { bytes: Buffer; etag: string }>();
  /** Offsets of every read, in order. */
  readonly reads: number[] = [];

  /** `pieceSize`: how many bytes each piece of a read stream holds (S3 gives about 64 KB). */
  constructor(private readonly pieceSize = 64 * 1024) {}

  put(key: string, bytes: Buffer | string): BatchObject {
    const body = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.objects.set(key, { bytes: body, etag });
    return { etag, size: body.length };
  }

  async stat(key: string): Promise<BatchObject | undefined> {
    const object = this.objects.get(key);
    return object && { etag: object.etag, size: object.bytes.length };
  }

  async *read(key: string, offset: number, etag: string): AsyncIterable<Uint8Array> {
    this.reads.push(offset);
    const object = this.objects.get(key);
    if (!object) throw new Error(`NoSuchKey: ${key}`);
    if (object.etag !== etag) throw new ObjectChangedError(`${key}: ETag ${object.etag}, expected ${etag}`);
    for (let at = offset; at < object.bytes.length; at += this.pieceSize) yield object.bytes.subarray(at, at + this.pieceSize);
  }
}

/** An object source over files (for runs too large to hold in memory): the key is the path. */
export class FileObjectSource implements ObjectSource {
  async stat(path: string): Promise<BatchObject | undefined> {
    const s = statSync(path, { throwIfNoEntry: false });
    return s && { etag: `"${s.size}-${s.mtimeMs}"`, size: s.size };
  }

  async *read(path: string, offset: number, etag: string): AsyncIterable<Uint8Array> {
    if ((await this.stat(path))?.etag !== etag) throw new ObjectChangedError(path);
    yield* createReadStream(path, { start: offset, highWaterMark: 64 * 1024 });
  }
}

export class MemoryRejectSink implements RejectSink {
  readonly parts = new Map<string, Buffer>();
  readonly objects = new Map<string, Buffer>();
  partWrites = 0;

  async putPart(batchId: string, chunkOffset: number, rows: readonly RejectedRow[]): Promise<void> {
    this.partWrites++;
    this.parts.set(`${batchId}/${chunkOffset}`, Buffer.from(rows.map((r) => JSON.stringify(r) + '\n').join('')));
  }

  async concatenate(batchId: string, chunkOffsets: readonly number[]): Promise<string> {
    const key = `rejects/${batchId}.ndjson`;
    this.objects.set(key, Buffer.concat(chunkOffsets.map((o) => this.parts.get(`${batchId}/${o}`) ?? Buffer.alloc(0))));
    return key;
  }

  /** The rejected rows of a concatenated object. */
  rows(key: string): RejectedRow[] {
    const text = this.objects.get(key)?.toString('utf8') ?? '';
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as RejectedRow);
  }
}

export class RecordingContinuer implements Continuer {
  readonly asked: string[] = [];
  async continueLater(batchId: string): Promise<void> {
    this.asked.push(batchId);
  }
}

type Hook = (batchId: string, owner: string, next: Checkpoint) => void;

export class MemoryBatchStore implements BatchStore {
  readonly batches = new Map<string, Batch>();
  /** Workers that crashed: any call they make fails (they are gone). */
  readonly dead = new Set<string>();
  /** Runs before a checkpoint is saved (throw Crash to die before it). */
  beforeCheckpoint?: Hook;
  /** Runs after a checkpoint is saved (throw Crash to die just after it). */
  afterCheckpoint?: Hook;
  checkpointsSaved = 0;

  /** Kills `owner` with a Crash: the caller throws what this returns. */
  crash(owner: string): Crash {
    this.dead.add(owner);
    return new Crash(`worker ${owner} crashed`);
  }

  add(batch: Batch): void {
    this.batches.set(batch.id, structuredClone(batch));
  }

  #alive(owner: string | undefined): void {
    if (owner !== undefined && this.dead.has(owner)) throw new Crash(`worker ${owner} is dead`);
  }

  #held(batch: Batch | undefined, owner: string): batch is Batch {
    return batch !== undefined && batch.lease?.owner === owner;
  }

  async get(batchId: string): Promise<Batch | undefined> {
    const batch = this.batches.get(batchId);
    return batch && structuredClone(batch);
  }

  async takeLease(batchId: string, owner: string, until: number, now: number): Promise<Batch | undefined> {
    this.#alive(owner);
    const batch = this.batches.get(batchId);
    if (!batch || (batch.status !== 'waiting' && batch.status !== 'processing')) return undefined;
    if (batch.lease && batch.lease.owner !== owner && batch.lease.until > now) return undefined;
    batch.lease = { owner, until };
    return structuredClone(batch);
  }

  async begin(batchId: string, owner: string, object: BatchObject, checkpoint: Checkpoint): Promise<Conditional> {
    this.#alive(owner);
    const batch = this.batches.get(batchId);
    if (!this.#held(batch, owner) || batch.status !== 'waiting') return 'lost';
    Object.assign(batch, { status: 'processing', object, checkpoint: structuredClone(checkpoint) });
    return 'ok';
  }

  async saveCheckpoint(batchId: string, owner: string, previousOffset: number, next: Checkpoint, leaseUntil: number | undefined): Promise<Conditional> {
    this.#alive(owner);
    this.beforeCheckpoint?.(batchId, owner, next);
    const batch = this.batches.get(batchId);
    if (!this.#held(batch, owner) || batch.status !== 'processing' || batch.checkpoint?.offset !== previousOffset) return 'lost';
    batch.checkpoint = structuredClone(next);
    if (leaseUntil === undefined) delete batch.lease;
    else batch.lease = { owner, until: leaseUntil };
    this.checkpointsSaved++;
    this.afterCheckpoint?.(batchId, owner, next);
    return 'ok';
  }

  async releaseLease(batchId: string, owner: string): Promise<void> {
    this.#alive(owner);
    const batch = this.batches.get(batchId);
    if (this.#held(batch, owner)) delete batch.lease;
  }

  async complete(batchId: string, owner: string, counts: BatchCounts, rejectsKey: string | undefined, at: string): Promise<Conditional> {
    this.#alive(owner);
    const batch = this.batches.get(batchId);
    if (!this.#held(batch, owner) || batch.status !== 'processing') return 'lost';
    batch.status = 'completed';
    batch.checkpoint = { ...batch.checkpoint!, counts: { ...counts } };
    if (rejectsKey) batch.rejectsKey = rejectsKey;
    batch.finishedAt = at;
    delete batch.lease;
    return 'ok';
  }

  async fail(batchId: string, owner: string | undefined, reason: string, at: string): Promise<Conditional> {
    this.#alive(owner);
    const batch = this.batches.get(batchId);
    if (!batch) return 'lost';
    const allowed =
      owner === undefined
        ? batch.status === 'waiting' && !(batch.lease && batch.lease.until > Date.parse(at))
        : this.#held(batch, owner) && (batch.status === 'waiting' || batch.status === 'processing');
    if (!allowed) return 'lost';
    Object.assign(batch, { status: 'failed', reason, finishedAt: at });
    delete batch.lease;
    return 'ok';
  }

  async *listUnfinished(): AsyncIterable<Batch> {
    for (const batch of this.batches.values()) if (batch.status === 'waiting' || batch.status === 'processing') yield structuredClone(batch);
  }
}
