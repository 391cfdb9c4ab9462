import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptCommand, GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import type { DataKey, Keyring } from '../../shared/crypto/keyring.js';
import { KmsKeyring } from '../../shared/crypto/kms-keyring.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';

const ID = '110102199101010078';
const ID_X = '44011320141005001X';

let root: string;
let keysDir: string;
let otherDir: string;
let keyring: LocalKeyring;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-crypto-test-'));
  keysDir = join(root, 'a', 'keys');
  otherDir = join(root, 'b', 'keys');
  ensureLocalKeys(keysDir);
  ensureLocalKeys(otherDir);
  keyring = new LocalKeyring(keysDir);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A keyring that counts calls, over a real LocalKeyring. */
function countingKeyring(inner: Keyring = keyring) {
  const calls = { generate: 0, unwrap: 0, lookup: 0 };
  const ring: Keyring = {
    generateDataKey: () => {
      calls.generate++;
      return inner.generateDataKey();
    },
    unwrapDataKey: (wrapped) => {
      calls.unwrap++;
      return inner.unwrapDataKey(wrapped);
    },
    lookupKey: () => {
      calls.lookup++;
      return inner.lookupKey();
    },
  };
  return { ring, calls };
}

const wrappedPart = (stored: string) => stored.split('.')[1];

describe('ensureLocalKeys', () => {
  it('creates the folder and two 32-byte keys, readable by the owner only', () => {
    const dir = join(root, 'fresh', 'nested', 'keys');
    ensureLocalKeys(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of ['master.key', 'lookup.key']) {
      const path = join(dir, name);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toHaveLength(32);
    }
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).not.toBe(readFileSync(join(dir, 'lookup.key'), 'utf8'));
  });

  it('never overwrites an existing key', () => {
    const dir = join(root, 'keep');
    ensureLocalKeys(dir);
    const master = readFileSync(join(dir, 'master.key'), 'utf8');
    const lookup = readFileSync(join(dir, 'lookup.key'), 'utf8');
    ensureLocalKeys(dir);
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(master);
    expect(readFileSync(join(dir, 'lookup.key'), 'utf8')).toBe(lookup);
  });

  it('creates only the missing key', () => {
    const dir = join(root, 'partial');
    ensureLocalKeys(dir);
    const master = readFileSync(join(dir, 'master.key'), 'utf8');
    const lookup = readFileSync(join(dir, 'lookup.key'), 'utf8');
    unlinkSync(join(dir, 'lookup.key'));
    ensureLocalKeys(dir);
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(master);
    expect(readFileSync(join(dir, 'lookup.key'), 'utf8')).not.toBe(lookup);
  });

  it('creates different keys in different folders', () => {
    expect(readFileSync(join(keysDir, 'master.key'), 'utf8')).not.toBe(readFileSync(join(otherDir, 'master.key'), 'utf8'));
  });
});

describe('LocalKeyring', () => {
  it('refuses a key file that does not hold 32 bytes', () => {
    const dir = join(root, 'short');
    ensureLocalKeys(dir);
    writeFileSync(join(dir, 'master.key'), randomBytes(16).toString('base64'));
    expect(() => new LocalKeyring(dir)).toThrow(/32-byte/);
  });

  it('refuses a folder without keys', () => {
    expect(() => new LocalKeyring(join(root, 'nothing-here'))).toThrow();
  });

  it('generates fresh 32-byte data keys, wrapped (iv + tag + body) so that the plaintext is not visible', async () => {
    const a = await keyring.generateDataKey();
    const b = await keyring.generateDataKey();
    expect(a.plaintext).toHaveLength(32);
    expect(a.wrapped).toHaveLength(12 + 16 + 32);
    expect(a.plaintext.equals(b.plaintext)).toBe(false);
    expect(a.wrapped.includes(a.plaintext)).toBe(false);
  });

  it('unwraps its own data keys, also from another instance on the same folder', async () => {
    const key = await keyring.generateDataKey();
    expect((await keyring.unwrapDataKey(key.wrapped)).equals(key.plaintext)).toBe(true);
    expect((await new LocalKeyring(keysDir).unwrapDataKey(key.wrapped)).equals(key.plaintext)).toBe(true);
  });

  it('does not unwrap a key wrapped by another master key', async () => {
    const key = await new LocalKeyring(otherDir).generateDataKey();
    await expect(keyring.unwrapDataKey(key.wrapped)).rejects.toThrow();
  });

  it('detects a tampered wrapped key', async () => {
    const key = await keyring.generateDataKey();
    const tampered = Buffer.from(key.wrapped);
    tampered[tampered.length - 1]! ^= 1;
    await expect(keyring.unwrapDataKey(tampered)).rejects.toThrow();
  });

  it('gives the lookup key from its file: stable per folder, different between folders', async () => {
    const lookup = await keyring.lookupKey();
    expect(lookup).toHaveLength(32);
    expect(lookup.equals(Buffer.from(readFileSync(join(keysDir, 'lookup.key'), 'utf8').trim(), 'base64'))).toBe(true);
    expect((await new LocalKeyring(keysDir).lookupKey()).equals(lookup)).toBe(true);
    expect((await new LocalKeyring(otherDir).lookupKey()).equals(lookup)).toBe(false);
  });
});

