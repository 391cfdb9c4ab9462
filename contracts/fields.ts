/**
 * Field-level schemas shared by the record kinds. Every schema here both
 * validates and normalises: codes become half-width and upper case, coded
 * fields become their canonical code, amounts become decimal strings.
 */
import * as z from 'zod';
import { isIsoDate, todayInChina } from '../shared/domain/dates.js';
import { normaliseCode, residentIdProblem, usccProblem } from '../shared/domain/identifiers.js';
import { type CodeTable, describeTable, lookupCode } from './codes.js';

// Control characters other than tab, line feed and carriage return.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Free text: trimmed, length-limited, no control characters. HTML is kept as text, never interpreted. */
export function text(max: number, description: string) {
  return z
    .string()
    .trim()
    .min(1, '不能为空 (must not be empty)')
    .max(max, `不能超过${max}个字符 (at most ${max} characters)`)
    .refine((v) => !CONTROL.test(v), '不能包含控制字符 (control characters are not allowed)')
    .refine((v) => v.isWellFormed(), '含有无效的Unicode字符 (ill-formed Unicode: lone surrogate)')
    .meta({ description });
}

const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * OpenAPI metadata of a field that is normalised before it is checked: a
 * regex of the normalised form (zod renders it as `pattern`) would reject, in
 * the document, input the server accepts (lower case, full-width characters),
 * so request schemas carry no pattern and the description says what is checked.
 */
const noPatternOnInput = ({ jsonSchema, io }: { jsonSchema: { pattern?: string }; io: 'input' | 'output' }) => {
  if (io === 'input') delete jsonSchema.pattern;
};

/** A date `YYYY-MM-DD` that exists in the calendar. Full-width digits are accepted. */
export function date(description: string) {
  return z
    .string()
    .overwrite((v) => v.normalize('NFKC').trim())
    .regex(DATE_SHAPE, '日期格式应为YYYY-MM-DD (date must be YYYY-MM-DD)')
    .refine((v) => !DATE_SHAPE.test(v) || isIsoDate(v), '日期不存在 (not a real calendar date)')
    .meta({
      description: `${description}. YYYY-MM-DD, a real calendar date; NFKC-normalised and trimmed first, so full-width digits are accepted`,
      format: 'date',
      override: noPatternOnInput,
    });
}

/** A decision date: a real date, not after today in China. */
export function pastDate(description: string) {
  return date(description).refine((v) => !isIsoDate(v) || v <= todayInChina(), '日期不能晚于今天 (date is in the future)');
}

/** A Unified Social Credit Code (GB 32100, with the embedded GB 11714 check). */
export function uscc(description: string) {
  return z
    .string()
    .overwrite(normaliseCode)
    .superRefine((v, ctx) => {
      const problem = usccProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description:
        `${description}. Normalised before it is checked: NFKC (full-width characters become half-width), trimmed, upper case. ` +
        'Then 18 characters of 0-9 and A-H J-N P Q R T U W X Y, the last the GB 32100 check character, characters 9-17 a GB 11714 organisation code. ' +
        'Stored in that canonical form (^[0-9A-HJ-NPQRTUWXY]{18}$).',
      examples: ['91110000600037341L', '91110000600037341l', '９１１１００００６０００３７３４１Ｌ'],
    });
}

/** A certificate number: half-width, upper case, checked against its type in the record's cross-field rules. */
export function certificateNumber(description: string) {
  return z
    .string()
    .overwrite(normaliseCode)
    .regex(/^[0-9A-Z()-]{5,30}$/, '证件号码格式错误 (5 to 30 letters and digits expected)')
    .meta({
      description:
        `${description}. Normalised before it is checked: NFKC (full-width characters become half-width), trimmed, upper case. ` +
        'Then 5 to 30 of 0-9, A-Z, ( ) and - (^[0-9A-Z()-]{5,30}$); with certificate type 01 身份证, 18 characters passing GB 11643 with a real birth date not in the future.',
      // No resident identity number here: the document is public, and even a checksum fixture looks like one.
      examples: ['E12345678', 'ｅ１２３４５６７８', 'H0123456(7)'],
      override: noPatternOnInput,
    });
}

/** A coded field: accepts the code or the name, stores the code. */
export function coded(table: CodeTable, description: string) {
  return z
    .string()
    .transform((raw, ctx) => {
      const value = raw.normalize('NFKC').trim();
      const code = lookupCode(table, value);
      if (code === undefined) {
        ctx.addIssue({ code: 'custom', message: `不是有效的代码或名称 (expected one of: ${describeTable(table)})` });
        return z.NEVER;
      }
      return code;
    })
    .meta({ description: `${description}. Code or name: ${describeTable(table)}` });
}

