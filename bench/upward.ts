/**
 * The upward benchmark (issue 8): N licences pushed through the HTTP API of the local stack (started as `npm
 * start` starts it) and delivered to two platforms that answer at once (test/support/fake-platform.ts, in this
 * process, no faults), then what that cost:
 *
 * - records/s from the first push to the last package acknowledged by both platforms;
 * - Lambda invocations and their durations per function (the functions on the path run as processes of their
 *   own, HUB_LAMBDA_PROCESS_FUNCTIONS, so that each invocation has its REPORT line);
 * - DynamoDB read and write units and AWS requests per record, from the handlers' own summary lines: the push's
 *   request line (readUnits, writeUnits, transactWriteUnits), and the fan-out's and connectors' lines, which add
 *   their requests per operation (shared/aws/request-meter.ts). A new record is a conditional PutItem of its
 *   head, reported per item as AWS bills it; DynamoDB Local's figures for TransactWriteItems (updates) and
 *   BatchGetItem are per request, not AWS's per item: they are replaced (pushUnitsOnAws), as
 *   bench/court-batches.ts does, by the plain units of the stored heads written raw, doubled. The benchmark
 *   pushes only new licences, so its push writes no transaction;
 * - from those counts and us-east-1 list prices (PRICES), a modelled AWS cost per million records ingested and
 *   delivered to two platforms, the breakdown first and `cost per million: $N.NN` on a line of its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { functions, platforms, tables, type PlatformName } from '../infra/catalogue.js';
import { LOCAL_REGION, readDataFolderCredentials } from '../infra/local/dynamodb-local.js';
import { extraSqsChunks } from '../shared/aws/request-meter.js';
import { startFakePlatform, type FakePlatform } from '../test/support/fake-platform.js';
import { license } from '../test/support/fixtures.js';
import { startStackProcess } from '../test/support/local-stack-process.js';

/**
 * us-east-1 list prices (USD) as published on the AWS pricing pages, as of 2026-11-28 (DynamoDB on-demand since
 * its price cut of 2024-11-01). Lambda on Arm (the stack's architecture, infra/stack.ts).
 */
export const PRICES = {
  asOf: '2026-11-28',
  /** DynamoDB on-demand: per write request unit, per read request unit. */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** SQS standard queue: per request (each 64 KB chunk of a payload is one request). */
  sqsRequest: 0.4 / 1e6,
  /** Lambda (Arm): per request, per GB-second. */
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000133334,
  /** API Gateway HTTP API: per request (first 300 million a month), metered in 512 KB increments. */
  httpApiRequest: 1.0 / 1e6,
  httpApiIncrementBytes: 512 * 1024,
  /** KMS: per request. */
  kmsRequest: 0.03 / 1e4,
  /** S3 Standard: PUT/COPY/POST/LIST, and GET, per request. */
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  /** CloudWatch Logs: per GB ingested (standard). */
  logsGb: 0.5,
} as const;

/**
 * Assumptions where this machine cannot measure:
 * - Lambda's SQS event-source mapping sends one ReceiveMessage and one DeleteMessageBatch per connector
 *   invocation, the receive billed once per 64 KB of the batch's messages (the connectors log their bytes; its empty long polls are a fixed cost of some 1.3 million requests a month for the two queues'
 *   pollers, not a cost per record);
 * - Lambda's DynamoDB stream reads for the fan-out are free (GetRecords by a Lambda trigger is not billed);
 * - KMS: data keys are cached (shared/crypto/field-cipher.ts: one GenerateDataKey per push container per 5
 *   minutes, one Decrypt per data key per connector container); with 10 containers each asking once per 5
 *   minutes, a day of one million records costs 10 × 288 × 2 requests;
 * - Lambda's own START/END/REPORT log lines: about 260 bytes per invocation.
 */
const ESM_REQUESTS_PER_CONNECTOR_INVOCATION = 2;
const KMS_REQUESTS_PER_MILLION = 10 * 288 * 2;
const PLATFORM_LOG_BYTES_PER_INVOCATION = 260;

const OPERATOR = 'hub_bench-operator';
const PER_REQUEST = 500;
const IN_FLIGHT = 2;
const FUNCTIONS_ON_PATH = ['submissions', 'fanout', 'connectorProvincial', 'connectorNational', 'deliverySweep'] as const;
const PLATFORM_NAMES = Object.keys(platforms) as PlatformName[];

type Json = Record<string, any>;

/** DynamoDB units of one step of the path, as its summary lines report them (DynamoDB Local's figures). */
export interface StepUnits {
  lines: number;
  readUnits: number;
  writeUnits: number;
  transactWriteUnits: number;
}

