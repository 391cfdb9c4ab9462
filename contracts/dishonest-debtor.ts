/**
 * 失信被执行人 (dishonest judgment debtor), in the field names of the courts'
 * published list. The same contract serves `POST /v1/submissions/dishonest-debtor`
 * and the rows of court batch files.
 *
 * - `cardNum` is an 18-character USCC, a resident identity number, or an old
 *   9-character organisation code (with or without its hyphen); `partyTypeName`
 *   (自然人 / 法人或其他组织) is inferred from it when absent, and must agree with
 *   it when given (shared/domain/debtor.ts).
 * - `performedPart` / `unperformPart` are amounts in 万元 when numeric
 *   (normalised like every amount), otherwise text as the court wrote it.
 * - `status` is `listed` (the default) or `removed`: a removed listing ends
 *   its publication.
 */
import * as z from 'zod';
import { todayInChina } from '../shared/domain/dates.js';
import { normaliseDebtorCode, PARTY_TYPE_NAME, type PartyTypeName, resolveDebtorParty } from '../shared/domain/debtor.js';
import { DEBTOR_STATUS, DEBTOR_STATUS_CODE, PARTY_TYPE } from './codes.js';
import { amount, coded, crossFieldRules, pastDate, text } from './fields.js';

/** cardNum: normalised (half-width, upper case, an organisation code without its hyphen); what it must be is checked with partyTypeName. */
function debtorCode(description: string) {
  return z
    .string()
    .overwrite(normaliseDebtorCode)
    .regex(/^[0-9A-Z]{9,18}$/, '证件号码格式错误 (9 to 18 letters and digits expected)')
    .meta({
      description:
        `${description}. Normalised before it is checked: NFKC (full-width characters become half-width), trimmed, upper case, ` +
        'an organisation code written XXXXXXXX-X without its hyphen. Then one of: an 18-character USCC passing GB 32100 (法人或其他组织), ' +
        'an 18-character resident identity number passing GB 11643 with a real birth date not in the future (自然人, stored encrypted, shown masked), ' +
        'or a 9-character organisation code passing GB 11714 (法人或其他组织).',
      // Organisations only: a resident identity number, even a checksum fixture, has no place in a public document.
      examples: ['91110000600037341L', '60003734-1', '９１１１００００６０００３７３４１ｌ'],
      // Lower case, full-width characters and the hyphen are accepted: a pattern of the normalised form would refuse them in the document.
      override: ({ jsonSchema, io }: { jsonSchema: { pattern?: string }; io: 'input' | 'output' }) => {
        if (io === 'input') delete jsonSchema.pattern;
      },
    });
}

// A string that means to be a number (digits, dots, a sign) is held to the amount rules; anything else is text.
const NUMERIC_LOOKING = /^[+-]?[\d.]+$/;

/**
 * 已履行部分 / 未履行部分: court data writes either an amount or words
 * (全部未履行, 已履行部分款项 …). A JSON number, or a string that looks like
 * one, is an amount in 万元, normalised and checked like every amount; any
 * other string is text, kept as sent.
 */
function amountOrText(max: number, description: string) {
  const asAmount = amount(description);
  const asText = text(max, description);
  return z
    .union([z.number(), z.string()])
    .transform((raw, ctx) => {
      const numeric = typeof raw === 'number' || NUMERIC_LOOKING.test(raw.normalize('NFKC').trim());
      const parsed = numeric ? asAmount.safeParse(raw) : asText.safeParse(raw);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
      return z.NEVER;
    })
    .meta({
      description:
        `${description}. An amount in 万元 when it is a number or a numeric string (then normalised: "001.50" → "1.5"; ` +
        `non-negative, at most 6 decimals), otherwise text of at most ${max} characters, kept as sent`,
    });
}

export const dishonestDebtorRecordSchema = z
  .strictObject({
    iname: text(200, '被执行人姓名/名称 (name of the debtor)'),
    cardNum: debtorCode('身份证号码/统一社会信用代码/组织机构代码 (identity number, USCC or organisation code of the debtor)'),
    businessEntity: text(100, '法定代表人或负责人姓名 (legal representative or person in charge; required for 法人或其他组织, not given for 自然人)').optional(),
    courtName: text(200, '执行法院 (enforcing court)'),
    areaName: text(50, '省份 (province)'),
    caseCode: text(128, '案号 (case number; with the source, identifies the record)'),
    regDate: pastDate('立案时间 (date the enforcement case was registered)'),
    gistId: text(200, '执行依据文号 (number of the enforcement basis)'),
    gistUnit: text(200, '做出执行依据单位 (body that made the enforcement basis)'),
    duty: text(4000, '生效法律文书确定的义务 (obligation set by the effective legal document)'),
    performance: text(500, '被执行人的履行情况 (how the debtor has performed)'),
    performedPart: amountOrText(500, '已履行部分 (part performed)').optional(),
    unperformPart: amountOrText(500, '未履行部分 (part not performed)').optional(),
    disruptTypeName: text(2000, '失信被执行人行为具体情形 (what the debtor did that makes it dishonest)'),
    publishDate: pastDate('发布时间 (publication date; the listing runs 2 years from it; not before regDate)'),
    partyTypeName: coded(PARTY_TYPE, '被执行人类型 (kind of debtor; inferred from cardNum when absent, and must agree with it)').optional(),
    status: coded(DEBTOR_STATUS, '状态 (listed, or removed by the court: removal ends publication; listed when absent)').default(DEBTOR_STATUS_CODE.listed),
  })
  .superRefine(
    ...crossFieldRules((r, issue) => {
      const code = r.value('cardNum');
      // A partyTypeName that is wrong on its own is reported there; cardNum is then checked as if it were absent.
      const given = r.value('partyTypeName') as PartyTypeName | undefined;
      const party = code === undefined ? undefined : resolveDebtorParty(code, given, todayInChina());
      if (party && !party.ok) issue(party.field, party.problem);
      // The kind of debtor the other rules hold the record to: unknown while cardNum and partyTypeName disagree.
      const partyType = party === undefined || (!party.ok && party.field === 'cardNum') ? given : party.ok ? party.partyType : undefined;
      if (partyType === PARTY_TYPE_NAME.organisation && !r.given('businessEntity')) {
        issue('businessEntity', '法人或其他组织必须填写法定代表人或负责人姓名 (legal representative or person in charge required for organisations)');
      }
      if (partyType === PARTY_TYPE_NAME.naturalPerson && r.given('businessEntity')) {
        issue('businessEntity', '自然人不填写法定代表人或负责人 (a natural person has no legal representative)');
      }
      const registered = r.value('regDate');
      const published = r.value('publishDate');
      if (registered && published && published < registered) issue('publishDate', '发布时间不能早于立案时间 (publishDate must not be before regDate)');
    }),
  )
  // The stored partyTypeName: the one given or, absent, the one cardNum implies (a record with errors is left as it is).
  .overwrite((record) => {
    if (record.partyTypeName !== undefined || typeof record.cardNum !== 'string') return record;
    const party = resolveDebtorParty(record.cardNum, undefined, todayInChina());
    return party.ok ? { ...record, partyTypeName: party.partyType } : record;
  })
  .meta({ id: 'DishonestDebtorRecord', description: '失信被执行人 record in the field names of the courts’ list' });

export type DishonestDebtorRecordInput = z.input<typeof dishonestDebtorRecordSchema>;
