/**
 * The exchange package of one record version (shared/upward/exchange-package.ts), the fields it carries
 * (record-fields.ts), the sender (sender.ts) and the delivery model (delivery-model.ts): pure rules.
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
import { deliveryKey, messageBody, newDelivery, operationOf, parseDeliveryMessage } from '../../shared/upward/delivery-model.js';
import { buildExchangePackage, EXCHANGE_STANDARD, packageIdOf, uuidV5 } from '../../shared/upward/exchange-package.js';
import { nationalFields } from '../../shared/upward/record-fields.js';
import { senderUscc, SenderConfigurationError } from '../../shared/upward/sender.js';

const PERSON_ID = '110102199101010078';
const SENDER = '91110000600037341L';
const KEY_DIR = mkdtempSync(join(tmpdir(), 'hub-upward-keys-'));
afterAll(() => rmSync(KEY_DIR, { recursive: true, force: true }));
ensureLocalKeys(KEY_DIR);
const cipher = new FieldCipher(new LocalKeyring(KEY_DIR));

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

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

describe('packageIdOf', () => {
  it('is a UUID version 5, the same for the same platform, record and version, and different for any other', () => {
    const id = packageIdOf('provincial', 'lic_A', 1);
    expect(id).toMatch(UUID_V5);
    expect(packageIdOf('provincial', 'lic_A', 1)).toBe(id);
    expect(new Set([id, packageIdOf('national', 'lic_A', 1), packageIdOf('provincial', 'lic_B', 1), packageIdOf('provincial', 'lic_A', 2)]).size).toBe(4);
  });

  it('follows RFC 9562 (SHA-1 of the namespace and the name)', () => {
    // The RFC's own example: the DNS namespace and "www.example.com".
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});

describe('buildExchangePackage', () => {
  async function build(createdAt = '2026-01-06T03:04:05.678Z') {
    const head = await personLicenceHead();
    const fields = await nationalFields(head, async () => cipher);
    return buildExchangePackage({
      platform: 'national',
      sender: SENDER,
      createdAt,
      record: { operation: 'upsert', kind: head.kind, recordId: head.id, version: head.version, sourceId: head.sourceId, fields },
    });
  }

  it('has the header GB/T 39443 practice asks for, with the SHA-256 of the body exactly as sent', async () => {
    const sent = await build();
    const parsed = JSON.parse(sent.bytes) as { header: Record<string, unknown>; body: unknown };
    expect(Object.keys(parsed)).toEqual(['header', 'body']);
    expect(parsed.header).toEqual({
      packageId: packageIdOf('national', 'lic_AAAAAAAAAAAAAAAAAAAAAAAAAA', 3),
      sender: SENDER,
      createdAt: '2026-01-06T03:04:05.678Z',
      recordCount: 1,
      bodySha256: createHash('sha256').update(JSON.stringify(parsed.body)).digest('hex'),
      standard: EXCHANGE_STANDARD,
    });
    // The body's text inside the package is the hashed text itself, byte for byte.
    expect(sent.bytes).toContain(`"body":${JSON.stringify(parsed.body)}}`);
    expect(sent.packageId).toBe(parsed.header.packageId);
  });

  it('carries one record with its operation, kind, id, version, source and national fields', async () => {
    const sent = await build();
    const { body } = JSON.parse(sent.bytes) as { body: { records: Record<string, unknown>[] } };
    expect(body.records).toHaveLength(1);
    expect(body.records[0]).toMatchObject({ operation: 'upsert', kind: 'license', recordId: 'lic_AAAAAAAAAAAAAAAAAAAAAAAAAA', version: 3, sourceId: 'shi-scjgj' });
    expect(body.records[0]!.fields).toMatchObject({ XK_XDR_MC: '张三', XK_XDR_ZJHM: PERSON_ID, XK_WSH: '京市监许〔2026〕1号' });
  });

  it('gives the same bytes every time (a retry resends what was sent), whatever the time of sending', async () => {
    expect((await build()).bytes).toBe((await build()).bytes);
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

describe('delivery model', () => {
  const base = { status: 'active' as const, publication: { state: 'pending-review' as const, from: '2026-01-01' } };

  it('operationOf: upsert for a record in force, delete for one removed or whose publication ended', () => {
    expect(operationOf(base)).toBe('upsert');
    expect(operationOf({ ...base, publication: { state: 'not-published', from: '2026-01-01' } })).toBe('upsert');
    expect(operationOf({ status: 'removed', publication: { state: 'ended', endReason: 'removed', endedOn: '2026-02-01', from: '2026-01-01' } })).toBe('delete');
    expect(operationOf({ ...base, publication: { state: 'ended', from: '2026-01-01' } })).toBe('delete');
  });

  it('newDelivery: pending, owed by the platform from now, under the package id, in the byDay partition of its China day', () => {
    const now = new Date('2026-03-01T00:00:00.000Z');
    expect(newDelivery({ id: 'dd_A', version: 2, ...base }, 'provincial', now)).toEqual({
      recordId: 'dd_A',
      version: 2,
      platform: 'provincial',
      operation: 'upsert',
      state: 'pending',
      idempotencyKey: packageIdOf('provincial', 'dd_A', 2),
      createdAt: now.toISOString(),
      changeDay: 'provincial#2026-03-01',
      owedBy: 'provincial',
      owedSince: now.toISOString(),
      lastQueuedAt: now.toISOString(),
    });
  });

  it('newDelivery: the day is China’s (UTC+8): 16:00 UTC is already the next day', () => {
    expect(newDelivery({ id: 'dd_A', version: 1, ...base }, 'national', new Date('2026-03-01T15:59:59.999Z')).changeDay).toBe('national#2026-03-01');
    expect(newDelivery({ id: 'dd_A', version: 1, ...base }, 'national', new Date('2026-03-01T16:00:00.000Z')).changeDay).toBe('national#2026-03-02');
  });

  it('deliveryKey: REC#<id> and <platform>#<version in 10 digits>', () => {
    expect(deliveryKey({ recordId: 'pen_A', version: 12, platform: 'national' })).toEqual({ pk: 'REC#pen_A', sk: 'national#0000000012' });
  });

  it('messages: the body the team agreed on, read back; anything else refused with a reason', () => {
    const body = messageBody({ recordId: 'pen_A', version: 2, platform: 'national' });
    expect(JSON.parse(body)).toEqual({ recordId: 'pen_A', version: 2, platform: 'national' });
    expect(parseDeliveryMessage(body)).toEqual({ ok: true, message: { recordId: 'pen_A', version: 2, platform: 'national' } });
    for (const bad of ['nope', '[]', '{"recordId":"a","version":0,"platform":"national"}', '{"recordId":"a","version":1,"platform":"city"}', '{"version":1,"platform":"national"}']) {
      expect(parseDeliveryMessage(bad).ok, bad).toBe(false);
    }
  });
});
