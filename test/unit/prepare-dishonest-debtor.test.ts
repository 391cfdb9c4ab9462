import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { addMonths, todayInChina } from '../../shared/domain/dates.js';
import { contentHash, recordId, type StoredHead } from '../../shared/domain/record-model.js';
import { prepareRecord, type PrepareDeps, type Prepared } from '../../shared/ingest/prepare.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { addDays, lateDecisionDate } from '../support/dates.js';

const COMPANY = '91110000600037341L';
const GOVERNMENT_BODY = '121200004013590816';
const ID = '110102199101010078';
const ID_X = '44011320141005001X';
const ORG_CODE = '600037341';

const court: KeyPrincipal = { sourceId: 'bj-1zy', name: '北京市第一中级人民法院', uscc: GOVERNMENT_BODY, role: 'court', kinds: ['dishonest-debtor'] };
const otherCourt: KeyPrincipal = { ...court, sourceId: 'bj-2zy', name: '北京市第二中级人民法院' };

// Publication dates in the past of any run; the receipt time is now unless a test says otherwise.
const PUBLISHED = addDays(todayInChina(), -30);
const REGISTERED = addDays(todayInChina(), -200);

const CASE = {
  courtName: '北京市第一中级人民法院',
  areaName: '北京',
  caseCode: '（2026）京01执123号',
  regDate: REGISTERED,
  gistId: '（2025）京01民初45号',
  gistUnit: '北京市第一中级人民法院',
  duty: '给付货款人民币伍拾万元',
  performance: '全部未履行',
  unperformPart: '50',
  disruptTypeName: '有履行能力而拒不履行生效法律文书确定义务',
  publishDate: PUBLISHED,
};

const PERSON = { iname: '张三', cardNum: ID, ...CASE };
const ORGANISATION = { iname: '北京某某商贸有限公司', cardNum: COMPANY, businessEntity: '李四', ...CASE };

