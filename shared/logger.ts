/**
 * Structured JSON logs (Powertools Logger), one short line per request (see
 * shared/http/middleware.ts): level, message and time, then the
 * request's keys (request_id, cold_start, and source once authenticated) and
 * the line's own. None of the Lambda context boilerplate (function name and
 * ARN, memory size, sampling rate, X-Ray trace id, service) that Powertools
 * adds by default.
 *
 * What must never reach a log, and what stops it:
 * - the invocation event (request bodies with identity numbers, the
 *   Authorization header with a Bearer key): Powertools' "log event" is fixed
 *   off in code (HubLogger), whatever POWERTOOLS_LOGGER_LOG_EVENT says and
 *   even when injectLambdaContext is asked to log events;
 * - keys: an `authorization` (any case), `cookie` or API-key entry of any
 *   logged object, at any depth, is replaced; `Bearer …` and hub keys
 *   (`hub_…`) inside text too;
 * - identity numbers: handlers do not log record contents, and as a second
 *   line of defence every string, object key and number is scrubbed of
 *   anything shaped like a resident identity number
 *   (shared/domain/identity-number-text.ts: glued to letters, spaced,
 *   hyphenated, full-width, or sent as a JSON number).
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { isIdentityNumberValue, REDACTED_ID, redactIdentityNumbers } from './domain/identity-number-text.js';

export { redactIdentityNumbers, REDACTED_ID };

/** The mark that replaces a secret (a header, a key). */
export const REDACTED_SECRET = '[REDACTED]';

/** Entries whose value is a credential, whatever it looks like. */
const SECRET_KEY = /^(?:proxy-)?authorization$|^(?:set-)?cookie$|^(?:x-)?api[-_]?key$/i;
/** A credential inside text: an HTTP auth scheme with its token, or a hub API key (shared/auth/api-keys.ts). */
const SECRET_IN_TEXT = /\b(Bearer)\s+[^\s"',;]+|\b(Basic)\s+[A-Za-z0-9+/=]{8,}|\bhub_[A-Za-z0-9_-]{16,}/gi;

/** Scrubs credentials and identity numbers from a piece of text. */
export function redactText(text: string): string {
  const withoutSecrets = text.replace(SECRET_IN_TEXT, (_match, bearer?: string, basic?: string) => {
    const scheme = bearer ?? basic;
    return scheme ? `${scheme} ${REDACTED_SECRET}` : REDACTED_SECRET;
  });
  return redactIdentityNumbers(withoutSecrets);
}

/** JSON.stringify replacer: called for every key and value of a line, at every depth. */
function redactEntry(key: string, value: unknown): unknown {
  if (key && SECRET_KEY.test(key)) return REDACTED_SECRET;
  if (typeof value === 'string') return redactText(value);
  if ((typeof value === 'number' || typeof value === 'bigint') && isIdentityNumberValue(value)) return REDACTED_ID;
  // Identity numbers used as keys (a map of results by subject, say) are redacted too.
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => redactText(k) !== k)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactText(k), v]));
  }
  return value;
}

/**
 * Powertools' Logger with the invocation event never logged: `logEventIfEnabled`
 * (what injectLambdaContext calls) does nothing, and `shouldLogEvent` is false
 * whatever the environment or an option says. Children are HubLoggers too.
 */
export class HubLogger extends Logger {
  override getLogEvent(): boolean {
    return false;
  }

  override shouldLogEvent(_overwriteValue?: boolean): boolean {
    return false;
  }

  override logEventIfEnabled(_event: unknown, _overwriteValue?: boolean): void {
    // Never: an event carries the body and the Authorization header.
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new HubLogger(options);
  }
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

export const logger = new HubLogger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'credit-hub',
  logFormatter: new HubLogFormatter(),
  jsonReplacerFn: (key, value) => redactEntry(key, value),
});
