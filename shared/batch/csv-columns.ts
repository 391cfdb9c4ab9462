/**
 * The header row of a CSV batch: the kind's field names (API.md), each at
 * most once, every required one present. Anything else fails the batch before
 * a row is read, naming the columns at fault.
 */
import { fieldOrder, type PushKindSpec } from '../../contracts/kinds.js';
import { quoted } from '../http/charset.js';

/** The kind's fields a row must have (not optional in its contract). */
export function requiredFields(spec: PushKindSpec): string[] {
  const shape = (spec.schema as unknown as { shape: Record<string, { isOptional(): boolean }> }).shape;
  return fieldOrder(spec).filter((field) => !shape[field]!.isOptional());
}

const list = (names: readonly string[]) => names.map((n) => quoted(n, 64)).join(', ');

/** Why the header cannot be used, or undefined when it can. */
export function headerProblem(spec: PushKindSpec, columns: readonly string[]): string | undefined {
  const known = new Set(fieldOrder(spec));
  const problems: string[] = [];
  const unnamed = columns.flatMap((c, i) => (c === '' ? [i + 1] : []));
  if (unnamed.length > 0) problems.push(`第${unnamed.join('、')}列没有列名 (column ${unnamed.join(', ')} has no name)`);
  const unknown = columns.filter((c) => c !== '' && !known.has(c));
  if (unknown.length > 0) problems.push(`表头有未知列 ${list(unknown)} (unknown columns ${list(unknown)}: the columns are the field names of the ${spec.kind} contract)`);
  const repeated = [...new Set(columns.filter((c, i) => c !== '' && columns.indexOf(c) !== i))];
  if (repeated.length > 0) problems.push(`表头列重复 ${list(repeated)} (columns given twice: ${list(repeated)})`);
  const present = new Set(columns);
  const missing = requiredFields(spec).filter((f) => !present.has(f));
  if (missing.length > 0) problems.push(`表头缺少必填列 ${list(missing)} (the header lacks the required columns ${list(missing)})`);
  return problems.length > 0 ? `CSV表头有误 (the CSV header is wrong): ${problems.join('; ')}` : undefined;
}
