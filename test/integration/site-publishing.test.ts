/**
 * The site publisher against the emulators, through the real AWS SDK: DynamoDB Local (the catalogue's tables: heads in
 * `records`, the site's index and page hashes in `sitePages`, the run and the site's lease in `jobs`) and the local S3
 * (s3rver: the site bucket). A publish run builds the site from stored heads (objects with their Content-Type and
 * Cache-Control); a change through the stream path publishes a newly approved record and takes a withheld one down;
 * a second run writes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buckets, tables } from '../../infra/catalogue.js';
import { startS3Local, type S3Local } from '../../infra/local/s3-local.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { DynamoJobLeases } from '../../shared/jobs/job-lease.js';
import { newRunId } from '../../shared/jobs/run-model.js';
import { DynamoRunsStore } from '../../shared/jobs/runs-store.js';
import { recordPath, subjectPath } from '../../shared/site/paths.js';
import { toPublicRecord } from '../../shared/site/public-record.js';
import { DynamoHeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { publishRunLimits, runPublish, type PublishRunDeps } from '../../shared/site-publishing/publish-run.js';
import { newPublishRun, publishRuns } from '../../shared/site-publishing/publish-run-model.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { PAGE_CACHE_CONTROL, S3SiteBucket } from '../../shared/site-publishing/site-bucket.js';
import { DynamoSiteIndex } from '../../shared/site-publishing/site-index-store.js';
import { publishStream, type StreamPublisherDeps } from '../../shared/site-publishing/stream-publisher.js';
import { DynamoRecordsStore } from '../../shared/store/records-store.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb.js';
import { approved, daysAgo, headFactory, licence, licenceRaw, penalty, penaltyRaw, type HeadFactory } from '../support/site-heads.js';

const REGION = 'cn-north-1';
const BUCKET = buckets.site.localName;
const credentials = { accessKeyId: `HUBTEST${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
const temp = mkdtempSync(join(tmpdir(), 'hub-site-publishing-'));

let dynamo: TestDynamo;
let s3: S3Local;
let client: S3Client;
let factory: HeadFactory;
let deps: PublishRunDeps & StreamPublisherDeps;

beforeAll(async () => {
  factory = headFactory();
  dynamo = await startTestDynamo();
  s3 = await startS3Local({ dir: join(temp, 's3'), credentials, onEvent: () => undefined });
  client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: REGION, credentials, forcePathStyle: true }));
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  deps = {
    index: new DynamoSiteIndex(dynamo.doc, tables.sitePages.localName),
    bucket: new S3SiteBucket(client, BUCKET),
    model: siteModel,
    runs: publishRuns(new DynamoRunsStore(dynamo.doc, tables.jobs.localName)),
    leases: new DynamoJobLeases(dynamo.doc, tables.jobs.localName),
    heads: new DynamoHeadsScan(dynamo.doc, tables.records.localName),
    continueLater: async () => {
      throw new Error('the run should not need another invocation here');
    },
    limits: { ...publishRunLimits, pageSize: 7, indexPageSize: 9 },
    leaseMs: publishRunLimits.leaseMs,
    now: () => new Date(),
    remainingMs: () => 600_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    newToken: randomUUID,
  };
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  await dynamo?.stop();
  factory?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

async function keys(): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ...(token ? { ContinuationToken: token } : {}) }));
    out.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return out.sort();
}

async function publishRun(): Promise<ReturnType<typeof newPublishRun>> {
  const run = newPublishRun({ runId: newRunId(), requestedBy: 'operator', now: new Date() });
  await deps.runs.create(run);
  expect(await runPublish({ runId: run.runId }, deps)).toBe('completed');
  return (await deps.runs.get(run.runId))!;
}

let sequence = 1;
const streamRecord = (before: StoredHead | undefined, after: StoredHead): DynamoDBRecord => ({
  eventName: before ? 'MODIFY' : 'INSERT',
  dynamodb: {
    SequenceNumber: String(sequence++),
    ...(before ? { OldImage: marshall({ pk: `REC#${before.id}`, sk: 'HEAD', ...before }, { removeUndefinedValues: true }) as never } : {}),
    NewImage: marshall({ pk: `REC#${after.id}`, sk: 'HEAD', ...after }, { removeUndefinedValues: true }) as never,
  },
});

describe('publishing to the local S3 from DynamoDB Local', () => {
  let heads: StoredHead[];

  it('a publish run builds the site from the stored heads: pages with their types and cache headers, nothing unpublished', async () => {
    heads = [];
    for (let n = 0; n < 12; n++) {
      const head = n % 2 ? await licence(factory.deps, licenceRaw(`I${n}`, daysAgo(n * 5))) : await penalty(factory.deps, penaltyRaw(`I${n}`, daysAgo(n * 3), { CF_XDR_MC: `单位${n}` }));
      heads.push(n === 5 ? head : approved(head)); // one still waiting for review
    }
    const store = new DynamoRecordsStore(dynamo.doc, tables.records.localName);
    expect(await store.write(heads.map((head) => ({ op: 'create' as const, head })))).toEqual(heads.map(() => 'written'));

    const run = await publishRun();
    const published = heads.filter((h) => toPublicRecord(h, daysAgo(0)));
    expect(run.counts).toMatchObject({ records: 12, published: published.length, pagesDeleted: 0 });
    const stored = await keys();
    expect(run.counts.pagesWritten).toBe(stored.length);
    expect(stored).toEqual(expect.arrayContaining(['index.html', '404.html', 'assets/site.css', ...published.map((h) => recordPath(h.id))]));
    expect(stored).not.toContain(recordPath(heads[5]!.id));

    const page = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: recordPath(heads[0]!.id) }));
    expect(page.ContentType).toBe('text/html; charset=utf-8');
    expect(page.CacheControl).toBe(PAGE_CACHE_CONTROL);
    expect(await page.Body!.transformToString()).toContain(toPublicRecord(heads[0]!, daysAgo(0))!.title);
  });

  it('a second run writes nothing: every page is unchanged', async () => {
    const run = await publishRun();
    expect(run.counts).toMatchObject({ pagesWritten: 0, pagesDeleted: 0 });
    expect(run.counts.pagesUnchanged).toBeGreaterThan(12);
  });

  it('approval publishes at once through the stream path; withholding takes the record down (and out of its subject page)', async () => {
    const waiting = heads[5]!;
    const approval = await publishStream({ Records: [streamRecord(waiting, approved(waiting))] }, deps);
    expect(approval).toMatchObject({ entered: 1, failed: 0 });
    expect(approval.written).toBeLessThanOrEqual(5);
    expect(await keys()).toContain(recordPath(waiting.id));

    const record = toPublicRecord(approved(waiting), daysAgo(0))!;
    const withheld = { ...approved(waiting), publication: { ...waiting.publication, state: 'withheld' as const } };
    const withholding = await publishStream({ Records: [streamRecord(approved(waiting), withheld)] }, deps);
    expect(withholding).toMatchObject({ left: 1, failed: 0 });
    const after = await keys();
    expect(after).not.toContain(recordPath(waiting.id));
    // The subject (the same company's other licences) stays, without this record.
    const subject = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: subjectPath(record.subjectSlug) }));
    const text = await subject.Body!.transformToString();
    expect(text).not.toContain(recordPath(waiting.id));
    expect(text).toContain(recordPath(heads[1]!.id));
    // Its page hash is gone from the index too.
    expect((await deps.index.pages([recordPath(waiting.id)])).size).toBe(0);
  });
});
