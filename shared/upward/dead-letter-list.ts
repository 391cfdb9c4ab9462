/**
 * GET /v1/dlq/{platform}: what the platform refused or never took — its failed deliveries from the sparse `failed`
 * index (packages-store.ts), oldest failure first, a page at a time with an opaque cursor, each listed by the record
 * versions it carries (a part refused by the platform carries one; a package the hub could not send for a fault of
 * its own, `internal: …`, may carry up to 100, each listed with the same reason) — and the depth of its
 * dead-letter queue (the messages waiting there). The deliveries are the truth the operator acts on; the depth
 * tells whether the queue agrees (a message the connector could not dead-letter is found again by the sweep once
 * the delivery is redriven).
 */
import { DLQ_PAGE_DEFAULT, type DlqPage, type DlqQuery } from '../../contracts/upward.js';
import { badRequest } from '../http/errors.js';
import type { PackageBody, PackageDelivery, PlatformName } from './package-model.js';
import type { PackagesStore } from './packages-store.js';
import { decodeFailedCursor, encodeFailedCursor } from './dead-letter-cursor.js';

export interface DeadLetterListDeps {
  store: Pick<PackagesStore, 'listFailed' | 'getBody'>;
  queue: { depth(): Promise<number> };
}

/** The items of a failed delivery: one per record version it carries. */
export function deadLetterItems(d: PackageDelivery, body: PackageBody | undefined): DlqPage['items'] {
  return (body?.refs.slice(d.from, d.to) ?? []).map((r) => ({
    recordId: r.recordId,
    version: r.version,
    operation: r.operation,
    reason: d.failedReason ?? '',
    failedAt: d.failedAt ?? '',
    attempts: d.attempts ?? 0,
  }));
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
  // A package refused for several of its records has several failed parts: its body is read once.
  const bodies = new Map<string, Promise<PackageBody | undefined>>();
  const bodyOf = (key: string) => {
    let body = bodies.get(key);
    if (!body) bodies.set(key, (body = deps.store.getBody(key)));
    return body;
  };
  return {
    platform,
    depth,
    items: (await Promise.all(page.items.map(async (d) => deadLetterItems(d, await bodyOf(d.key))))).flat(),
    ...(page.lastKey ? { next: encodeFailedCursor(platform, page.lastKey) } : {}),
  };
}
