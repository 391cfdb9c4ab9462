import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { HIDDEN, PUBLIC_FIELDS, subjectSlugOf, toListEntry, toPublicRecord } from '../../shared/site/public-record.js';
import { addDays } from '../support/dates.js';
import { seededRandom } from '../support/seeded-random.js';
import {
  approved,
  companyUscc,
  daysAgo,
  debtor,
  debtorRaw,
  governmentUscc,
  headFactory,
  type HeadFactory,
  licence,
  licenceRaw,
  penalty,
  penaltyRaw,
  personId,
  personLicenceRaw,
  personPenaltyRaw,
} from '../support/site-heads.js';

let factory: HeadFactory;
beforeAll(() => {
  factory = headFactory();
});
afterAll(() => factory.dispose());

const DECIDED = daysAgo(20);
const AS_OF = daysAgo(5);

describe('toPublicRecord: only what is published on the day', () => {
  it('an approved, active record in its period is public; the same record waiting for review is not', async () => {
    const head = await penalty(factory.deps, penaltyRaw(1, DECIDED));
    expect(head.publication.state).toBe('pending-review');
    expect(toPublicRecord(head, AS_OF)).toBeUndefined();
    const shown = toPublicRecord(approved(head), AS_OF);
    expect(shown).toMatchObject({ id: head.id, kind: 'penalty', decisionDate: DECIDED, from: DECIDED, until: head.publication.until });
  });

  it('withheld, not published (轻微), and ended (removed, repaired, revoked, expired) records have no public form', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(2, DECIDED)));
    const states: StoredHead['publication'][] = [
      { ...head.publication, state: 'withheld' },
      { ...head.publication, state: 'not-published' },
      ...(['removed', 'repaired', 'revoked', 'expired'] as const).map((endReason) => ({ ...head.publication, state: 'ended' as const, endReason, endedOn: AS_OF })),
    ];
    for (const publication of states) expect(toPublicRecord({ ...head, publication }, AS_OF), JSON.stringify(publication)).toBeUndefined();
    const minor = await penalty(factory.deps, penaltyRaw(3, DECIDED, { SXDJ: '轻微' }));
    expect(minor.publication.state).toBe('not-published');
    expect(toPublicRecord(minor, AS_OF)).toBeUndefined();
  });

  it('before its period begins and after its end (inclusive) a record is not public', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(4, DECIDED)));
    const until = head.publication.until!;
    expect(toPublicRecord(head, addDays(DECIDED, -1))).toBeUndefined();
    expect(toPublicRecord(head, DECIDED)).toBeDefined();
    expect(toPublicRecord(head, until)).toBeDefined();
    expect(toPublicRecord(head, addDays(until, 1))).toBeUndefined();
  });

  it('a removed court listing is not public even if its publication were still approved', async () => {
    const random = seededRandom(11);
    const removed = await debtor(factory.deps, debtorRaw(5, DECIDED, companyUscc(random), { iname: '某某公司', businessEntity: '李四', status: 'removed' }));
    expect(removed.status).toBe('removed');
    expect(toPublicRecord({ ...removed, publication: { ...removed.publication, state: 'approved' } }, AS_OF)).toBeUndefined();
  });

  it('a kind without an allow-list of public fields is never public', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(6, DECIDED)));
    expect(toPublicRecord({ ...head, kind: 'discipline' }, AS_OF)).toBeUndefined();
  });
});

