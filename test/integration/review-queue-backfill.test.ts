/**
 * Heads an older hub stored, before the review queue existed, carry no `publicationQueue` attributes: the sparse index
 * behind GET /v1/reviews and the expire job never sees them. The publish run, which walks every head, gives them
 * their place (shared/site-publishing/publish-run.ts indexForReview), against DynamoDB Local with the catalogue's
 * tables:
 * - a record waiting for review then appears in the review queue, in the order of its arrival;
 * - an approved record past its end is then ended by the expire job;
 * - the update changes nothing else and makes no new version: its stream record is not an upward delivery;
 * - a head that changed meanwhile is left alone, and a second run writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record as StreamApiRecord } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../infra/catalogue.js';
import { lambdaStreamRecord } from '../../infra/local/stream-poller.js';
import { dishonestyPublication, GRADE, type StoredHead } from '../../shared/domain/record-model.js';
import { DynamoJobLeases } from '../../shared/jobs/job-lease.js';
import { newRunId } from '../../shared/jobs/run-model.js';
import { DynamoRunsStore } from '../../shared/jobs/runs-store.js';
import { DynamoDecisionsStore } from '../../shared/publication/decisions-store.js';
import { DynamoExpireRunsStore, newExpireRun, runExpire } from '../../shared/publication/expire-run.js';
import { DynamoHeadsScan, type HeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { publishRunLimits, runPublish, type PublishRunDeps } from '../../shared/site-publishing/publish-run.js';
import { newPublishRun, publishRuns } from '../../shared/site-publishing/publish-run-model.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { DynamoSiteIndex } from '../../shared/site-publishing/site-index-store.js';
import { newVersionOf } from '../../shared/upward/fanout.js';
import { MemorySiteBucket } from '../support/memory-site.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';

const RECORDS = tables.records.localName;
/** Fixed dates in the past: the runs take them as asOf, so nothing here depends on today. */
const DECIDED = '2020-05-11';
const AS_OF = '2022-01-04';

let db: TestDynamo;
let decisions: DynamoDecisionsStore;
let scans: DynamoHeadsScan;
let updates: { id: string; set: boolean }[];
let deps: PublishRunDeps;

/** A head as an older hub stored it: publication, but no queue attributes. */
function oldHead(n: number, publication: StoredHead['publication'], arrived: string): StoredHead {
  return {
    id: `pen_${'klmnopqrst'[n]!.repeat(26)}`,
    kind: 'penalty',
    sourceId: 's',
    identity: `old${n}`,
    version: 2,
    subjectKey: 'USCC#x',
    decisionDate: DECIDED,
    late: false,
    firstReceivedAt: arrived,
    receivedAt: arrived,
    status: 'active',
    fields: { CF_WSH: `old${n}` },
    contentHash: `h${n}`,
    publication,
  };
}

const general = dishonestyPublication(GRADE.general, DECIDED);
const waiting = oldHead(1, general, '2020-05-12T01:00:00.000Z');
const waitingLater = oldHead(2, general, '2020-05-13T01:00:00.000Z');
const approvedOver = oldHead(3, { ...general, state: 'approved', decisions: [{ action: 'approve', by: 'operator', at: '2020-05-14T01:00:00.000Z' }] }, '2020-05-12T02:00:00.000Z');
const withheld = oldHead(4, { ...general, state: 'withheld', decisions: [{ action: 'withhold', by: 'operator', at: '2020-05-14T01:00:00.000Z', note: '核实中' }] }, '2020-05-12T03:00:00.000Z');

const item = async (id: string) => (await db.doc.send(new GetCommand({ TableName: RECORDS, Key: { pk: `REC#${id}`, sk: 'HEAD' }, ConsistentRead: true }))).Item;

async function publish(): Promise<void> {
  const run = newPublishRun({ runId: newRunId(), asOf: AS_OF, requestedBy: 'operator', now: new Date() });
  await deps.runs.create(run);
  expect(await runPublish({ runId: run.runId }, deps)).toBe('completed');
}

/** Every MODIFY of these heads on the records table's stream, as Lambda would deliver it. */
async function modifiesOf(ids: readonly string[]): Promise<ReturnType<typeof lambdaStreamRecord>[]> {
  const table = await db.client.send(new DescribeTableCommand({ TableName: RECORDS }));
  const arn = table.Table!.LatestStreamArn!;
  const streams = new DynamoDBStreamsClient({ endpoint: db.emulator.endpoint, region: db.emulator.region, credentials: db.emulator.credentials });
  const keys = new Set(ids.map((id) => `REC#${id}`));
  const found: StreamApiRecord[] = [];
  try {
    const stream = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    for (const shard of stream.StreamDescription?.Shards ?? []) {
      let next = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (let page = 0; next && page < 50; page++) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: 1000 }));
        for (const r of out.Records ?? []) if (r.eventName === 'MODIFY' && keys.has(r.dynamodb?.Keys?.pk?.S ?? '') && r.dynamodb?.Keys?.sk?.S === 'HEAD') found.push(r);
        if (!out.Records?.length) break;
        next = out.NextShardIterator;
      }
    }
  } finally {
    streams.destroy();
  }
  return found.map((r) => lambdaStreamRecord(r, arn, db.emulator.region));
}

