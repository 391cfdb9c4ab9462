import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { contentHash, recordId, type StoredHead } from '../../shared/domain/record-model.js';
import { dropEmpty, prepareRecord, subjectKeyOf, type PrepareDeps, type Prepared } from '../../shared/ingest/prepare.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';

const ID = '110102199101010078';
const ID_X = '44011320141005001X';
const SOURCE_USCC = '121200004013590816';

const source: KeyPrincipal = { sourceId: 'shi-scjgj', name: '某市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license', 'penalty'] };
const otherSource: KeyPrincipal = { ...source, sourceId: 'qu-scjgj', name: '某区市场监督管理局' };

// Decision dates are in the past of any run; receivedAt is fixed by each test.
const RECEIVED = new Date('2026-10-09T02:00:00Z');

const LICENCE = {
  XK_XDR_MC: '上海某某科技有限公司',
  XK_XDR_LB: '法人',
  XK_XDR_SHXYM: '91310115MA1K3BTP2B',
  XK_FRDB: '王五',
  XK_XKWS: '食品经营许可决定书',
  XK_WSH: '沪市监许〔2026〕0001号',
  XK_XKLB: '普通',
  XK_NR: '预包装食品销售',
  XK_JDRQ: '2026-09-28',
  XK_YXQZ: '2026-09-28',
  XK_YXQZI: '2031-09-27',
  XK_XKJG: '某市市场监督管理局',
  XK_XKJGDM: SOURCE_USCC,
  XK_ZT: '有效',
};

const PENALTY = {
  CF_XDR_MC: '张三',
  CF_XDR_LB: '自然人',
  CF_XDR_ZJLX: '身份证',
  CF_XDR_ZJHM: ID,
  CF_WSH: '京市监罚〔2026〕18号',
  CF_WFXW: '销售过期食品',
  CF_SY: '当事人销售过期食品。',
  CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
  CF_CFLB: '警告;罚款',
  CF_NR: '警告并处罚款',
  CF_NR_FK: '001.500',
  CF_JDRQ: '2026-04-15',
  CF_CFJG: '某市市场监督管理局',
  CF_CFJGDM: SOURCE_USCC,
};

