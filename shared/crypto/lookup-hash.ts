/**
 * Versions of the lookup key, and the stored form of a lookup hash.
 *
 * A lookup hash (HMAC-SHA256 of an identity number under the lookup key) is
 * personal data: the number space is about 10^11, so whoever holds the key and
 * reads the table can reverse every hash offline. The key is therefore
 * versioned, so that it can be replaced and every stored hash re-derived under
 * the new version:
 *
 * - version N of the key is derived from the lookup master (the KMS HMAC key on
 *   AWS; locally a key file per version) over the label `credit-hub/lookup-key/vN`;
 * - every stored hash names its version: `v<N>#<base64url HMAC>`, so a record's
 *   `subjectKey` reads `PID#v1#…` (`CERT#<type>#v1#…` for other certificates);
 * - the version that new hashes are written under is configuration
 *   (`lookupKeyVersion` in infra/catalogue.ts, overridden by HUB_LOOKUP_KEY_VERSION).
 *
 * Hashes written before versions existed carry no prefix; they are version 1.
 *
 * This module is pure (no key material, no I/O): the domain uses it too.
 */

/** Highest version accepted: far beyond any real number of rotations, and a short label. */
export const MAX_LOOKUP_KEY_VERSION = 9999;

const LABEL_PREFIX = 'credit-hub/lookup-key/v';
const VERSIONED = /^v([1-9][0-9]{0,3})#([A-Za-z0-9_-]+)$/;
const BARE = /^[A-Za-z0-9_-]+$/;

export function assertLookupKeyVersion(version: number): number {
  if (!Number.isInteger(version) || version < 1 || version > MAX_LOOKUP_KEY_VERSION) {
    throw new RangeError(`lookup key version must be an integer from 1 to ${MAX_LOOKUP_KEY_VERSION}, got ${String(version)}`);
  }
  return version;
}

/** The message from which version `version` of the lookup key is derived (KMS GenerateMac). */
export function lookupKeyLabel(version: number): string {
  return `${LABEL_PREFIX}${assertLookupKeyVersion(version)}`;
}

/** The stored form of a lookup hash: `v<version>#<digest>`. */
export function formatLookupHash(version: number, digest: string): string {
  return `v${assertLookupKeyVersion(version)}#${digest}`;
}

export interface LookupHash {
  version: number;
  /** The base64url HMAC itself. */
  digest: string;
}

/** Reads a stored lookup hash; one without a version prefix (written before versions) is version 1. */
export function parseLookupHash(stored: string): LookupHash {
  const versioned = VERSIONED.exec(stored);
  if (versioned) return { version: Number(versioned[1]), digest: versioned[2]! };
  if (BARE.test(stored)) return { version: 1, digest: stored };
  throw new Error('not a lookup hash (v<N>#<base64url> expected)');
}

/**
 * The version new lookup hashes are written under: the environment variable
 * when it is set (a positive integer), otherwise the catalogue's.
 */
export function configuredLookupKeyVersion(fromEnvironment: string | undefined, fromCatalogue: number): number {
  if (fromEnvironment === undefined || fromEnvironment.trim() === '') return assertLookupKeyVersion(fromCatalogue);
  const text = fromEnvironment.trim();
  if (!/^[0-9]+$/.test(text)) throw new RangeError(`lookup key version must be an integer from 1 to ${MAX_LOOKUP_KEY_VERSION}, got ${JSON.stringify(text.slice(0, 16))}`);
  return assertLookupKeyVersion(Number(text));
}
