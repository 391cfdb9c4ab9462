/**
 * The lookup key's version, end to end: a pushed record's certificate hash and
 * subject key name the version they were made with; the version comes from
 * configuration; and what a version does to "duplicate" / "updated".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { environment, fieldKeyUse } from '../../infra/catalogue.js';
import { currentLookupKeyVersion } from '../../shared/config.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { ensureLocalKeys, LocalKeyring } from '../../shared/crypto/local-keyring.js';
import { parseLookupHash } from '../../shared/crypto/lookup-hash.js';
import { contentHash, decidePush, type StoredHead } from '../../shared/domain/record-model.js';
import { prepareRecord, subjectKeyOf, type PrepareDeps } from '../../shared/ingest/prepare.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { recentDecisionDate } from '../support/dates.js';

const ID = '110102199101010078';
const SOURCE_USCC = '121200004013590816';
const source: KeyPrincipal = { sourceId: 'shi-scjgj', name: '某市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['penalty'] };
const PENALTY = {
  CF_XDR_MC: '张三',
  CF_XDR_LB: '自然人',
  CF_XDR_ZJLX: '身份证',
  CF_XDR_ZJHM: ID,
  CF_WSH: '京市监罚〔2026〕18号',
  CF_WFXW: '销售过期食品',
  CF_SY: '当事人销售过期食品。',
  CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
  CF_CFLB: '警告',
  CF_NR: '警告',
  CF_JDRQ: recentDecisionDate(),
  CF_CFJG: '某市市场监督管理局',
  CF_CFJGDM: SOURCE_USCC,
};

let root: string;
let keyring: LocalKeyring;
const deps = (version: number): PrepareDeps => ({ cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring, version) });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-lookup-version-'));
  ensureLocalKeys(root);
  ensureLocalKeys(root, 2);
  keyring = new LocalKeyring(root);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function head(version: number): Promise<StoredHead> {
  const prepared = await prepareRecord(PUSH_KINDS.penalty, source, PENALTY, new Date(), deps(version));
  if (!prepared.ok) throw new Error(JSON.stringify(prepared.errors));
  return prepared.head;
}

const notLate = () => false;

describe('a pushed natural person', () => {
  it('is stored with a version 1 hash by default: certificate hash v1#…, subject key PID#v1#…', async () => {
    const h = await head(1);
    expect(h.certificate!.hash).toMatch(/^v1#[A-Za-z0-9_-]{43}$/);
    expect(h.subjectKey).toBe(`PID#${h.certificate!.hash}`);
    expect(h.subjectKey).toMatch(/^PID#v1#/);
    expect(h.subjectKey).not.toContain(ID);
  });

  it('is stored under the configured version: another key, so another digest', async () => {
    const [v1, v2] = [await head(1), await head(2)];
    expect(v2.subjectKey).toMatch(/^PID#v2#[A-Za-z0-9_-]{43}$/);
    expect(parseLookupHash(v2.certificate!.hash).digest).not.toBe(parseLookupHash(v1.certificate!.hash).digest);
  });
});

describe('duplicate or updated, across versions', () => {
  it('treats a record stored before versions (bare hash) as the same content as its v1 re-push: duplicate', async () => {
    const v1 = await head(1);
    const digest = parseLookupHash(v1.certificate!.hash).digest;
    const legacyCertificate = { ...v1.certificate!, hash: digest };
    const legacy: StoredHead = {
      ...v1,
      certificate: legacyCertificate,
      subjectKey: subjectKeyOf(undefined, legacyCertificate),
      // As it was computed before versions: over the bare hash.
      contentHash: contentHash('penalty', v1.fields, legacyCertificate),
    };
    expect(legacy.subjectKey).toBe(`PID#${digest}`);
    expect(legacy.contentHash).toBe(v1.contentHash);
    expect(decidePush(legacy, await head(1), notLate).status).toBe('duplicate');
  });

  it('reports a re-push under a new version over a record not yet re-derived as updated, and as duplicate once re-derived', async () => {
    const stored = await head(1);
    // Without the migration: the digest changed, so the content hash did (the documented window).
    expect(decidePush(stored, await head(2), notLate).status).toBe('updated');
    // What the re-derivation does to each item: hash, subject key and content hash under the new version.
    const hash = await new LookupHasher(keyring, 2).hash('cert:01', ID);
    const certificate = { ...stored.certificate!, hash };
    const rederived: StoredHead = { ...stored, certificate, subjectKey: subjectKeyOf(undefined, certificate), contentHash: contentHash('penalty', stored.fields, certificate) };
    expect(decidePush(rederived, await head(2), notLate).status).toBe('duplicate');
  });
});

describe('the configured version', () => {
  const saved = process.env[environment.lookupKeyVersion];
  afterEach(() => {
    if (saved === undefined) delete process.env[environment.lookupKeyVersion];
    else process.env[environment.lookupKeyVersion] = saved;
  });

  it('is the catalogue’s (1) unless HUB_LOOKUP_KEY_VERSION says otherwise', () => {
    delete process.env[environment.lookupKeyVersion];
    expect(fieldKeyUse.lookupKeyVersion).toBe(1);
    expect(currentLookupKeyVersion()).toBe(1);
    process.env[environment.lookupKeyVersion] = '2';
    expect(currentLookupKeyVersion()).toBe(2);
  });

  it('refuses a HUB_LOOKUP_KEY_VERSION that is not a version', () => {
    process.env[environment.lookupKeyVersion] = 'v2';
    expect(() => currentLookupKeyVersion()).toThrow(/integer from 1 to 9999/);
  });
});