let root: string;
let deps: PrepareDeps;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-prepare-debtor-test-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  deps = { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const spec = PUSH_KINDS['dishonest-debtor'];
const debtor = (base: Record<string, unknown>, over: Record<string, unknown> = {}, at = new Date(), by = court) => prepareRecord(spec, by, { ...base, ...over }, at, deps);

function ok(p: Prepared): StoredHead {
  if (!p.ok) throw new Error(`expected the record to be prepared: ${JSON.stringify(p.errors)}`);
  return p.head;
}

describe('prepareRecord (dishonest-debtor): identity', () => {
  it('identifies the record by source and caseCode, with the dd_ prefix', async () => {
    const head = ok(await debtor(ORGANISATION));
    expect(head.id).toBe(recordId('dd', 'dishonest-debtor', court.sourceId, '（2026）京01执123号'));
    expect(head.id).toMatch(/^dd_[a-z2-7]{26}$/);
    expect([head.kind, head.sourceId, head.identity]).toEqual(['dishonest-debtor', court.sourceId, '（2026）京01执123号']);
  });

  it('gives the same caseCode of two courts two records, and two caseCodes of one court two records', async () => {
    const a = ok(await debtor(ORGANISATION));
    expect(ok(await debtor(ORGANISATION, {}, new Date(), otherCourt)).id).not.toBe(a.id);
    expect(ok(await debtor(ORGANISATION, { caseCode: '（2026）京01执124号' })).id).not.toBe(a.id);
  });

  it('rejects an invalid row with the field errors of the contract', async () => {
    expect(await debtor(PERSON, { partyTypeName: '法人或其他组织', publishDate: '2026-02-30' })).toEqual({
      ok: false,
      errors: expect.arrayContaining([expect.objectContaining({ field: 'partyTypeName' }), expect.objectContaining({ field: 'publishDate' })]),
    });
  });

  it('adds no data-source fields (the kind has none) and keeps the court data as normalised', async () => {
    const head = ok(await debtor(ORGANISATION, { unperformPart: '050.00' }));
    expect(Object.keys(head.fields).filter((f) => /LYDW|SJLY/.test(f))).toEqual([]);
    expect(head.fields).toMatchObject({ unperformPart: '50', partyTypeName: '法人或其他组织', status: 'listed', cardNum: COMPANY });
  });
});

describe('prepareRecord (dishonest-debtor): the debtor', () => {
  it('keeps a natural person’s cardNum only as ciphertext and keyed hash, exactly as a penalty’s identity number', async () => {
    const head = ok(await debtor(PERSON));
    expect(head.fields).not.toHaveProperty('cardNum');
    expect(head.fields.partyTypeName).toBe('自然人');
    expect(head.certificate).toStrictEqual({ type: '01', cipher: expect.stringMatching(/^v1\./), hash: await deps.hasher.hash('cert:01', ID) });
    expect(JSON.stringify(head)).not.toContain(ID);
    expect(JSON.stringify(head)).not.toContain('1101021991');
  });

  it('binds the ciphertext to this record and the cardNum field', async () => {
    const head = ok(await debtor(PERSON));
    expect(await deps.cipher.decrypt(head.certificate!.cipher, `${head.id}:cardNum`)).toBe(ID);
    await expect(deps.cipher.decrypt(head.certificate!.cipher, `${head.id}:CF_XDR_ZJHM`)).rejects.toThrow();
    const other = ok(await debtor(PERSON, { caseCode: '（2026）京01执999号' }));
    await expect(deps.cipher.decrypt(head.certificate!.cipher, `${other.id}:cardNum`)).rejects.toThrow();
  });

  it('keys a natural person by PID# and the keyed hash: the same subject key as a penalty of the same person', async () => {
    const head = ok(await debtor(PERSON));
    expect(head.subjectKey).toBe(`PID#${head.certificate!.hash}`);
    const penalty = ok(
      await prepareRecord(
        PUSH_KINDS.penalty,
        { ...court, role: 'department', kinds: ['penalty'] },
        {
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
          CF_JDRQ: PUBLISHED,
          CF_CFJG: '某市市场监督管理局',
          CF_CFJGDM: GOVERNMENT_BODY,
        },
        new Date(),
        deps,
      ),
    );
    expect(penalty.subjectKey).toBe(head.subjectKey);
  });

  it('hashes the normalised number (a lower-case x)', async () => {
    expect(ok(await debtor(PERSON, { cardNum: ID_X.toLowerCase() })).subjectKey).toBe(ok(await debtor(PERSON, { cardNum: ID_X })).subjectKey);
  });

  it('keeps an organisation’s USCC in clear and keys it by USCC#', async () => {
    const head = ok(await debtor(ORGANISATION));
    expect(head.fields.cardNum).toBe(COMPANY);
    expect(head).not.toHaveProperty('certificate');
    expect(head.subjectKey).toBe(`USCC#${COMPANY}`);
    expect(head).not.toHaveProperty('governmentBody');
  });

  it('keys an old organisation code by ORG#, the same with or without its hyphen', async () => {
    const plain = ok(await debtor(ORGANISATION, { cardNum: ORG_CODE }));
    const hyphenated = ok(await debtor(ORGANISATION, { cardNum: '60003734-1' }));
    expect(plain.subjectKey).toBe(`ORG#${ORG_CODE}`);
    expect(hyphenated.subjectKey).toBe(plain.subjectKey);
    expect(hyphenated.contentHash).toBe(plain.contentHash);
    expect(plain).not.toHaveProperty('certificate');
    expect(plain).not.toHaveProperty('governmentBody');
  });

  it('marks a government body (USCC of the establishment offices) on the head', async () => {
    const head = ok(await debtor(ORGANISATION, { iname: '某某县人民政府', cardNum: GOVERNMENT_BODY }));
    expect(head.governmentBody).toBe(true);
    expect(head.subjectKey).toBe(`USCC#${GOVERNMENT_BODY}`);
  });

  it('keys an ambiguous code by the partyTypeName the court gave', async () => {
    const ambiguous = '110101199101014769';
    const asPerson = ok(await debtor(PERSON, { cardNum: ambiguous, partyTypeName: '自然人' }));
    const asBody = ok(await debtor(ORGANISATION, { cardNum: ambiguous, partyTypeName: '法人或其他组织' }));
    expect(asPerson.subjectKey).toMatch(/^PID#/);
    expect(asBody.subjectKey).toBe(`USCC#${ambiguous}`);
    expect(asBody.governmentBody).toBe(true);
  });

  it('gives the same content hash whether partyTypeName was inferred or given (by any of its names)', async () => {
    const inferred = ok(await debtor(ORGANISATION));
    expect(ok(await debtor(ORGANISATION, { partyTypeName: '法人或其他组织' })).contentHash).toBe(inferred.contentHash);
    expect(ok(await debtor(ORGANISATION, { partyTypeName: '法人' })).contentHash).toBe(inferred.contentHash);
    expect(inferred.contentHash).toBe(contentHash('dishonest-debtor', inferred.fields));
  });
});

describe('prepareRecord (dishonest-debtor): listing, removal, lateness', () => {
  it('publishes a listed record from publishDate for 2 years, active, never late', async () => {
    const head = ok(await debtor(ORGANISATION));
    expect(head).toMatchObject({ status: 'active', decisionDate: PUBLISHED, late: false, version: 1 });
    expect(head.publication).toStrictEqual({ state: 'pending-review', from: PUBLISHED, until: addMonths(PUBLISHED, 24) });
  });

  it('is not late however long after its publication it arrives (not 双公示)', async () => {
    const old = lateDecisionDate();
    const head = ok(await debtor(ORGANISATION, { publishDate: old, regDate: addMonths(old, -6) }));
    expect(head.late).toBe(false);
    expect(head.publication.until).toBe(addMonths(old, 24));
  });

  it('ends the publication of a removed row on the day (in China) the hub received it, status removed', async () => {
    const at = new Date();
    const head = ok(await debtor(ORGANISATION, { status: 'removed' }, at));
    expect(head.status).toBe('removed');
    expect(head.fields.status).toBe('removed');
    expect(head.publication).toStrictEqual({ state: 'ended', endReason: 'removed', endedOn: todayInChina(at), from: PUBLISHED, until: addMonths(PUBLISHED, 24) });
  });

  it('counts the removal day in Beijing (16:00 UTC is the next day there)', async () => {
    const evening = new Date(`${PUBLISHED}T16:00:00Z`);
    expect(ok(await debtor(ORGANISATION, { status: 'removed' }, evening)).publication.endedOn).toBe(addDays(PUBLISHED, 1));
  });

  it('makes a removed row other content than the listed one (an update)', async () => {
    expect(ok(await debtor(PERSON, { status: 'removed' })).contentHash).not.toBe(ok(await debtor(PERSON)).contentHash);
    expect(ok(await debtor(PERSON, { status: '在列' })).contentHash).toBe(ok(await debtor(PERSON)).contentHash);
  });
});
