/**
 * Peak memory and speed of the batch ingest with in-memory ports (no AWS):
 *
 *   npx tsx test/support/batch-ingest-measure.ts [rows=200000] [format=ndjson|csv] [encoding=utf-8|gb18030] [store=forgetful|memory]
 *
 * The file is generated to a temp folder first (its own process, so its
 * memory is not counted), then ingested from disk in this process, which
 * reports its peak RSS (getrusage maxrss). `forgetful`: a records store that
 * keeps nothing (every row is new): the ingest's own memory, as on AWS where
 * records live in DynamoDB. `memory`: the in-memory store, which holds every
 * record it is given.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchEncoding, BatchFormat } from '../../shared/batch/batch-model.js';
import { ingestBatch } from '../../shared/batch/ingest-batch.js';
import type { RejectSink } from '../../shared/batch/ports.js';
import type { RecordsStore } from '../../shared/store/records-store.js';
import { BatchHarness } from './batch-harness.js';
import { writeBatch, type BatchManifest } from './batch-sample/index.js';
import { FileObjectSource } from './memory-batch-ports.js';

const [rowsArg, formatArg, encodingArg, storeArg, generateTo] = process.argv.slice(2);
const rows = Number(rowsArg ?? 200_000);
const format = (formatArg ?? 'ndjson') as BatchFormat;
const encoding = (encodingArg ?? 'utf-8') as BatchEncoding;

if (generateTo) {
  // Child: write the file and its manifest.
  const manifest = await writeBatch(generateTo, { rows, format, encoding, bad: 0.02, seed: 42, repeats: 0 });
  process.stdout.write(JSON.stringify(manifest.expected));
  process.exit(0);
}

const forgetful: RecordsStore = {
  async getHeads() {
    return new Map();
  },
  async write(changes) {
    return changes.map(() => 'written' as const);
  },
  async getRecord() {
    return undefined;
  },
};

/** Rejected rows counted, not kept (the in-memory sink holds them all). */
let rejectedRows = 0;
const countingRejects: RejectSink = {
  async putPart(_batchId, _offset, rows) {
    rejectedRows += rows.length;
  },
  async concatenate(batchId) {
    return `rejects/${batchId}.ndjson`;
  },
};

const dir = mkdtempSync(join(tmpdir(), 'hub-batch-measure-'));
const h = new BatchHarness();
try {
  const path = join(dir, `batch.${format}`);
  const expected = JSON.parse(
    execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, String(rows), format, encoding, 'none', path], { encoding: 'utf8' }),
  ) as BatchManifest['expected'];
  const baseline = process.memoryUsage().rss;
  h.addBatch('m', { format, encoding });
  h.store.batches.get('m')!.objectKey = path;
  const deps = {
    ...h.deps({ limits: { chunkRows: 500 }, ...(storeArg === 'memory' ? {} : { records: forgetful }) }),
    objects: new FileObjectSource(),
    ...(storeArg === 'memory' ? {} : { rejects: countingRejects }),
  };
  const started = performance.now();
  const outcome = await ingestBatch('m', deps);
  const seconds = (performance.now() - started) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  const counts = outcome.outcome === 'completed' ? outcome.counts : undefined;
  console.log(
    JSON.stringify({
      rows,
      format,
      encoding,
      store: storeArg === 'memory' ? 'memory' : 'forgetful',
      outcome: outcome.outcome,
      countsMatch: storeArg === 'memory' ? JSON.stringify(counts) === JSON.stringify(expected) : counts?.total === expected.total && counts.rejected === expected.rejected && rejectedRows === expected.rejected,
      seconds: Number(seconds.toFixed(1)),
      rowsPerSecond: Math.round(rows / seconds),
      baselineRssMB: Math.round(baseline / 2 ** 20),
      peakRssMB: Math.round(peak / 2 ** 20),
    }),
  );
} finally {
  h.close();
  rmSync(dir, { recursive: true, force: true });
}
