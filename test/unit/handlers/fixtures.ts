/** Pushed records used by the submission and record handler tests, decided today in China (DECISION_DATE): never late, never in the future. */
import { PUSH_KINDS } from '../../../contracts/kinds.js';
import { fieldCipher, lookupHasher } from '../../../shared/config.js';
import type { StoredHead } from '../../../shared/domain/record-model.js';
import { prepareRecord } from '../../../shared/ingest/prepare.js';
import type { KeyPrincipal } from '../../../shared/store/sources-store.js';
import { RECORDS_TABLE } from './support.js';
import { DECISION_DATE, LICENCE_VALID_UNTIL } from '../../support/fixtures.js';

export const IDENTITY_NUMBER = '110102199101010078';
export const MASKED_IDENTITY_NUMBER = '1101021991****0078';

/** A licence granted to a natural person (identity number to be encrypted). */
export function personLicence(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    XK_XDR_MC: '张三',
    XK_XDR_LB: '自然人',
    XK_XDR_ZJLX: '身份证',
    XK_XDR_ZJHM: IDENTITY_NUMBER,
    XK_XKWS: '食品经营许可决定书',
    XK_WSH: `京市监许〔2026〕${n}号`,
    XK_XKLB: '普通',
    XK_NR: '食品销售',
    XK_JDRQ: DECISION_DATE,
    XK_YXQZ: DECISION_DATE,
    XK_YXQZI: LICENCE_VALID_UNTIL,
    XK_XKJG: '市市场监督管理局',
    XK_XKJGDM: '91110000600037341L',
    XK_ZT: '有效',
    ...overrides,
  };
}

/** A licence granted to a company. */
export function companyLicence(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    XK_XDR_MC: '某某科技有限公司',
    XK_XDR_LB: '法人',
    XK_XDR_SHXYM: '91310115MA1K3BTP2B',
    XK_FRDB: '李四',
    XK_XKWS: '食品经营许可决定书',
    XK_WSH: `京市监许〔2026〕C${n}号`,
    XK_XKLB: '普通',
    XK_NR: '食品销售',
    XK_JDRQ: DECISION_DATE,
    XK_YXQZ: DECISION_DATE,
    XK_XKJG: '市市场监督管理局',
    XK_XKJGDM: '91110000600037341L',
    XK_ZT: '有效',
    ...overrides,
  };
}

export function penalty(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CF_XDR_MC: '某某科技有限公司',
    CF_XDR_LB: '法人',
    CF_XDR_SHXYM: '91310115MA1K3BTP2B',
    CF_FRDB: '李四',
    CF_WSH: `京市监罚〔2026〕${n}号`,
    CF_WFXW: '未按规定公示信息',
    CF_SY: '经查，当事人未按规定公示年度报告。',
    CF_YJ: '《企业信息公示暂行条例》第十八条',
    CF_CFLB: '警告',
    CF_NR: '警告',
    CF_JDRQ: DECISION_DATE,
    CF_CFJG: '市市场监督管理局',
    CF_CFJGDM: '91110000600037341L',
    ...overrides,
  };
}

/** The head the hub would store for `raw` pushed by `source`, encrypted with the handlers' own keyring. */
export async function storedLicence(source: KeyPrincipal, raw: Record<string, unknown>, at = new Date()): Promise<StoredHead> {
  const prepared = await prepareRecord(PUSH_KINDS.license, source, raw, at, { cipher: await fieldCipher(), hasher: await lookupHasher() });
  if (!prepared.ok) throw new Error(`fixture does not validate: ${JSON.stringify(prepared.errors)}`);
  return prepared.head;
}

export const headItem = (head: StoredHead) => ({ pk: `REC#${head.id}`, sk: 'HEAD', ...head });

export const heads = (...items: StoredHead[]) => ({ Responses: { [RECORDS_TABLE]: items.map(headItem) } });
