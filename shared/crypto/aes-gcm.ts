/**
 * AES-256-GCM with the sizes fixed: a 32-byte key, a 12-byte IV and a 16-byte
 * tag. GCM itself allows shorter tags, and Node's decipher takes whatever tag
 * length it is given (a 4-byte tag over an empty body decrypts to ""), so
 * every size is checked before decrypting and the decipher is created with
 * `authTagLength: 16`: a truncated tag is refused, never a weaker check.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export interface Sealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Why a ciphertext cannot even be tried: a size is wrong. */
export class CiphertextShapeError extends Error {
  override name = 'CiphertextShapeError';
}

function expectLength(what: string, bytes: Buffer, length: number): void {
  if (bytes.length !== length) throw new CiphertextShapeError(`AES-GCM ${what} must be ${length} bytes, got ${bytes.length}`);
}

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  expectLength('key', key, KEY_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts and authenticates; throws CiphertextShapeError for a wrong size, and an Error when the tag does not match. */
export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  expectLength('key', key, KEY_BYTES);
  expectLength('IV', sealed.iv, IV_BYTES);
  expectLength('tag', sealed.tag, TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}
