/**
 * Structured JSON logs (Powertools Logger), one short line per request (see
 * shared/http/middleware.ts): level, message and time, then the
 * request's keys (request_id, cold_start, and source once authenticated) and
 * the line's own. None of the Lambda context boilerplate (function name and
 * ARN, memory size, sampling rate, X-Ray trace id, service) that Powertools
 * adds by default.
 *
 * Identity numbers must never reach a log: handlers do not log record
 * contents, and as a second line of defence every string value is scrubbed
 * of anything shaped like an 18-character resident identity number before it
 * is written.
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

// Half- or full-width digits: an area code, a birth date (19th to 21st century, real month and day), 3 more and a check character.
const digit = (from: string, to = from) => {
  const wide = (c: string) => String.fromCharCode(c.charCodeAt(0) + 0xfee0);
  return `[${from}-${to}${wide(from)}-${wide(to)}]`;
};
const any = digit('0', '9');
const century = `(?:${digit('1')}${digit('8', '9')}|${digit('2')}${digit('0')})`;
const month = `(?:${digit('0')}${digit('1', '9')}|${digit('1')}${digit('0', '2')})`;
const day = `(?:${digit('0')}${digit('1', '9')}|${digit('1', '2')}${any}|${digit('3')}${digit('0', '1')})`;
const IDENTITY_NUMBER = new RegExp(
  `(?<![0-9A-Za-z\uFF10-\uFF19])${any}{6}${century}${any}{2}${month}${day}${any}{3}(?:${any}|[XxＸｘ])(?![0-9A-Za-z\uFF10-\uFF19])`,
  'g',
);

/** Replaces anything shaped like a resident identity number with a redaction mark. */
export function redactIdentityNumbers(text: string): string {
  return text.replace(IDENTITY_NUMBER, '[REDACTED-ID]');
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactIdentityNumbers(value);
  // Identity numbers used as keys (a map of results by subject, say) are redacted too.
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => redactIdentityNumbers(k) !== k)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactIdentityNumbers(k), v]));
  }
  return value;
}

/**
 * Level, message and time, then whatever the request and the line add. No
 * `service`: each function writes to a log group of its own, which names it.
 */
export class HubLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const base = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
    };
    return new LogItem({ attributes: base }).addAttributes(additional);
  }
}

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'credit-hub',
  logFormatter: new HubLogFormatter(),
  jsonReplacerFn: (_key, value) => redactValue(value),
});
