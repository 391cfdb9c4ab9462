import { redactIdentityNumbers } from './identity-number-text.js';

/**
 * A client's value quoted back (in an error, say), cut to `max` characters so it never grows a
 * response, and with anything shaped like an identity number replaced: a path, a key or an id
 * quoted back must not carry one.
 */
export function shorten(value: string, max: number): string {
  const safe = redactIdentityNumbers(value);
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
