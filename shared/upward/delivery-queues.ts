/**
 * The platforms' delivery queues and dead-letter queues (infra/catalogue.ts `queues`): port and SQS adapter.
 * One message per package and platform (package-model.ts `messageBody`); sent ten to a request where there are many.
 */
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageBody, type DeliveryRef, type PlatformName } from './package-model.js';

/** SQS's limit of entries per SendMessageBatch. */
export const SEND_BATCH_SIZE = 10;

export interface DeliveryQueues {
  /** Queues each delivery on its platform's queue; the indexes (into `refs`) of those that were not queued. */
  send(refs: readonly DeliveryRef[]): Promise<Set<number>>;
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

  async send(refs: readonly DeliveryRef[]): Promise<Set<number>> {
    const failed = new Set<number>();
    const byPlatform = new Map<PlatformName, number[]>();
    refs.forEach((ref, i) => byPlatform.set(ref.platform, [...(byPlatform.get(ref.platform) ?? []), i]));
    const requests: Promise<void>[] = [];
    for (const [platform, indexes] of byPlatform) {
      const url = this.urls[platform];
      if (!url) throw new Error(`no queue URL for platform ${platform}`);
      for (let i = 0; i < indexes.length; i += SEND_BATCH_SIZE) {
        const chunk = indexes.slice(i, i + SEND_BATCH_SIZE);
        requests.push(this.#sendChunk(url, refs, chunk, failed));
      }
    }
    await Promise.all(requests);
    return failed;
  }

  async #sendChunk(url: string, refs: readonly DeliveryRef[], chunk: number[], failed: Set<number>): Promise<void> {
    try {
      const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((index) => ({ Id: String(index), MessageBody: messageBody(refs[index]!) })) }));
      // An entry not reported successful (failed, or not reported at all) was not queued.
      const queued = new Set((out.Successful ?? []).map((entry) => Number(entry.Id)));
      for (const index of chunk) if (!queued.has(index)) failed.add(index);
    } catch {
      // The whole request failed: none of its entries was queued (the caller reports them; nothing here to log).
      for (const index of chunk) failed.add(index);
    }
  }
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