let root: string;
let deps: PrepareDeps;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-prepare-test-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  deps = { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const licence = (over: Record<string, unknown> = {}, at = RECEIVED, by = source) => prepareRecord(PUSH_KINDS.license, by, { ...LICENCE, ...over }, at, deps);
const penalty = (over: Record<string, unknown> = {}, at = RECEIVED, by = source) => prepareRecord(PUSH_KINDS.penalty, by, { ...PENALTY, ...over }, at, deps);

function ok(p: Prepared): StoredHead {
  if (!p.ok) throw new Error(`expected the record to be prepared: ${JSON.stringify(p.errors)}`);
  return p.head;
}

function errors(p: Prepared) {
  if (p.ok) throw new Error('expected the record to be rejected');
  return p.errors;
}

describe('prepareRecord: non-objects', () => {
  it.each([[null], [undefined], ['record'], [42], [true], [[LICENCE]]])('rejects %j with field ""', async (raw) => {
    const p = await prepareRecord(PUSH_KINDS.license, source, raw, RECEIVED, deps);
    expect(errors(p)).toEqual([{ field: '', message: expect.stringMatching(/JSON对象/) }]);
  });
});

describe('prepareRecord: validation', () => {
  it('rejects an invalid record with the field errors of its contract', async () => {
    expect(errors(await licence({ XK_JDRQ: '2026-02-30', XK_FOO: 1 })).map((e) => e.field).sort()).toEqual(['XK_FOO', 'XK_JDRQ']);
  });

  it('treats null and blank strings as absent', async () => {
    const head = ok(await licence({ XK_YXQZI: '', BZ: null, XK_XKZS: '   ' }));
    expect(head.fields).not.toHaveProperty('XK_YXQZI');
    expect(head.fields).not.toHaveProperty('BZ');
    expect(head.fields).not.toHaveProperty('XK_XKZS');
    expect(head.publication).not.toHaveProperty('until');
  });

  it('still reports a blank required field as missing', async () => {
    expect(errors(await licence({ XK_NR: '  ' }))).toEqual([{ field: 'XK_NR', message: expect.stringMatching(/必填字段缺失/) }]);
  });

  // BUG (contracts/penalty.ts): an empty CF_CFLB array makes the schema throw a TypeError
  // from its superRefine ([].split), so the whole push fails instead of one record being rejected.
  it('rejects a penalty with an empty CF_CFLB array as a field error, without throwing', async () => {
    await expect(penalty({ CF_CFLB: [] })).resolves.toEqual({ ok: false, errors: [expect.objectContaining({ field: 'CF_CFLB' })] });
  });
});

describe('dropEmpty', () => {
  it('drops null, empty and blank strings and keeps every other value', () => {
    expect(dropEmpty({ a: null, b: '', c: ' \t', d: '0', e: 0, f: false, g: [], h: {}, i: undefined })).toStrictEqual({ d: '0', e: 0, f: false, g: [], h: {}, i: undefined });
  });
});

describe('prepareRecord: the data-source rule', () => {
  it('defaults XK_LYDW and XK_LYDWDM to the pushing source', async () => {
    const head = ok(await licence());
    expect(head.fields.XK_LYDW).toBe('某市市场监督管理局');
    expect(head.fields.XK_LYDWDM).toBe(SOURCE_USCC);
  });

  it('keeps a data-source name the department gives', async () => {
    expect(ok(await licence({ XK_LYDW: '某市市场监管局信息中心' })).fields.XK_LYDW).toBe('某市市场监管局信息中心');
  });

  it('accepts XK_LYDWDM equal to the source USCC, also when written full-width', async () => {
    expect(ok(await licence({ XK_LYDWDM: SOURCE_USCC })).fields.XK_LYDWDM).toBe(SOURCE_USCC);
    expect(ok(await licence({ XK_LYDWDM: '１２１２００００４０１３５９０８１６' })).fields.XK_LYDWDM).toBe(SOURCE_USCC);
  });

  it('rejects a valid XK_LYDWDM that is not the source USCC, on XK_LYDWDM', async () => {
    expect(errors(await licence({ XK_LYDWDM: '91110000600037341L' }))).toEqual([{ field: 'XK_LYDWDM', message: expect.stringContaining(SOURCE_USCC) }]);
  });

  it('rejects a CF_SJLYDM that is not the source USCC, on CF_SJLYDM', async () => {
    expect(errors(await penalty({ CF_SJLYDM: '91340600MA2PBP2120' }))).toEqual([{ field: 'CF_SJLYDM', message: expect.stringContaining(SOURCE_USCC) }]);
  });

  it('defaults CF_SJLY and CF_SJLYDM to the pushing source', async () => {
    const head = ok(await penalty());
    expect([head.fields.CF_SJLY, head.fields.CF_SJLYDM]).toEqual(['某市市场监督管理局', SOURCE_USCC]);
  });
});

describe('prepareRecord: identity, certificate and subject', () => {
  it('builds the record id from kind, source and document number', async () => {
    const head = ok(await licence());
    expect(head.id).toBe(recordId('lic', 'license', 'shi-scjgj', '沪市监许〔2026〕0001号'));
    expect(head.id).toMatch(/^lic_[a-z2-7]{26}$/);
    expect(head.identity).toBe('沪市监许〔2026〕0001号');
    expect(head.kind).toBe('license');
    expect(head.sourceId).toBe('shi-scjgj');
    expect(ok(await penalty()).id).toMatch(/^pen_[a-z2-7]{26}$/);
  });

  it('gives the same document number of two sources two records', async () => {
    expect(ok(await licence({}, RECEIVED, otherSource)).id).not.toBe(ok(await licence()).id);
  });

  it('keys an organisation by its USCC', async () => {
    const head = ok(await licence());
    expect(head.subjectKey).toBe('USCC#91310115MA1K3BTP2B');
    expect(head).not.toHaveProperty('certificate');
  });

  it('removes the certificate number from fields and keeps it only as ciphertext and keyed hash', async () => {
    const head = ok(await penalty());
    expect(head.fields).not.toHaveProperty('CF_XDR_ZJHM');
    expect(head.fields.CF_XDR_ZJLX).toBe('01');
    expect(head.certificate).toStrictEqual({ type: '01', cipher: expect.stringMatching(/^v1\./), hash: await deps.hasher.hash('cert:01', ID) });
    expect(JSON.stringify(head)).not.toContain(ID);
  });

  it('encrypts the number bound to this record and field', async () => {
    const head = ok(await penalty());
    expect(await deps.cipher.decrypt(head.certificate!.cipher, `${head.id}:CF_XDR_ZJHM`)).toBe(ID);
    await expect(deps.cipher.decrypt(head.certificate!.cipher, `${head.id}:XK_XDR_ZJHM`)).rejects.toThrow();
    const other = ok(await penalty({ CF_WSH: '京市监罚〔2026〕19号' }));
    await expect(deps.cipher.decrypt(head.certificate!.cipher, `${other.id}:CF_XDR_ZJHM`)).rejects.toThrow();
  });

  it('keys a natural person with a 身份证 by PID# and the keyed hash, the same across records', async () => {
    const a = ok(await penalty());
    const b = ok(await penalty({ CF_WSH: '京市监罚〔2026〕20号' }));
    expect(a.subjectKey).toBe(`PID#${a.certificate!.hash}`);
    expect(b.subjectKey).toBe(a.subjectKey);
    expect(a.subjectKey).not.toContain(ID);
  });

  it('hashes the normalised number (lower-case x, full-width digits)', async () => {
    const upper = ok(await penalty({ CF_XDR_ZJHM: ID_X }));
    const lower = ok(await penalty({ CF_XDR_ZJHM: ID_X.toLowerCase() }));
    expect(lower.subjectKey).toBe(upper.subjectKey);
    expect(await deps.cipher.decrypt(lower.certificate!.cipher, `${lower.id}:CF_XDR_ZJHM`)).toBe(ID_X);
  });

  it('keys another certificate type by CERT#type#hash, with the type in the hash namespace', async () => {
    const head = ok(await penalty({ CF_XDR_ZJLX: '护照', CF_XDR_ZJHM: 'E12345678' }));
    expect(head.certificate!.type).toBe('02');
    expect(head.certificate!.hash).toBe(await deps.hasher.hash('cert:02', 'E12345678'));
    expect(head.subjectKey).toBe(`CERT#02#${head.certificate!.hash}`);
  });

  it('keys an individual business by its USCC when it has one, even with a certificate', async () => {
    const head = ok(await penalty({ CF_XDR_LB: '个体工商户', CF_XDR_SHXYM: '91340600MA2PBP2120' }));
    expect(head.subjectKey).toBe('USCC#91340600MA2PBP2120');
    expect(head.certificate?.type).toBe('01');
  });

  it('marks a subject whose USCC the establishment offices issued as a government body, and no other', async () => {
    expect(ok(await licence({ XK_XDR_SHXYM: SOURCE_USCC })).governmentBody).toBe(true);
    expect(ok(await licence())).not.toHaveProperty('governmentBody');
    expect(ok(await penalty())).not.toHaveProperty('governmentBody');
  });

  it('keys an individual business by PID# without a USCC', async () => {
    const head = ok(await penalty({ CF_XDR_LB: '个体工商户', CF_XDR_ZJHM: ID_X }));
    expect(head.subjectKey).toMatch(/^PID#v1#[A-Za-z0-9_-]{43}$/);
  });
});

describe('subjectKeyOf', () => {
  it('prefers the USCC, then the certificate', () => {
    expect(subjectKeyOf('91110000600037341L', { type: '01', hash: 'h' })).toBe('USCC#91110000600037341L');
    expect(subjectKeyOf(undefined, { type: '01', hash: 'h' })).toBe('PID#h');
    expect(subjectKeyOf(undefined, { type: '05', hash: 'h' })).toBe('CERT#05#h');
  });

  it('keys an old organisation code by ORG#, after a USCC and before a certificate', () => {
    expect(subjectKeyOf(undefined, undefined, '600037341')).toBe('ORG#600037341');
    expect(subjectKeyOf('91110000600037341L', undefined, '600037341')).toBe('USCC#91110000600037341L');
    expect(subjectKeyOf(undefined, { type: '01', hash: 'h' }, '600037341')).toBe('ORG#600037341');
  });

  it('throws when there is neither', () => {
    expect(() => subjectKeyOf(undefined, undefined)).toThrow();
  });
});

describe('prepareRecord: content hash', () => {
  it('is the same for the same record pushed twice, though the ciphertext differs', async () => {
    const a = ok(await penalty());
    const b = ok(await penalty({}, new Date('2026-11-01T00:00:00Z')));
    expect(a.certificate!.cipher).not.toBe(b.certificate!.cipher);
    expect(a.contentHash).toBe(b.contentHash);
  });

  it('is computed from the stored fields and certificate', async () => {
    const head = ok(await penalty());
    expect(head.contentHash).toBe(contentHash('penalty', head.fields, head.certificate));
  });

  it('does not depend on whether codes or names were pushed, or the field order', async () => {
    const byName = ok(await penalty());
    const byCode = ok(await prepareRecord(PUSH_KINDS.penalty, source, Object.fromEntries(Object.entries({ ...PENALTY, CF_XDR_LB: '03', CF_XDR_ZJLX: '01', CF_CFLB: ['02', '01'], CF_NR_FK: 1.5 }).reverse()), RECEIVED, deps));
    expect(byCode.contentHash).toBe(byName.contentHash);
  });

  it('changes with a field or with the certificate number', async () => {
    const base = ok(await penalty());
    expect(ok(await penalty({ CF_NR: '警告并处罚款1.5万元' })).contentHash).not.toBe(base.contentHash);
    expect(ok(await penalty({ CF_XDR_ZJHM: ID_X })).contentHash).not.toBe(base.contentHash);
  });
});

describe('prepareRecord: lateness (7 working days, Beijing date of receipt)', () => {
  // Decision 2026-09-28; the 7th working day after it is 2026-10-13.
  it('is not late on 2026-10-13, even at 23:59 in Beijing', async () => {
    expect(ok(await licence({}, new Date('2026-10-13T15:59:59Z'))).late).toBe(false);
  });

  it('is late from 2026-10-14 in Beijing (16:00 UTC the day before)', async () => {
    expect(ok(await licence({}, new Date('2026-10-13T16:00:00Z'))).late).toBe(true);
  });

  it('counts from the decision date of a penalty too', async () => {
    expect(ok(await penalty({ CF_JDRQ: '2026-09-28' }, new Date('2026-10-12T00:00:00Z'))).late).toBe(false);
    expect(ok(await penalty({ CF_JDRQ: '2026-04-15' }, new Date('2026-10-12T00:00:00Z'))).late).toBe(true);
  });

  it('records the receipt time as first and last receipt, version 1, active; no delivery state on the record (the deliveries table has it)', async () => {
    const at = new Date('2026-10-09T02:03:04.005Z');
    const head = ok(await licence({}, at));
    expect(head).toMatchObject({
      version: 1,
      firstReceivedAt: '2026-10-09T02:03:04.005Z',
      receivedAt: '2026-10-09T02:03:04.005Z',
      decisionDate: '2026-09-28',
      status: 'active',
    });
    expect(head).not.toHaveProperty('delivery');
  });
});

describe('prepareRecord: publication', () => {
  it('publishes a licence from its decision until the end of its validity', async () => {
    expect(ok(await licence()).publication).toStrictEqual({ state: 'pending-review', from: '2026-09-28', until: '2031-09-27' });
  });

  it('publishes a licence without an end of validity open-ended', async () => {
    const { XK_YXQZI: _omitted, ...noEnd } = LICENCE;
    const head = ok(await prepareRecord(PUSH_KINDS.license, source, noEnd, RECEIVED, deps));
    expect(head.publication).toStrictEqual({ state: 'pending-review', from: '2026-09-28' });
    expect(head.fields).not.toHaveProperty('SXDJ');
  });

  it('grades a penalty 一般 (2) when SXDJ is absent, and stores the grade: 3 to 12 months', async () => {
    const head = ok(await penalty());
    expect(head.fields.SXDJ).toBe('2');
    expect(head.publication).toStrictEqual({ state: 'pending-review', grade: '2', from: '2026-04-15', minUntil: '2026-07-15', until: '2027-04-15' });
  });

  it('grades 严重 as 3: 12 to 36 months', async () => {
    const head = ok(await penalty({ SXDJ: '严重' }));
    expect(head.fields.SXDJ).toBe('3');
    expect(head.publication).toMatchObject({ state: 'pending-review', grade: '3', minUntil: '2027-04-15', until: '2029-04-15' });
  });

  it('does not publish 轻微 (1), at most 3 months', async () => {
    const head = ok(await penalty({ SXDJ: '轻微' }));
    expect(head.publication).toStrictEqual({ state: 'not-published', grade: '1', from: '2026-04-15', until: '2026-07-15' });
  });

  it('treats an absent grade and an explicit 一般 the same (same content hash)', async () => {
    expect(ok(await penalty({ SXDJ: '一般' })).contentHash).toBe(ok(await penalty()).contentHash);
  });

  it('keeps a proposed end (CF_GSJZQ) within the grade bounds', async () => {
    expect(ok(await penalty({ CF_GSJZQ: '2026-10-31' })).publication.until).toBe('2026-10-31');
    expect(ok(await penalty({ CF_GSJZQ: '2026-05-01' })).publication.until).toBe('2026-07-15');
    expect(ok(await penalty({ CF_GSJZQ: '2030-01-01' })).publication.until).toBe('2027-04-15');
    expect(ok(await penalty({ CF_GSJZQ: '2030-01-01', SXDJ: '3' })).publication.until).toBe('2029-04-15');
  });

  it('stores the normalised amounts and codes', async () => {
    const head = ok(await penalty());
    expect(head.fields).toMatchObject({ CF_XDR_LB: '03', CF_XDR_ZJLX: '01', CF_CFLB: '01;02', CF_NR_FK: '1.5' });
  });
});