describe('toPublicRecord: the fields shown', () => {
  it('shows only allow-listed fields: no data-source id, hashes, subject key, applied requests, ciphertext', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(7, DECIDED)));
    const withInternals: StoredHead = {
      ...head,
      fields: { ...head.fields, CONTACT: '13800138000', internalNote: '内部备注不得公开' },
      appliedRequests: [{ key: 'request-key-secret', status: 'accepted' }],
      objection: { openSince: `${AS_OF}T02:00:00.000Z`, count: 1 },
    };
    const shown = toPublicRecord(withInternals, AS_OF)!;
    const allowed = new Set(PUBLIC_FIELDS.penalty.map((f) => f.code));
    for (const field of shown.fields) expect(allowed.has(field.code), field.code).toBe(true);
    const text = JSON.stringify(shown);
    for (const secret of ['13800138000', '内部备注不得公开', 'request-key-secret', head.contentHash, head.subjectKey, head.sourceId]) {
      expect(text).not.toContain(secret);
    }
    expect(shown.fields.map((f) => f.code)).toEqual(expect.arrayContaining(['CF_XDR_MC', 'CF_WSH', 'CF_SY', 'CF_CFLB', 'CF_NR_FK', 'CF_CFJG']));
  });

  it('coded values are shown by their Chinese names', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(8, DECIDED)));
    const shown = toPublicRecord(head, AS_OF)!;
    const value = (code: string) => shown.fields.find((f) => f.code === code)?.value;
    expect(value('CF_CFLB')).toBe('警告、罚款');
    expect(value('CF_XDR_LB')).toBe('法人');
    expect(value('SXDJ')).toBe('一般');
    expect(shown.fields.find((f) => f.code === 'CF_CFLB')?.label).toBe('处罚类别');
  });

  it("a person's certificate number is shown as its type and 已隐藏; the ciphertext and hash never appear", async () => {
    const random = seededRandom(21);
    const id = personId(random);
    const head = approved(await penalty(factory.deps, personPenaltyRaw(9, DECIDED, id)));
    const shown = toPublicRecord(head, AS_OF)!;
    const text = JSON.stringify(shown);
    expect(text).not.toContain(id);
    expect(text).not.toContain(id.slice(6, 14));
    expect(text).not.toContain(head.certificate!.cipher);
    expect(text).not.toContain(head.certificate!.hash);
    expect(shown.fields.find((f) => f.code === 'CF_XDR_ZJHM')).toEqual({ code: 'CF_XDR_ZJHM', label: '证件号码', value: HIDDEN });
    expect(shown.fields.find((f) => f.code === 'CF_XDR_ZJLX')?.value).toBe('身份证');
    expect(shown.subjectLabel).toBe(`身份证号码${HIDDEN}`);
    const codes = shown.fields.map((f) => f.code);
    expect(codes.indexOf('CF_XDR_ZJHM')).toBe(codes.indexOf('CF_XDR_ZJLX') + 1);
  });

  it('a debtor who is a person: 身份证号码已隐藏; an organisation: its USCC as the label', async () => {
    const random = seededRandom(22);
    const id = personId(random);
    const person = toPublicRecord(approved(await debtor(factory.deps, debtorRaw(10, DECIDED, id))), AS_OF)!;
    expect(person.fields.find((f) => f.code === 'cardNum')).toEqual({ code: 'cardNum', label: '身份证号码', value: HIDDEN });
    expect(JSON.stringify(person)).not.toContain(id);
    const uscc = companyUscc(random);
    const company = toPublicRecord(approved(await debtor(factory.deps, debtorRaw(11, DECIDED, uscc, { iname: '北京某某商贸有限公司', businessEntity: '李四' }))), AS_OF)!;
    expect(company.subjectLabel).toBe(uscc);
    expect(company.fields.find((f) => f.code === 'cardNum')?.value).toBe(uscc);
  });

  it("a person's number left in clear in a code field (an older write) is masked, and hidden when a certificate is stored", async () => {
    const random = seededRandom(24);
    const id = personId(random);
    const head = approved(await debtor(factory.deps, debtorRaw(25, DECIDED, id)));
    const legacy = toPublicRecord({ ...head, certificate: undefined, fields: { ...head.fields, cardNum: id } }, AS_OF)!;
    expect(legacy.fields.find((f) => f.code === 'cardNum')?.value).toBe(`${id.slice(0, 10)}****${id.slice(14)}`);
    const both = toPublicRecord({ ...head, fields: { ...head.fields, cardNum: id } }, AS_OF)!;
    expect(both.fields.filter((f) => f.code === 'cardNum')).toEqual([{ code: 'cardNum', label: '身份证号码', value: HIDDEN }]);
    expect(JSON.stringify([legacy, both])).not.toContain(id);
  });

  it('an identity number typed into free text is masked (birth-date digits hidden)', async () => {
    const random = seededRandom(23);
    const id = personId(random);
    const head = approved(await penalty(factory.deps, penaltyRaw(12, DECIDED, { CF_SY: `当事人（身份证${id}）销售过期食品`, BZ: `联系人 ${id.slice(0, 6)} ${id.slice(6, 14)} ${id.slice(14)}` })));
    const shown = toPublicRecord(head, AS_OF)!;
    const facts = shown.fields.find((f) => f.code === 'CF_SY')!.value;
    expect(facts).toContain(`${id.slice(0, 10)}****${id.slice(14)}`);
    expect(JSON.stringify(shown)).not.toContain(id);
    expect(shown.fields.find((f) => f.code === 'BZ')!.value).not.toContain(id.slice(6, 14));
  });
});

