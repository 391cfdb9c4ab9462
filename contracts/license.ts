/** 行政许可 (administrative licence), in the national field codes. */
import * as z from 'zod';
import { LICENSE_CATEGORY, LICENSE_STATUS } from './codes.js';
import { coded, crossFieldRules, date, pastDate, text, uscc } from './fields.js';
import { checkSubject, subjectFields } from './subject.js';

export const licenseRecordSchema = z
  .strictObject({
    ...subjectFields('XK'),
    XK_XKWS: text(200, '行政许可决定文书名称 (title of the licence decision)'),
    XK_WSH: text(128, '行政许可决定文书号 (decision document number; with the source, identifies the record)'),
    XK_XKLB: coded(LICENSE_CATEGORY, '许可类别 (licence category)'),
    XK_XKZS: text(200, '许可证书名称 (licence certificate name)').optional(),
    XK_XKBH: text(128, '许可编号 (licence number)').optional(),
    XK_NR: text(4000, '许可内容 (what is licensed)'),
    XK_JDRQ: pastDate('许可决定日期 (decision date)'),
    XK_YXQZ: date('有效期自 (valid from)'),
    XK_YXQZI: date('有效期至 (valid until; not before XK_YXQZ)').optional(),
    XK_XKJG: text(200, '许可机关 (licensing organ)'),
    XK_XKJGDM: uscc('许可机关统一社会信用代码 (USCC of the licensing organ)'),
    XK_ZT: coded(LICENSE_STATUS, '当前状态 (current status)'),
    XK_LYDW: text(200, '数据来源单位 (data source unit; defaults to the pushing source name)').optional(),
    XK_LYDWDM: uscc('数据来源单位统一社会信用代码 (must be the pushing source USCC; defaults to it)').optional(),
    BZ: text(512, '备注 (remarks)').optional(),
  })
  .superRefine(
    ...crossFieldRules((r, issue) => {
      checkSubject('XK', r, issue);
      const from = r.value('XK_YXQZ');
      const until = r.value('XK_YXQZI');
      if (from && until && until < from) issue('XK_YXQZI', '有效期至不能早于有效期自 (XK_YXQZI must not be before XK_YXQZ)');
    }),
  )
  .meta({ id: 'LicenseRecord', description: '行政许可 record in the national field codes' });

export type LicenseRecordInput = z.input<typeof licenseRecordSchema>;
