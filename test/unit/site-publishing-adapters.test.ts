/**
 * The site publisher's AWS adapters against the SDK's answers (aws-sdk-client-mock): the site index in the sitePages
 * table (partitions read whole and strongly consistent, page hashes by BatchGetItem, writes by BatchWriteItem in
 * batches of 25 with unprocessed items sent again, the run's scans), the site bucket (Content-Type and Cache-Control
 * on every PUT) and the scan of record heads.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoHeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { ASSET_CACHE_CONTROL, PAGE_CACHE_CONTROL, S3SiteBucket } from '../../shared/site-publishing/site-bucket.js';
import { DynamoSiteIndex } from '../../shared/site-publishing/site-index-store.js';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  ddb.reset();
  s3.reset();
});

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'cn-north-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
const index = new DynamoSiteIndex(doc, 'site-pages', async () => undefined);

describe('DynamoSiteIndex', () => {
  it('reads a partition whole, page after page, strongly consistent, with each member’s run', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ sk: 'a', data: { title: 'A' }, run: 'run_1' }], LastEvaluatedKey: { pk: 'LIST#x', sk: 'a' } })
      .resolvesOnce({ Items: [{ sk: 'b', data: { title: 'B' } }] });
    expect(await index.members('LIST#x')).toEqual([
      { sk: 'a', data: { title: 'A' }, run: 'run_1' },
      { sk: 'b', data: { title: 'B' } },
    ]);
    const calls = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ TableName: 'site-pages', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'LIST#x' }, ConsistentRead: true });
    expect(calls[1]!.ExclusiveStartKey).toEqual({ pk: 'LIST#x', sk: 'a' });
  });

  it('asks whether a partition has members with one item at most', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await index.hasMembers('MONTH#penalty/2026-11')).toBe(false);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ Limit: 1, ConsistentRead: true });
  });

  it('writes members and page hashes in batches of 25, sends unprocessed items again, and keeps the last write of a key', async () => {
    const seen = new Set<string>();
    ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      const requests = input.RequestItems['site-pages']!;
      // The first call of each batch leaves its last request unprocessed.
      const first = JSON.stringify(requests[0]);
      if (requests.length > 1 && !seen.has(first)) {
        seen.add(first);
        return { UnprocessedItems: { 'site-pages': [requests.at(-1)] } };
      }
      return {};
    });
    const members = Array.from({ length: 30 }, (_, i) => ({ pk: 'LIST#x', sk: `r${i}`, data: { n: i }, run: 'run_1' }));
    await index.putMembers([...members, { pk: 'LIST#x', sk: 'r0', data: { n: 'last' } }]);
    const sent = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!['site-pages']!);
    expect(sent.map((r) => r.length).sort((a, b) => a - b)).toEqual([1, 1, 5, 25]);
    const items = sent.flat().map((r) => (r as { PutRequest: { Item: Record<string, unknown> } }).PutRequest.Item);
    expect(new Set(items.map((i) => i.sk)).size).toBe(30);
    expect(items.find((i) => i.sk === 'r0')).toEqual({ pk: 'LIST#x', sk: 'r0', data: { n: 'last' } });
    expect(items.find((i) => i.sk === 'r1')).toEqual({ pk: 'LIST#x', sk: 'r1', data: { n: 1 }, run: 'run_1' });
  });

  it('gives up on writes DynamoDB keeps leaving unprocessed', async () => {
    ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({ UnprocessedItems: input.RequestItems }));
    await expect(index.deletePages(['a.html'])).rejects.toThrow(/unprocessed/);
  });

  it('reads page hashes by BatchGetItem, 100 keys a request, consistent, unprocessed keys again', async () => {
    const paths = Array.from({ length: 120 }, (_, i) => `records/r${i}.html`);
    let first = true;
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => {
      const keys = input.RequestItems['site-pages']!.Keys;
      const answer = keys.slice(0, 2).map((k) => ({ ...k, hash: `h-${k.pk}`, contentType: 'text/html; charset=utf-8', run: 'run_1' }));
      if (first) {
        first = false;
        return { Responses: { 'site-pages': answer }, UnprocessedKeys: { 'site-pages': { Keys: keys.slice(2, 3) } } };
      }
      return { Responses: { 'site-pages': answer } };
    });
    const found = await index.pages(paths);
    const calls = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!['site-pages']!);
    expect(calls.map((c) => c.Keys!.length)).toEqual([100, 1, 20]);
    expect(calls.every((c) => c.ConsistentRead === true)).toBe(true);
    expect(found.get('records/r0.html')).toEqual({ path: 'records/r0.html', hash: 'h-PAGE#records/r0.html', contentType: 'text/html; charset=utf-8', run: 'run_1' });
    expect(found.has('records/r2.html')).toBe(true);
    expect(found.size).toBe(5); // r0, r1, r2 (sent again), r100, r101
  });

  it('stores a page hash as PAGE#<path> / PAGE, and deletes it by that key', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    await index.putPages([{ path: 'index.html', hash: 'abc', contentType: 'text/html; charset=utf-8' }]);
    await index.deletePages(['lists/penalty/2026/11/28.html']);
    const [put, del] = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!['site-pages']![0]);
    expect(put).toEqual({ PutRequest: { Item: { pk: 'PAGE#index.html', sk: 'PAGE', hash: 'abc', contentType: 'text/html; charset=utf-8' } } });
    expect(del).toEqual({ DeleteRequest: { Key: { pk: 'PAGE#lists/penalty/2026/11/28.html', sk: 'PAGE' } } });
  });

  it('scans a page of items (keys, runs, members’ data) at a time, from where the last stopped', async () => {
    ddb.on(ScanCommand).resolves({ Items: [{ pk: 'PAGE#a.html', sk: 'PAGE', run: 'run_1' }, { pk: 'LIST#x', sk: 'r1', data: { title: 'T' } }], LastEvaluatedKey: { pk: 'LIST#x', sk: 'r1' } });
    expect(await index.scan({ pk: 'A', sk: 'B' }, 50)).toEqual({
      items: [{ pk: 'PAGE#a.html', sk: 'PAGE', run: 'run_1' }, { pk: 'LIST#x', sk: 'r1', data: { title: 'T' } }],
      next: { pk: 'LIST#x', sk: 'r1' },
    });
    expect(ddb.commandCalls(ScanCommand)[0]!.args[0].input).toMatchObject({ TableName: 'site-pages', Limit: 50, ExclusiveStartKey: { pk: 'A', sk: 'B' }, ProjectionExpression: 'pk, sk, #run, #data' });
  });
});

describe('S3SiteBucket', () => {
  const bucket = new S3SiteBucket(new S3Client({ region: 'cn-north-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }), 'hub-site');

  it('PUTs a page with its Content-Type and a short Cache-Control; assets with a long one', async () => {
    s3.on(PutObjectCommand).resolves({});
    await bucket.put({ path: 'records/pen_x.html', body: '<p>x</p>', contentType: 'text/html; charset=utf-8' });
    await bucket.put({ path: 'assets/site.css', body: 'body{}', contentType: 'text/css; charset=utf-8' });
    const [page, asset] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(page).toEqual({ Bucket: 'hub-site', Key: 'records/pen_x.html', Body: '<p>x</p>', ContentType: 'text/html; charset=utf-8', CacheControl: PAGE_CACHE_CONTROL });
    expect(asset).toMatchObject({ Key: 'assets/site.css', ContentType: 'text/css; charset=utf-8', CacheControl: ASSET_CACHE_CONTROL });
  });

  it('DELETEs a page by its path', async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await bucket.delete('records/pen_x.html');
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'hub-site', Key: 'records/pen_x.html' });
  });

  it('an S3 failure is the caller’s to retry (nothing is swallowed)', async () => {
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
    await expect(bucket.put({ path: 'index.html', body: '', contentType: 'text/html; charset=utf-8' })).rejects.toThrow('SlowDown');
  });
});

describe('DynamoHeadsScan', () => {
  it('keeps the heads of a page of the records table (versions filtered out), without their keys, and where to go on', async () => {
    ddb.on(ScanCommand).resolves({ Items: [{ pk: 'REC#pen_a', sk: 'HEAD', id: 'pen_a', kind: 'penalty' }], LastEvaluatedKey: { pk: 'REC#pen_a', sk: 'HEAD' } });
    const heads = new DynamoHeadsScan(doc, 'hub-records');
    expect(await heads.scan(undefined, 200)).toEqual({ heads: [{ id: 'pen_a', kind: 'penalty' }], next: { pk: 'REC#pen_a', sk: 'HEAD' } });
    expect(ddb.commandCalls(ScanCommand)[0]!.args[0].input).toEqual({
      TableName: 'hub-records',
      FilterExpression: 'sk = :head',
      ExpressionAttributeValues: { ':head': 'HEAD' },
      Limit: 200,
    });
  });

  it('sets the review queue attributes of a head only while it has none and is at the version read, and says when it did not', async () => {
    const heads = new DynamoHeadsScan(doc, 'hub-records');
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    expect(await heads.setQueue('pen_a', 3, { publicationQueue: 'review', publicationQueueKey: '2026-11-01T02:00:00.000Z' })).toBe(true);
    expect(await heads.setQueue('pen_a', 3, { publicationQueue: 'review', publicationQueueKey: '2026-11-01T02:00:00.000Z' })).toBe(false);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'hub-records',
      Key: { pk: 'REC#pen_a', sk: 'HEAD' },
      UpdateExpression: 'SET publicationQueue = :queue, publicationQueueKey = :key',
      ConditionExpression: 'attribute_exists(pk) AND version = :version AND attribute_not_exists(publicationQueue)',
      ExpressionAttributeValues: { ':queue': 'review', ':key': '2026-11-01T02:00:00.000Z', ':version': 3 },
    });
    ddb.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(heads.setQueue('pen_a', 3, { publicationQueue: 'approved', publicationQueueKey: '2029-01-01' })).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});

describe('DynamoSiteIndex.membersNear', () => {
  it('reads the members after or before a sort key, nearest first, strongly consistent, until it has the number asked for', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ sk: 'b', data: { n: 1 } }], LastEvaluatedKey: { pk: 'SEARCH#3f', sk: 'b' } })
      .resolvesOnce({ Items: [{ sk: 'c', data: { n: 2 }, run: 'run_1' }] });
    expect(await index.membersNear('SEARCH#3f', 'a', 'forward', false, 2)).toEqual([
      { sk: 'b', data: { n: 1 } },
      { sk: 'c', data: { n: 2 }, run: 'run_1' },
    ]);
    const [first, second] = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({ KeyConditionExpression: 'pk = :pk AND sk > :sk', ExpressionAttributeValues: { ':pk': 'SEARCH#3f', ':sk': 'a' }, ScanIndexForward: true, Limit: 2, ConsistentRead: true });
    expect(second).toMatchObject({ Limit: 1, ExclusiveStartKey: { pk: 'SEARCH#3f', sk: 'b' } });
    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await index.membersNear('SEARCH#3f', 'z', 'backward', true, 5)).toEqual([]);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ KeyConditionExpression: 'pk = :pk AND sk <= :sk', ScanIndexForward: false, Limit: 5 });
  });
});
