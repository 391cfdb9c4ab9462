/**
 * `npm run bench`: measures, on this machine,
 *  1. push-ingest records/s through the HTTP API of the local stack (started
 *     as `npm start` starts it, DynamoDB Local on disk), and raw
 *     BatchWriteItem records/s of the same stored items into the same
 *     emulator, and their ratio;
 *  2. court batches (bench/court-batches.ts): a 1,000,000-row NDJSON batch and
 *     a 100,000-row GB18030 CSV batch through the local stack, with the ingest
 *     worker's peak RSS, write units per row and the ratio to raw BatchWriteItem;
 *  3. each Lambda bundle's size and module-init time (fresh Node process per
 *     sample, bundled with the CDK stack's esbuild options);
 *  4. the upward path (bench/upward.ts): records pushed and delivered to two
 *     platforms, records/s, DynamoDB units, SQS requests and Lambda invocations
 *     per record, and the modelled AWS cost per million records;
 *  5. the public site (bench/site.ts): a full build of 100,000 records, one change on it, a publish
 *     run after 10,000 changes, S3 PUTs and DELETEs counted through the local stack's S3.
 *
 * BENCH_PARTS (push,batches,bundles,upward,site: all by default) picks parts; BENCH_RECORDS,
 * BENCH_BATCH_ROWS, BENCH_CSV_ROWS, BENCH_UPWARD_RECORDS, BENCH_SITE_RECORDS and BENCH_SITE_CHANGES
 * change the sizes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { bundling } from '../infra/bundling.js';
import { stackBuildOptions } from '../infra/local/lambda-bundle.js';
import { functions, tables } from '../infra/catalogue.js';
import { LOCAL_REGION, readDataFolderCredentials } from '../infra/local/dynamodb-local.js';
import { license } from '../test/support/fixtures.js';
import { startStackProcess } from '../test/support/local-stack-process.js';
import { courtBatchBenchmark } from './court-batches.js';
import { siteBenchmark } from './site.js';
import { upwardBenchmark } from './upward.js';

const root = resolve(import.meta.dirname, '..');
const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const BATCH = 1000;
const IN_FLIGHT = 2;
const RAW_BATCH = 25;
const RAW_IN_FLIGHT = Number(process.env.BENCH_RAW_IN_FLIGHT ?? 4);
const INIT_SAMPLES = 11;

const line = (s: string) => process.stdout.write(s + '\n');
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function ingest(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-'));
  const stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: 'hub_bench-operator', POWERTOOLS_LOG_LEVEL: 'WARN' });
  try {
    const dynamoEndpoint = /DynamoDB Local: (\S+)/.exec(stack.output())?.[1];
    if (!dynamoEndpoint) throw new Error('the local stack did not say where DynamoDB Local is');
    const created = await fetch(`${stack.url}/v1/sources`, {
      method: 'POST',
      headers: { authorization: 'Bearer hub_bench-operator' },
      body: JSON.stringify({ id: 'bench', name: '基准测试单位', uscc: '91110000600037341L', role: 'department', kinds: ['license'] }),
    });
    const { apiKey } = (await created.json()) as { apiKey: string };

    // Warm up the JIT of both processes and the emulator, then measure.
    const push = async (records: unknown[]) => {
      const res = await fetch(`${stack.url}/v1/submissions/license`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ records }) });
      const body = (await res.json()) as { accepted: number };
      if (res.status !== 200 || body.accepted !== records.length) throw new Error(`push failed: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    };
    await push(Array.from({ length: BATCH }, (_, i) => license(`warm-${i}`)));

    const batches = Array.from({ length: Math.ceil(RECORDS / BATCH) }, (_, b) => Array.from({ length: Math.min(BATCH, RECORDS - b * BATCH) }, (_, i) => license(`bench-${b}-${i}`)));
    let done = 0;
    const t0 = performance.now();
    await pool(batches, IN_FLIGHT, async (batch) => {
      await push(batch);
      done += batch.length;
      process.stderr.write(`\rpush-ingest: ${done}/${RECORDS}`);
    });
    const pushMs = performance.now() - t0;
    process.stderr.write('\n');

    // The same stored items, written raw under new keys into the same table of the same emulator.
    const client = new DynamoDBClient({ endpoint: dynamoEndpoint, region: LOCAL_REGION, credentials: readDataFolderCredentials(dataDir) });
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: tables.records.localName, ExclusiveStartKey: start, Limit: 1000 }));
      for (const item of page.Items ?? []) if (item.sk?.S === 'HEAD' && items.length < RECORDS) items.push({ ...item, pk: { S: `RAW#${items.length}` } });
      start = page.LastEvaluatedKey;
    } while (start && items.length < RECORDS);
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < items.length; i += RAW_BATCH) chunks.push(items.slice(i, i + RAW_BATCH));
    const t1 = performance.now();
    await pool(chunks, RAW_IN_FLIGHT, async (chunk) => {
      let request: Record<string, { PutRequest: { Item: Record<string, AttributeValue> } }[]> | undefined = { [tables.records.localName]: chunk.map((Item) => ({ PutRequest: { Item } })) };
      while (request && Object.keys(request).length > 0) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: request }));
        request = out.UnprocessedItems as typeof request;
      }
    });
    const rawMs = performance.now() - t1;
    client.destroy();

    const pushRate = rate(RECORDS, pushMs);
    const rawRate = rate(items.length, rawMs);
    line(`push-ingest: ${RECORDS} records in ${(pushMs / 1000).toFixed(1)} s = ${pushRate} records/s (HTTP API, ${BATCH} per request, ${IN_FLIGHT} requests in flight)`);
    line(`raw BatchWriteItem: ${items.length} items in ${(rawMs / 1000).toFixed(1)} s = ${rawRate} records/s (${RAW_BATCH} per request, ${RAW_IN_FLIGHT} requests in flight, same emulator and table)`);
    line(`ingest ratio: ${(pushRate / rawRate).toFixed(2)}`);
  } finally {
    await stack.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Median of `samples` runs of a module snippet, each in a fresh Node process (as a cold Lambda container). */
