/**
 * Envelope encryption of personal fields (identity numbers) with AES-256-GCM.
 *
 * A data key from the keyring is reused for a few minutes and a bounded number
 * of messages, then replaced; each ciphertext carries its wrapped data key and
 * is bound to its context (record id and field) as additional data, so a
 * ciphertext copied onto another record does not decrypt.
 *
 * Stored form: `v1.<wrapped key>.<iv>.<ciphertext+tag>`, base64url parts.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { DataKey, Keyring } from './keyring.js';

const MAX_KEY_AGE_MS = 5 * 60_000;
const MAX_KEY_USES = 100_000;
const UNWRAPPED_CACHE = 256;

export class FieldCipher {
  #current: { key: Promise<DataKey>; created: number; uses: number } | undefined;
  readonly #unwrapped = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly keyring: Keyring,
    private readonly now: () => number = Date.now,
  ) {}

  async #dataKey(): Promise<DataKey> {
    const now = this.now();
    const cur = this.#current;
    if (!cur || cur.uses >= MAX_KEY_USES || now - cur.created > MAX_KEY_AGE_MS) {
      const key = this.keyring.generateDataKey();
      this.#current = { key, created: now, uses: 0 };
      key.catch(() => (this.#current = undefined));
    }
    this.#current!.uses++;
    return this.#current!.key;
  }

  async encrypt(plaintext: string, context: string): Promise<string> {
    const { plaintext: key, wrapped } = await this.#dataKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return ['v1', wrapped.toString('base64url'), iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  async decrypt(stored: string, context: string): Promise<string> {
    const [version, wrappedText, ivText, bodyText] = stored.split('.');
    if (version !== 'v1' || !wrappedText || !ivText || !bodyText) throw new Error('not a v1 field ciphertext');
    const key = await this.#unwrap(wrappedText);
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  }

  #unwrap(wrappedText: string): Promise<Buffer> {
    const cacheKey = createHash('sha256').update(wrappedText).digest('base64url');
    let key = this.#unwrapped.get(cacheKey);
    if (!key) {
      if (this.#unwrapped.size >= UNWRAPPED_CACHE) this.#unwrapped.delete(this.#unwrapped.keys().next().value!);
      key = this.keyring.unwrapDataKey(Buffer.from(wrappedText, 'base64url'));
      key.catch(() => this.#unwrapped.delete(cacheKey));
      this.#unwrapped.set(cacheKey, key);
    }
    return key;
  }
}

/**
 * Keyed hash (HMAC-SHA256) of a personal identifier, for lookups by subject
 * without storing the identifier: the same number always gives the same hash,
 * which reveals nothing without the lookup key.
 */
export class LookupHasher {
  #key: Promise<Buffer> | undefined;

  constructor(private readonly keyring: Keyring) {}

  async hash(namespace: string, value: string): Promise<string> {
    if (!this.#key) {
      this.#key = this.keyring.lookupKey();
      // A failed fetch (KMS throttled, say) is not kept: the next hash asks again.
      this.#key.catch(() => (this.#key = undefined));
    }
    const key = await this.#key;
    return createHmac('sha256', key).update(`${namespace}\u0000${value}`).digest('base64url');
  }
}
