/**
 * Keyring for the local stack: a master key and a lookup key kept as files
 * (mode 0600) in a folder of HUB_DATA_DIR. Data keys are wrapped with the
 * master key by AES-256-GCM, as KMS would wrap them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataKey, Keyring } from './keyring.js';

const MASTER = 'master.key';
const LOOKUP = 'lookup.key';
const WRAP_AAD = Buffer.from('credit-hub:data-key');

/** Creates the key files if they are missing; never overwrites one. */
export function ensureLocalKeys(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of [MASTER, LOOKUP]) {
    const path = join(dir, name);
    if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
}

function readKey(dir: string, name: string): Buffer {
  const key = Buffer.from(readFileSync(join(dir, name), 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`key file ${name} in ${dir} does not hold a 32-byte key`);
  return key;
}

export class LocalKeyring implements Keyring {
  readonly #master: Buffer;
  readonly #lookup: Buffer;

  constructor(dir: string) {
    this.#master = readKey(dir, MASTER);
    this.#lookup = readKey(dir, LOOKUP);
  }

  async generateDataKey(): Promise<DataKey> {
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#master, iv);
    cipher.setAAD(WRAP_AAD);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { plaintext, wrapped: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  }

  async unwrapDataKey(wrapped: Buffer): Promise<Buffer> {
    const decipher = createDecipheriv('aes-256-gcm', this.#master, wrapped.subarray(0, 12));
    decipher.setAAD(WRAP_AAD);
    decipher.setAuthTag(wrapped.subarray(12, 28));
    return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
  }

  async lookupKey(): Promise<Buffer> {
    return this.#lookup;
  }
}
