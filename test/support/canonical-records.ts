/**
 * Pushed records written the way the hub stores them (codes rather than names,
 * amounts as plain decimal strings, the data-source fields filled in), so that
 * `GET /v1/records/{id}` as the operator must answer with `fields` equal to
 * exactly what was sent, and a load test can tell which content a record holds.
 *
 * A record is named by its kind and a tag (its document number is built from
 * the tag: with the source, its identity); its content by a variant number,
 * which shows in the free-text content field and the fine.
 */
import { DECISION_DATE, LICENCE_VALID_UNTIL, ORGAN_USCC, PERSON_ID, SUBJECT_USCC } from './fixtures.js';

export type PushedKind = 'license' | 'penalty';

export interface RecordRef {
  kind: PushedKind;
  /** Unique per test source: the record's document number is built from it. */
  tag: string;
  /** A natural person as subject (an identity number, stored encrypted) rather than a company. */
  person: boolean;
}

export interface PushingSource {
  id: string;
  name: string;
  uscc: string;
}

/** A stable key for a record within one source: kind and tag. */
export const refKey = (ref: Pick<RecordRef, 'kind' | 'tag'>): string => `${ref.kind}:${ref.tag}`;

/** The record `ref` with content `variant`, in canonical form. */
export function canonicalRecord(source: PushingSource, ref: RecordRef, variant: number): Record<string, string> {
  if (ref.kind === 'license') {
    const subject: Record<string, string> = ref.person
      ? { XK_XDR_MC: '李四', XK_XDR_LB: '03', XK_XDR_ZJLX: '01', XK_XDR_ZJHM: PERSON_ID }
      : { XK_XDR_MC: '上海某某科技有限公司', XK_XDR_LB: '01', XK_XDR_SHXYM: SUBJECT_USCC, XK_FRDB: '王五' };
    return {
      ...subject,
      XK_XKWS: '食品经营许可决定书',
      XK_WSH: `沪市监许〔2026〕${ref.tag}号`,
      XK_XKLB: '01',
      XK_NR: `预包装食品销售（第${variant}稿）`,
      XK_JDRQ: DECISION_DATE,
      XK_YXQZ: DECISION_DATE,
      XK_YXQZI: LICENCE_VALID_UNTIL,
      XK_XKJG: '市市场监督管理局',
      XK_XKJGDM: ORGAN_USCC,
      XK_ZT: '1',
      XK_LYDW: source.name,
      XK_LYDWDM: source.uscc,
    };
  }
  const subject: Record<string, string> = ref.person
    ? { CF_XDR_MC: '李四', CF_XDR_LB: '03', CF_XDR_ZJLX: '01', CF_XDR_ZJHM: PERSON_ID }
    : { CF_XDR_MC: '上海某某科技有限公司', CF_XDR_LB: '01', CF_XDR_SHXYM: SUBJECT_USCC, CF_FRDB: '王五' };
  return {
    ...subject,
    CF_WSH: `沪市监罚〔2026〕${ref.tag}号`,
    CF_WFXW: '销售不符合食品安全标准的食品',
    CF_SY: '经查，当事人销售的食品不符合食品安全标准。',
    CF_YJ: '《中华人民共和国食品安全法》第一百二十四条',
    CF_CFLB: '01;02',
    CF_NR: `警告并处罚款（第${variant}稿）`,
    CF_NR_FK: String(variant + 1),
    CF_JDRQ: DECISION_DATE,
    CF_CFJG: '市市场监督管理局',
    CF_CFJGDM: ORGAN_USCC,
    CF_SJLY: source.name,
    CF_SJLYDM: source.uscc,
    SXDJ: '2',
  };
}

/** A record the hub must reject (a decision dated on a day that does not exist), whatever the day. */
export function invalidRecord(source: PushingSource, ref: RecordRef): Record<string, string> {
  const record = canonicalRecord(source, ref, 0);
  return ref.kind === 'license' ? { ...record, XK_JDRQ: '2026-02-30' } : { ...record, CF_JDRQ: '2026-02-30' };
}

/** The fields as the records table keeps them: the identity number is not among them (it is encrypted apart). */
export function storedFields(record: Record<string, string>): Record<string, string> {
  const { XK_XDR_ZJHM: _x, CF_XDR_ZJHM: _c, ...rest } = record;
  return rest;
}
