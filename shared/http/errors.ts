/**
 * Errors a handler raises on purpose: each carries the HTTP status and the
 * stable machine-readable code of API.md's error shape (one of ERROR_CODES).
 */
import type { ErrorCode } from '../../contracts/errors.js';
import { api } from '../../infra/catalogue.js';

export type { ErrorCode };
export interface FieldError {
  field: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details: FieldError[] = [], code: ErrorCode = 'bad_request') => new HttpError(400, code, message, details);
export const unauthorized = (message = '缺少或无效的密钥 (missing or unknown API key)') =>
  new HttpError(401, 'unauthorized', message, [], { 'www-authenticate': 'Bearer' });
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string, code: ErrorCode = 'not_found') => new HttpError(404, code, message);
export const conflict = (message: string, code: ErrorCode) => new HttpError(409, code, message);
export const payloadTooLarge = (message: string) => new HttpError(413, 'payload_too_large', message);
export const unavailable = (message: string) => new HttpError(503, 'unavailable', message, [], { 'retry-after': String(api.retryAfterSeconds) });