/** The steps whose summary lines carry units: the push's request line, the fan-out's, the connectors', the sweep's. */
export type Step = 'push' | 'fanout' | 'connector' | 'sweep';
const STEP_OF_MESSAGE: Record<string, Step> = { 'fan-out': 'fanout', connector: 'connector', 'delivery sweep': 'sweep' };

/** What the stack's output says about the work: per function, invocations, durations, units and requests. */
export interface UpwardFigures {
  /** The connectors' receives past the first 64 KB chunk of each batch (SQS bills a receive per 64 KB of its messages). */
  receiveExtraChunks: number;
  invocations: Record<string, number>;
  /** Sum of REPORT durations per function, ms (each rounded up to the millisecond, as Lambda bills). */
  durationMs: Record<string, number>;
  /** Sum of the REPORT lines' CPU Time per function, ms (the local stack's own field: the rest of a duration is waiting). */
  cpuMs: Record<string, number>;
  units: Record<Step, StepUnits>;
  /** Requests per `<service>.<operation>` (fan-out, connectors, sweep). */
  requests: Record<string, number>;
  /** Connector outcomes summed per platform. */
  delivered: Record<string, number>;
  /** Bytes of the handlers' log lines (JSON, the metrics' EMF lines included). */
  logBytes: number;
}

/** Reads the handlers' summary lines and the REPORT lines of a run out of the stack's output. */
export function upwardFigures(output: string): UpwardFigures {
  const empty = (): StepUnits => ({ lines: 0, readUnits: 0, writeUnits: 0, transactWriteUnits: 0 });
  const f: UpwardFigures = { receiveExtraChunks: 0, invocations: {}, durationMs: {}, cpuMs: {}, units: { push: empty(), fanout: empty(), connector: empty(), sweep: empty() }, requests: {}, delivered: {}, logBytes: 0 };
  const add = (map: Record<string, number>, key: string, n: number) => (map[key] = (map[key] ?? 0) + n);
  for (const line of output.split('\n')) {
    const report = /REPORT credit-hub-(\w+) RequestId: \S+\tDuration: ([\d.]+) ms.*?(?:\tCPU Time: ([\d.]+) ms)?$/.exec(line);
    if (report) {
      add(f.invocations, report[1]!, 1);
      add(f.durationMs, report[1]!, Math.ceil(Number(report[2])));
      if (report[3] !== undefined) add(f.cpuMs, report[1]!, Number(report[3]));
      continue;
    }
    if (!line.startsWith('{') || !line.trimEnd().endsWith('}')) continue;
    let entry: Json;
    try {
      entry = JSON.parse(line) as Json;
    } catch {
      continue;
    }
    f.logBytes += Buffer.byteLength(line) + 1;
    const step = entry.message === 'request' && String(entry.route).startsWith('POST /v1/submissions/') ? 'push' : STEP_OF_MESSAGE[String(entry.message)];
    if (!step) continue;
    const units = f.units[step];
    units.lines++;
    units.readUnits += entry.readUnits ?? 0;
    units.writeUnits += entry.writeUnits ?? 0;
    units.transactWriteUnits += entry.transactWriteUnits ?? 0;
    for (const [name, n] of Object.entries((entry.requests ?? {}) as Record<string, number>)) add(f.requests, name, n);
    if (step === 'connector') {
      add(f.delivered, String(entry.platform), entry.records ?? 0);
      f.receiveExtraChunks += extraSqsChunks(entry.messageBytes ?? 0);
    }
  }
  return f;
}

/**
 * The push's DynamoDB units as AWS would bill them, for `records.created` new records and `records.updated`
 * updates. A new record is one conditional PutItem of its head, not a transaction: DynamoDB Local reports it per
 * item, at its plain units as AWS bills it, so it is taken as reported, with the push's other plain writes (the
 * per-key counter, the idempotency record). An update writes two items (the new head and the old one kept as a
 * version, each about a head's size) in a TransactWriteItems, for which DynamoDB Local's figures are per request,
 * not per item: replaced by twice the plain units of both items, a head's measured by writing the stored heads
 * raw (`plainUnitsPerHead`). Each record's head is looked up once in an eventually consistent BatchGetItem (also
 * reported per request): half a read unit each (items under 4 KB); only a duplicate is read again, strongly
 * consistent (shared/ingest/submit.ts), and these are new records and updates.
 */
export function pushUnitsOnAws(push: StepUnits, records: { created: number; updated: number }, plainUnitsPerHead: number): { readUnits: number; writeUnits: number } {
  const updates = 2 * (2 * plainUnitsPerHead) * records.updated;
  return { readUnits: 0.5 * (records.created + records.updated), writeUnits: push.writeUnits - push.transactWriteUnits + updates };
}