describe('FieldCipher', () => {
  it('round-trips identity numbers and other text', async () => {
    const cipher = new FieldCipher(keyring);
    for (const value of [ID, ID_X, '张三 E12345678', '']) {
      expect(await cipher.decrypt(await cipher.encrypt(value, 'lic_x:XK_XDR_ZJHM'), 'lic_x:XK_XDR_ZJHM')).toBe(value);
    }
  });

  it('stores v1.<wrapped>.<12-byte iv>.<ciphertext + 16-byte tag>, without the plaintext', async () => {
    const stored = await new FieldCipher(keyring).encrypt(ID, 'ctx');
    expect(stored).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const [, wrapped, iv, body] = stored.split('.');
    expect(Buffer.from(wrapped!, 'base64url')).toHaveLength(60);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(body!, 'base64url')).toHaveLength(ID.length + 16);
    expect(stored).not.toContain(ID);
    expect(stored).not.toContain(Buffer.from(ID).toString('base64url'));
    expect(Buffer.from(body!, 'base64url').includes(Buffer.from(ID))).toBe(false);
  });

  it('gives a different ciphertext at every encryption of the same value', async () => {
    const cipher = new FieldCipher(keyring);
    const a = await cipher.encrypt(ID, 'ctx');
    const b = await cipher.encrypt(ID, 'ctx');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('binds the ciphertext to its context: copied onto another record or field it does not decrypt', async () => {
    const cipher = new FieldCipher(keyring);
    const stored = await cipher.encrypt(ID, 'lic_aaa:XK_XDR_ZJHM');
    await expect(cipher.decrypt(stored, 'lic_bbb:XK_XDR_ZJHM')).rejects.toThrow();
    await expect(cipher.decrypt(stored, 'lic_aaa:CF_XDR_ZJHM')).rejects.toThrow();
    await expect(cipher.decrypt(stored, '')).rejects.toThrow();
    expect(await cipher.decrypt(stored, 'lic_aaa:XK_XDR_ZJHM')).toBe(ID);
  });

  it('detects tampering with the ciphertext, the tag or the iv', async () => {
    const cipher = new FieldCipher(keyring);
    const stored = await cipher.encrypt(ID, 'ctx');
    const [v, wrapped, iv, body] = stored.split('.') as [string, string, string, string];
    const flip = (part: string, at: number) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[at]! ^= 1;
      return bytes.toString('base64url');
    };
    await expect(cipher.decrypt([v, wrapped, iv, flip(body, 0)].join('.'), 'ctx')).rejects.toThrow();
    await expect(cipher.decrypt([v, wrapped, iv, flip(body, ID.length + 3)].join('.'), 'ctx')).rejects.toThrow();
    await expect(cipher.decrypt([v, wrapped, flip(iv, 0), body].join('.'), 'ctx')).rejects.toThrow();
    await expect(cipher.decrypt([v, flip(wrapped, 40), iv, body].join('.'), 'ctx')).rejects.toThrow();
  });

  it.each(['', 'v1', 'v1.a.b', 'v2.a.b.c', 'plain text', ID])('refuses %j as not a v1 ciphertext', async (stored) => {
    await expect(new FieldCipher(keyring).decrypt(stored, 'ctx')).rejects.toThrow(/not a v1/);
  });

  it('decrypts in another instance (a new process) over the same keys', async () => {
    const stored = await new FieldCipher(keyring).encrypt(ID, 'ctx');
    expect(await new FieldCipher(new LocalKeyring(keysDir)).decrypt(stored, 'ctx')).toBe(ID);
  });

  it('does not decrypt with another master key', async () => {
    const stored = await new FieldCipher(keyring).encrypt(ID, 'ctx');
    await expect(new FieldCipher(new LocalKeyring(otherDir)).decrypt(stored, 'ctx')).rejects.toThrow();
  });

  describe('data key reuse', () => {
    it('reuses one data key for many encryptions, including concurrent ones', async () => {
      const { ring, calls } = countingKeyring();
      const cipher = new FieldCipher(ring);
      const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => cipher.encrypt(`v${i}`, 'ctx')));
      expect(calls.generate).toBe(1);
      expect(new Set(stored.map(wrappedPart)).size).toBe(1);
    });

    it('replaces the data key after five minutes', async () => {
      let now = 1_000_000;
      const { ring, calls } = countingKeyring();
      const cipher = new FieldCipher(ring, () => now);
      const first = await cipher.encrypt('a', 'ctx');
      now += 5 * 60_000;
      const atFive = await cipher.encrypt('b', 'ctx');
      expect(calls.generate).toBe(1);
      expect(wrappedPart(atFive)).toBe(wrappedPart(first));
      now += 1;
      const after = await cipher.encrypt('c', 'ctx');
      expect(calls.generate).toBe(2);
      expect(wrappedPart(after)).not.toBe(wrappedPart(first));
      // Old ciphertexts still decrypt.
      expect(await cipher.decrypt(first, 'ctx')).toBe('a');
      expect(await cipher.decrypt(after, 'ctx')).toBe('c');
    });

    it('replaces the data key after 100,000 uses', async () => {
      // 100,000 real AES-GCM encryptions take seconds: count uses through a FieldCipher
      // module loaded with a no-op cipher (only the key bookkeeping is under test here).
      vi.resetModules();
      vi.doMock('node:crypto', async (importOriginal) => {
        const original = await importOriginal<typeof import('node:crypto')>();
        const noop = { setAAD: () => undefined, update: () => Buffer.alloc(1), final: () => Buffer.alloc(0), getAuthTag: () => Buffer.alloc(16) };
        return { ...original, createCipheriv: () => noop };
      });
      try {
        const { FieldCipher: CountingCipher } = await import('../../shared/crypto/field-cipher.js');
        const keys = [Buffer.from('wrapped-1'), Buffer.from('wrapped-2')];
        const generateDataKey = vi.fn(async (): Promise<DataKey> => ({ plaintext: randomBytes(32), wrapped: keys[generateDataKey.mock.calls.length - 1]! }));
        const cipher = new CountingCipher({ generateDataKey, unwrapDataKey: async () => randomBytes(32), lookupKey: async () => randomBytes(32) });
        let last = '';
        for (let i = 0; i < 100_000; i++) last = await cipher.encrypt('x', 'ctx');
        expect(generateDataKey).toHaveBeenCalledTimes(1);
        expect(wrappedPart(last)).toBe(keys[0]!.toString('base64url'));
        const next = await cipher.encrypt('x', 'ctx');
        expect(generateDataKey).toHaveBeenCalledTimes(2);
        expect(wrappedPart(next)).toBe(keys[1]!.toString('base64url'));
      } finally {
        vi.doUnmock('node:crypto');
        vi.resetModules();
      }
    });

    it('does not keep a data key that failed: the next encryption asks again', async () => {
      const good = await keyring.generateDataKey();
      const generateDataKey = vi.fn<() => Promise<DataKey>>().mockRejectedValueOnce(new Error('KMS throttled')).mockResolvedValue(good);
      const cipher = new FieldCipher({ generateDataKey, unwrapDataKey: (w) => keyring.unwrapDataKey(w), lookupKey: () => keyring.lookupKey() });
      await expect(cipher.encrypt(ID, 'ctx')).rejects.toThrow('KMS throttled');
      const stored = await cipher.encrypt(ID, 'ctx');
      expect(generateDataKey).toHaveBeenCalledTimes(2);
      expect(await cipher.decrypt(stored, 'ctx')).toBe(ID);
    });
  });

  describe('unwrapped key cache', () => {
    it('unwraps a data key once for many decryptions', async () => {
      const stored = await Promise.all([ID, ID_X, 'x'].map((v) => new FieldCipher(keyring).encrypt(v, 'ctx')));
      const { ring, calls } = countingKeyring();
      const reader = new FieldCipher(ring);
      for (const s of [...stored, ...stored]) await reader.decrypt(s, 'ctx');
      expect(calls.unwrap).toBe(3);
    });

    it('does not unwrap again for a wrong context (the key is cached, the tag fails)', async () => {
      const stored = await new FieldCipher(keyring).encrypt(ID, 'ctx');
      const { ring, calls } = countingKeyring();
      const reader = new FieldCipher(ring);
      await expect(reader.decrypt(stored, 'other')).rejects.toThrow();
      expect(await reader.decrypt(stored, 'ctx')).toBe(ID);
      expect(calls.unwrap).toBe(1);
    });

    it('does not keep a failed unwrap: the next decryption asks again', async () => {
      const stored = await new FieldCipher(keyring).encrypt(ID, 'ctx');
      const unwrapDataKey = vi.fn<(w: Buffer) => Promise<Buffer>>().mockRejectedValueOnce(new Error('KMS unavailable')).mockImplementation((w) => keyring.unwrapDataKey(w));
      const reader = new FieldCipher({ generateDataKey: () => keyring.generateDataKey(), unwrapDataKey, lookupKey: () => keyring.lookupKey() });
      await expect(reader.decrypt(stored, 'ctx')).rejects.toThrow('KMS unavailable');
      expect(await reader.decrypt(stored, 'ctx')).toBe(ID);
      expect(unwrapDataKey).toHaveBeenCalledTimes(2);
    });

    it('is bounded to 256 keys, evicting the oldest', async () => {
      let now = 0;
      const writer = new FieldCipher(keyring, () => now);
      const stored: string[] = [];
      for (let i = 0; i < 257; i++) {
        stored.push(await writer.encrypt(`v${i}`, 'ctx'));
        now += 5 * 60_000 + 1;
      }
      expect(new Set(stored.map(wrappedPart)).size).toBe(257);
      const { ring, calls } = countingKeyring();
      const reader = new FieldCipher(ring);
      for (const s of stored) await reader.decrypt(s, 'ctx');
      expect(calls.unwrap).toBe(257);
      await reader.decrypt(stored[256]!, 'ctx');
      expect(calls.unwrap).toBe(257);
      expect(await reader.decrypt(stored[0]!, 'ctx')).toBe('v0');
      expect(calls.unwrap).toBe(258);
    });
  });
});

