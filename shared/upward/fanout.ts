/**
 * Fan-out: each new record version in the records table's change stream becomes a delivery owed to each upward
 * platform (written first, in the `deliveries` table: the durable truth), then a message on that platform's queue.
 *
 * - Only a new version counts: an INSERT of a head, or a MODIFY whose version differs from the old image's. A head
 *   rewritten with the same version (no write of the push path does that today) is not a change to deliver.
 * - A stream record read twice (Lambda retries a batch, or bisects it) writes its deliveries once: the put is
 *   conditional. A delivery already owed is queued again (the earlier send may be what failed); one already
 *   delivered, superseded or failed is not.
 * - A record whose deliveries could not all be written and queued is reported by its sequence number
 *   (reportBatchItemFailures): Lambda sends it, and those after it, again.
 *
 * Never logs record contents: counts only.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StoredHead } from '../domain/record-model.js';
import { newDelivery, PLATFORM_NAMES, type Delivery, type PlatformName } from './delivery-model.js';
import type { DeliveriesStore } from './deliveries-store.js';
import type { DeliveryQueues } from './delivery-queues.js';

export interface FanoutDeps {
  store: Pick<DeliveriesStore, 'createIfAbsent'>;
  queues: DeliveryQueues;
  platforms?: readonly PlatformName[];
  now?: () => Date;
}

export interface FanoutReport {
  /** Stream records read. */
  records: number;
  /** New versions among them. */
  versions: number;
  /** Deliveries written now. */
  created: number;
  /** Deliveries queued (new ones, and those already owed). */
  queued: number;
  /** Deliveries found already settled (delivered, superseded, failed): not queued again. */
  settled: number;
  /** Stream records reported failed. */
  failed: number;
  batchItemFailures: { itemIdentifier: string }[];
}

/** How many conditional puts are in flight at once (a batch of 100 versions makes 200). */
const PUT_CONCURRENCY = 25;

type VersionHead = Pick<StoredHead, 'id' | 'version' | 'status' | 'publication'>;

/** The new version a stream record carries, or undefined when it carries none (a removal, a rewrite of the same version, not a head). */
export function newVersionOf(record: DynamoDBRecord): VersionHead | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const head = unmarshall(image as Record<string, AttributeValue>) as Partial<StoredHead> & { sk?: string };
  if (head.sk !== 'HEAD' || typeof head.id !== 'string' || typeof head.version !== 'number') return undefined;
  if (record.eventName === 'MODIFY') {
    const old = record.dynamodb?.OldImage;
    const oldVersion = old ? (unmarshall(old as Record<string, AttributeValue>) as { version?: unknown }).version : undefined;
    if (oldVersion === head.version) return undefined;
  }
  if (!head.publication || typeof head.status !== 'string') return undefined;
  return { id: head.id, version: head.version, status: head.status, publication: head.publication };
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.allSettled(items.slice(i, i + size).map(work))));
  return results;
}

export async function fanOut(event: DynamoDBStreamEvent, deps: FanoutDeps): Promise<FanoutReport> {
  const platforms = deps.platforms ?? PLATFORM_NAMES;
  const now = (deps.now ?? (() => new Date()))();
  const failedRecords = new Set<number>();
  const owed: { record: number; delivery: Delivery }[] = [];
  let versions = 0;
  event.Records.forEach((record, index) => {
    const head = newVersionOf(record);
    if (!head) return;
    versions++;
    for (const platform of platforms) owed.push({ record: index, delivery: newDelivery(head, platform, now) });
  });

  const written = await inBatches(owed, PUT_CONCURRENCY, (o) => deps.store.createIfAbsent(o.delivery));
  const toQueue: { record: number; delivery: Delivery }[] = [];
  let created = 0;
  let settled = 0;
  written.forEach((result, i) => {
    const o = owed[i]!;
    if (result.status === 'rejected') {
      failedRecords.add(o.record);
      return;
    }
    if (result.value.created) created++;
    else if (result.value.existing && result.value.existing.state !== 'pending') {
      settled++;
      return;
    }
    toQueue.push(o);
  });

  // A record that already failed is not queued at all this time: it comes back whole.
  const sendable = toQueue.filter((o) => !failedRecords.has(o.record));
  const notQueued = await deps.queues.send(sendable.map((o) => o.delivery));
  for (const i of notQueued) failedRecords.add(sendable[i]!.record);

  const batchItemFailures = [...failedRecords]
    .sort((a, b) => a - b)
    .map((index) => {
      const sequence = event.Records[index]!.dynamodb?.SequenceNumber;
      // Without its sequence number a failure cannot be reported alone: the whole batch is sent again.
      if (!sequence) throw new Error('fan-out: a stream record whose deliveries failed has no sequence number');
      return { itemIdentifier: sequence };
    });
  return {
    records: event.Records.length,
    versions,
    created,
    queued: sendable.length - notQueued.size,
    settled,
    failed: failedRecords.size,
    batchItemFailures,
  };
}
