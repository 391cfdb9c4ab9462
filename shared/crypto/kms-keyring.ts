/**
 * Keyring on AWS: data keys from KMS GenerateDataKey (unwrapped by Decrypt),
 * and the lookup key derived once per container by KMS GenerateMac over a
 * fixed label with an HMAC KMS key, so the HMAC key itself never leaves KMS.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { DataKey, Keyring } from './keyring.js';

// Loaded on first use: functions that never touch an identity number do not pay for the KMS client at init.
const kmsCommands = () => import('@aws-sdk/client-kms');

const CONTEXT = { purpose: 'credit-hub-field-encryption' };
const LOOKUP_LABEL = Buffer.from('credit-hub/lookup-key/v1');

export class KmsKeyring implements Keyring {
  #lookup: Promise<Buffer> | undefined;

  constructor(
    private readonly kms: KMSClient,
    private readonly dataKeyArn: string | undefined,
    private readonly lookupKeyArn: string | undefined,
  ) {}

  async generateDataKey(): Promise<DataKey> {
    if (!this.dataKeyArn) throw new Error('no field encryption key configured for this function');
    const { GenerateDataKeyCommand } = await kmsCommands();
    const out = await this.kms.send(new GenerateDataKeyCommand({ KeyId: this.dataKeyArn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }));
    if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS returned no data key');
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrapDataKey(wrapped: Buffer): Promise<Buffer> {
    const { DecryptCommand } = await kmsCommands();
    const out = await this.kms.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: CONTEXT, KeyId: this.dataKeyArn }));
    if (!out.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
  }

  lookupKey(): Promise<Buffer> {
    if (!this.lookupKeyArn) return Promise.reject(new Error('no lookup key configured for this function'));
    const lookupKeyArn = this.lookupKeyArn;
    this.#lookup ??= kmsCommands()
      .then(({ GenerateMacCommand }) => this.kms.send(new GenerateMacCommand({ KeyId: lookupKeyArn, MacAlgorithm: 'HMAC_SHA_256', Message: LOOKUP_LABEL })))
      .then((out) => {
        if (!out.Mac) throw new Error('KMS returned no MAC');
        return Buffer.from(out.Mac);
      });
    this.#lookup.catch(() => (this.#lookup = undefined));
    return this.#lookup;
  }
}
