/**
 * GET /v1/dlq/{platform}: what the platform refused or never took — its failed deliveries from the sparse `failed`
 * index (deliveries-store.ts), oldest failure first, a page at a time with an opaque cursor — and the depth of its
 * dead-letter queue (the messages waiting there). The deliveries are the truth the operator acts on; the depth
 * tells whether the queue agrees (a message the connector could not dead-letter is found again by the sweep once
 * the delivery is redriven).
 */
import { DLQ_PAGE_DEFAULT, type DlqPage, type DlqQuery } from '../../contracts/upward.js';
import { badRequest } from '../http/errors.js';
import type { Delivery, PlatformName } from './delivery-model.js';
import type { DeliveriesStore } from './deliveries-store.js';
import { decodeFailedCursor, encodeFailedCursor } from './dead-letter-cursor.js';

export interface DeadLetterListDeps {
  store: Pick<DeliveriesStore, 'listFailed'>;
  queue: { depth(): Promise<number> };
}

export function deadLetterItem(d: Delivery): DlqPage['items'][number] {
  return { recordId: d.recordId, version: d.version, operation: d.operation, reason: d.failedReason ?? '', failedAt: d.failedAt ?? '', attempts: d.attempts ?? 0 };
}

export async function listDeadLetters(platform: PlatformName, query: DlqQuery, deps: DeadLetterListDeps): Promise<DlqPage> {
  const startKey = query.cursor === undefined ? undefined : decodeFailedCursor(query.cursor, platform);
  if (query.cursor !== undefined && startKey === undefined) {
    throw badRequest('查询参数有误 (invalid query parameter)', [{ field: 'cursor', message: `游标无效 (not a cursor of GET /v1/dlq/${platform})` }], 'invalid_query');
  }
  const [depth, page] = await Promise.all([
    deps.queue.depth(),
    deps.store.listFailed(platform, { limit: query.limit ?? DLQ_PAGE_DEFAULT, ...(startKey ? { startKey } : {}) }),
  ]);
  return {
    platform,
    depth,
    items: page.items.map(deadLetterItem),
    ...(page.lastKey ? { next: encodeFailedCursor(platform, page.lastKey) } : {}),
  };
}
