/**
 * Records used across the integration and end-to-end tests (identity numbers
 * from DOMAIN.md's fixtures). Their decisions are dated today in China, taken
 * once when this module loads, so that they are never late and never in the
 * future whatever day the suite runs, and a re-push of the same fixture is the
 * same content even if the run crosses midnight.
 */
import { addMonths } from '../../shared/domain/dates.js';
import { addDays, lateDecisionDate, recentDecisionDate } from './dates.js';

/** Today in China when the tests started: the decision date of every fixture. */
export const DECISION_DATE = recentDecisionDate();
/** A decision date well over 7 working days before today: a push of it is late. */
export const LATE_DECISION_DATE = lateDecisionDate();
/** Licences are valid for five years from their decision. */
export const LICENCE_VALID_UNTIL = addDays(addMonths(DECISION_DATE, 60), -1);

export const SOURCE_USCC = '91110000600037341L';
export const ORGAN_USCC = '121200004013590816';
export const SUBJECT_USCC = '91310115MA1K3BTP2B';
export const PERSON_ID = '110102199101010078';

export function license(n: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    XK_XDR_MC: '上海某某科技有限公司',
    XK_XDR_LB: '法人',
    XK_XDR_SHXYM: SUBJECT_USCC,
    XK_FRDB: '王五',
    XK_XKWS: '食品经营许可决定书',
    XK_WSH: `沪市监许〔2026〕${n}号`,
    XK_XKLB: '普通',
    XK_NR: '预包装食品销售',
    XK_JDRQ: DECISION_DATE,
    XK_YXQZ: DECISION_DATE,
    XK_YXQZI: LICENCE_VALID_UNTIL,
    XK_XKJG: '市市场监督管理局',
    XK_XKJGDM: ORGAN_USCC,
    XK_ZT: '有效',
    ...overrides,
  };
}

export function personLicense(n: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { XK_XDR_SHXYM: _u, XK_FRDB: _f, ...rest } = license(n);
  return { ...rest, XK_XDR_MC: '李四', XK_XDR_LB: '自然人', XK_XDR_ZJLX: '身份证', XK_XDR_ZJHM: PERSON_ID, ...overrides };
}

export function penalty(n: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CF_XDR_MC: '上海某某科技有限公司',
    CF_XDR_LB: '法人',
    CF_XDR_SHXYM: SUBJECT_USCC,
    CF_FRDB: '王五',
    CF_WSH: `沪市监罚〔2026〕${n}号`,
    CF_WFXW: '销售不符合食品安全标准的食品',
    CF_SY: '经查，当事人销售的食品不符合食品安全标准。',
    CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
    CF_CFLB: '警告;罚款',
    CF_NR: '警告并处罚款人民币伍万元',
    CF_NR_FK: 5,
    CF_JDRQ: DECISION_DATE,
    CF_CFJG: '市市场监督管理局',
    CF_CFJGDM: ORGAN_USCC,
    SXDJ: '一般',
    ...overrides,
  };
}
