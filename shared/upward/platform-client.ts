/**
 * How a connector POSTs to its platform: the port (one request, its answer or a thrown network error or timeout)
 * and its adapter over Node's fetch. Retries are not here: connector.ts decides them (retry-policy.ts).
 */

export interface PlatformRequest {
  /** The exact bytes of the body (UTF-8 JSON). */
  body: string;
  headers: Readonly<Record<string, string>>;
  /** The request is abandoned (a thrown timeout) after this long, answer included. */
  timeoutMs: number;
}

export interface PlatformResponse {
  status: number;
  /** The Retry-After header, as sent. */
  retryAfter?: string;
  /** The start of the answer's text (at most ANSWER_READ_CHARS): for the reason of a refusal, which redacts it, then cuts it to MAX_ANSWER_CHARS. */
  text: string;
}

/** Sends one request; throws when no answer came (network error, timeout). */
export type PlatformPost = (url: string, request: PlatformRequest) => Promise<PlatformResponse>;

/** A refusal's reason keeps at most 300 characters of the answer. */
export const MAX_ANSWER_CHARS = 300;
/**
 * How much of an answer is read: more than the reason keeps, so that identity numbers are redacted in the text
 * before it is cut (a number cut in two at 300 characters would no longer look like one).
 */
export const ANSWER_READ_CHARS = 400;
const MAX_ANSWER_BYTES = 4 * ANSWER_READ_CHARS;

async function answerText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.byteLength;
    }
  } finally {
    // The rest is not wanted: release the connection instead of reading a large answer to its end.
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(parts).subarray(0, MAX_ANSWER_BYTES)).slice(0, ANSWER_READ_CHARS);
}

/** A fetch answer as a PlatformResponse: its status, its Retry-After, the start of its text (the rest is not read). */
export async function platformResponse(response: Response): Promise<PlatformResponse> {
  const text = await answerText(response);
  const retryAfter = response.headers.get('retry-after');
  return { status: response.status, ...(retryAfter !== null ? { retryAfter } : {}), text };
}

/** The POST port over fetch (undici), with AbortSignal.timeout for the whole exchange. */
export const fetchPost: PlatformPost = async (url, request) => {
  const signal = AbortSignal.timeout(request.timeoutMs);
  return platformResponse(await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal, redirect: 'manual' }));
};

/** The URL packages are POSTed to: `<base URL>/packages`. */
export function packagesUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/packages`;
}