export interface CostLine {
  what: string;
  perMillion: number;
  basis: string;
}

/**
 * The modelled AWS cost per million records, item by item, from the figures of `records` records pushed in
 * `push.requests` requests of `push.bytes` in all, `push.updated` of them updates (none by default: new records).
 */
export function modelCost(f: UpwardFigures, records: number, push: { requests: number; bytes: number; plainUnitsPerHead: number; updated?: number }): CostLine[] {
  const perRecord = (n: number) => n / records;
  const million = 1e6;
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const requestsOf = (service: string) => Object.entries(f.requests).filter(([k]) => k.startsWith(`${service}.`)).reduce((n, [, v]) => n + v, 0);
  const updated = push.updated ?? 0;
  const pushUnits = pushUnitsOnAws(f.units.push, { created: records - updated, updated }, push.plainUnitsPerHead);
  const upward = [f.units.fanout, f.units.connector, f.units.sweep];
  const writeUnits = pushUnits.writeUnits + upward.reduce((n, u) => n + u.writeUnits, 0);
  const readUnits = pushUnits.readUnits + upward.reduce((n, u) => n + u.readUnits, 0);
  const invocations = sum(f.invocations);
  const memory = (fn: string) => (functions as Record<string, { memoryMb: number }>)[fn]?.memoryMb ?? 0;
  const gbSeconds = Object.entries(f.durationMs).reduce((n, [fn, ms]) => n + (ms / 1000) * (memory(fn) / 1024), 0);
  const sqsRequests = requestsOf('SQS') + ESM_REQUESTS_PER_CONNECTOR_INVOCATION * f.units.connector.lines + f.receiveExtraChunks;
  const apiRequests = Math.max(1, Math.ceil(push.bytes / push.requests / PRICES.httpApiIncrementBytes)) * push.requests;
  const s3Gets = f.requests['S3.GetObject'] ?? 0;
  const s3Puts = requestsOf('S3') - s3Gets;
  const logBytes = f.logBytes + PLATFORM_LOG_BYTES_PER_INVOCATION * invocations;
  return [
    {
      what: 'DynamoDB writes',
      perMillion: perRecord(writeUnits) * million * PRICES.dynamoWriteUnit,
      basis: `${perRecord(writeUnits).toFixed(2)} write units per record: push ${perRecord(pushUnits.writeUnits).toFixed(2)}, fan-out ${perRecord(f.units.fanout.writeUnits).toFixed(2)}, connectors ${perRecord(f.units.connector.writeUnits).toFixed(2)}, sweep ${perRecord(f.units.sweep.writeUnits).toFixed(3)}`,
    },
    {
      what: 'DynamoDB reads',
      perMillion: perRecord(readUnits) * million * PRICES.dynamoReadUnit,
      basis: `${perRecord(readUnits).toFixed(2)} read units per record: push ${perRecord(pushUnits.readUnits).toFixed(2)}, connectors ${perRecord(f.units.connector.readUnits).toFixed(2)}, sweep ${perRecord(f.units.sweep.readUnits).toFixed(3)}`,
    },
    {
      what: 'SQS',
      perMillion: perRecord(sqsRequests) * million * PRICES.sqsRequest,
      basis: `${perRecord(sqsRequests).toFixed(3)} requests per record, each 64 KB of payload one (${ESM_REQUESTS_PER_CONNECTOR_INVOCATION} per connector invocation modelled for Lambda's pollers, ${f.receiveExtraChunks} more for receives over 64 KB)`,
    },
    { what: 'Lambda requests', perMillion: perRecord(invocations) * million * PRICES.lambdaRequest, basis: `${perRecord(invocations).toFixed(3)} invocations per record` },
    { what: 'Lambda duration', perMillion: perRecord(gbSeconds) * million * PRICES.lambdaGbSecond, basis: `${(perRecord(gbSeconds) * 1000).toFixed(1)} GB-ms per record, durations measured on this machine (Arm price)` },
    { what: 'API Gateway', perMillion: perRecord(apiRequests) * million * PRICES.httpApiRequest, basis: `${perRecord(apiRequests).toFixed(4)} metered requests per record (${PER_REQUEST} records per push)` },
    { what: 'KMS', perMillion: KMS_REQUESTS_PER_MILLION * PRICES.kmsRequest, basis: `${KMS_REQUESTS_PER_MILLION} requests per million (cached data keys, modelled)` },
    { what: 'S3', perMillion: perRecord(s3Puts) * million * PRICES.s3Put + perRecord(s3Gets) * million * PRICES.s3Get, basis: `${s3Puts} PUT and ${s3Gets} GET in all (none on the real-time path)` },
    { what: 'CloudWatch Logs', perMillion: (perRecord(logBytes) * million * PRICES.logsGb) / 1024 ** 3, basis: `${perRecord(logBytes).toFixed(0)} log bytes per record at INFO` },
  ];
}

