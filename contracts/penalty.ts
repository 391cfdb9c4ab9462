/** 行政处罚 (administrative penalty), in the national field codes, plus SXDJ. */
import * as z from 'zod';
import { DISHONESTY_GRADE, PENALTY_CATEGORY, PENALTY_CATEGORY_CODE } from './codes.js';
import { amount, coded, codedList, crossFieldRules, date, pastDate, text, uscc } from './fields.js';
import { checkSubject, subjectFields } from './subject.js';

export const penaltyRecordSchema = z
  .strictObject({
    ...subjectFields('CF'),
    CF_WSH: text(128, '行政处罚决定书文号 (decision document number; with the source, identifies the record)'),
    CF_WFXW: text(2000, '违法行为类型 (type of the offence)'),
    CF_SY: text(4000, '违法事实 (facts of the offence)'),
    CF_YJ: text(2000, '处罚依据 (legal basis)'),
    CF_CFLB: codedList(PENALTY_CATEGORY, '处罚类别 (penalty categories)'),
    CF_NR: text(4000, '处罚内容 (content of the penalty)'),
    CF_NR_FK: amount('罚款金额 (fine; required when 罚款 is among the categories)').optional(),
    CF_NR_WFFF: amount('没收违法所得、没收非法财物的金额 (confiscated amount)').optional(),
    CF_NR_ZKDX: text(500, '暂扣或吊销证照名称及编号 (licence suspended or revoked, with its number)').optional(),
    CF_JDRQ: pastDate('处罚决定日期 (decision date; publication periods run from it)'),
    CF_YXQ: date('处罚有效期 (penalty in force until; not before CF_JDRQ)').optional(),
    CF_GSJZQ: date('公示截止期 (end of publication proposed by the department; kept within the grade limits)').optional(),
    CF_CFJG: text(200, '处罚机关 (penalising organ)'),
    CF_CFJGDM: uscc('处罚机关统一社会信用代码 (USCC of the penalising organ)'),
    CF_SJLY: text(200, '数据来源单位 (data source unit; defaults to the pushing source name)').optional(),
    CF_SJLYDM: uscc('数据来源单位统一社会信用代码 (must be the pushing source USCC; defaults to it)').optional(),
    BZ: text(512, '备注 (remarks)').optional(),
    SXDJ: coded(DISHONESTY_GRADE, '失信等级 (grade of the dishonesty; 一般 when absent)').optional(),
  })
  .superRefine(
    ...crossFieldRules((r, issue) => {
      checkSubject('CF', r, issue);
      const categories = r.value('CF_CFLB')?.split(';') ?? [];
      if (categories.includes(PENALTY_CATEGORY_CODE.fine) && !r.given('CF_NR_FK')) {
        issue('CF_NR_FK', '处罚类别包含罚款时罚款金额必填 (fine amount required when 罚款 is a category)');
      }
      const confiscation: string[] = [PENALTY_CATEGORY_CODE.confiscateIllegalGains, PENALTY_CATEGORY_CODE.confiscateProperty];
      if (categories.some((c) => confiscation.includes(c)) && !r.given('CF_NR_WFFF')) {
        issue('CF_NR_WFFF', '处罚类别包含没收时没收金额必填 (confiscated amount required when 没收 is a category)');
      }
      const licence: string[] = [PENALTY_CATEGORY_CODE.revokeLicence, PENALTY_CATEGORY_CODE.suspendLicence];
      if (categories.some((c) => licence.includes(c)) && !r.given('CF_NR_ZKDX')) {
        issue('CF_NR_ZKDX', '处罚类别包含暂扣或吊销证照时须填写证照名称及编号 (licence name and number required)');
      }
      const decided = r.value('CF_JDRQ');
      const inForce = r.value('CF_YXQ');
      const end = r.value('CF_GSJZQ');
      if (decided && inForce && inForce < decided) issue('CF_YXQ', '处罚有效期不能早于处罚决定日期 (CF_YXQ must not be before CF_JDRQ)');
      if (decided && end && end < decided) issue('CF_GSJZQ', '公示截止期不能早于处罚决定日期 (CF_GSJZQ must not be before CF_JDRQ)');
    }),
  )
  .meta({ id: 'PenaltyRecord', description: '行政处罚 record in the national field codes, plus SXDJ' });

export type PenaltyRecordInput = z.input<typeof penaltyRecordSchema>;
