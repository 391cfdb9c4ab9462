/** Bodies of the sources endpoints (operator): register, list, new key. */
import * as z from 'zod';
import { text, uscc } from './fields.js';
import { KINDS_BY_ROLE, PUSHING_ROLES, RECORD_KINDS, SOURCE_ROLES } from './roles.js';
import { PLATFORM_NAMES } from './upward.js';

export const sourceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$/, '数据源标识应为2-64位字母、数字、-或_ (2-64 letters, digits, - or _, starting with a letter or digit)')
  // `operator` names the credit office in logs and the audit trail: no source may take it.
  .refine((id) => id.toLowerCase() !== 'operator', '数据源标识operator已保留 (the id "operator" is reserved for the credit office)')
  .meta({ description: 'chosen by the operator; used in URLs; "operator" is reserved', example: 'shi-scjgj' });

export const createSourceSchema = z
  .strictObject({
    id: sourceIdSchema,
    name: text(200, '单位名称 (name of the source)'),
    uscc: uscc('单位统一社会信用代码 (USCC of the source; GB 32100 check)'),
    role: z.enum(SOURCE_ROLES).meta({
      description: `department, court, discipline push records; checker only queries; platform sends feedback (its id is the platform's name: ${PLATFORM_NAMES.join(' or ')})`,
    }),
    kinds: z.array(z.enum(RECORD_KINDS)).max(RECORD_KINDS.length).default([]).meta({ description: 'what the source may push; empty for checker and platform' }),
  })
  .superRefine((s, ctx) => {
    const allowed = KINDS_BY_ROLE[s.role] ?? [];
    s.kinds.forEach((kind, i) => {
      if (!allowed.includes(kind)) {
        ctx.addIssue({ code: 'custom', path: ['kinds', i], message: `角色${s.role}不能报送${kind} (a ${s.role} may push: ${allowed.join(', ') || 'nothing'})` });
      }
    });
    if (new Set(s.kinds).size !== s.kinds.length) ctx.addIssue({ code: 'custom', path: ['kinds'], message: '种类重复 (a kind is listed twice)' });
    // A platform's key says which platform speaks (POST /v1/feedback): its source id is the platform's name.
    if (s.role === 'platform' && !(PLATFORM_NAMES as readonly string[]).includes(s.id)) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: `上级平台的数据源标识须为平台名称 (a platform source's id is its platform's name: ${PLATFORM_NAMES.join(' or ')})` });
    }
    if (PUSHING_ROLES.includes(s.role) && s.kinds.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['kinds'], message: `角色${s.role}须至少指定一个种类 (a ${s.role} needs at least one kind: ${allowed.join(', ')})` });
    }
  })
  .meta({ id: 'CreateSource' });

export const sourceCreatedSchema = z.object({ id: z.string(), apiKey: z.string().meta({ description: 'shown once; only its hash is stored' }) }).meta({ id: 'SourceCreated' });
export const keyCreatedSchema = z.object({ apiKey: z.string().meta({ description: 'shown once; the previous key stops working' }) }).meta({ id: 'KeyCreated' });

export const sourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    uscc: z.string().meta({ description: 'as stored: half-width, upper case (^[0-9A-HJ-NPQRTUWXY]{18}$)' }),
    role: z.enum(SOURCE_ROLES),
    kinds: z.array(z.enum(RECORD_KINDS)),
    createdAt: z.string().meta({ format: 'date-time' }),
    keyRotatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Source' });

export const sourceListSchema = z.object({ items: z.array(sourceSchema) }).meta({ id: 'SourceList' });
