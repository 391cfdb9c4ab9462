/**
 * Envelope encryption of personal fields (identity numbers) with AES-256-GCM.
 *
 * A data key from the keyring is reused for a few minutes and a bounded number
 * of messages, then replaced; each ciphertext carries its wrapped data key and
 * is bound to its context (record id and field) as additional data, so a
 * ciphertext copied onto another record does not decrypt.
 *
 * Stored form: `v1.<wrapped key>.<iv>.<ciphertext+tag>`, base64url parts; the
 * IV is 12 bytes and the tag 16 (aes-gcm.ts), checked before decrypting.
 */
import { createHash, createHmac } from 'node:crypto';
import { CiphertextShapeError, IV_BYTES, open, seal, TAG_BYTES } from './aes-gcm.js';
import type { DataKey, Keyring } from './keyring.js';
import { assertLookupKeyVersion, formatLookupHash } from './lookup-hash.js';

const MAX_KEY_AGE_MS = 5 * 60_000;
const MAX_KEY_USES = 100_000;
const UNWRAPPED_CACHE = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

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
    const { iv, ciphertext, tag } = seal(key, Buffer.from(plaintext, 'utf8'), Buffer.from(context));
    return ['v1', wrapped.toString('base64url'), iv.toString('base64url'), Buffer.concat([ciphertext, tag]).toString('base64url')].join('.');
  }

  async decrypt(stored: string, context: string): Promise<string> {
    const parts = stored.split('.');
    const [version, wrappedText, ivText, bodyText] = parts;
    if (parts.length !== 4 || version !== 'v1' || !wrappedText || !ivText || !bodyText) throw new CiphertextShapeError('not a v1 field ciphertext');
    if (![wrappedText, ivText, bodyText].every((part) => BASE64URL.test(part))) throw new CiphertextShapeError('not a v1 field ciphertext: a part is not base64url');
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES) throw new CiphertextShapeError(`field ciphertext: the IV must be ${IV_BYTES} bytes, got ${iv.length}`);
    if (body.length < TAG_BYTES) throw new CiphertextShapeError(`field ciphertext: at least ${TAG_BYTES} bytes (the tag) expected, got ${body.length}`);
    const key = await this.#unwrap(wrappedText);
    const sealed = { iv, ciphertext: body.subarray(0, body.length - TAG_BYTES), tag: body.subarray(body.length - TAG_BYTES) };
    return open(key, sealed, Buffer.from(context)).toString('utf8');
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
 * which reveals nothing without the lookup key. Each hash names the version of
 * the key it was made with (`v<N>#<base64url>`, lookup-hash.ts); new hashes use
 * the version given here, and any other version can be asked for (a lookup or
 * a re-derivation while a key is being replaced).
 */
export class LookupHasher {
  readonly #keys = new Map<number, Promise<Buffer>>();
  readonly version: number;

  constructor(
    private readonly keyring: Keyring,
    version = 1,
  ) {
    this.version = assertLookupKeyVersion(version);
  }

  async hash(namespace: string, value: string, version = this.version): Promise<string> {
    assertLookupKeyVersion(version);
    let key = this.#keys.get(version);
    if (!key) {
      const fetched = this.keyring.lookupKey(version);
      // A failed fetch (KMS throttled, say) is not kept: the next hash asks again.
      fetched.catch(() => {
        if (this.#keys.get(version) === fetched) this.#keys.delete(version);
      });
      this.#keys.set(version, fetched);
      key = fetched;
    }
    const digest = createHmac('sha256', await key).update(`${namespace}\u0000${value}`).digest('base64url');
    return formatLookupHash(version, digest);
  }
}
