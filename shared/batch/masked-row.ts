/**
 * A rejected row as the court downloads it: identity numbers masked. The
 * kind's certificate-number field (cardNum, *_XDR_ZJHM) is masked whatever it
 * holds, and so is anything anywhere in the row shaped like a resident
 * identity number (18 characters, or the old 15 digits, around a birth date),
 * because a rejected row may carry one in any field or be unreadable as fields.
 */
import type { PushKindSpec } from '../../contracts/kinds.js';
import { maskIdentityNumber } from '../domain/identifiers.js';
import { shorten } from '../domain/text.js';

const DATE = '(?:19|20)\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])';
const SHORT_DATE = '\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])';
/** An 18-character (6 + birth date + 3 + check) or 15-digit (6 + YYMMDD + 3) identity number, not part of a longer code. */
const IDENTITY_SHAPED = new RegExp(`(?<![0-9A-Za-z])(?:\\d{6}${DATE}\\d{3}[\\dXx]|\\d{6}${SHORT_DATE}\\d{3})(?![0-9A-Za-z])`, 'g');

export function maskIdentityShaped(text: string): string {
  return text.replace(IDENTITY_SHAPED, (id) => maskIdentityNumber(id.toUpperCase()));
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskIdentityShaped(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v)]));
  return value;
}

/** Fields whose value is a certificate number, whatever the kind: the spec's, and the 双公示 ZJHM fields. */
const isCertificateField = (spec: PushKindSpec, field: string) => field === spec.subject.certificateNumberField || field === 'cardNum' || field.endsWith('_ZJHM');

export function maskRecord(spec: PushKindSpec, record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([field, value]) => [
      field,
      isCertificateField(spec, field) && (typeof value === 'string' || typeof value === 'number') ? maskIdentityNumber(String(value)) : maskValue(value),
    ]),
  );
}

/** Text of a row that could not be read into fields: masked and shortened. */
export function maskText(text: string, max = 2000): string {
  return shorten(maskIdentityShaped(text), max);
}