function median(samples: number, snippet: string, env: Record<string, string>): number {
  const runs: number[] = [];
  for (let i = 0; i < samples; i++) runs.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', snippet], { cwd: root, env, encoding: 'utf8' })));
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)]!;
}

async function bundles(): Promise<void> {
  const outDir = join(root, '.bench', 'bundles');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const env = { ...process.env, AWS_REGION: 'cn-north-1', POWERTOOLS_LOG_LEVEL: 'WARN' } as Record<string, string>;
  for (const t of Object.values(tables)) env[t.envVar] = t.localName;
  for (const [name, spec] of Object.entries(functions)) {
    const outfile = join(outDir, `${name}.mjs`);
    const result = await build({
      entryPoints: [join(root, spec.entry)],
      outfile,
      ...stackBuildOptions,
      sourcemap: bundling.sourceMap,
      metafile: true,
      logLevel: 'error',
    });
    const size = statSync(outfile).size;
    // The AWS SDK modules the bundle imports statically: provided by the Lambda runtime, loaded at init.
    const sdkModules = [...new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && i.kind === 'import-statement' && i.path.startsWith('@aws-sdk/')).map((i) => i.path)))];
    const preload = sdkModules.map((m) => `await import(${JSON.stringify(m)});`).join('');
    const total = median(INIT_SAMPLES, `const t=performance.now();await import(${JSON.stringify(outfile)});process.stdout.write(String(performance.now()-t));`, env);
    const split = sdkModules.length
      ? (() => {
          const own = median(INIT_SAMPLES, `${preload}const t=performance.now();await import(${JSON.stringify(outfile)});process.stdout.write(String(performance.now()-t));`, env);
          return `: AWS SDK ${(total - own).toFixed(1)} ms + hub code ${own.toFixed(1)} ms [${sdkModules.join(', ')}]`;
        })()
      : ': no AWS SDK at init';
    line(`bundle ${name.padEnd(12)} ${(size / 1024).toFixed(1).padStart(6)} KB (goal ≤ 250 KB)   module init ${total.toFixed(1).padStart(5)} ms, median of ${INIT_SAMPLES} (goal ≤ 40 ms)${split}`);
  }
}

const sdk = JSON.parse(readFileSync(join(root, 'node_modules/@aws-sdk/client-dynamodb/package.json'), 'utf8')) as { version: string };
line(`credit-hub benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, AWS SDK ${sdk.version}`);
const parts = new Set((process.env.BENCH_PARTS ?? 'push,batches,bundles,upward,site').split(',').map((p) => p.trim()));
if (parts.has('push')) await ingest();
if (parts.has('batches')) {
  // A size of 0 leaves that batch out.
  const ndjsonRows = Number(process.env.BENCH_BATCH_ROWS ?? 1_000_000);
  const csvRows = Number(process.env.BENCH_CSV_ROWS ?? 100_000);
  if (ndjsonRows > 0) await courtBatchBenchmark({ rows: ndjsonRows, format: 'ndjson', encoding: 'utf-8' }, line);
  if (csvRows > 0) await courtBatchBenchmark({ rows: csvRows, format: 'csv', encoding: 'gb18030' }, line);
}
if (parts.has('bundles')) await bundles();
if (parts.has('upward')) await upwardBenchmark(Number(process.env.BENCH_UPWARD_RECORDS ?? 10_000), line);
if (parts.has('site')) await siteBenchmark(Number(process.env.BENCH_SITE_RECORDS ?? 100_000), Number(process.env.BENCH_SITE_CHANGES ?? 10_000), line);
