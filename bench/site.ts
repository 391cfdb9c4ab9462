/**
 * Benchmark part `site` (BENCH_PARTS=site): the public site's incremental publishing, measured through the S3 API of
 * the local stack (s3rver) with the publisher's own code (shared/site-publishing/) run in this process against the
 * stack's DynamoDB Local and S3, its S3 client metered (shared/aws/request-meter.ts: every PUT and DELETE counted).
 *
 * 1. BENCH_SITE_RECORDS (default 100,000) approved records — licences and penalties, decisions spread over two years,
 *    about three records per subject, 2% penalties of government bodies (the 政务诚信专栏) — are written raw into the
 *    records table (BatchWriteItem), the stack's own stream publisher disabled (HUB_EVENT_SOURCES_DISABLED) so that
 *    nothing else writes the bucket;
 * 2. a full build: a publish run over an empty site (time, objects written);
 * 3. one change on it, each as the stream publisher applies it (publishChange): a new record approved on an existing
 *    day, a correction of a record, a record withheld (objects written and deleted — goal ≤ 5 — and time — goal ≤ 1 s);
 * 4. BENCH_SITE_CHANGES (default 10,000) changes written to the records table without the stream (9 in 10 corrections
 *    of a field the record page shows, 1 in 10 withholdings), then a publish run (objects written per changed record —
 *    goal ≤ 1.2).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { BatchWriteItemCommand, DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { buckets, tables } from '../infra/catalogue.js';
import { LOCAL_REGION, readDataFolderCredentials } from '../infra/local/dynamodb-local.js';
import { requestCounts, requestsSince, meterRequests } from '../shared/aws/request-meter.js';
import { httpHandlerOptions } from '../shared/aws/client-config.js';
import { s3ClientConfig } from '../shared/aws/s3-client.js';
import type { StoredHead } from '../shared/domain/record-model.js';
import { withQueue } from '../shared/publication/decisions.js';
import { DynamoJobLeases } from '../shared/jobs/job-lease.js';
import { newRunId } from '../shared/jobs/run-model.js';
import { DynamoRunsStore } from '../shared/jobs/runs-store.js';
import { toPublicRecord } from '../shared/site/public-record.js';
import { DynamoHeadsScan } from '../shared/site-publishing/heads-scan.js';
import { publishChange } from '../shared/site-publishing/incremental.js';
import { publishRunLimits, runPublish, type PublishRunDeps } from '../shared/site-publishing/publish-run.js';
import { newPublishRun, publishRuns, type PublishCounts } from '../shared/site-publishing/publish-run-model.js';
import { siteModel } from '../shared/site-publishing/render-model.js';
import { S3SiteBucket } from '../shared/site-publishing/site-bucket.js';
import { DynamoSiteIndex } from '../shared/site-publishing/site-index-store.js';
import { startStackProcess, tempDataDir } from '../test/support/local-stack-process.js';
import { seededRandom, type Random } from '../test/support/seeded-random.js';
import { subjectName } from '../test/support/subject-names.js';
import { approved, companyUscc, daysAgo, governmentUscc, headFactory, licence, licenceRaw, penalty, penaltyRaw } from '../test/support/site-heads.js';

const RAW_BATCH = 25;
const RAW_IN_FLIGHT = 4;

async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** `records` approved heads, made by the push path's own preparation (validation, subject keys, periods). */
async function makeHeads(records: number, random: Random): Promise<StoredHead[]> {
  const factory = headFactory();
  try {
    // Names as a credit office meets them, clustered on place names (上海…, 北京…): the search index's shards meet
    // that skew and cut the hot ones into pieces (shared/site/search-index.ts, bench/search-shards.ts).
    const subjects = Array.from({ length: Math.max(1, Math.ceil(records / 3)) }, () => ({ name: subjectName(random), uscc: companyUscc(random) }));
    const government = Array.from({ length: 20 }, (_, i) => ({ name: `某县某局${i}`, uscc: governmentUscc(random) }));
    const heads: StoredHead[] = [];
    for (let n = 0; n < records; n++) {
      const day = daysAgo(random.int(1, 730));
      const gov = random.chance(0.02);
      const subject = gov ? random.pick(government) : random.pick(subjects);
      const head =
        gov || n % 2 === 0
          ? await penalty(factory.deps, penaltyRaw(`B${n}`, day, { CF_XDR_MC: subject.name, CF_XDR_SHXYM: subject.uscc, SXDJ: '严重' }))
          : await licence(factory.deps, licenceRaw(`B${n}`, day, { XK_XDR_MC: subject.name, XK_XDR_SHXYM: subject.uscc }));
      heads.push(approved(head));
      if (n % 1000 === 999) process.stderr.write(`\rsite: ${n + 1}/${records} records made`);
    }
    process.stderr.write('\n');
    return heads;
  } finally {
    factory.dispose();
  }
}

