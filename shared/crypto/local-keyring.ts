/**
 * Keyring for the local stack: a master key and the lookup keys kept as files
 * (mode 0600) in a folder of HUB_DATA_DIR (mode 0700). Data keys are wrapped
 * with the master key by AES-256-GCM, as KMS would wrap them.
 *
 * One file per version of the lookup key (lookup-hash.ts): `lookup.key` is
 * version 1 (the file data folders made before versions already have), and
 * `lookup-v<N>.key` version N. A version whose file is missing cannot be used:
 * a retired key is retired by deleting its file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IV_BYTES, KEY_BYTES, open, seal, TAG_BYTES } from './aes-gcm.js';
import type { DataKey, Keyring } from './keyring.js';
import { assertLookupKeyVersion } from './lookup-hash.js';

const MASTER = 'master.key';
const WRAP_AAD = Buffer.from('credit-hub:data-key');
/** A wrapped data key: IV, tag, then the 32-byte key encrypted. */
const WRAPPED_BYTES = IV_BYTES + TAG_BYTES + KEY_BYTES;

/** The file holding version `version` of the lookup key. */
export function lookupKeyFile(version: number): string {
  return assertLookupKeyVersion(version) === 1 ? 'lookup.key' : `lookup-v${version}.key`;
}

const LOOKUP_FILE = /^lookup(?:-v([1-9][0-9]*))?\.key$/;

/**
 * Creates the folder (0700), the master key and the lookup key of `lookupVersion`
 * (default 1) if they are missing; never overwrites a key.
 */
export function ensureLocalKeys(dir: string, lookupVersion = 1): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of [MASTER, lookupKeyFile(lookupVersion)]) {
    const path = join(dir, name);
    if (!existsSync(path)) writeFileSync(path, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
}

function readKey(dir: string, name: string): Buffer {
  const key = Buffer.from(readFileSync(join(dir, name), 'utf8').trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`key file ${name} in ${dir} does not hold a ${KEY_BYTES}-byte key`);
  return key;
}

export class LocalKeyring implements Keyring {
  readonly #dir: string;
  readonly #master: Buffer;
  /** Every lookup key file of the folder, by version, read (and checked) at start. */
  readonly #lookup = new Map<number, Buffer>();

  constructor(dir: string) {
    this.#dir = dir;
    this.#master = readKey(dir, MASTER);
    for (const name of readdirSync(dir)) {
      const match = LOOKUP_FILE.exec(name);
      if (!match) continue;
      const version = match[1] === undefined ? 1 : Number(match[1]);
      if (name !== lookupKeyFile(version)) continue; // lookup-v1.key: version 1 lives in lookup.key
      this.#lookup.set(version, readKey(dir, name));
    }
  }

  async generateDataKey(): Promise<DataKey> {
    const plaintext = randomBytes(KEY_BYTES);
    const { iv, ciphertext, tag } = seal(this.#master, plaintext, WRAP_AAD);
    return { plaintext, wrapped: Buffer.concat([iv, tag, ciphertext]) };
  }

  async unwrapDataKey(wrapped: Buffer): Promise<Buffer> {
    if (wrapped.length !== WRAPPED_BYTES) throw new Error(`a wrapped data key is ${WRAPPED_BYTES} bytes (IV, tag, key), got ${wrapped.length}`);
    const iv = wrapped.subarray(0, IV_BYTES);
    const tag = wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    return open(this.#master, { iv, tag, ciphertext: wrapped.subarray(IV_BYTES + TAG_BYTES) }, WRAP_AAD);
  }

  async lookupKey(version: number): Promise<Buffer> {
    const key = this.#lookup.get(assertLookupKeyVersion(version));
    if (!key) throw new Error(`no lookup key of version ${version} in ${this.#dir} (${lookupKeyFile(version)}; the local stack creates the configured version's)`);
    return key;
  }
}