beforeAll(async () => {
  db = await startTestDynamo();
  decisions = new DynamoDecisionsStore(db.doc, RECORDS);
  scans = new DynamoHeadsScan(db.doc, RECORDS);
  updates = [];
  const counted: HeadsScan = {
    scan: (start, limit) => scans.scan(start, limit),
    setQueue: async (id, version, queue) => {
      const set = await scans.setQueue(id, version, queue);
      updates.push({ id, set });
      return set;
    },
  };
  deps = {
    index: new DynamoSiteIndex(db.doc, tables.sitePages.localName),
    bucket: new MemorySiteBucket(),
    model: siteModel,
    runs: publishRuns(new DynamoRunsStore(db.doc, tables.jobs.localName)),
    leases: new DynamoJobLeases(db.doc, tables.jobs.localName),
    heads: counted,
    continueLater: async () => {
      throw new Error('the run should not need another invocation here');
    },
    limits: { ...publishRunLimits, pageSize: 3, indexPageSize: 50 },
    now: () => new Date(),
    remainingMs: () => 600_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    newToken: randomUUID,
  };
  for (const h of [waitingLater, approvedOver, waiting, withheld]) await db.doc.send(new PutCommand({ TableName: RECORDS, Item: { pk: `REC#${h.id}`, sk: 'HEAD', ...h } }));
}, 120_000);
afterAll(async () => db?.stop());

describe('heads stored before the review queue existed', () => {
  it('are in neither queue as stored', async () => {
    expect((await decisions.queue('review', 10)).heads).toEqual([]);
    expect((await decisions.queue('approved', 10, undefined, AS_OF)).heads).toEqual([]);
  });

  it('a publish run puts those waiting in the review queue (in order of arrival) and the approved by their end, changing nothing else', async () => {
    const before = new Map(await Promise.all([waiting, waitingLater, approvedOver, withheld].map(async (h) => [h.id, await item(h.id)] as const)));
    await publish();
    expect(updates.filter((u) => u.set).map((u) => u.id).sort()).toEqual([waiting.id, waitingLater.id, approvedOver.id].sort());

    const review = await decisions.queue('review', 10);
    expect(review.heads.map((h) => h.id)).toEqual([waiting.id, waitingLater.id]);
    expect(review.heads[0]).toEqual({ ...waiting, publicationQueue: 'review', publicationQueueKey: waiting.firstReceivedAt });
    // The same item, the same version: two attributes more.
    expect(await item(approvedOver.id)).toEqual({ ...before.get(approvedOver.id), publicationQueue: 'approved', publicationQueueKey: general.until });
    expect(await item(withheld.id)).toEqual(before.get(withheld.id));

    // On the stream: MODIFYs of the same version, which the fan-out does not deliver upward.
    const modifies = await modifiesOf([waiting.id, waitingLater.id, approvedOver.id, withheld.id]);
    expect(modifies).toHaveLength(3);
    for (const record of modifies) expect(newVersionOf(record)).toBeUndefined();
  });

  it('the expire job then ends the approved record whose period is over', async () => {
    const runs = new DynamoExpireRunsStore(db.doc, tables.jobs.localName);
    const run = newExpireRun({ asOf: AS_OF, requestedBy: 'operator', now: new Date() });
    await runs.create(run);
    expect(await runExpire(run.runId, { runs, decisions, now: () => new Date(), remainingMs: () => 600_000, continueLater: async () => undefined })).toBe('completed');
    expect((await runs.get(run.runId))!.counts).toEqual({ expired: 1, skipped: 0 });
    const ended = (await item(approvedOver.id)) as StoredHead;
    expect(ended.publication).toMatchObject({ state: 'ended', endReason: 'expired', endedOn: AS_OF });
    expect(ended.version).toBe(approvedOver.version + 1);
    expect(ended.publicationQueue).toBeUndefined();
  });

  it('a head that changed since it was read is left alone, and a second run writes nothing', async () => {
    expect(await scans.setQueue(withheld.id, withheld.version + 1, { publicationQueue: 'review', publicationQueueKey: withheld.receivedAt })).toBe(false);
    expect(await scans.setQueue(waiting.id, waiting.version, { publicationQueue: 'review', publicationQueueKey: '2000-01-01T00:00:00.000Z' })).toBe(false);
    const stored = await Promise.all([waiting, waitingLater, approvedOver, withheld].map((h) => item(h.id)));
    updates.length = 0;
    await publish();
    expect(updates).toEqual([]);
    expect(await Promise.all([waiting, waitingLater, approvedOver, withheld].map((h) => item(h.id)))).toEqual(stored);
    expect((await decisions.queue('review', 10)).heads.map((h) => h.id)).toEqual([waiting.id, waitingLater.id]);
  });
});