/** Writes heads as the hub stores them: with the review queue's index attributes (withQueue), so the run has none to add. */
async function writeRaw(client: DynamoDBClient, heads: readonly StoredHead[]): Promise<void> {
  const chunks: Record<string, AttributeValue>[][] = [];
  for (let i = 0; i < heads.length; i += RAW_BATCH) chunks.push(heads.slice(i, i + RAW_BATCH).map((h) => marshall({ pk: `REC#${h.id}`, sk: 'HEAD', ...withQueue(h, h.receivedAt) }, { removeUndefinedValues: true })));
  let done = 0;
  await pool(chunks, RAW_IN_FLIGHT, async (chunk) => {
    let request: Record<string, { PutRequest: { Item: Record<string, AttributeValue> } }[]> | undefined = { [tables.records.localName]: chunk.map((Item) => ({ PutRequest: { Item } })) };
    while (request && Object.keys(request).length > 0) {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: request }));
      request = out.UnprocessedItems as typeof request;
    }
    done += chunk.length;
    if (done % 5000 < RAW_BATCH) process.stderr.write(`\rsite: ${done}/${heads.length} heads written`);
  });
  process.stderr.write('\n');
}

/** Wall time spent in each port's calls (overlapping calls count once each: a sum, to see where the time goes). */
const spent: Record<string, number> = {};
function timed<T extends object>(label: string, port: T): T {
  return new Proxy(port, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await value.apply(target, args);
        } finally {
          const key = `${label}.${String(name)}`;
          spent[key] = (spent[key] ?? 0) + performance.now() - t0;
        }
      };
    },
  });
}
const spentLine = () =>
  Object.entries(spent)
    .sort(([, a], [, b]) => b - a)
    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');

const writes = (since: ReturnType<typeof requestCounts>) => {
  const r = requestsSince(since);
  return { puts: r['S3.PutObject'] ?? 0, deletes: r['S3.DeleteObject'] ?? 0 };
};