/**
 * Write units of a plain PutItem of the stored heads (up to `limit` of them), by BatchWriteItem of copies under
 * other keys (`RAW#…`, sort key `RAWH`: the same sizes, and not a head the fan-out's stream filter lets through)
 * into the same table and indexes of the same emulator.
 */
async function plainUnitsPerHead(endpoint: string, dataDir: string, limit: number): Promise<number> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: readDataFolderCredentials(dataDir) });
  const table = tables.records.localName;
  try {
    const heads: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, Limit: 1000 }));
      for (const item of page.Items ?? []) if (item.sk?.S === 'HEAD' && heads.length < limit) heads.push({ ...item, pk: { S: `RAW#${item.pk!.S!.slice(4)}` }, sk: { S: 'RAWH' } });
      start = page.LastEvaluatedKey;
    } while (start && heads.length < limit);
    let units = 0;
    for (let i = 0; i < heads.length; i += 25) {
      let request: Record<string, { PutRequest: { Item: Record<string, AttributeValue> } }[]> | undefined = { [table]: heads.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
      while (request && Object.keys(request).length > 0) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: request, ReturnConsumedCapacity: 'TOTAL' }));
        units += (out.ConsumedCapacity ?? []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
        request = out.UnprocessedItems as typeof request;
      }
    }
    if (heads.length === 0) throw new Error('no stored heads to measure');
    return units / heads.length;
  } finally {
    client.destroy();
  }
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every record version each platform has kept: its count. */
/** Record versions a platform has accepted (packages carry up to 100). */
const keptCount = (p: FakePlatform) => [...p.accepted().values()].reduce((n, a) => n + a.versions.length, 0);

