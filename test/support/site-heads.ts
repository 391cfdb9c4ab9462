/**
 * Stored heads for the site renderer's tests, built by the hub's own push path
 * (shared/ingest/prepare.ts: validation, encryption of a person's number, subject key,
 * government-body mark, publication) with a local keyring in a temp folder, so that what the
 * site sees is exactly what the store holds. Dates are relative to today in China (decisions
 * may not be in the future); identity numbers come from the sample generators with a seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PUSH_KINDS } from '../../contracts/kinds.js';
import { FieldCipher, LookupHasher } from '../../shared/crypto/field-cipher.js';
import { ensureLocalKeys, LocalKeyring } from '../../shared/crypto/local-keyring.js';
import { todayInChina } from '../../shared/domain/dates.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { prepareRecord, type PrepareDeps } from '../../shared/ingest/prepare.js';
import type { KeyPrincipal } from '../../shared/store/sources-store.js';
import { residentIdentityNumber, unifiedSocialCreditCode } from './batch-sample/identifiers.js';
import { addDays } from './dates.js';
import type { Random } from './seeded-random.js';

export const DEPARTMENT: KeyPrincipal = {
  sourceId: 'shi-scjgj',
  name: '某市市场监督管理局',
  uscc: '121200004013590816',
  role: 'department',
  kinds: ['license', 'penalty'],
};

export const COURT: KeyPrincipal = { sourceId: 'bj-1zy', name: '北京市第一中级人民法院', uscc: '121200004013590816', role: 'court', kinds: ['dishonest-debtor'] };

export interface HeadFactory {
  deps: PrepareDeps;
  dispose(): void;
}

/** A keyring in a fresh temp folder (removed by dispose). */
export function headFactory(): HeadFactory {
  const root = mkdtempSync(join(tmpdir(), 'hub-site-heads-'));
  ensureLocalKeys(root);
  const keyring = new LocalKeyring(root);
  return { deps: { cipher: new FieldCipher(keyring), hasher: new LookupHasher(keyring) }, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

/** A day `days` before today in China. */
export const daysAgo = (days: number): string => addDays(todayInChina(), -days);

/** A valid resident identity number of someone born `years` years and a few days before today. */
export function personId(random: Random, years = 40): string {
  const birth = addDays(todayInChina(), -(years * 365 + random.int(0, 300)));
  return residentIdentityNumber(random, '110102', birth, random.chance(0.5));
}

/** A government body's USCC (registration authority 1: 机构编制). */
export const governmentUscc = (random: Random): string => unifiedSocialCreditCode(random, '1', '1', '110000', 'government');
/** A company's USCC (registration authority 9). */
export const companyUscc = (random: Random): string => unifiedSocialCreditCode(random, '9', '1', '310115', 'recent');

async function prepared(kind: keyof typeof PUSH_KINDS, by: KeyPrincipal, raw: Record<string, unknown>, deps: PrepareDeps): Promise<StoredHead> {
  const result = await prepareRecord(PUSH_KINDS[kind], by, raw, new Date(), deps);
  if (!result.ok) throw new Error(`fixture rejected: ${JSON.stringify(result.errors)}`);
  return result.head;
}

/** The head as the review approved it. */
export function approved(head: StoredHead): StoredHead {
  return { ...head, publication: { ...head.publication, state: 'approved', decisions: [{ action: 'approve', by: 'operator', at: `${head.decisionDate}T01:00:00.000Z` }] } };
}

export function licenceRaw(n: number | string, decided: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    XK_XDR_MC: '上海某某科技有限公司',
    XK_XDR_LB: '法人',
    XK_XDR_SHXYM: '91310115MA1K3BTP2B',
    XK_FRDB: '王五',
    XK_XKWS: '食品经营许可决定书',
    XK_WSH: `沪市监许〔2026〕${n}号`,
    XK_XKLB: '普通',
    XK_NR: '预包装食品销售',
    XK_JDRQ: decided,
    XK_YXQZ: decided,
    XK_XKJG: '市市场监督管理局',
    XK_XKJGDM: '121200004013590816',
    XK_ZT: '有效',
    ...over,
  };
}

export function personLicenceRaw(n: number | string, decided: string, id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const { XK_XDR_SHXYM: _u, XK_FRDB: _f, ...rest } = licenceRaw(n, decided);
  return { ...rest, XK_XDR_MC: '李四', XK_XDR_LB: '自然人', XK_XDR_ZJLX: '身份证', XK_XDR_ZJHM: id, ...over };
}

export function penaltyRaw(n: number | string, decided: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CF_XDR_MC: '上海某某科技有限公司',
    CF_XDR_LB: '法人',
    CF_XDR_SHXYM: '91310115MA1K3BTP2B',
    CF_FRDB: '王五',
    CF_WSH: `沪市监罚〔2026〕${n}号`,
    CF_WFXW: '销售不符合食品安全标准的食品',
    CF_SY: '经查，当事人销售的食品不符合食品安全标准。',
    CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
    CF_CFLB: '警告;罚款',
    CF_NR: '警告并处罚款人民币伍万元',
    CF_NR_FK: 5,
    CF_JDRQ: decided,
    CF_CFJG: '市市场监督管理局',
    CF_CFJGDM: '121200004013590816',
    SXDJ: '一般',
    ...over,
  };
}

export function personPenaltyRaw(n: number | string, decided: string, id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const { CF_XDR_SHXYM: _u, CF_FRDB: _f, ...rest } = penaltyRaw(n, decided);
  return { ...rest, CF_XDR_MC: '张三', CF_XDR_LB: '自然人', CF_XDR_ZJLX: '身份证', CF_XDR_ZJHM: id, ...over };
}

export function debtorRaw(caseNo: number | string, published: string, cardNum: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iname: '张三',
    cardNum,
    courtName: '北京市第一中级人民法院',
    areaName: '北京',
    caseCode: `（2026）京01执${caseNo}号`,
    regDate: addDays(published, -100),
    gistId: '（2025）京01民初45号',
    gistUnit: '北京市第一中级人民法院',
    duty: '给付货款人民币伍拾万元',
    performance: '全部未履行',
    unperformPart: '50',
    disruptTypeName: '有履行能力而拒不履行生效法律文书确定义务',
    publishDate: published,
    ...over,
  };
}

export const licence = (deps: PrepareDeps, raw: Record<string, unknown>) => prepared('license', DEPARTMENT, raw, deps);
export const penalty = (deps: PrepareDeps, raw: Record<string, unknown>) => prepared('penalty', DEPARTMENT, raw, deps);
export const debtor = (deps: PrepareDeps, raw: Record<string, unknown>) => prepared('dishonest-debtor', COURT, raw, deps);