export async function siteBenchmark(records: number, changes: number, line: (s: string) => void): Promise<void> {
  const dataDir = tempDataDir('hub-bench-site-');
  const stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: `hub_${randomUUID().replaceAll('-', '')}bench`, POWERTOOLS_LOG_LEVEL: 'WARN', HUB_EVENT_SOURCES_DISABLED: 'recordChanges,recordPublishing' });
  try {
    const dynamoEndpoint = /DynamoDB Local: (\S+)/.exec(stack.output())?.[1];
    const s3Endpoint = /S3 \(s3rver\):\s+(\S+)/.exec(stack.output())?.[1];
    if (!dynamoEndpoint || !s3Endpoint) throw new Error(`the local stack did not say where DynamoDB Local and S3 are\n${stack.output()}`);
    const credentials = readDataFolderCredentials(dataDir);
    const client = new DynamoDBClient({ endpoint: dynamoEndpoint, region: LOCAL_REGION, credentials });
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    // The benchmark's own S3 client waits longer than the hub's (2.5 s, 3 attempts): s3rver on a busy 2-core machine
    // can take seconds for one PUT, and a run of 100,000 records must not die of one slow answer. Counts are unaffected.
    const s3 = meterRequests(
      new S3Client({ ...s3ClientConfig({ endpoint: s3Endpoint, region: LOCAL_REGION, credentials, forcePathStyle: true }), maxAttempts: 6, requestHandler: { ...httpHandlerOptions, requestTimeout: 60_000 } }),
    );
    const random = seededRandom(2026);
    const deps: PublishRunDeps = {
      index: timed('index', new DynamoSiteIndex(doc, tables.sitePages.localName)),
      bucket: timed('bucket', new S3SiteBucket(s3, buckets.site.localName)),
      model: siteModel,
      runs: publishRuns(new DynamoRunsStore(doc, tables.jobs.localName)),
      leases: new DynamoJobLeases(doc, tables.jobs.localName),
      heads: timed('records', new DynamoHeadsScan(doc, tables.records.localName)),
      continueLater: async () => {
        throw new Error('the benchmark runs a publish run in one go');
      },
      // One long invocation: the work measured, not Lambda's 15-minute slices (a run on AWS continues itself).
      limits: { ...publishRunLimits, leaseMs: 3_600_000 },
      now: () => new Date(),
      remainingMs: () => Number.MAX_SAFE_INTEGER,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      newToken: randomUUID,
    };
    const run = async (): Promise<{ counts: PublishCounts; ms: number; puts: number; deletes: number }> => {
      const created = newPublishRun({ runId: newRunId(), requestedBy: 'operator', now: new Date() });
      await deps.runs.create(created);
      const mark = requestCounts();
      for (const k of Object.keys(spent)) delete spent[k];
      const t0 = performance.now();
      const outcome = await runPublish({ runId: created.runId }, deps);
      const ms = performance.now() - t0;
      if (outcome !== 'completed') throw new Error(`the publish run ended ${outcome}: ${JSON.stringify(await deps.runs.get(created.runId))}`);
      return { counts: (await deps.runs.get(created.runId))!.counts, ms, ...writes(mark) };
    };

    // 1. The records.
    const heads = await makeHeads(records, random);
    await writeRaw(client, heads);

    // 2. The full build.
    const full = await run();
    line(
      `site: full build of ${records} records in ${(full.ms / 1000).toFixed(1)} s = ${Math.round((records / full.ms) * 1000)} records/s; ` +
        `${full.puts} objects written (${full.counts.published} record pages, the rest lists, subjects, search shards, months, sections, index, assets), ${full.deletes} deleted`,
    );
    line(`site: full build, time in calls (summed, 8 S3 and 4 DynamoDB writes in flight): ${spentLine()}`);

    // 3. One change at a time, as the stream publisher applies it.
    const asOf = daysAgo(0);
    const sample = heads[Math.floor(records / 2)]!;
    const newcomerBase = await (async () => {
      const factory = headFactory();
      try {
        return approved(await penalty(factory.deps, penaltyRaw('bench-new', sample.decisionDate, { CF_XDR_MC: '新来的公司', CF_XDR_SHXYM: companyUscc(random), SXDJ: '严重' })));
      } finally {
        factory.dispose();
      }
    })();
    const one = async (label: string, before: StoredHead | undefined, after: StoredHead) => {
      const mark = requestCounts();
      const t0 = performance.now();
      await publishChange(before, after, asOf, deps);
      const ms = performance.now() - t0;
      const w = writes(mark);
      line(`site: one change on ${records} records, ${label}: ${w.puts} objects written, ${w.deletes} deleted (goal ≤ 5) in ${ms.toFixed(0)} ms (goal ≤ 1 s)`);
    };
    if (!toPublicRecord(newcomerBase, asOf) || !toPublicRecord(sample, asOf)) throw new Error('the records of the one-change measures are not on the site');
    await one('a new record approved (an existing day)', undefined, newcomerBase);
    const corrected = { ...sample, fields: { ...sample.fields, BZ: '更正：备注' }, version: sample.version + 1 };
    await one('a correction (a field its page shows)', sample, corrected);
    await one('a record withheld', corrected, { ...corrected, publication: { ...corrected.publication, state: 'withheld' } });
    // Back to the stored state for what follows (the records table never saw these three changes).
    await publishChange(undefined, sample, asOf, deps);
    await publishChange(newcomerBase, { ...newcomerBase, publication: { ...newcomerBase.publication, state: 'withheld' } }, asOf, deps);

    // 4. Many changes without the stream, then a run.
    const n = Math.min(changes, records);
    const picked = random.shuffle(heads.map((_, i) => i)).slice(0, n);
    const changed = picked.map((i, k) => {
      const head = heads[i]!;
      return k % 10 === 9 ? { ...head, version: head.version + 1, publication: { ...head.publication, state: 'withheld' as const } } : { ...head, version: head.version + 1, fields: { ...head.fields, BZ: `更正${k}` } };
    });
    await writeRaw(client, changed);
    const after = await run();
    const left = changed.filter((h) => toPublicRecord(h, asOf) === undefined).length;
    line(
      `site: publish run after ${n} changes (${n - left} corrections, ${left} withholdings) on ${records} records in ${(after.ms / 1000).toFixed(1)} s: ` +
        `${after.puts} objects written = ${(after.puts / n).toFixed(3)} per changed record (goal ≤ 1.2), ${after.deletes} deleted, ${after.counts.pagesUnchanged} pages unchanged (skipped by hash)`,
    );
    line(`site: publish run after changes, time in calls: ${spentLine()}`);
    client.destroy();
    s3.destroy();
  } finally {
    await stack.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