describe('toPublicRecord: subject, objection, government-integrity column', () => {
  it('the subject slug is URL-safe, stable, the same for one subject across records, and hides the number', async () => {
    const random = seededRandom(31);
    const id = personId(random);
    const a = approved(await licence(factory.deps, personLicenceRaw(13, DECIDED, id)));
    const b = approved(await penalty(factory.deps, personPenaltyRaw(14, DECIDED, id)));
    const ra = toPublicRecord(a, AS_OF)!;
    const rb = toPublicRecord(b, AS_OF)!;
    expect(ra.subjectSlug).toMatch(/^[a-z2-7]{26}$/);
    expect(ra.subjectSlug).toBe(rb.subjectSlug);
    expect(ra.subjectSlug).toBe(subjectSlugOf(a.subjectKey));
    expect(ra.subjectSlug).not.toContain(id);
    // The keyed hash written with or without its version prefix is the same subject.
    const digest = a.subjectKey.replace(/^PID#v1#/, '');
    expect(subjectSlugOf(`PID#${digest}`)).toBe(subjectSlugOf(`PID#v1#${digest}`));
    const company = toPublicRecord(approved(await licence(factory.deps, licenceRaw(15, DECIDED))), AS_OF)!;
    expect(company.subjectSlug).not.toBe(ra.subjectSlug);
    expect(company.subjectLabel).toBe('91310115MA1K3BTP2B');
  });

  it('an open objection marks the record; none, or a count of zero, does not', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw(16, DECIDED)));
    expect(toPublicRecord(head, AS_OF)!.underObjection).toBe(false);
    expect(toPublicRecord({ ...head, objection: { openSince: `${AS_OF}T01:00:00Z`, count: 2 } }, AS_OF)!.underObjection).toBe(true);
    expect(toPublicRecord({ ...head, objection: { openSince: `${AS_OF}T01:00:00Z`, count: 0 } }, AS_OF)!.underObjection).toBe(false);
  });

  it('penalties and court listings of government bodies are in the 政务诚信专栏; a licence to one, or a company, is not', async () => {
    const random = seededRandom(41);
    const gov = governmentUscc(random);
    const listing = toPublicRecord(approved(await debtor(factory.deps, debtorRaw(17, DECIDED, gov, { iname: '某县某局', businessEntity: '赵六' }))), AS_OF)!;
    expect(listing.governmentIntegrity).toBe(true);
    const govPenalty = toPublicRecord(approved(await penalty(factory.deps, penaltyRaw(18, DECIDED, { CF_XDR_MC: '某县某局', CF_XDR_SHXYM: gov }))), AS_OF)!;
    expect(govPenalty.governmentIntegrity).toBe(true);
    const govLicence = toPublicRecord(approved(await licence(factory.deps, licenceRaw(19, DECIDED, { XK_XDR_MC: '某县某局', XK_XDR_SHXYM: gov }))), AS_OF)!;
    expect(govLicence.governmentIntegrity).toBe(false);
    const company = toPublicRecord(approved(await penalty(factory.deps, penaltyRaw(20, DECIDED))), AS_OF)!;
    expect(company.governmentIntegrity).toBe(false);
  });

  it('toListEntry keeps only the summary', async () => {
    const record = toPublicRecord(approved(await penalty(factory.deps, penaltyRaw(21, DECIDED))), AS_OF)!;
    const entry = toListEntry(record);
    expect(Object.keys(entry).sort()).toEqual(['decisionDate', 'governmentIntegrity', 'id', 'kind', 'subjectLabel', 'subjectName', 'subjectSlug', 'title', 'underObjection']);
    expect(entry.title).toBe('行政处罚决定书 沪市监罚〔2026〕21号');
  });
});
