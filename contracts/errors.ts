/** The error shape of API.md: {"error":{"code","message","details":[{"field","message"}]}}. */
import * as z from 'zod';

export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() }).meta({ id: 'FieldError' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable machine-readable word, e.g. bad_request, unauthorized, forbidden, not_found, conflict, payload_too_large, too_many_requests' }),
      message: z.string().meta({ description: 'Chinese, with English in parentheses' }),
      details: z.array(fieldErrorSchema),
    }),
  })
  .meta({ id: 'Error' });
