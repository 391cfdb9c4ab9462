/**
 * Code tables for coded fields. Each entry maps the canonical code the hub
 * stores to its name; either is accepted on input. Codes follow the
 * national 双公示 practice where one exists (证件类型 01–05, 许可类别 01–06,
 * 当前状态 1/2); the others are numbered in the order DOMAIN.md lists them.
 */
import { PARTY_TYPE_NAME } from '../shared/domain/debtor.js';

export type CodeTable = Readonly<Record<string, readonly [name: string, ...aliases: string[]]>>;

/** 行政相对人类别 */
export const SUBJECT_CATEGORY = {
  '01': ['法人'],
  '02': ['非法人组织'],
  '03': ['自然人'],
  '04': ['个体工商户'],
} as const satisfies CodeTable;

export const SUBJECT_CATEGORY_CODE = { legalPerson: '01', otherOrganisation: '02', naturalPerson: '03', individualBusiness: '04' } as const;

/** 证件类型 (natural persons) */
export const CERTIFICATE_TYPE = {
  '01': ['身份证', '居民身份证'],
  '02': ['护照', '护照号'],
  '03': ['港澳居民来往内地通行证'],
  '04': ['台湾居民来往大陆通行证'],
  '05': ['外国人永久居留身份证'],
} as const satisfies CodeTable;

export const RESIDENT_ID_CERTIFICATE = '01';

/** 许可类别 */
export const LICENSE_CATEGORY = {
  '01': ['普通'],
  '02': ['特许'],
  '03': ['认可'],
  '04': ['核准'],
  '05': ['登记'],
  '06': ['其他'],
} as const satisfies CodeTable;

/** 当前状态 of a licence */
export const LICENSE_STATUS = {
  '1': ['有效'],
  '2': ['无效'],
} as const satisfies CodeTable;

/** 处罚类别 (several may apply to one decision) */
export const PENALTY_CATEGORY = {
  '01': ['警告'],
  '02': ['罚款'],
  '03': ['没收违法所得'],
  '04': ['责令停产停业'],
  '05': ['吊销许可证', '吊销许可证件', '吊销执照'],
  '06': ['行政拘留'],
  '07': ['通报批评'],
  '08': ['没收非法财物'],
  '09': ['降低资质等级'],
  '10': ['暂扣许可证', '暂扣许可证件', '暂扣执照'],
  '11': ['限制开展经营活动', '限制开展生产经营活动'],
  '12': ['限制从业'],
  '13': ['责令关闭'],
  '14': ['其他'],
} as const satisfies CodeTable;

export const PENALTY_CATEGORY_CODE = { fine: '02', confiscateIllegalGains: '03', revokeLicence: '05', confiscateProperty: '08', suspendLicence: '10' } as const;

/** 失信等级 (SXDJ, the hub's addition): minor, general, serious. */
export const DISHONESTY_GRADE = {
  '1': ['轻微'],
  '2': ['一般'],
  '3': ['严重'],
} as const satisfies CodeTable;

export const DISHONESTY_GRADE_CODE = { minor: '1', general: '2', serious: '3' } as const;

/**
 * partyTypeName of a 失信被执行人: the court data's own two names, stored as
 * they are (the name is the code), with the names departments use for the
 * same organisations accepted too.
 */
export const PARTY_TYPE = {
  [PARTY_TYPE_NAME.naturalPerson]: [PARTY_TYPE_NAME.naturalPerson],
  [PARTY_TYPE_NAME.organisation]: [PARTY_TYPE_NAME.organisation, '法人', '其他组织', '非法人组织'],
} as const satisfies CodeTable;

/** status of a 失信被执行人 listing: still listed, or removed by the court (obligations performed, or a wrong listing corrected). */
export const DEBTOR_STATUS = {
  listed: ['在列', '列入'],
  removed: ['已移除', '移除', '删除'],
} as const satisfies CodeTable;

export const DEBTOR_STATUS_CODE = { listed: 'listed', removed: 'removed' } as const;

/** Finds the canonical code for a code or a name (already NFKC-normalised and trimmed). */
export function lookupCode(table: CodeTable, value: string): string | undefined {
  if (Object.hasOwn(table, value)) return value;
  for (const [code, names] of Object.entries(table)) if ((names as readonly string[]).includes(value)) return code;
  return undefined;
}

export function codeName(table: CodeTable, code: string): string | undefined {
  return Object.hasOwn(table, code) ? table[code]![0] : undefined;
}

export function describeTable(table: CodeTable): string {
  return Object.entries(table).map(([code, names]) => (code === names[0] ? code : `${code} ${names[0]}`)).join(', ');
}
