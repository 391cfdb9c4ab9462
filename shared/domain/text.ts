/** A client's value quoted back (in an error, say), cut to `max` characters so it never grows a response. */
export function shorten(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
