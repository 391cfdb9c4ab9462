/**
 * The court-batch benchmark (issue 7): a sample batch through the local stack as a court sends it (POST
 * /v1/batches, PUT to the presigned URL, GET until completed), then the same stored items written raw with
 * BatchWriteItem into the same table of the same emulator.
 *
 * Measured:
 * - rows/s of the ingest, from the end of the upload to `completed`, with the counts checked against the
 *   generator's manifest;
 * - the ingest worker's peak RSS: batchIngest runs in a process of its own (HUB_LAMBDA_PROCESS_FUNCTIONS), and
 *   each invocation's REPORT line gives its peak (VmHWM), as Lambda's "Max Memory Used" does;
 * - DynamoDB write units per row, from what the ingest's own calls reported (ReturnConsumedCapacity, summed
 *   per invocation in its log line), as DynamoDB Local reports them and as AWS would price them (a new record is
 *   a conditional PutItem of its head, taken as reported; an update's two items are a transaction, repriced);
 * - raw BatchWriteItem items/s of the stored heads under new keys (25 per request, 4 in flight), and the ratio.
 *
 * The records stream's mappings to the upward fan-out and to the site publisher are disabled in this stack
 * (HUB_EVENT_SOURCES_DISABLED): on two cores they would compete with the ingest it is measuring (the upward path and
 * the site have benchmarks of their own, upward.ts and site.ts).
 */
import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { tables } from '../infra/catalogue.js';
import { LOCAL_REGION, readDataFolderCredentials } from '../infra/local/dynamodb-local.js';
import { writeBatch, type BatchEncoding, type BatchFormat, type BatchManifest } from '../test/support/batch-sample/index.js';
import { ORGAN_USCC } from '../test/support/fixtures.js';
import { startStackProcess } from '../test/support/local-stack-process.js';

const OPERATOR = 'hub_bench-operator';
const COURT_USCC = ORGAN_USCC;
const RAW_BATCH = 25;
const RAW_IN_FLIGHT = 4;
/** Raw writes stop after this many items (BENCH_RAW_ITEMS): a steady rate, measured in minutes rather than the better part of an hour. */
const RAW_ITEMS = Number(process.env.BENCH_RAW_ITEMS ?? 100_000);

export interface CourtBatchCase {
  rows: number;
  format: BatchFormat;
  encoding: BatchEncoding;
}

type Json = any;

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function call(url: string, key: string, method: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Writes the table's HEAD items (up to RAW_ITEMS of them) again under new keys, raw, timing only the writes. */
async function rawWrites(client: DynamoDBClient): Promise<{ items: number; ms: number; writeUnits: number }> {
  const table = tables.records.localName;
  let items = 0;
  let ms = 0;
  let writeUnits = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, Limit: 1000 }));
    start = page.LastEvaluatedKey;
    const heads = (page.Items ?? [])
      .filter((i) => i.sk?.S === 'HEAD')
      .slice(0, RAW_ITEMS - items)
      .map((item) => ({ ...item, pk: { S: `RAW#${items++}` } }));
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < heads.length; i += RAW_BATCH) chunks.push(heads.slice(i, i + RAW_BATCH));
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: RAW_IN_FLIGHT }, async () => {
        while (next < chunks.length) {
          let request: Record<string, { PutRequest: { Item: Record<string, AttributeValue> } }[]> | undefined = { [table]: chunks[next++]!.map((Item) => ({ PutRequest: { Item } })) };
          while (request && Object.keys(request).length > 0) {
            const out = await client.send(new BatchWriteItemCommand({ RequestItems: request, ReturnConsumedCapacity: 'TOTAL' }));
            writeUnits += (out.ConsumedCapacity ?? []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
            request = out.UnprocessedItems as typeof request;
          }
        }
      }),
    );
    ms += performance.now() - t;
    if (items % 50_000 < heads.length) process.stderr.write(`\rraw BatchWriteItem: ${items} items`);
  } while (start && items < RAW_ITEMS);
  process.stderr.write('\n');
  return { items, ms, writeUnits };
}

/** What the ingest's log lines and REPORT lines say about this batch. */
export function ingestFigures(output: string, batchId: string): { peakRssMb: number; invocations: number; writeUnits: number; transactWriteUnits: number; readUnits: number } {
  const peaks = [...output.matchAll(/REPORT credit-hub-batchIngest .*Max Memory Used: (\d+) MB(?:\t.*)?$/gm)].map((m) => Number(m[1]));
  let writeUnits = 0;
  let transactWriteUnits = 0;
  let readUnits = 0;
  let invocations = 0;
  for (const line of output.split('\n')) {
    if (!line.includes('"batch ingest"') || !line.includes(batchId)) continue;
    const entry = JSON.parse(line.slice(line.indexOf('{'))) as { batch?: string; writeUnits?: number; transactWriteUnits?: number; readUnits?: number };
    if (entry.batch !== batchId) continue;
    invocations++;
    writeUnits += entry.writeUnits ?? 0;
    transactWriteUnits += entry.transactWriteUnits ?? 0;
    readUnits += entry.readUnits ?? 0;
  }
  return { peakRssMb: Math.max(0, ...peaks), invocations, writeUnits, transactWriteUnits, readUnits };
}

