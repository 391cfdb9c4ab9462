/**
 * A connector's work on one queue message (a package, or a part of one, for its platform: package-model.ts):
 *
 * 1. the delivery: only a pending one is work. Delivered or split → nothing to do (a duplicate message); failed →
 *    nothing to do either (a duplicate of a refused message: sending it again would only be refused again; a
 *    redrive makes the delivery pending before it moves the message back, shared/upward/redrive.ts); absent →
 *    nothing to do;
 * 2. the package's record versions (its body's refs, the part's share of them): those the message carries
 *    (inline-versions.ts: the fan-out's, from its stream records), else as stored (record-versions.ts). The same
 *    versions give the same bytes (exchange-package.ts), so every try sends what the first sent, under the same
 *    Idempotency-Key; a version whose record is no longer stored fails the package (`internal`);
 * 3. the package POSTed to `<base URL>/packages`:
 *    - 2xx → delivered: every record version in it;
 *    - 5xx, 408, 429, 3xx, a timeout or a network error (the platform is unavailable) → tried again in this
 *      invocation (back-off with full jitter, at least Retry-After) while time allows, up to
 *      `attemptsPerInvocation`; then the message is given back to the queue (`retry-later`: the caller throws),
 *      hidden for min(12 h, max(Retry-After, base × 2^receiveCount)) (ChangeMessageVisibility,
 *      retry-policy.ts redeliveryDelaySeconds), and the delivery's lastQueuedAt is set to when it is due again
 *      (the sweep does not queue a second copy meanwhile). On its last receive (maxReceiveCount) the message is
 *      let go instead (`released`: the caller deletes it, it never reaches the dead-letter queue) and the
 *      delivery stays pending, owed: the sweep queues it again `exchange.requeueAfterSeconds` later, and the
 *      nightly sync sends it too, for as long as the outage lasts — an unavailable platform is never a failure;
 *    - any other 4xx of a package of several records → `split`: the platform took none of it, so its two halves
 *      are sent on their own (each a part with an Idempotency-Key of its own, its message carrying its versions),
 *      and so on until the record it
 *      refuses is alone; the others are delivered in their parts, never held up by it;
 *    - any other 4xx of a part of one record → failed with the platform's reason, and the message goes to the
 *      dead-letter queue at once (`dead-lettered`).
 *
 * Never logs or stores a record's content; a refusal's reason keeps at most 300 characters of the platform's
 * answer, with identity numbers redacted (the reason is shown to the source and the operator).
 */
import { REDACTED_ID, redactIdentityNumbers } from '../domain/identity-number-text.js';
import type { DeadLetters, DeliveryQueues } from './delivery-queues.js';
import { buildExchangePackage, type PackageRecord } from './exchange-package.js';
import { encodeInlineVersions, inlineVersionsFor } from './inline-versions.js';
import { deliveryRefOf, halvesOf, newDelivery, parseDeliveryMessage, type DeliveryMessage, type DeliveryRef, type PackageRef, type PlatformName } from './package-model.js';
import type { PackagesStore } from './packages-store.js';
import { MAX_ANSWER_CHARS, packagesUrl, type PlatformPost, type PlatformResponse } from './platform-client.js';
import { nationalFields, type Decrypter } from './record-fields.js';
import type { RecordVersions, VersionContent } from './record-versions.js';
import { backoffMs, classifyStatus, redeliveryDelaySeconds, retryAfterMs } from './retry-policy.js';

/** Hides a received message of the platform's queue for a while (ChangeMessageVisibility). */
export interface Redelivery {
  delay(receiptHandle: string, seconds: number): Promise<void>;
}

