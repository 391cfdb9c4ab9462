/**
 * Key material for field encryption, behind a small port so that the domain
 * does not know whether KMS (on AWS) or a local key file (local stack) holds
 * the master keys.
 */
export interface DataKey {
  /** 32-byte AES key; never stored. */
  plaintext: Buffer;
  /** The same key wrapped by the master key; stored beside each ciphertext. */
  wrapped: Buffer;
}

export interface Keyring {
  /** A fresh data key for envelope encryption. */
  generateDataKey(): Promise<DataKey>;
  /** Unwraps a data key produced by `generateDataKey`. */
  unwrapDataKey(wrapped: Buffer): Promise<Buffer>;
  /**
   * Version `version` of the secret key of the keyed hash used to look subjects up
   * by identity number (see lookup-hash.ts: versions let the key be replaced).
   */
  lookupKey(version: number): Promise<Buffer>;
}
