/** Record ids: `lic_` / `pen_` (a kind's prefix) and 26 base32 characters of SHA-256 (shared/domain/record-model.ts). */
import * as z from 'zod';

export const RECORD_ID_PATTERN = /^[a-z]{2,8}_[a-z2-7]{26}$/;

export const recordIdSchema = z
  .string()
  .regex(RECORD_ID_PATTERN, '记录标识格式不对 (not a record id: a kind prefix such as lic_ or pen_ and 26 base32 characters)')
  .meta({ description: 'record id: lic_ or pen_ and 26 base32 characters, derived from kind, source and document number', example: 'pen_wobgmpalg34qjcdh5xekqtxjq2' });