export interface ConnectorDeps {
  platform: PlatformName;
  baseUrl: string;
  /** The sender's USCC (sender.ts), read when the first package is built. */
  sender: () => string;
  packages: Pick<PackagesStore, 'getDelivery' | 'getBody' | 'markDelivered' | 'markFailed' | 'split' | 'recordAttempt'>;
  versions: RecordVersions;
  /** The platform's queue, for the parts of a package split. */
  queues: DeliveryQueues;
  cipher: () => Promise<Decrypter>;
  post: PlatformPost;
  deadLetters: DeadLetters;
  /** The platform's queue, to put off the next receive of a message the platform could not take. */
  redelivery: Redelivery;
  /** The first redelivery delay, doubled at each receive (retry-policy.ts redeliveryDelaySeconds). */
  redeliveryBaseSeconds: number;
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
  /** Refused whole (4xx) with several records in it: its two parts are queued instead. */
  | 'split'
  /** Delivered or split already (a duplicate message), failed, or no such delivery: nothing sent. */
  | 'settled'
  /** Refused by the platform (4xx, one record) or unreadable: failed, and in the dead-letter queue. */
  | 'dead-lettered'
  /** The platform stayed unavailable: the message goes back to the queue, hidden for a while (the caller throws). */
  | 'retry-later'
  /** Same, on the message's last receive: the message is let go (the caller deletes it) and the delivery stays owed (the sweep queues it again). */
  | 'released';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** Record versions in the package (or part) this message is about; 0 when nothing was read. */
  records: number;
  /** Of those, the ones read from the records table (the message did not carry them). */
  versionsRead?: number;
  /** POSTs sent after the first one for this message, in this invocation. */
  retries: number;
  /** retry-later: how long the message was hidden (undefined when the change of its visibility failed: it comes back after the queue's timeout). */
  delaySeconds?: number;
}

/** A message of the platform's queue as the connector receives it. */
export interface QueueMessage {
  body: string;
  /** Receives so far, this one included (ApproximateReceiveCount). */
  receiveCount: number;
  receiptHandle: string;
}

/** Time kept back after a POST for the writes that settle it (an update, a dead-letter send). */
export const SETTLE_MARGIN_MS = 5_000;

/** Digits (half- or full-width, with single spaces or hyphens, an X last) ending a text: what may be left of a number cut short. */
const TRAILING_DIGITS = /[0-9\uFF10-\uFF19](?:[ \-]?[0-9\uFF10-\uFF19])*[ \-]?[XxＸｘ]?$/;
const MIN_TRAILING_DIGITS = 6;

/**
 * Why a package was refused, as kept on the delivery: the status and the start of the answer. Identity numbers are
 * redacted in the whole text read (ANSWER_READ_CHARS) before it is cut to MAX_ANSWER_CHARS, and a run of 6 or more
 * digits left at the cut (the start of a number cut in two, by the cut or by the read) is redacted too.
 */
export function refusalReason(response: PlatformResponse): string {
  let answer = redactIdentityNumbers(response.text.replace(/\s+/g, ' ').trim()).slice(0, MAX_ANSWER_CHARS);
  const tail = TRAILING_DIGITS.exec(answer);
  if (tail && tail[0].replace(/[^0-9\uFF10-\uFF19]/g, '').length >= MIN_TRAILING_DIGITS) answer = answer.slice(0, tail.index) + REDACTED_ID;
  return answer ? `HTTP ${response.status}: ${answer}` : `HTTP ${response.status}`;
}

function failureOf(result: PlatformResponse | Error): string {
  if (!(result instanceof Error)) return `HTTP ${result.status}`;
  return result.name === 'TimeoutError' || result.name === 'AbortError' ? 'timeout' : 'network error';
}

type PostResult =
  | { kind: 'delivered'; attempts: number }
  | { kind: 'refused'; attempts: number; response: PlatformResponse }
  /** `retryAfterMs`: what the last answer's Retry-After asked for. */
  | { kind: 'unavailable'; attempts: number; last: string; retryAfterMs?: number };

