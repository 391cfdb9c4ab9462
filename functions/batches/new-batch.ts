/** A new court batch, waiting for its upload: its id, and what the court declared. */
import { randomBytes } from 'node:crypto';
import type { CreateBatch } from '../../contracts/batches.js';
import type { Batch } from '../../shared/batch/batch-model.js';
import { uploadKey } from '../../shared/batch/s3-upload-url.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `bat_` and 26 base32 characters of 128 random bits (contracts/batches.ts BATCH_ID_PATTERN): not guessable, never reused. */
export function newBatchId(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(17); // 136 bits: 26 characters of 5 bits need 130
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return `bat_${out}`;
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
