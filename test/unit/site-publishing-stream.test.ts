/**
 * The records stream → the site (shared/site-publishing/stream-publisher.ts): the changes of a batch applied in order,
 * as of today in China from the injected clock; one that fails reported alone by its sequence number (Powertools
 * Batch), the others applied; a batch that touches no page takes no lease; while a publish run holds the site's
 * lease the whole batch comes back later; the lease is let go (and a stalled run's name kept) afterwards.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { recordPath } from '../../shared/site/paths.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { headsOf, publishStream, type StreamPublisherDeps } from '../../shared/site-publishing/stream-publisher.js';
import { MemoryLeases, MemorySiteBucket, MemorySiteIndex } from '../support/memory-site.js';
import { approved, daysAgo, headFactory, licence, licenceRaw, penalty, penaltyRaw, type HeadFactory } from '../support/site-heads.js';

let factory: HeadFactory;
beforeAll(() => {
  factory = headFactory();
});
afterAll(() => factory.dispose());

let sequence = 100;
function streamRecord(before: StoredHead | undefined, after: StoredHead | undefined): DynamoDBRecord {
  const image = (h: StoredHead) => marshall({ pk: `REC#${h.id}`, sk: 'HEAD', ...h }, { removeUndefinedValues: true }) as never;
  return {
    eventName: before ? (after ? 'MODIFY' : 'REMOVE') : 'INSERT',
    dynamodb: { SequenceNumber: String(sequence++), ...(before ? { OldImage: image(before) } : {}), ...(after ? { NewImage: image(after) } : {}) },
  };
}

function deps(now = new Date()) {
  const index = new MemorySiteIndex();
  const bucket = new MemorySiteBucket();
  const leases = new MemoryLeases();
  const d: StreamPublisherDeps = { index, bucket, model: siteModel, leases, now: () => now, newToken: () => `t-${Math.random()}`, leaseMs: 60_000 };
  return { index, bucket, leases, deps: d };
}

describe('publishing the records stream', () => {
  it('reads the head images of a stream record, without their keys', async () => {
    const head = await penalty(factory.deps, penaltyRaw(1, daysAgo(3)));
    const { before, after } = headsOf(streamRecord(head, approved(head)));
    expect(before).toEqual(head);
    expect(after).toEqual(approved(head));
    expect(headsOf(streamRecord(undefined, head))).toEqual({ after: head });
  });

  it('applies the changes of a batch in order as of today in China; a failed one is reported alone and the others stay applied', async () => {
    const a = await penalty(factory.deps, penaltyRaw('A', daysAgo(3)));
    const b = await licence(factory.deps, licenceRaw('B', daysAgo(4)));
    const { bucket, leases, deps: d } = deps();
    // The second record's first S3 PUT fails: its stream record is reported; the first and third are applied.
    const records = [streamRecord(a, approved(a)), streamRecord(b, approved(b)), streamRecord(approved(a), { ...approved(a), publication: { ...a.publication, state: 'withheld' } })];
    let puts = 0;
    const put = bucket.put.bind(bucket);
    bucket.put = async (object) => {
      if (object.path === recordPath(b.id) && puts++ === 0) throw new Error('SlowDown');
      return put(object);
    };
    const report = await publishStream({ Records: records }, d);
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }]);
    expect(report).toMatchObject({ records: 3, entered: 1, left: 1, failed: 1, deferred: false });
    expect(bucket.objects.has(recordPath(a.id))).toBe(false); // entered, then withheld
    // Sent again (as Lambda does from the failed record on), it converges.
    const again = await publishStream({ Records: records.slice(1) }, d);
    expect(again.batchItemFailures).toEqual([]);
    expect(bucket.objects.has(recordPath(b.id))).toBe(true);
    expect([...leases.leases.values()].every((l) => l.until === 0)).toBe(true);
  });

  it('a head written again at the same version (given its review queue attributes) touches no page and takes no lease', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw('Q', daysAgo(3))));
    const { bucket, index, leases, deps: d } = deps();
    await publishStream({ Records: [streamRecord(undefined, head)] }, d);
    const requests = bucket.requests();
    const items = index.items.size;
    const lease = leases.leases.get('publish');
    expect(lease).toBeDefined();
    const indexed = { ...head, publicationQueue: 'approved' as const, publicationQueueKey: head.publication.until ?? '2099-12-31' };
    expect(await publishStream({ Records: [streamRecord(head, indexed)] }, d)).toMatchObject({ records: 1, written: 0, unchanged: 0, deleted: 0, failed: 0 });
    expect(bucket.requests()).toEqual(requests);
    expect(index.items.size).toBe(items);
    expect(leases.leases.get('publish')).toBe(lease); // never taken: the same object, untouched
  });

  it('publishes as of the clock’s day in China: a period beginning tomorrow is published once the clock is there', async () => {
    const head = approved(await penalty(factory.deps, penaltyRaw('C', daysAgo(1))));
    const fromTomorrow = { ...head, publication: { ...head.publication, from: daysAgo(-1) } };
    const today = deps();
    expect(await publishStream({ Records: [streamRecord(undefined, fromTomorrow)] }, today.deps)).toMatchObject({ entered: 0, written: 0 });
    expect(today.bucket.objects.size).toBe(0);
    const later = deps(new Date(Date.now() + 2 * 24 * 3600_000));
    expect(await publishStream({ Records: [streamRecord(undefined, fromTomorrow)] }, later.deps)).toMatchObject({ entered: 1 });
    expect(later.bucket.objects.has(recordPath(head.id))).toBe(true);
  });

  it('a batch that touches no page (records waiting for review) takes no lease and reads nothing', async () => {
    const pending = await penalty(factory.deps, penaltyRaw('D', daysAgo(2)));
    const { bucket, index, leases, deps: d } = deps();
    const report = await publishStream({ Records: [streamRecord(undefined, pending)] }, d);
    expect(report).toMatchObject({ records: 1, entered: 0, failed: 0, written: 0 });
    expect(leases.leases.size).toBe(0);
    expect(index.items.size).toBe(0);
    expect(bucket.requests()).toEqual({ puts: 0, deletes: 0 });
  });

  it('while a publish run holds the site, the whole batch is reported failed (it comes back later) and nothing is written', async () => {
    const head = await penalty(factory.deps, penaltyRaw('E', daysAgo(2)));
    const { bucket, leases, deps: d } = deps();
    await leases.take('publish', 'run_abc', 'run-token', Date.now() + 60_000, Date.now());
    const records = [streamRecord(head, approved(head)), streamRecord(undefined, approved(head))];
    const report = await publishStream({ Records: records }, d);
    expect(report.deferred).toBe(true);
    expect(report.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.dynamodb!.SequenceNumber));
    expect(bucket.requests()).toEqual({ puts: 0, deletes: 0 });
    expect(leases.leases.get('publish')).toMatchObject({ holder: 'run_abc', token: 'run-token' });
  });

  it('a lapsed lease of a stalled run is taken, and handed back naming that run, for the next run to resume it', async () => {
    const head = await penalty(factory.deps, penaltyRaw('F', daysAgo(2)));
    const { leases, deps: d } = deps();
    await leases.take('publish', 'run_stalled', 'dead-token', Date.now() - 1, Date.now() - 60_000);
    await publishStream({ Records: [streamRecord(head, approved(head))] }, d);
    expect(leases.leases.get('publish')).toMatchObject({ holder: 'run_stalled', until: 0 });
  });
});