export async function courtBatchBenchmark(spec: CourtBatchCase, line: (s: string) => void): Promise<void> {
  const name = `${spec.rows.toLocaleString('en')}-row ${spec.format.toUpperCase()} ${spec.encoding.toUpperCase()}`;
  const work = mkdtempSync(join(tmpdir(), 'hub-bench-batch-'));
  const dataDir = join(work, 'data');
  const file = join(work, `batch.${spec.format}`);
  try {
    process.stderr.write(`generating a ${name} batch …\n`);
    const manifest: BatchManifest = await writeBatch(file, {
      rows: spec.rows,
      format: spec.format,
      encoding: spec.encoding,
      bad: 0.02,
      repeats: 0.01,
      seed: 2026,
      onProgress: (done, total) => process.stderr.write(`\rgenerating: ${done}/${total}`),
    });
    process.stderr.write('\n');
    const stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR, POWERTOOLS_LOG_LEVEL: 'INFO', HUB_LAMBDA_PROCESS_FUNCTIONS: 'batchIngest', HUB_EVENT_SOURCES_DISABLED: 'recordChanges,recordPublishing' });
    try {
      const court = await call(`${stack.url}/v1/sources`, OPERATOR, 'POST', { id: 'bench-court', name: '基准测试人民法院', uscc: COURT_USCC, role: 'court', kinds: ['dishonest-debtor'] });
      if (court.status !== 201) throw new Error(`could not register the court: ${court.status} ${JSON.stringify(court.body)}`);
      const key = court.body.apiKey as string;
      const opened = await call(`${stack.url}/v1/batches`, key, 'POST', { kind: 'dishonest-debtor', format: spec.format, encoding: spec.encoding });
      if (opened.status !== 201) throw new Error(`could not open the batch: ${opened.status} ${JSON.stringify(opened.body)}`);
      const batchId = opened.body.batchId as string;
      const put = await fetch(opened.body.uploadUrl, { method: 'PUT', body: await openAsBlob(file) });
      await put.arrayBuffer();
      if (put.status !== 200) throw new Error(`upload failed: ${put.status}`);
      const uploaded = performance.now();
      let status: Json;
      for (;;) {
        status = (await call(`${stack.url}/v1/batches/${batchId}`, key, 'GET')).body;
        process.stderr.write(`\r${name}: ${status.status} ${status.total}/${spec.rows}`);
        if (status.status === 'completed' || status.status === 'failed') break;
        await pause(2000);
      }
      const ingestMs = performance.now() - uploaded;
      process.stderr.write('\n');
      const expected = manifest.expected;
      const counts = { total: status.total, accepted: status.accepted, updated: status.updated, duplicates: status.duplicates, rejected: status.rejected };
      if (status.status !== 'completed' || JSON.stringify(counts) !== JSON.stringify(expected)) {
        throw new Error(`${name}: ${status.status} with ${JSON.stringify(counts)}, the manifest expects ${JSON.stringify(expected)}`);
      }
      const figures = ingestFigures(stack.output(), batchId);
      if (process.env.BENCH_KEEP_OUTPUT) writeFileSync(process.env.BENCH_KEEP_OUTPUT, stack.output());
      if (figures.invocations === 0 || figures.peakRssMb === 0) throw new Error(`${name}: the ingest's log lines or REPORT lines are missing from the stack's output`);

      const dynamoEndpoint = /DynamoDB Local: (\S+)/.exec(stack.output())?.[1];
      if (!dynamoEndpoint) throw new Error('the local stack did not say where DynamoDB Local is');
      const client = new DynamoDBClient({ endpoint: dynamoEndpoint, region: LOCAL_REGION, credentials: readDataFolderCredentials(dataDir) });
      const raw = await rawWrites(client).finally(() => client.destroy());

      const ingestRate = rate(spec.rows, ingestMs);
      const rawRate = rate(raw.items, raw.ms);
      // A new record is one conditional PutItem of its head, which DynamoDB Local reports per item as AWS bills it:
      // taken as reported, with the checkpoints. An update writes two items (head and old version) in a transaction,
      // and DynamoDB Local's TransactWriteItems capacity figures are not AWS's (README, Benchmarks): those items'
      // units come from their plain BatchWriteItem (same items, same table and index), doubled as AWS prices a
      // transactional write.
      const unitsPerItem = raw.writeUnits / raw.items;
      const transactionalItems = 2 * counts.updated;
      const otherWriteUnits = figures.writeUnits - figures.transactWriteUnits;
      const awsWriteUnits = 2 * unitsPerItem * transactionalItems + otherWriteUnits;
      line(
        `court batch ${name}: ${spec.rows} rows in ${(ingestMs / 1000).toFixed(1)} s = ${ingestRate} rows/s ` +
          `(${counts.accepted} accepted, ${counts.updated} updated, ${counts.duplicates} duplicates, ${counts.rejected} rejected: the manifest's counts; ${figures.invocations} ingest invocations)`,
      );
      line(`court batch ${name}: ingest worker peak RSS ${figures.peakRssMb} MB (goal ≤ 256 MB; its own process, Lambda memory 512 MB)`);
      line(
        `court batch ${name}: DynamoDB write units per row ${(awsWriteUnits / spec.rows).toFixed(2)} on AWS ` +
          `(${transactionalItems} items of updates in transactions at 2 × ${unitsPerItem.toFixed(2)} units, their plain BatchWriteItem's ReturnConsumedCapacity, ` +
          `+ ${otherWriteUnits} units as reported: ${counts.accepted} new records' conditional PutItems and the checkpoints); read units per row ${(figures.readUnits / spec.rows).toFixed(3)}`,
      );
      line(`court batch ${name}: raw BatchWriteItem of the first ${raw.items} stored heads in ${(raw.ms / 1000).toFixed(1)} s = ${rawRate} items/s (${RAW_BATCH} per request, ${RAW_IN_FLIGHT} in flight, same emulator and table)`);
      line(`batch ratio: ${(ingestRate / rawRate).toFixed(2)}`);
    } finally {
      await stack.stop('SIGINT');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
