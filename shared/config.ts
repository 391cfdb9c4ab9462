/**
 * What a handler learns from its environment: table names, and where the
 * key material lives. Read lazily, once per container.
 */
import { environment, fieldKeyUse, tables, type TableName } from '../infra/catalogue.js';
import { FieldCipher, LookupHasher } from './crypto/field-cipher.js';
import type { Keyring } from './crypto/keyring.js';
import { configuredLookupKeyVersion } from './crypto/lookup-hash.js';
import { awsClientConfig } from './aws/client-config.js';

export function tableName(table: TableName): string {
  const name = process.env[tables[table].envVar];
  if (!name) throw new Error(`environment variable ${tables[table].envVar} is not set`);
  return name;
}

let keyring: Promise<Keyring> | undefined;

/** The local key folder when HUB_KEY_DIR is set, KMS otherwise. */
export function currentKeyring(): Promise<Keyring> {
  keyring ??= (async () => {
    const dir = process.env[environment.localKeyDir];
    if (dir) {
      const { LocalKeyring } = await import('./crypto/local-keyring.js');
      return new LocalKeyring(dir);
    }
    const [{ KMSClient }, { KmsKeyring }] = await Promise.all([import('@aws-sdk/client-kms'), import('./crypto/kms-keyring.js')]);
    return new KmsKeyring(new KMSClient(awsClientConfig()), process.env[environment.dataKeyArn], process.env[environment.lookupKeyArn]);
  })();
  return keyring;
}

let cipher: Promise<FieldCipher> | undefined;
let hasher: Promise<LookupHasher> | undefined;

export function fieldCipher(): Promise<FieldCipher> {
  cipher ??= currentKeyring().then((k) => new FieldCipher(k));
  return cipher;
}

/** The version of the lookup key new hashes are written under: HUB_LOOKUP_KEY_VERSION, else the catalogue's. */
export function currentLookupKeyVersion(): number {
  return configuredLookupKeyVersion(process.env[environment.lookupKeyVersion], fieldKeyUse.lookupKeyVersion);
}

export function lookupHasher(): Promise<LookupHasher> {
  hasher ??= currentKeyring().then((k) => new LookupHasher(k, currentLookupKeyVersion()));
  return hasher;
}
