/**
 * A connector's work on one queue message (one record version for its platform):
 *
 * 1. the delivery (deliveries-store.ts): only a pending one is work. Delivered or superseded → nothing to do (a
 *    duplicate message); failed → nothing to do either (a duplicate of a refused message: sending it again would
 *    only be refused again and dead-lettered twice; a redrive makes the delivery pending before it moves the
 *    message back, shared/upward/redrive.ts); absent → nothing to do;
 * 2. the record's head: a newer version than the message's → superseded (that version carries the whole state,
 *    and the platform never goes back to an older one);
 * 3. the package (exchange-package.ts: the same bytes and Idempotency-Key on every try), POSTed to
 *    `<base URL>/packages`:
 *    - 2xx → delivered;
 *    - 5xx, 408, 429, a timeout or a network error → tried again in this invocation (back-off with full jitter,
 *      at least Retry-After) while time allows, up to `attemptsPerInvocation`; then the message is given back to
 *      the queue (`retry-later`: the caller throws, SQS redelivers after the visibility timeout). On its last
 *      receive (maxReceiveCount) the delivery is marked failed first: SQS moves the message to the dead-letter
 *      queue;
 *    - any other 4xx → failed with the platform's reason, and the message goes to the dead-letter queue at once
 *      (`dead-lettered`): it is never retried and never holds up the others.
 *
 * Never logs or stores a record's content; a refusal's reason keeps at most 300 characters of the platform's
 * answer, with identity numbers redacted (the reason is shown to the source and the operator).
 */
import { redactIdentityNumbers } from '../domain/identity-number-text.js';
import type { StoredHead } from '../domain/record-model.js';
import { parseDeliveryMessage, type DeliveryMessage, type PlatformName } from './delivery-model.js';
import type { DeliveriesStore } from './deliveries-store.js';
import type { DeadLetters } from './delivery-queues.js';
import { buildExchangePackage } from './exchange-package.js';
import { MAX_ANSWER_CHARS, packagesUrl, type PlatformPost, type PlatformResponse } from './platform-client.js';
import { nationalFields, type Decrypter } from './record-fields.js';
import { backoffMs, classifyStatus, retryAfterMs } from './retry-policy.js';

export interface ConnectorDeps {
  platform: PlatformName;
  baseUrl: string;
  /** The sender's USCC (sender.ts), read when the first package is built. */
  sender: () => string;
  deliveries: Pick<DeliveriesStore, 'get' | 'markDelivered' | 'markSuperseded' | 'markFailed' | 'recordAttempt'>;
  heads: { getHead(id: string): Promise<StoredHead | undefined> };
  cipher: () => Promise<Decrypter>;
  post: PlatformPost;
  deadLetters: DeadLetters;
  /** The queue's redrive policy: receives before SQS moves a message to the dead-letter queue. */
  maxReceiveCount: number;
  attemptsPerInvocation: number;
  requestTimeoutMs: number;
  /** Time left in the invocation. */
  remainingMs: () => number;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter of the back-off. */
  random: () => number;
}

export type DeliveryOutcome =
  /** The platform answered 2xx. */
  | 'delivered'
  /** A newer version of the record was stored: not sent. */
  | 'superseded'
  /** Delivered or superseded already (a duplicate message), or no such delivery: nothing sent. */
  | 'settled'
  /** Refused by the platform (4xx) or unreadable: failed, and in the dead-letter queue. */
  | 'dead-lettered'
  /** The platform stayed unavailable: the message goes back to the queue (the caller throws). */
  | 'retry-later'
  /** Same, on the message's last receive: marked failed, and SQS moves it to the dead-letter queue. */
  | 'given-up';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** POSTs sent after the first one for this message, in this invocation. */
  retries: number;
}

/** Time kept back after a POST for the writes that settle it (an update, a dead-letter send). */
export const SETTLE_MARGIN_MS = 5_000;

/** Why a package was refused, as kept on the delivery: the status and the start of the answer, identity numbers redacted. */
export function refusalReason(response: PlatformResponse): string {
  const answer = redactIdentityNumbers(response.text.replace(/\s+/g, ' ').trim()).slice(0, MAX_ANSWER_CHARS);
  return answer ? `HTTP ${response.status}: ${answer}` : `HTTP ${response.status}`;
}

function failureOf(result: PlatformResponse | Error): string {
  if (!(result instanceof Error)) return `HTTP ${result.status}`;
  return result.name === 'TimeoutError' || result.name === 'AbortError' ? 'timeout' : 'network error';
}

type PostResult = { kind: 'delivered'; attempts: number } | { kind: 'refused'; attempts: number; response: PlatformResponse } | { kind: 'unavailable'; attempts: number; last: string };