describe('LookupHasher', () => {
  it('is the HMAC-SHA256 of "namespace NUL value" under the lookup key, base64url', async () => {
    const hasher = new LookupHasher(keyring);
    const expected = createHmac('sha256', await keyring.lookupKey()).update(`cert:01\u0000${ID}`).digest('base64url');
    expect(await hasher.hash('cert:01', ID)).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is deterministic across instances over the same keys', async () => {
    expect(await new LookupHasher(keyring).hash('cert:01', ID)).toBe(await new LookupHasher(new LocalKeyring(keysDir)).hash('cert:01', ID));
  });

  it('differs by value, by namespace and by key', async () => {
    const hasher = new LookupHasher(keyring);
    const base = await hasher.hash('cert:01', ID);
    expect(await hasher.hash('cert:01', ID_X)).not.toBe(base);
    expect(await hasher.hash('cert:02', ID)).not.toBe(base);
    expect(await new LookupHasher(new LocalKeyring(otherDir)).hash('cert:01', ID)).not.toBe(base);
  });

  it('separates the namespace from the value', async () => {
    const hasher = new LookupHasher(keyring);
    expect(await hasher.hash('cert:0', `1${ID}`)).not.toBe(await hasher.hash('cert:01', ID));
  });

  it('asks the keyring for the lookup key once', async () => {
    const { ring, calls } = countingKeyring();
    const hasher = new LookupHasher(ring);
    await Promise.all([hasher.hash('a', '1'), hasher.hash('a', '2')]);
    await hasher.hash('b', '3');
    expect(calls.lookup).toBe(1);
  });

  // BUG: LookupHasher keeps the first lookupKey() promise even when it rejected
  // (`this.#key ??= ...` with no reset), so one transient KMS error makes every later
  // hash in that process fail. FieldCipher and KmsKeyring both drop a failed promise.
  it('recovers from a failed lookup key: the next hash asks again', async () => {
    const lookupKey = vi.fn<() => Promise<Buffer>>().mockRejectedValueOnce(new Error('KMS throttled')).mockImplementation(() => keyring.lookupKey());
    const hasher = new LookupHasher({ generateDataKey: () => keyring.generateDataKey(), unwrapDataKey: (w) => keyring.unwrapDataKey(w), lookupKey });
    await expect(hasher.hash('cert:01', ID)).rejects.toThrow('KMS throttled');
    await expect(hasher.hash('cert:01', ID)).resolves.toBe(await new LookupHasher(keyring).hash('cert:01', ID));
  });
});

