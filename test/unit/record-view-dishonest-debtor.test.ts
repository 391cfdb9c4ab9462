import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordViewSchema } from '../../contracts/api.js';
import { fieldOrder, PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { LocalKeyring, ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { decidePush, versionOf, type StoredHead, type StoredVersion } from '../../shared/domain/record-model.js';
import { prepareRecord, type PrepareDeps } from '../../shared/ingest/prepare.js';
import { MAX_VERSIONS_SHOWN, recordView, showsCertificateNumber } from '../../shared/records/view.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { addDays } from '../support/dates.js';

const ID = '110102199101010078';
const MASKED = '1101021991****0078';
const GOVERNMENT_BODY = '121200004013590816';
const court: KeyPrincipal = { sourceId: 'bj-1zy', name: '北京市第一中级人民法院', uscc: GOVERNMENT_BODY, role: 'court', kinds: ['dishonest-debtor'] };

const CASE = {
  courtName: '北京市第一中级人民法院',
  areaName: '北京',
  caseCode: '（2026）京01执123号',
  regDate: addDays(todayInChina(), -200),
  gistId: '（2025）京01民初45号',
  gistUnit: '北京市第一中级人民法院',
  duty: '给付货款人民币伍拾万元',
  performance: '全部未履行',
  disruptTypeName: '有履行能力而拒不履行生效法律文书确定义务',
  publishDate: addDays(todayInChina(), -30),
};

let root: string;
let deps: PrepareDeps;
const cipher = () => Promise.resolve(deps.cipher);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hub-view-debtor-test-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  deps = { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) };
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function prepared(row: Record<string, unknown>, at = new Date()): Promise<StoredHead> {
  const p = await prepareRecord(PUSH_KINDS['dishonest-debtor'], court, row, at, deps);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.head;
}

const person = (over: Record<string, unknown> = {}) => prepared({ iname: '张三', cardNum: ID, ...CASE, ...over });
const governmentBody = (over: Record<string, unknown> = {}, at = new Date()) => prepared({ iname: '某某县人民政府', cardNum: GOVERNMENT_BODY, businessEntity: '王五', ...CASE, ...over }, at);

/** The record after `next` was pushed on top of `first`: its head and the superseded version. */
function updated(first: StoredHead, next: StoredHead): { head: StoredHead; versions: StoredVersion[] } {
  const decision = decidePush(first, next, () => false);
  if (decision.status !== 'updated') throw new Error(`expected an update, got ${decision.status}`);
  return { head: decision.head, versions: [versionOf(first, decision.head.receivedAt)] };
}

describe('record view of a 失信被执行人 listing', () => {
  it('masks a natural person’s cardNum for the court, in its place among the court fields', async () => {
    const head = await person();
    const view = await recordView(head, [], false, cipher);
    expect(view.fields.cardNum).toBe(MASKED);
    expect(Object.keys(view.fields)).toEqual(fieldOrder(PUSH_KINDS['dishonest-debtor']).filter((f) => f in view.fields));
    expect(Object.keys(view.fields).slice(0, 2)).toEqual(['iname', 'cardNum']);
    expect(JSON.stringify(view)).not.toContain(ID);
    expect(view).toMatchObject({ kind: 'dishonest-debtor', status: 'active', governmentBody: false, late: false, labels: { status: '在列' } });
    expect(recordViewSchema.safeParse(view).success).toBe(true);
  });

  it('shows the operator the number in full, in every listed version', async () => {
    const { head, versions } = updated(await person(), await person({ performance: '部分履行' }));
    const view = await recordView(head, versions, true, cipher);
    expect(view.fields.cardNum).toBe(ID);
    expect(view.versions.map((v) => v.fields.cardNum)).toEqual([ID, ID]);
  });

  it('shows an organisation’s USCC as it is, and says when the debtor is a government body', async () => {
    const view = await recordView(await governmentBody(), [], false, cipher);
    expect(view.fields).toMatchObject({ cardNum: GOVERNMENT_BODY, partyTypeName: '法人或其他组织' });
    expect(view.governmentBody).toBe(true);
    expect(recordViewSchema.safeParse(view).success).toBe(true);
  });

  it('shows a removed listing as removed, its publication ended, with the listed version in its history', async () => {
    const at = new Date();
    const { head, versions } = updated(await governmentBody(), await governmentBody({ status: 'removed' }, at));
    const view = await recordView(head, versions, false, cipher);
    expect(view.status).toBe('removed');
    expect(view.publication).toMatchObject({ state: 'ended', endReason: 'removed', endedOn: todayInChina(at) });
    expect(view.labels.status).toBe('已移除');
    expect(view.versions.map((v) => v.fields.status)).toEqual(['listed', 'removed']);
    expect(recordViewSchema.safeParse(view).success).toBe(true);
  });
});

describe('showsCertificateNumber (what the operator’s view reveals, for the audit)', () => {
  it('is true for a natural person, in the head or a listed version', async () => {
    const head = await person();
    expect(showsCertificateNumber(head, [])).toBe(true);
    // The court corrected a person's listing into an organisation's: the earlier version still holds the number.
    const corrected = await governmentBody();
    expect(showsCertificateNumber(corrected, [versionOf(head, new Date().toISOString())])).toBe(true);
  });

  it('is false for an organisation, whose cardNum is its USCC', async () => {
    expect(showsCertificateNumber(await governmentBody(), [])).toBe(false);
  });

  it('ignores versions too old to be listed', async () => {
    const body = await governmentBody();
    const old = versionOf(await person(), new Date().toISOString());
    const plain = versionOf(body, new Date().toISOString());
    const versions = [old, ...Array.from({ length: MAX_VERSIONS_SHOWN - 1 }, () => plain)];
    expect(showsCertificateNumber(body, versions)).toBe(false);
    expect(showsCertificateNumber(body, versions.slice(0, MAX_VERSIONS_SHOWN - 1))).toBe(true);
  });
});