/** Several codes of one table, as an array or a string separated by ; ， 、 or ,: stored sorted as `01;02`. */
export function codedList(table: CodeTable, description: string) {
  return z
    .union([z.string(), z.array(z.string()).min(1)])
    .transform((raw, ctx) => {
      const parts = (Array.isArray(raw) ? raw : raw.split(/[;；,，、]/)).map((p) => p.normalize('NFKC').trim()).filter(Boolean);
      const codes = new Set<string>();
      for (const [i, part] of parts.entries()) {
        const code = lookupCode(table, part);
        if (code === undefined) {
          // The value is not quoted back: whatever was typed here (an identity number pasted into the wrong column) stays out of the answer.
          const position = parts.length > 1 ? `第${i + 1}项` : '';
          const which = parts.length > 1 ? `item ${i + 1} of ${parts.length} is not` : 'not';
          ctx.addIssue({ code: 'custom', message: `${position}不是有效的代码或名称 (${which} a valid code or name; expected codes or names from: ${describeTable(table)})` });
          return z.NEVER;
        }
        codes.add(code);
      }
      if (codes.size === 0) {
        ctx.addIssue({ code: 'custom', message: '不能为空 (must not be empty)' });
        return z.NEVER;
      }
      return [...codes].sort().join(';');
    })
    .meta({ description: `${description}. One or more codes or names (array, or separated by ';'): ${describeTable(table)}` });
}

const AMOUNT = /^\d{1,12}(\.\d{1,6})?$/;

/** An amount in 万元: a non-negative number or numeric string, stored as a plain decimal string. */
export function amount(description: string) {
  return z
    .union([z.number(), z.string()])
    .transform((raw, ctx) => {
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw) || raw < 0) {
          ctx.addIssue({ code: 'custom', message: '金额不能为负数 (amount must be a non-negative number)' });
          return z.NEVER;
        }
        // 6 decimals of 万元 is one 分. Binary noise (0.30000000000000004) is rounded away; a real
        // seventh decimal (1e-7, 1.2345674) is refused, as it is in a numeric string.
        const rounded = Number(raw.toFixed(6));
        if (Math.abs(rounded - raw) > 1e-9 * Math.max(1, Math.abs(raw))) {
          ctx.addIssue({ code: 'custom', message: '金额格式错误 (a decimal number in 万元 expected, at most 6 decimals)' });
          return z.NEVER;
        }
        raw = raw.toFixed(6);
      }
      const value = raw.normalize('NFKC').trim();
      if (value.startsWith('-')) {
        ctx.addIssue({ code: 'custom', message: '金额不能为负数 (amount must be a non-negative number)' });
        return z.NEVER;
      }
      if (!AMOUNT.test(value)) {
        ctx.addIssue({ code: 'custom', message: '金额格式错误 (a decimal number in 万元 expected, at most 6 decimals)' });
        return z.NEVER;
      }
      const [whole, fraction = ''] = value.split('.');
      const trimmedFraction = fraction.replace(/0+$/, '');
      const trimmedWhole = whole!.replace(/^0+(?=\d)/, '');
      return trimmedFraction ? `${trimmedWhole}.${trimmedFraction}` : trimmedWhole;
    })
    .meta({ description: `${description} (万元). A non-negative number or numeric string, up to 6 decimals.` });
}

/** Checks a natural person's certificate number against its type. `today` bounds birth dates. */
export function certificateProblem(type: string, number: string, today: string): string | null {
  if (type === '01') return residentIdProblem(number, today);
  return null;
}

/** What cross-field rules see of a record: only values that passed their own field checks. */
export interface RecordView {
  /** The field's normalised value, or undefined when absent or invalid on its own. */
  value(field: string): string | undefined;
  /** Whether the field was sent at all (valid or not): a "required" rule must not fire for a field that is present but wrong. */
  given(field: string): boolean;
}

export type CrossFieldRules = (record: RecordView, issue: (field: string, message: string) => void) => void;

/**
 * Runs cross-field rules on every record, even one with field errors, so a
 * department sees every problem in one answer; but a rule never looks at a
 * value that failed its own check, and never reports on a field that already
 * has an error.
 */
export function crossFieldRules(rules: CrossFieldRules) {
  return [
    (value: Record<string, unknown>, ctx: z.core.$RefinementCtx<Record<string, unknown>>) => {
      const failed = new Set(ctx.issues.map((i) => String(i.path?.[0] ?? '')));
      const view: RecordView = {
        value: (field) => {
          const v = value?.[field];
          return !failed.has(field) && typeof v === 'string' ? v : undefined;
        },
        given: (field) => value?.[field] !== undefined,
      };
      rules(view, (field, message) => {
        if (!failed.has(field)) ctx.addIssue({ code: 'custom', path: [field], message });
      });
    },
    { when: () => true },
  ] as const;
}
