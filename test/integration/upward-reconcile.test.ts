/**
 * The reconciliation on DynamoDB Local through its real adapters (shared/upward/reconcile.ts): heads written
 * straight into the records table (as if their stream records never reached the fan-out), the heads read by the
 * Scan a page at a time, the claims checked by BatchGetItem, the cursor saved by a conditional PutItem. Times come
 * from an injected clock relative to now.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, tables } from '../../infra/catalogue.js';
import { DynamoHeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { PLATFORM_NAMES } from '../../shared/upward/package-model.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { reconcileUnclaimed, type ReconcileDeps } from '../../shared/upward/reconcile.js';
import { RecordingQueues } from '../support/memory-packages-store.js';
import { headImage } from '../support/record-stream.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

let db: TestDynamo;
let store: DynamoPackagesStore;

beforeAll(async () => {
  db = await startTestDynamo();
  store = new DynamoPackagesStore(db.doc, tables.deliveries.localName);
});

afterAll(async () => {
  await db?.stop();
});

describe('reconciliation on DynamoDB Local', () => {
  it('finds the heads no package carries among 230 (a claimed one, a young one, a superseded version), packages them once, and keeps its cursor', async () => {
    const now = Date.now();
    const settled = exchange.reconcile.settledAfterSeconds * 1000;
    const old = new Date(now - settled - 3_600_000).toISOString();
    const young = new Date(now - 60_000).toISOString();
    const put = (item: Record<string, unknown>) => db.doc.send(new PutCommand({ TableName: tables.records.localName, Item: item }));
    for (let i = 0; i < 230; i++) await put(headImage(`pen_r${i}`, 1 + (i % 3), { receivedAt: i === 7 ? young : old }));
    // A superseded version item: not a head, never packaged by the reconciliation.
    await put({ pk: 'REC#pen_r1', sk: 'V#0000000001', id: 'pen_r1', version: 1, receivedAt: old });
    await store.claim('pen_r3', 1, 'earlier-package', old);

    const queues = new RecordingQueues();
    let pages = 0;
    const deps: ReconcileDeps = {
      store,
      queues,
      heads: new DynamoHeadsScan(db.doc, tables.records.localName),
      now: () => new Date(now),
      // Two pages in the first invocation, then the rest in the second.
      remainingMs: () => (pages++ === 2 ? 1_000 : 250_000),
      settledAfterMs: settled,
      passEveryMs: exchange.reconcile.passEverySeconds * 1000,
      pageItems: 100,
      // Packages of at most 40 versions: a page's 100 heads make three.
      packageVersions: 40,
      marginMs: 60_000,
    };
    const first = await reconcileUnclaimed(deps);
    expect(first).toMatchObject({ outcome: 'continued', pages: 2 });
    expect(await store.getReconcileCursor()).toMatchObject({ next: expect.any(Object), heads: first.heads });
    const second = await reconcileUnclaimed(deps);
    expect(second.outcome).toBe('ended');
    // 230 heads (the version item is read and dropped by the Scan's filter); 228 packaged: not the claimed, not the young.
    expect(first.heads + second.heads).toBe(230);
    expect(first.unclaimed + second.unclaimed).toBe(228);
    expect(await store.getReconcileCursor()).toMatchObject({ heads: 230, unclaimed: 228, endedAt: expect.any(String) });

    const claimed = await store.findClaimed(Array.from({ length: 230 }, (_, i) => ({ recordId: `pen_r${i}`, version: 1 + (i % 3) })));
    expect(claimed.size).toBe(229);
    expect(claimed.has('pen_r7#2')).toBe(false);
    expect((await store.getClaim('pen_r3', 1))?.key).toBe('earlier-package');
    // Every package's refs are its own claims, and each package went once to each platform.
    const keys = new Set(queues.sent.map((m) => m.key));
    let refs = 0;
    for (const key of keys) {
      const body = (await store.getBody(key))!;
      expect(body.open).toBe(false);
      for (const r of body.refs) expect((await store.getClaim(r.recordId, r.version))?.key).toBe(key);
      refs += body.refs.length;
    }
    expect(refs).toBe(228);
    expect(queues.sent).toHaveLength(keys.size * PLATFORM_NAMES.length);

    // Run again at once: not due; a stale cursor cannot be saved over the one there.
    expect((await reconcileUnclaimed(deps)).outcome).toBe('not-due');
    const cursor = (await store.getReconcileCursor())!;
    expect(await store.saveReconcileCursor({ ...cursor, token: 'mine' }, { ...cursor, token: 'stale' })).toBe('lost');
    expect(await store.saveReconcileCursor({ ...cursor, token: 'mine' }, cursor)).toBe('updated');
  });
});
