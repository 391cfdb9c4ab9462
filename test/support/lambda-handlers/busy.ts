/** An HTTP Lambda handler for tests of the local gateway: keeps a core busy for `?ms=` milliseconds (default 40), then answers 200. */
export async function handler(event: { queryStringParameters?: Record<string, string> }) {
  const until = performance.now() + Number(event.queryStringParameters?.ms ?? 40);
  while (performance.now() < until) {
    // busy: the work of a CPU-heavy request (validation, encryption)
  }
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"done":true}' };
}
