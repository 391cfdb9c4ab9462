/**
 * Keyring on AWS: data keys from KMS GenerateDataKey (unwrapped by Decrypt),
 * and each version of the lookup key derived once per container by KMS
 * GenerateMac over its label (`credit-hub/lookup-key/v<N>`, lookup-hash.ts)
 * with an HMAC KMS key, so the HMAC key itself never leaves KMS.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import { fieldKeyUse } from '../../infra/catalogue.js';
import type { DataKey, Keyring } from './keyring.js';
import { lookupKeyLabel } from './lookup-hash.js';

// Loaded on first use: functions that never touch an identity number do not pay for the KMS client at init.
const kmsCommands = () => import('@aws-sdk/client-kms');

export class KmsKeyring implements Keyring {
  readonly #lookup = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly kms: KMSClient,
    private readonly dataKeyArn: string | undefined,
    private readonly lookupKeyArn: string | undefined,
  ) {}

  async generateDataKey(): Promise<DataKey> {
    if (!this.dataKeyArn) throw new Error('no field encryption key configured for this function');
    const { GenerateDataKeyCommand } = await kmsCommands();
    const out = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.dataKeyArn, KeySpec: 'AES_256', EncryptionContext: { ...fieldKeyUse.encryptionContext } }),
    );
    if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS returned no data key');
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrapDataKey(wrapped: Buffer): Promise<Buffer> {
    const { DecryptCommand } = await kmsCommands();
    const out = await this.kms.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: { ...fieldKeyUse.encryptionContext }, KeyId: this.dataKeyArn }));
    if (!out.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
  }

  lookupKey(version: number): Promise<Buffer> {
    if (!this.lookupKeyArn) return Promise.reject(new Error('no lookup key configured for this function'));
    let label: Buffer;
    try {
      label = Buffer.from(lookupKeyLabel(version));
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const lookupKeyArn = this.lookupKeyArn;
    let key = this.#lookup.get(version);
    if (!key) {
      key = kmsCommands()
        .then(({ GenerateMacCommand }) => this.kms.send(new GenerateMacCommand({ KeyId: lookupKeyArn, MacAlgorithm: fieldKeyUse.macAlgorithm, Message: label })))
        .then((out) => {
          if (!out.Mac) throw new Error('KMS returned no MAC');
          return Buffer.from(out.Mac);
        });
      // A failed derivation (KMS throttled, say) is not kept: the next call asks again.
      const derived = key;
      derived.catch(() => {
        if (this.#lookup.get(version) === derived) this.#lookup.delete(version);
      });
      this.#lookup.set(version, derived);
    }
    return key;
  }
}
