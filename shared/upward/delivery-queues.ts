/**
 * The platforms' delivery queues and dead-letter queues (infra/catalogue.ts `queues`): port and SQS adapter.
 * One message per package and platform (package-model.ts `messageBody`), maybe carrying the part's versions
 * (inline-versions.ts); sent up to ten to a request, and never more than SQS takes in one (256 KB in all).
 */
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageBody, type DeliveryMessage, type PlatformName } from './package-model.js';

/** SQS's limit of entries per SendMessageBatch. */
export const SEND_BATCH_SIZE = 10;
/** SQS's limit of a SendMessageBatch's message bodies, in all (bytes). */
export const SEND_BATCH_BYTES = 256 * 1024;

export interface DeliveryQueues {
  /** Queues each delivery on its platform's queue; the indexes (into `messages`) of those that were not queued. */
  send(messages: readonly DeliveryMessage[]): Promise<Set<number>>;
}

export interface DeadLetters {
  /** Puts a message body, as it was received, on this platform's dead-letter queue, with why. */
  send(body: string, reason: string): Promise<void>;
}

export class SqsDeliveryQueues implements DeliveryQueues {
  constructor(
    private readonly client: SQSClient,
    /** Each platform's queue URL. */
    private readonly urls: Readonly<Partial<Record<PlatformName, string>>>,
  ) {}

  async send(messages: readonly DeliveryMessage[]): Promise<Set<number>> {
    const failed = new Set<number>();
    const bodies = messages.map((m) => messageBody(m));
    const byPlatform = new Map<PlatformName, number[]>();
    messages.forEach((m, i) => byPlatform.set(m.platform, [...(byPlatform.get(m.platform) ?? []), i]));
    const requests: Promise<void>[] = [];
    for (const [platform, indexes] of byPlatform) {
      const url = this.urls[platform];
      if (!url) throw new Error(`no queue URL for platform ${platform}`);
      for (const chunk of sendChunks(indexes, bodies)) requests.push(this.#sendChunk(url, bodies, chunk, failed));
    }
    await Promise.all(requests);
    return failed;
  }

  async #sendChunk(url: string, bodies: readonly string[], chunk: number[], failed: Set<number>): Promise<void> {
    try {
      const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((index) => ({ Id: String(index), MessageBody: bodies[index]! })) }));
      // An entry not reported successful (failed, or not reported at all) was not queued.
      const queued = new Set((out.Successful ?? []).map((entry) => Number(entry.Id)));
      for (const index of chunk) if (!queued.has(index)) failed.add(index);
    } catch {
      // The whole request failed: none of its entries was queued (the caller reports them; nothing here to log).
      for (const index of chunk) failed.add(index);
    }
  }
}

/** The messages (`indexes` into `bodies`) in the order given, cut into requests of at most ten and SEND_BATCH_BYTES. */
export function sendChunks(indexes: readonly number[], bodies: readonly string[]): number[][] {
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const size = Buffer.byteLength(bodies[index]!);
    if (chunk.length > 0 && (chunk.length === SEND_BATCH_SIZE || bytes + size > SEND_BATCH_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(index);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The reason a dead-lettered message carries (a message attribute; SQS limits a whole message to 256 KB, far above). */
export const REASON_ATTRIBUTE = 'reason';

export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly client: SQSClient,
    private readonly url: string,
  ) {}

  async send(body: string, reason: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.url, MessageBody: body, MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: reason || 'refused' } } }),
    );
  }
}

/**
 * A connector's own queue: a message the platform could not take is hidden for a while before its next receive
 * (ChangeMessageVisibility on the receipt handle Lambda's event carries), so that the retries of an outage spread
 * out and honour Retry-After. Never 0: that would make it visible at once (and loses it in the local emulator).
 */
export class SqsRedelivery {
  constructor(
    private readonly client: SQSClient,
    private readonly url: string,
  ) {}

  async delay(receiptHandle: string, seconds: number): Promise<void> {
    const timeout = Math.max(1, Math.min(43_200, Math.ceil(seconds)));
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.url, ReceiptHandle: receiptHandle, VisibilityTimeout: timeout }));
  }
}
