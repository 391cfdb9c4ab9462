/**
 * An ingest of court batches wired to in-memory ports (no AWS): one records
 * store (the push path's own, conditional), object source, reject sink,
 * continuer and batch store, a lease clock the test moves, and the real
 * cipher and hasher over a local keyring in a temp folder (removed by
 * `close`). Each worker is an `ingestBatch` call with its own owner id.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Batch, BatchEncoding, BatchFormat } from '../../shared/batch/batch-model.js';
import { ingestBatch, type IngestDeps, type IngestLimits, type IngestOutcome } from '../../shared/batch/ingest-batch.js';
import { sweepBatches } from '../../shared/batch/sweep-batches.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { ensureLocalKeys, LocalKeyring } from '../../shared/crypto/local-keyring.js';
import type { RecordsStore } from '../../shared/store/records-store.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { generateBatch, type BatchManifest, type BatchOptions } from './batch-sample/index.js';
import { MemoryBatchStore, MemoryObjectSource, MemoryRejectSink, RecordingContinuer } from './memory-batch-ports.js';
import { MemoryRecordsStore } from './memory-records-store.js';

export const COURT: KeyPrincipal = {
  sourceId: 'bj-1zy',
  name: '北京市第一中级人民法院',
  uscc: '121200004013590816',
  role: 'court',
  kinds: ['dishonest-debtor', 'license'],
};

/** The lease clock starts here (any instant: leases compare it with itself only). */
const CLOCK_START = 1_000_000_000_000;

export class BatchHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'hub-batch-test-'));
  readonly records = new MemoryRecordsStore();
  readonly objects: MemoryObjectSource;
  readonly rejects = new MemoryRejectSink();
  readonly continuer = new RecordingContinuer();
  clock = CLOCK_START;
  readonly store = new MemoryBatchStore();
  readonly cipher: FieldCipher;
  readonly hasher: LookupHasher;
  #workers = 0;

  constructor(options: { pieceSize?: number } = {}) {
    this.objects = new MemoryObjectSource(options.pieceSize);
    ensureLocalKeys(this.dir);
    const keyring = new LocalKeyring(this.dir);
    this.cipher = new FieldCipher(keyring);
    this.hasher = new LookupHasher(keyring);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A waiting batch; with `file`, its upload is there. */
  addBatch(id: string, declared: { kind?: Batch['kind']; format: BatchFormat; encoding?: BatchEncoding }, file?: Buffer | string): Batch {
    const batch: Batch = {
      id,
      kind: declared.kind ?? 'dishonest-debtor',
      format: declared.format,
      encoding: declared.encoding ?? 'utf-8',
      source: COURT,
      objectKey: `uploads/${id}`,
      status: 'waiting',
      createdAt: new Date(this.clock).toISOString(),
      expiresAt: new Date(this.clock + 3_600_000).toISOString(),
    };
    this.store.add(batch);
    if (file !== undefined) this.objects.put(batch.objectKey, file);
    return batch;
  }

  nextOwner(): string {
    return `worker-${++this.#workers}`;
  }

  deps(options: { owner?: string; remainingMs?: () => number; limits?: Partial<IngestLimits>; records?: RecordsStore } = {}): IngestDeps {
    return {
      store: this.store,
      objects: this.objects,
      rejects: this.rejects,
      continuer: this.continuer,
      push: { store: options.records ?? this.records, cipher: this.cipher, hasher: this.hasher },
      remainingMs: options.remainingMs ?? (() => 10 * 60_000),
      now: () => this.clock,
      owner: options.owner ?? this.nextOwner(),
      limits: { chunkRows: 50, ...options.limits },
    };
  }

  ingest(batchId: string, options: Parameters<BatchHarness['deps']>[0] = {}): Promise<IngestOutcome> {
    return ingestBatch(batchId, this.deps(options));
  }

  sweep() {
    return sweepBatches({ store: this.store, objects: this.objects, continuer: this.continuer, now: () => this.clock });
  }

  batch(id: string): Batch {
    return this.store.batches.get(id)!;
  }

  /** What the records store holds, in a form two runs can be compared by. */
  snapshot() {
    return [...this.records.heads.values()]
      // The fields, not the content hash: it covers the certificate's keyed hash, which differs between two harnesses' keys.
      .map((h) => ({ id: h.id, version: h.version, fields: fingerprint(h.fields), status: h.fields.status, versions: this.records.versions.get(h.id)?.length ?? 0 }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

const fingerprint = (fields: Record<string, string>) => createHash('sha256').update(JSON.stringify(Object.entries(fields).sort())).digest('base64url');

/** A sample 失信被执行人 batch file, whole, with its manifest. */
export async function sampleFile(options: BatchOptions): Promise<{ bytes: Buffer; manifest: BatchManifest }> {
  const { stream, manifest } = generateBatch(options);
  const parts: Buffer[] = [];
  for await (const part of stream as Readable) parts.push(part as Buffer);
  return { bytes: Buffer.concat(parts), manifest: await manifest };
}