/** The POSTs of one package in this invocation, with back-off, while attempts and time allow. */
async function postWithRetries(url: string, body: string, headers: Record<string, string>, deps: ConnectorDeps): Promise<PostResult> {
  let last = 'no attempt: the invocation had no time left';
  let asked: number | undefined;
  const unavailable = (attempts: number): PostResult => ({ kind: 'unavailable', attempts, last, ...(asked !== undefined ? { retryAfterMs: asked } : {}) });
  for (let attempt = 1; attempt <= deps.attemptsPerInvocation; attempt++) {
    if (deps.remainingMs() < deps.requestTimeoutMs + SETTLE_MARGIN_MS) return unavailable(attempt - 1);
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
    asked = result instanceof Error ? undefined : retryAfterMs(result.retryAfter, deps.now());
    if (attempt === deps.attemptsPerInvocation) return unavailable(attempt);
    const wait = Math.max(backoffMs(attempt, deps.random), asked ?? 0);
    // Never wait past what the invocation has left for one more POST and its settling.
    if (wait + deps.requestTimeoutMs + SETTLE_MARGIN_MS > deps.remainingMs()) return unavailable(attempt);
    await deps.sleep(wait);
  }
  return unavailable(deps.attemptsPerInvocation);
}

/** The records of a package's refs (their versions' contents, in order), as the platform receives them (numbers decrypted). */
async function packageRecords(refs: readonly PackageRef[], contents: readonly (VersionContent | undefined)[], deps: ConnectorDeps): Promise<PackageRecord[]> {
  const records: PackageRecord[] = [];
  for (const [i, ref] of refs.entries()) {
    const content = contents[i];
    if (!content) throw new Error(`record ${ref.recordId} of a package is no longer stored`);
    records.push({ operation: ref.operation, kind: content.kind, recordId: ref.recordId, version: ref.version, sourceId: content.sourceId, fields: await nationalFields(content, deps.cipher) });
  }
  return records;
}

/**
 * Delivers a queue message. Throws only when the stores fail (the message comes back); the caller also gives the
 * message back on `retry-later`, and lets it go (deletes it) on every other outcome.
 */
