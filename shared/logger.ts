/**
 * Structured JSON logs (Powertools Logger). Identity numbers must never reach
 * a log: handlers do not log record contents, and as a second line of
 * defence every string value is scrubbed of anything shaped like an
 * 18-character resident identity number before it is written.
 */
import { Logger } from '@aws-lambda-powertools/logger';

const IDENTITY_NUMBER = /(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g;

/** Replaces anything shaped like a resident identity number with a redaction mark. */
export function redactIdentityNumbers(text: string): string {
  return text.replace(IDENTITY_NUMBER, '[REDACTED-ID]');
}

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'credit-hub',
  jsonReplacerFn: (_key, value) => (typeof value === 'string' ? redactIdentityNumbers(value) : value),
});