/** The POSTs of one package in this invocation, with back-off, while attempts and time allow. */
async function postWithRetries(url: string, body: string, headers: Record<string, string>, deps: ConnectorDeps): Promise<PostResult> {
  let last = 'no attempt: the invocation had no time left';
  for (let attempt = 1; attempt <= deps.attemptsPerInvocation; attempt++) {
    if (deps.remainingMs() < deps.requestTimeoutMs + SETTLE_MARGIN_MS) return { kind: 'unavailable', attempts: attempt - 1, last };
    let result: PlatformResponse | Error;
    try {
      result = await deps.post(url, { body, headers, timeoutMs: deps.requestTimeoutMs });
    } catch (e) {
      result = e instanceof Error ? e : new Error(String(e));
    }
    if (!(result instanceof Error)) {
      const cls = classifyStatus(result.status);
      if (cls === 'delivered') return { kind: 'delivered', attempts: attempt };
      if (cls === 'refused') return { kind: 'refused', attempts: attempt, response: result };
    }
    last = failureOf(result);
    if (attempt === deps.attemptsPerInvocation) return { kind: 'unavailable', attempts: attempt, last };
    const asked = result instanceof Error ? undefined : retryAfterMs(result.retryAfter, deps.now());
    const wait = Math.max(backoffMs(attempt, deps.random), asked ?? 0);
    // Never wait past what the invocation has left for one more POST and its settling.
    if (wait + deps.requestTimeoutMs + SETTLE_MARGIN_MS > deps.remainingMs()) return { kind: 'unavailable', attempts: attempt, last };
    await deps.sleep(wait);
  }
  return { kind: 'unavailable', attempts: deps.attemptsPerInvocation, last };
}

/**
 * Delivers the message `body` (received `receiveCount` times, this time included). Throws only when the stores
 * fail (the message comes back); the caller also gives the message back on `retry-later` and `given-up`.
 */
export async function deliverMessage(body: string, receiveCount: number, deps: ConnectorDeps): Promise<DeliveryResult> {
  const parsed = parseDeliveryMessage(body);
  if (!parsed.ok || parsed.message.platform !== deps.platform) {
    // Nobody should have sent it: for the operator, never retried.
    await deps.deadLetters.send(body, parsed.ok ? `a message for platform ${parsed.message.platform} on ${deps.platform}'s queue` : `unreadable message: ${parsed.reason}`);
    return { outcome: 'dead-lettered', retries: 0 };
  }
  const message: DeliveryMessage = parsed.message;
  const delivery = await deps.deliveries.get(message);
  if (!delivery || delivery.state !== 'pending') return { outcome: 'settled', retries: 0 };

  const head = await deps.heads.getHead(message.recordId);
  const at = () => deps.now().toISOString();
  if (!head) {
    const reason = 'the record is no longer stored';
    await deps.deadLetters.send(body, reason);
    await deps.deliveries.markFailed(message, reason, at(), 0);
    return { outcome: 'dead-lettered', retries: 0 };
  }
  if (head.version > message.version) {
    await deps.deliveries.markSuperseded(message, at());
    return { outcome: 'superseded', retries: 0 };
  }
  // A head older than the version queued cannot be read back strongly consistent: a fault, tried again later.
  if (head.version < message.version) throw new Error(`record version ${message.version} queued but the head is at version ${head.version}`);

  const sent = buildExchangePackage({
    platform: deps.platform,
    sender: deps.sender(),
    createdAt: head.receivedAt,
    record: { operation: delivery.operation, kind: head.kind, recordId: head.id, version: head.version, sourceId: head.sourceId, fields: await nationalFields(head, deps.cipher) },
  });
  const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': sent.packageId };
  const result = await postWithRetries(packagesUrl(deps.baseUrl), sent.bytes, headers, deps);
  const retries = Math.max(0, result.attempts - 1);
  switch (result.kind) {
    case 'delivered':
      await deps.deliveries.markDelivered(message, at(), result.attempts - 1);
      return { outcome: 'delivered', retries };
    case 'refused': {
      const reason = refusalReason(result.response);
      // In the dead-letter queue before it is marked failed: a failed delivery is always there for the operator.
      await deps.deadLetters.send(body, reason);
      await deps.deliveries.markFailed(message, reason, at(), result.attempts);
      return { outcome: 'dead-lettered', retries };
    }
    case 'unavailable':
      if (receiveCount >= deps.maxReceiveCount) {
        await deps.deliveries.markFailed(message, `platform unavailable after ${receiveCount} receives (last: ${result.last})`, at(), result.attempts);
        return { outcome: 'given-up', retries };
      }
      if (result.attempts > 0) await deps.deliveries.recordAttempt(message, result.attempts);
      return { outcome: 'retry-later', retries };
  }
}
