/**
 * The subject of a 双公示 record (行政相对人): its fields, shared by licences
 * (prefix XK) and penalties (prefix CF), and the rules that tie them together.
 */
import * as z from 'zod';
import { todayInChina } from '../shared/domain/dates.js';
import { CERTIFICATE_TYPE, SUBJECT_CATEGORY, SUBJECT_CATEGORY_CODE } from './codes.js';
import { certificateNumber, certificateProblem, coded, type RecordView, text, uscc } from './fields.js';

export type SubjectPrefix = 'XK' | 'CF';

export function subjectFields<P extends SubjectPrefix>(p: P) {
  return {
    [`${p}_XDR_MC`]: text(200, '行政相对人名称 (name of the subject)'),
    [`${p}_XDR_LB`]: coded(SUBJECT_CATEGORY, '行政相对人类别 (category of the subject)'),
    [`${p}_XDR_SHXYM`]: uscc('行政相对人代码_1 统一社会信用代码 (USCC of the subject)').optional(),
    [`${p}_XDR_ZJLX`]: coded(CERTIFICATE_TYPE, '证件类型 (certificate type, natural persons)').optional(),
    [`${p}_XDR_ZJHM`]: certificateNumber('证件号码 (certificate number; stored encrypted, shown masked)').optional(),
    [`${p}_FRDB`]: text(100, '法定代表人 (legal representative; required for 法人 and 非法人组织)').optional(),
  } as Record<`${P}_XDR_MC` | `${P}_XDR_LB`, z.ZodType<string, string>> &
    Record<`${P}_XDR_SHXYM` | `${P}_XDR_ZJLX` | `${P}_XDR_ZJHM` | `${P}_FRDB`, z.ZodOptional<z.ZodType<string, string>>>;
}

/**
 * Cross-field rules of the subject:
 * - 法人 / 非法人组织: a USCC and a legal representative;
 * - 自然人: a certificate type and number, and no USCC;
 * - 个体工商户: a USCC, or a certificate type and number;
 * - a certificate type and number come together; a 身份证 number passes GB 11643.
 */
export function checkSubject(p: SubjectPrefix, r: RecordView, issue: (field: string, message: string) => void): void {
  const category = r.value(`${p}_XDR_LB`);
  const has = (f: string) => r.given(`${p}_${f}`);
  const type = r.value(`${p}_XDR_ZJLX`);
  const number = r.value(`${p}_XDR_ZJHM`);
  if (has('XDR_ZJLX') && !has('XDR_ZJHM')) issue(`${p}_XDR_ZJHM`, '填写了证件类型时证件号码必填 (certificate number required with a certificate type)');
  if (has('XDR_ZJHM') && !has('XDR_ZJLX')) issue(`${p}_XDR_ZJLX`, '填写了证件号码时证件类型必填 (certificate type required with a certificate number)');
  if (type && number) {
    const problem = certificateProblem(type, number, todayInChina());
    if (problem) issue(`${p}_XDR_ZJHM`, problem);
  }
  switch (category) {
    case SUBJECT_CATEGORY_CODE.legalPerson:
    case SUBJECT_CATEGORY_CODE.otherOrganisation:
      if (!has('XDR_SHXYM')) issue(`${p}_XDR_SHXYM`, '法人和非法人组织必须填写统一社会信用代码 (USCC required for organisations)');
      if (!has('FRDB')) issue(`${p}_FRDB`, '法人和非法人组织必须填写法定代表人 (legal representative required for organisations)');
      if (has('XDR_ZJLX') || has('XDR_ZJHM')) issue(`${p}_XDR_ZJLX`, '法人和非法人组织不填写证件类型和证件号码 (certificate fields are for natural persons)');
      break;
    case SUBJECT_CATEGORY_CODE.naturalPerson:
      if (has('XDR_SHXYM')) issue(`${p}_XDR_SHXYM`, '自然人不填写统一社会信用代码 (a natural person has no USCC)');
      if (!has('XDR_ZJLX') && !has('XDR_ZJHM')) issue(`${p}_XDR_ZJHM`, '自然人必须填写证件类型和证件号码 (certificate type and number required for natural persons)');
      break;
    case SUBJECT_CATEGORY_CODE.individualBusiness:
      if (!has('XDR_SHXYM') && !(has('XDR_ZJLX') && has('XDR_ZJHM'))) {
        issue(`${p}_XDR_SHXYM`, '个体工商户须填写统一社会信用代码或证件类型和证件号码 (a USCC or a certificate type and number required)');
      }
      break;
  }
}
