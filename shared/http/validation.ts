import type { z } from 'zod';
import { shorten } from '../domain/text.js';
import type { FieldError } from './errors.js';

/** Turns zod issues into API.md's `[{field, message}]`, one entry per unknown key. */
export function fieldErrors(error: z.ZodError, prefix: (string | number)[] = []): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path].map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const name = shorten(key, 64);
        out.push({ field: path ? `${path}.${name}` : name, message: '未知字段 (unknown field)' });
      }
    } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      out.push({ field: path, message: '必填字段缺失 (required field is missing)' });
    } else if (issue.code === 'invalid_type') {
      out.push({ field: path, message: `类型错误 (expected ${issue.expected})` });
    } else {
      out.push({ field: path, message: issue.message });
    }
  }
  return out;
}
