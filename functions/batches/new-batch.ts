/** A new court batch, waiting for its upload: its id, and what the court declared. */
import { randomBytes } from 'node:crypto';
import type { CreateBatch } from '../../contracts/batches.js';
import type { Batch } from '../../shared/batch/batch-model.js';
import { uploadKey } from '../../shared/batch/s3-upload-url.js';
import { base32 } from '../../shared/domain/base32.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';

/** `bat_` and 26 base32 characters of 128 random bits (contracts/batches.ts BATCH_ID_PATTERN): not guessable, never reused. */
export function newBatchId(random: (n: number) => Buffer = randomBytes): string {
  return `bat_${base32(random(17), 26)}`; // 136 bits: 26 characters of 5 bits need 130
}

/** The batch as it is stored when opened: waiting, its upload expected at uploads/<id> until `now` + the URL's life. */
export function openBatch(id: string, source: KeyPrincipal, declared: CreateBatch, now: Date, urlSeconds: number): Batch {
  return {
    id,
    kind: declared.kind,
    format: declared.format,
    encoding: declared.encoding,
    source: { sourceId: source.sourceId, name: source.name, uscc: source.uscc, role: source.role, kinds: [...source.kinds] },
    objectKey: uploadKey(id),
    status: 'waiting',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + urlSeconds * 1000).toISOString(),
  };
}
