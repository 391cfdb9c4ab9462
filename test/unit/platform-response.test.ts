/**
 * platformResponse (shared/upward/platform-client.ts): how a platform's answer is read, by the connectors'
 * POST (fetchPost) and the nightly sync's (sync-post.ts) alike.
 */
import { describe, expect, it } from 'vitest';
import { ANSWER_READ_CHARS, MAX_ANSWER_CHARS, platformResponse } from '../../shared/upward/platform-client.js';

describe('platformResponse', () => {
  it('the status, the Retry-After as sent, and the text', async () => {
    expect(await platformResponse(new Response('busy', { status: 503, headers: { 'Retry-After': '120' } }))).toEqual({ status: 503, retryAfter: '120', text: 'busy' });
    expect(await platformResponse(new Response(null, { status: 204 }))).toEqual({ status: 204, text: '' });
  });

  it('keeps at most ANSWER_READ_CHARS of the text (multi-byte too: more than a reason keeps, so that it is redacted before it is cut) and stops reading a long answer', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('拒'.repeat(100)));
      },
    });
    const answer = await platformResponse(new Response(endless, { status: 400 }));
    expect(ANSWER_READ_CHARS).toBeGreaterThanOrEqual(MAX_ANSWER_CHARS + 100);
    expect(answer.text).toBe('拒'.repeat(ANSWER_READ_CHARS));
    expect(pulled).toBeLessThan(10);
  });
});
