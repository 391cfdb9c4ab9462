/**
 * The exchange package of a package of record versions (shared/upward/exchange-package.ts), the fields it
 * carries (record-fields.ts) and the sender (sender.ts): pure rules. The package model (keys, parts, messages)
 * is test/unit/upward-package-model.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fieldOrder, PUSH_KINDS } from '../../contracts/kinds.js';
import { exchange } from '../../infra/catalogue.js';
import { FieldCipher } from '../../shared/crypto/field-cipher.js';
import { ensureLocalKeys, LocalKeyring } from '../../shared/crypto/local-keyring.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { buildExchangePackage, EXCHANGE_STANDARD, PACKAGE_ID_NAMESPACE, uuidV5, type PackageRecord } from '../../shared/upward/exchange-package.js';
import { packageIdOf, packageKeyOf } from '../../shared/upward/package-model.js';
import { nationalFields } from '../../shared/upward/record-fields.js';
import { senderUscc, SenderConfigurationError } from '../../shared/upward/sender.js';

const PERSON_ID = '110102199101010078';
const SENDER = '91110000600037341L';
const KEY_DIR = mkdtempSync(join(tmpdir(), 'hub-upward-keys-'));
afterAll(() => rmSync(KEY_DIR, { recursive: true, force: true }));
ensureLocalKeys(KEY_DIR);
const cipher = new FieldCipher(new LocalKeyring(KEY_DIR));

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = packageKeyOf({ sequenceNumber: '4900000000000000000001', recordId: 'lic_AAAAAAAAAAAAAAAAAAAAAAAAAA', version: 3 });

async function personLicenceHead(): Promise<StoredHead> {
  const id = 'lic_AAAAAAAAAAAAAAAAAAAAAAAAAA';
  return {
    id,
    kind: 'license',
    sourceId: 'shi-scjgj',
    identity: '京市监许〔2026〕1号',
    version: 3,
    subjectKey: 'CERT#身份证#v1#x',
    decisionDate: '2026-01-05',
    late: false,
    firstReceivedAt: '2026-01-05T02:00:00.000Z',
    receivedAt: '2026-01-06T03:04:05.678Z',
    status: 'active',
    publication: { state: 'pending-review', from: '2026-01-05' },
    // Out of the standard's order on purpose: the package puts them in it.
    fields: { XK_ZT: '1', XK_XDR_MC: '张三', XK_XDR_LB: '2', XK_XDR_ZJLX: '001', XK_WSH: '京市监许〔2026〕1号' },
    certificate: { type: '001', cipher: await cipher.encrypt(PERSON_ID, `${id}:XK_XDR_ZJHM`), hash: 'v1#hash' },
    contentHash: 'h',
  };
}

describe('nationalFields', () => {
  it('puts the certificate number back in full, in its kind’s field, in the standard’s field order', async () => {
    const head = await personLicenceHead();
    const fields = await nationalFields(head, async () => cipher);
    expect(fields.XK_XDR_ZJHM).toBe(PERSON_ID);
    const order = fieldOrder(PUSH_KINDS.license);
    const keys = Object.keys(fields);
    expect(keys).toEqual([...keys].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
  });

  it('does not decrypt a certificate copied onto another record (the ciphertext is bound to the record and field)', async () => {
    const head = await personLicenceHead();
    await expect(nationalFields({ ...head, id: 'lic_BBBBBBBBBBBBBBBBBBBBBBBBBB' }, async () => cipher)).rejects.toThrow();
  });

  it('leaves a record without a certificate as stored, without calling the cipher', async () => {
    const fields = await nationalFields({ id: 'pen_X', kind: 'penalty', fields: { CF_WSH: 'w', CF_XDR_MC: 'm' } }, () => Promise.reject(new Error('not called')));
    expect(fields).toEqual({ CF_XDR_MC: 'm', CF_WSH: 'w' });
  });
});

describe('uuidV5', () => {
  it('follows RFC 9562 (SHA-1 of the namespace and the name)', () => {
    // The RFC's own example: the DNS namespace and "www.example.com".
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('is a version 5 UUID within the hub’s namespace: the package ids (package-model.ts packageIdOf) are', () => {
    const id = uuidV5(PACKAGE_ID_NAMESPACE, 'a name');
    expect(id).toMatch(UUID_V5);
    expect(uuidV5(PACKAGE_ID_NAMESPACE, 'a name')).toBe(id);
    expect(uuidV5(PACKAGE_ID_NAMESPACE, 'another name')).not.toBe(id);
    expect(packageIdOf('national', KEY, '')).toBe(uuidV5(PACKAGE_ID_NAMESPACE, `national\u0000${KEY}\u0000`));
  });
});

describe('buildExchangePackage', () => {
  const PACKAGE_ID = packageIdOf('national', KEY, '');

  async function licenceRecord(): Promise<PackageRecord> {
    const head = await personLicenceHead();
    const fields = await nationalFields(head, async () => cipher);
    return { operation: 'upsert', kind: head.kind, recordId: head.id, version: head.version, sourceId: head.sourceId, fields };
  }

  const penaltyRecord = (n: number, operation: 'upsert' | 'delete' = 'upsert'): PackageRecord => ({
    operation,
    kind: 'penalty',
    recordId: `pen_${String(n).padStart(26, 'A')}`,
    version: n,
    sourceId: 'shi-scjgj',
    fields: { CF_XDR_MC: '某某科技有限公司', CF_WSH: `京市监罚〔2026〕${n}号` },
  });

  async function build(createdAt = '2026-01-06T03:04:05.678Z', records?: PackageRecord[]) {
    return buildExchangePackage({ packageId: PACKAGE_ID, sender: SENDER, createdAt, records: records ?? [await licenceRecord()] });
  }

  it('has the header GB/T 39443 practice asks for, with the SHA-256 of the body exactly as sent', async () => {
    const sent = await build();
    const parsed = JSON.parse(sent.bytes) as { header: Record<string, unknown>; body: unknown };
    expect(Object.keys(parsed)).toEqual(['header', 'body']);
    expect(parsed.header).toEqual({
      packageId: PACKAGE_ID,
      sender: SENDER,
      createdAt: '2026-01-06T03:04:05.678Z',
      recordCount: 1,
      bodySha256: createHash('sha256').update(JSON.stringify(parsed.body)).digest('hex'),
      standard: EXCHANGE_STANDARD,
    });
    // The body's text inside the package is the hashed text itself, byte for byte.
    expect(sent.bytes).toContain(`"body":${JSON.stringify(parsed.body)}}`);
    expect(sent.packageId).toBe(PACKAGE_ID);
    expect(sent.package).toEqual(parsed);
  });

  it('carries a record with its operation, kind, id, version, source and national fields', async () => {
    const sent = await build();
    const { body } = JSON.parse(sent.bytes) as { body: { records: Record<string, unknown>[] } };
    expect(body.records).toHaveLength(1);
    expect(body.records[0]).toEqual({
      operation: 'upsert',
      kind: 'license',
      recordId: 'lic_AAAAAAAAAAAAAAAAAAAAAAAAAA',
      version: 3,
      sourceId: 'shi-scjgj',
      fields: expect.objectContaining({ XK_XDR_MC: '张三', XK_XDR_ZJHM: PERSON_ID, XK_WSH: '京市监许〔2026〕1号' }),
    });
  });

  it('carries the records of a package in the order given, and counts them', async () => {
    const records = [penaltyRecord(3), await licenceRecord(), penaltyRecord(1, 'delete')];
    const sent = await build(undefined, records);
    const parsed = JSON.parse(sent.bytes) as { header: { recordCount: number; bodySha256: string }; body: { records: { recordId: string; operation: string }[] } };
    expect(parsed.header.recordCount).toBe(3);
    expect(parsed.body.records.map((r) => [r.recordId, r.operation])).toEqual(records.map((r) => [r.recordId, r.operation]));
    expect(parsed.header.bodySha256).toBe(createHash('sha256').update(JSON.stringify(parsed.body)).digest('hex'));
    // Another order is another package (and another hash): the order is the body's, never re-sorted.
    const reversed = JSON.parse((await build(undefined, [...records].reverse())).bytes) as typeof parsed;
    expect(reversed.body.records.map((r) => r.recordId)).toEqual(records.map((r) => r.recordId).reverse());
    expect(reversed.header.bodySha256).not.toBe(parsed.header.bodySha256);
  });

  it('gives the same bytes every time (a retry resends what was sent), whatever the time of sending or the order of a record’s own keys', async () => {
    expect((await build()).bytes).toBe((await build()).bytes);
    const record = await licenceRecord();
    const shuffled = { fields: record.fields, sourceId: record.sourceId, version: record.version, recordId: record.recordId, kind: record.kind, operation: record.operation };
    expect((await build(undefined, [shuffled])).bytes).toBe((await build(undefined, [record])).bytes);
    // Only what is given counts: an extra property of the caller's object is not sent.
    expect((await build(undefined, [{ ...record, certificate: { cipher: 'v1.x' } } as PackageRecord])).bytes).toBe((await build()).bytes);
  });

  it('depends on when the package was opened, not on anything else of the moment', async () => {
    expect((await build('2026-01-07T00:00:00.000Z')).bytes).not.toBe((await build()).bytes);
    expect(JSON.parse((await build('2026-01-07T00:00:00.000Z')).bytes).header.createdAt).toBe('2026-01-07T00:00:00.000Z');
  });

  it('holds the identity number in the field sent and nowhere else (no ciphertext, no hash, no header)', async () => {
    const sent = await build();
    expect(sent.bytes.split(PERSON_ID)).toHaveLength(2);
    expect(sent.bytes).not.toContain('v1.');
    expect(JSON.stringify(JSON.parse(sent.bytes).header)).not.toContain(PERSON_ID);
  });
});

describe('senderUscc', () => {
  it('takes the USCC of exchange.senderUsccEnvVar, normalised', () => {
    expect(senderUscc({ [exchange.senderUsccEnvVar]: ' 91110000600037341l ' })).toBe(SENDER);
  });

  it('fails clearly when it is unset or not a valid GB 32100 code', () => {
    expect(() => senderUscc({})).toThrow(SenderConfigurationError);
    expect(() => senderUscc({})).toThrow(exchange.senderUsccEnvVar);
    expect(() => senderUscc({ [exchange.senderUsccEnvVar]: '91110000600037341X' })).toThrow(/校验位|check character/);
  });
});