export async function upwardBenchmark(records: number, line: (s: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-upward-'));
  const fast = await Promise.all(PLATFORM_NAMES.map((name) => startFakePlatform({ name, seed: 0 })));
  try {
    const env: Record<string, string> = {
      HUB_DATA_DIR: dataDir,
      HUB_OPERATOR_KEY: OPERATOR,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      HUB_LAMBDA_PROCESS_FUNCTIONS: FUNCTIONS_ON_PATH.join(','),
    };
    fast.forEach((p, i) => (env[platforms[PLATFORM_NAMES[i]!].urlEnvVar] = p.url));
    const stack = await startStackProcess(env);
    try {
      const created = await fetch(`${stack.url}/v1/sources`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR}` },
        body: JSON.stringify({ id: 'bench-upward', name: '基准测试单位', uscc: '91110000600037341L', role: 'department', kinds: ['license'] }),
      });
      if (created.status !== 201) throw new Error(`could not register the source: ${created.status}`);
      const { apiKey } = (await created.json()) as { apiKey: string };
      const bodies = Array.from({ length: Math.ceil(records / PER_REQUEST) }, (_, b) =>
        JSON.stringify({ records: Array.from({ length: Math.min(PER_REQUEST, records - b * PER_REQUEST) }, (_, i) => license(`up-bench-${b}-${i}`)) }),
      );
      const pushBytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);

      const t0 = performance.now();
      let next = 0;
      let pushed = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            for (let attempt = 1; ; attempt++) {
              const res = await fetch(`${stack.url}/v1/submissions/license`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body });
              const answer = (await res.json()) as { accepted?: number; duplicates?: number };
              if (res.status === 200) {
                // Sent again after a 503 (its deadline passed on a loaded machine), the records the first try had
                // written come back as duplicates: every record of the benchmark is new, so they count as accepted.
                pushed += (answer.accepted ?? 0) + (attempt > 1 ? (answer.duplicates ?? 0) : 0);
                break;
              }
              if (res.status !== 429 && res.status !== 503) throw new Error(`push failed: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
              await pause(1000);
            }
          }
        }),
      );
      const pushMs = performance.now() - t0;
      if (pushed !== records) throw new Error(`${pushed} of ${records} records accepted`);

      const deadline = Date.now() + Math.max(600_000, records * 200);
      while (fast.some((p) => keptCount(p) < records)) {
        if (Date.now() > deadline) throw new Error(`not delivered in time: ${fast.map((p) => `${p.name} ${keptCount(p)}`).join(', ')} of ${records}`);
        process.stderr.write(`\rupward: pushed ${records} in ${(pushMs / 1000).toFixed(1)} s; delivered ${fast.map((p) => `${p.name} ${keptCount(p)}`).join(', ')}   `);
        await pause(500);
      }
      process.stderr.write('\n');
      const lastAt = Math.max(...fast.flatMap((p) => [...p.accepted().values()].map((a) => a.at)));
      const totalMs = lastAt - t0;
      // The connectors' summary lines come when their invocations end: wait until they account for every delivery.
      let figures = upwardFigures(stack.output());
      if (process.env.BENCH_KEEP_OUTPUT) writeFileSync(process.env.BENCH_KEEP_OUTPUT, stack.output());
      for (let i = 0; i < 60 && PLATFORM_NAMES.some((p) => (figures.delivered[p] ?? 0) < records); i++) {
        await pause(500);
        figures = upwardFigures(stack.output());
      }
      if (PLATFORM_NAMES.some((p) => (figures.delivered[p] ?? 0) !== records)) throw new Error(`the connectors' lines count ${JSON.stringify(figures.delivered)} deliveries, ${records} per platform expected`);
      // Anything but a first acceptance would be a package sent twice (a replay under its key): said, not hidden.
      const again = fast.reduce((n, p) => n + p.requests().filter((r) => r.answer !== 'accepted').length, 0);

      const perRecord = (n: number) => (n / records).toFixed(3);
      line(`upward: ${records} records pushed and delivered to both platforms in ${(totalMs / 1000).toFixed(1)} s = ${Math.round((records / totalMs) * 1000)} records/s (from the first push to the last package acknowledged; pushes of ${PER_REQUEST}, ${IN_FLIGHT} in flight, took ${(pushMs / 1000).toFixed(1)} s; ${again} packages sent again)`);
      line(
        `upward: Lambda invocations per record: ${FUNCTIONS_ON_PATH.map((fn) => `${fn} ${perRecord(figures.invocations[fn] ?? 0)}`).join(', ')}; ` +
          `mean duration ${FUNCTIONS_ON_PATH.filter((fn) => figures.invocations[fn]).map((fn) => `${fn} ${Math.round(figures.durationMs[fn]! / figures.invocations[fn]!)} ms (CPU ${Math.round((figures.cpuMs[fn] ?? 0) / figures.invocations[fn]!)} ms)`).join(', ')} (this machine; the rest of a duration is waiting, mostly for the emulators)`,
      );
      const endpoint = /DynamoDB Local:\s+(\S+)/.exec(stack.output())?.[1];
      if (!endpoint) throw new Error('the local stack did not say where DynamoDB Local is');
      const plain = await plainUnitsPerHead(endpoint, dataDir, 1000);
      // Only new licences are pushed (every one of them accepted, checked above): no update, so no transaction.
      const pushOnAws = pushUnitsOnAws(figures.units.push, { created: records, updated: 0 }, plain);
      const reported = (u: StepUnits) => `${perRecord(u.writeUnits)} W / ${perRecord(u.readUnits)} R`;
      line(
        `upward: DynamoDB units per record as reported: push ${reported(figures.units.push)} (new records: a conditional PutItem each, as AWS bills it; DynamoDB Local's per-request figure for BatchGetItem), ` +
          `fan-out ${reported(figures.units.fanout)}, connectors ${reported(figures.units.connector)}, sweep ${reported(figures.units.sweep)}; ` +
          `push on AWS ${perRecord(pushOnAws.writeUnits)} W / ${perRecord(pushOnAws.readUnits)} R (a head is ${plain.toFixed(2)} units written plain; only new records pushed: ${perRecord(figures.units.push.transactWriteUnits)} W in transactions)`,
      );
      const requestList = Object.entries(figures.requests).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} ${perRecord(n)}`).join(', ');
      line(`upward: AWS requests per record by the fan-out, connectors and sweep: ${requestList}; push: ${perRecord(bodies.length)} HTTP requests per record`);
      const costs = modelCost(figures, records, { requests: bodies.length, bytes: pushBytes, plainUnitsPerHead: plain });
      line(`upward: modelled AWS cost per million records ingested and delivered to both platforms, us-east-1 list prices of ${PRICES.asOf}:`);
      for (const c of costs) line(`  ${c.what.padEnd(16)} $${c.perMillion.toFixed(3).padStart(7)}   ${c.basis}`);
      line(`cost per million: $${costs.reduce((n, c) => n + c.perMillion, 0).toFixed(2)}`);
    } finally {
      await stack.stop('SIGINT');
    }
  } finally {
    await Promise.all(fast.map((p) => p.close()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
