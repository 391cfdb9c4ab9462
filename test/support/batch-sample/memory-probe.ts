/**
 * Measures what writing a sample batch costs in memory, in a process of its
 * own (run by test/unit/batch-sample.test.ts):
 *
 *   node --expose-gc --max-semi-space-size=16 --import tsx test/support/batch-sample/memory-probe.ts ROWS FILE FORMAT ENCODING
 *
 * Prints one JSON line: the resident set before, its peak while writing (sampled
 * every PROGRESS_EVERY rows), and the live heap after a full GC at the first
 * and the last sample, which stays the same whatever the number of rows when
 * nothing is retained per row. The young generation is capped at 16 MB (V8's
 * old default; Node 24 grows it to 64 MB for throughput, which is V8's choice of
 * working space, not memory the generator holds).
 */
import { writeBatch } from './batch.js';
import type { BatchEncoding } from './encode.js';
import type { BatchFormat } from './rows.js';

const [rows, file, format, encoding] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !rows || !file) throw new Error('usage: node --expose-gc --import tsx memory-probe.ts ROWS FILE [FORMAT ENCODING]');

gc();
const rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
const liveHeap: number[] = [];
const started = performance.now();
const manifest = await writeBatch(file, {
  rows: Number(rows),
  format: (format ?? 'ndjson') as BatchFormat,
  encoding: (encoding ?? 'utf-8') as BatchEncoding,
  bad: 0.05,
  seed: 7,
  onProgress: (done, total) => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (liveHeap.length === 0 || done === total) {
      gc();
      liveHeap.push(process.memoryUsage().heapUsed);
    }
  },
});
process.stdout.write(
  `${JSON.stringify({ rows: manifest.total, bytes: manifest.bytes, ms: Math.round(performance.now() - started), rssBefore, rssPeak, liveHeapFirst: liveHeap[0], liveHeapLast: liveHeap.at(-1) })}\n`,
);