export async function deliverMessage(queued: QueueMessage, deps: ConnectorDeps): Promise<DeliveryResult> {
  const { body, receiveCount } = queued;
  const parsed = parseDeliveryMessage(body);
  if (!parsed.ok || parsed.message.platform !== deps.platform) {
    // Nobody should have sent it: for the operator, never retried.
    await deps.deadLetters.send(body, parsed.ok ? `a message for platform ${parsed.message.platform} on ${deps.platform}'s queue` : `unreadable message: ${parsed.reason}`);
    return { outcome: 'dead-lettered', records: 0, retries: 0 };
  }
  const message: DeliveryRef = deliveryRefOf(parsed.message);
  const delivery = await deps.packages.getDelivery(message);
  if (!delivery || delivery.state !== 'pending') return { outcome: 'settled', records: 0, retries: 0 };
  const packageBody = await deps.packages.getBody(message.key);
  // A delivery is created only once its body is closed: anything else is a fault, tried again.
  if (!packageBody || packageBody.open) throw new Error(`package ${message.key} has a pending delivery but no closed body`);
  const refs = packageBody.refs.slice(delivery.from, delivery.to);
  if (refs.length === 0) throw new Error(`package ${message.key} part "${message.path}" has no records`);

  const carried = inlineVersionsFor(parsed.message.versions, refs);
  const contents = carried ?? (await deps.versions.read(refs));
  const versionsRead = carried ? 0 : refs.length;
  const sent = buildExchangePackage({ packageId: delivery.packageId, sender: deps.sender(), createdAt: packageBody.openedAt, records: await packageRecords(refs, contents, deps) });
  const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': sent.packageId };
  const result = await postWithRetries(packagesUrl(deps.baseUrl), sent.bytes, headers, deps);
  const retries = Math.max(0, result.attempts - 1);
  const at = () => deps.now().toISOString();
  const records = refs.length;
  switch (result.kind) {
    case 'delivered':
      await deps.packages.markDelivered(message, at(), result.attempts - 1);
      return { outcome: 'delivered', records, retries, versionsRead };
    case 'refused': {
      const halves = halvesOf(packageBody.refs.length, message.path);
      if (halves.length > 0) {
        // None of it was taken: each half goes on its own, under a key of its own.
        const parts = halves.map((path) => newDelivery(message.key, packageBody.refs.length, deps.platform, path, deps.now()));
        if ((await deps.packages.split(message, parts, at(), result.attempts)) === 'updated') {
          // A part not queued now is queued by the sweep (it is pending, owed). Each carries its share of the versions.
          await deps.queues.send(parts.map((part) => partMessage(part, contents, delivery.from)));
        }
        return { outcome: 'split', records, retries, versionsRead };
      }
      const reason = refusalReason(result.response);
      // In the dead-letter queue before it is marked failed: a failed delivery is always there for the operator.
      await deps.deadLetters.send(body, reason);
      await deps.packages.markFailed(message, reason, at(), result.attempts);
      return { outcome: 'dead-lettered', records, retries, versionsRead };
    }
    case 'unavailable': {
      if (receiveCount >= deps.maxReceiveCount) {
        // Still owed, due again now: the sweep queues it once exchange.requeueAfterSeconds have passed.
        await deps.packages.recordAttempt(message, result.attempts, at());
        return { outcome: 'released', records, retries, versionsRead };
      }
      const delaySeconds = redeliveryDelaySeconds(receiveCount, result.retryAfterMs, deps.redeliveryBaseSeconds);
      // Due again when the message reappears: the sweep does not queue a second copy before then.
      await deps.packages.recordAttempt(message, result.attempts, new Date(deps.now().getTime() + delaySeconds * 1000).toISOString());
      try {
        await deps.redelivery.delay(queued.receiptHandle, delaySeconds);
      } catch {
        // It comes back after the queue's visibility timeout instead: sooner, not lost.
        return { outcome: 'retry-later', records, retries, versionsRead };
      }
      return { outcome: 'retry-later', records, retries, versionsRead, delaySeconds };
    }
  }
}

/** The message of a part of a split, with its share of the versions (`contents` are those of [from, …) of the body's refs). */
function partMessage(part: DeliveryRef & { from: number; to: number }, contents: readonly (VersionContent | undefined)[], from: number): DeliveryMessage {
  const share = contents.slice(part.from - from, part.to - from);
  const versions = share.every((c): c is VersionContent => c !== undefined) ? encodeInlineVersions(share) : undefined;
  return { ...deliveryRefOf(part), ...(versions !== undefined ? { versions } : {}) };
}

/** An error's name as a reason may show it: its kind only (never its message, which may quote data). */
function errorKind(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  return (name.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 64) || 'Error');
}

/**
 * After a fault that is not the platform's answer (a key denied, a missing setting, a store failing) on the
 * message's last receive (maxReceiveCount): SQS moves the message to the dead-letter queue at its next receive, so
 * the delivery is marked failed with `internal: <error name>` (no personal data) for the operator's list
 * (GET /v1/dlq) and a redrive. Earlier receives change nothing: the message simply comes back. Whether it marked.
 */
export async function markInternalFailure(queued: QueueMessage, error: unknown, deps: Pick<ConnectorDeps, 'platform' | 'packages' | 'maxReceiveCount' | 'now'>): Promise<boolean> {
  if (queued.receiveCount < deps.maxReceiveCount) return false;
  const parsed = parseDeliveryMessage(queued.body);
  if (!parsed.ok || parsed.message.platform !== deps.platform) return false;
  return (await deps.packages.markFailed(deliveryRefOf(parsed.message), `internal: ${errorKind(error)}`, deps.now().toISOString(), 0)) === 'updated';
}