describe('KmsKeyring (KMS mocked with aws-sdk-client-mock)', () => {
  const kmsMock = mockClient(KMSClient);
  const kms = new KMSClient({ region: 'cn-north-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const DATA_ARN = 'arn:aws-cn:kms:cn-north-1:111122223333:key/data';
  const LOOKUP_ARN = 'arn:aws-cn:kms:cn-north-1:111122223333:key/lookup';
  const CONTEXT = { purpose: 'credit-hub-field-encryption' };

  beforeEach(() => {
    kmsMock.reset();
  });
  afterAll(() => {
    kmsMock.restore();
  });

  describe('generateDataKey', () => {
    it('asks for an AES-256 key under the data key, with the encryption context', async () => {
      const plaintext = randomBytes(32);
      const blob = randomBytes(184);
      kmsMock.on(GenerateDataKeyCommand).resolves({ Plaintext: new Uint8Array(plaintext), CiphertextBlob: new Uint8Array(blob) });
      const key = await new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN).generateDataKey();
      expect(Buffer.isBuffer(key.plaintext) && key.plaintext.equals(plaintext)).toBe(true);
      expect(Buffer.isBuffer(key.wrapped) && key.wrapped.equals(blob)).toBe(true);
      const calls = kmsMock.commandCalls(GenerateDataKeyCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input).toStrictEqual({ KeyId: DATA_ARN, KeySpec: 'AES_256', EncryptionContext: CONTEXT });
    });

    it('fails without calling KMS when no data key is configured', async () => {
      await expect(new KmsKeyring(kms, undefined, LOOKUP_ARN).generateDataKey()).rejects.toThrow(/no field encryption key/);
      expect(kmsMock.calls()).toHaveLength(0);
    });

    it('fails when KMS returns no plaintext or no blob', async () => {
      kmsMock.on(GenerateDataKeyCommand).resolvesOnce({ CiphertextBlob: new Uint8Array(8) }).resolvesOnce({ Plaintext: new Uint8Array(32) });
      const ring = new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN);
      await expect(ring.generateDataKey()).rejects.toThrow(/no data key/);
      await expect(ring.generateDataKey()).rejects.toThrow(/no data key/);
    });

    it('passes a KMS error on', async () => {
      kmsMock.on(GenerateDataKeyCommand).rejects(new Error('AccessDeniedException'));
      await expect(new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN).generateDataKey()).rejects.toThrow('AccessDeniedException');
    });
  });

  describe('unwrapDataKey', () => {
    it('decrypts the blob under the data key with the same encryption context', async () => {
      const plaintext = randomBytes(32);
      const blob = randomBytes(184);
      kmsMock.on(DecryptCommand).resolves({ Plaintext: new Uint8Array(plaintext) });
      const out = await new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN).unwrapDataKey(blob);
      expect(out.equals(plaintext)).toBe(true);
      const calls = kmsMock.commandCalls(DecryptCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]!.args[0].input;
      expect(input.EncryptionContext).toStrictEqual(CONTEXT);
      expect(input.KeyId).toBe(DATA_ARN);
      expect(Buffer.from(input.CiphertextBlob!).equals(blob)).toBe(true);
    });

    it('fails when KMS returns no plaintext, and passes errors on', async () => {
      kmsMock.on(DecryptCommand).resolvesOnce({}).rejectsOnce(new Error('InvalidCiphertextException'));
      const ring = new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN);
      await expect(ring.unwrapDataKey(randomBytes(8))).rejects.toThrow(/no plaintext/);
      await expect(ring.unwrapDataKey(randomBytes(8))).rejects.toThrow('InvalidCiphertextException');
    });
  });

  describe('lookupKey', () => {
    it('derives the key by GenerateMac over the fixed label with the HMAC key', async () => {
      const mac = randomBytes(32);
      kmsMock.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(mac) });
      const key = await new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN).lookupKey();
      expect(key.equals(mac)).toBe(true);
      const calls = kmsMock.commandCalls(GenerateMacCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]!.args[0].input;
      expect(input.KeyId).toBe(LOOKUP_ARN);
      expect(input.MacAlgorithm).toBe('HMAC_SHA_256');
      expect(Buffer.from(input.Message!).toString()).toBe('credit-hub/lookup-key/v1');
    });

    it('requests the key once and caches it, also for concurrent callers', async () => {
      kmsMock.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(randomBytes(32)) });
      const ring = new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN);
      const [a, b] = await Promise.all([ring.lookupKey(), ring.lookupKey()]);
      const c = await ring.lookupKey();
      expect(a.equals(b) && a.equals(c)).toBe(true);
      expect(kmsMock.commandCalls(GenerateMacCommand)).toHaveLength(1);
    });

    it('does not cache a failure: the next call asks KMS again', async () => {
      const mac = randomBytes(32);
      kmsMock.on(GenerateMacCommand).rejectsOnce(new Error('ThrottlingException')).resolves({ Mac: new Uint8Array(mac) });
      const ring = new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN);
      await expect(ring.lookupKey()).rejects.toThrow('ThrottlingException');
      expect((await ring.lookupKey()).equals(mac)).toBe(true);
      expect(kmsMock.commandCalls(GenerateMacCommand)).toHaveLength(2);
    });

    it('fails when KMS returns no MAC, and tries again next time', async () => {
      kmsMock.on(GenerateMacCommand).resolvesOnce({}).resolves({ Mac: new Uint8Array(32) });
      const ring = new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN);
      await expect(ring.lookupKey()).rejects.toThrow(/no MAC/);
      expect(await ring.lookupKey()).toHaveLength(32);
    });

    it('fails without calling KMS when no lookup key is configured', async () => {
      await expect(new KmsKeyring(kms, DATA_ARN, undefined).lookupKey()).rejects.toThrow(/no lookup key/);
      expect(kmsMock.calls()).toHaveLength(0);
    });
  });

  describe('behind FieldCipher and LookupHasher', () => {
    it('round-trips a field: GenerateDataKey once to write, Decrypt once to read', async () => {
      const plaintext = randomBytes(32);
      const blob = randomBytes(184);
      kmsMock.on(GenerateDataKeyCommand).resolves({ Plaintext: new Uint8Array(plaintext), CiphertextBlob: new Uint8Array(blob) });
      kmsMock.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => {
        if (!Buffer.from(input.CiphertextBlob).equals(blob)) throw new Error('InvalidCiphertextException');
        return { Plaintext: new Uint8Array(plaintext) };
      });
      const ring = new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN);
      const writer = new FieldCipher(ring);
      const a = await writer.encrypt(ID, 'pen_x:CF_XDR_ZJHM');
      const b = await writer.encrypt(ID_X, 'pen_y:CF_XDR_ZJHM');
      expect(kmsMock.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
      const reader = new FieldCipher(ring);
      expect(await reader.decrypt(a, 'pen_x:CF_XDR_ZJHM')).toBe(ID);
      expect(await reader.decrypt(b, 'pen_y:CF_XDR_ZJHM')).toBe(ID_X);
      const decrypts = kmsMock.commandCalls(DecryptCommand);
      expect(decrypts).toHaveLength(1);
      expect(decrypts[0]!.args[0].input.EncryptionContext).toStrictEqual(CONTEXT);
    });

    it('hashes many values with a single GenerateMac call', async () => {
      const mac = randomBytes(32);
      kmsMock.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(mac) });
      const hasher = new LookupHasher(new KmsKeyring(kms, DATA_ARN, LOOKUP_ARN));
      const hashes = await Promise.all([ID, ID_X, ID].map((v) => hasher.hash('cert:01', v)));
      expect(hashes[0]).toBe(hashes[2]);
      expect(hashes[0]).not.toBe(hashes[1]);
      expect(hashes[0]).toBe(createHmac('sha256', mac).update(`cert:01\u0000${ID}`).digest('base64url'));
      expect(kmsMock.commandCalls(GenerateMacCommand)).toHaveLength(1);
    });
  });
});
