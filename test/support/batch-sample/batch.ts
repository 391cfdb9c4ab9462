/**
 * A sample batch file as a stream of bytes: rows from sampleRows, written as
 * NDJSON or CSV, encoded in UTF-8 or GB18030, in chunks of about 64 K
 * characters, pulled by the consumer (a file, an HTTP PUT body), so memory
 * stays the same for ten rows or ten million. The manifest is counted on the
 * way and resolves when the last byte has been produced.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BatchEncoding, encodeText } from './encode.js';
import { type BatchManifest, ManifestBuilder } from './manifest.js';
import { resolveRowOptions, sampleRows, type SampleRowOptions } from './rows.js';
import { csvHeader, csvRecord, ndjsonLine } from './serialise.js';

export interface BatchOptions extends SampleRowOptions {
  /** utf-8 or gb18030. Default utf-8. */
  encoding?: BatchEncoding;
  /** How many bad rows of each kind, and repeats of each kind, the manifest lists by number. Default 1,000. */
  listLimit?: number;
  /** Called every PROGRESS_EVERY rows and once at the end with the rows written so far. */
  onProgress?: (rowsDone: number, rows: number) => void;
}

export const PROGRESS_EVERY = 10_000;
const CHUNK_CHARACTERS = 16 * 1024;

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export interface GeneratedBatch {
  /** The file's bytes. Read it to the end (or pipe it somewhere) before awaiting the manifest. */
  stream: Readable;
  /** Resolves once the stream has produced its last byte; rejects if it was destroyed before. */
  manifest: Promise<BatchManifest>;
}

export function generateBatch(options: BatchOptions): GeneratedBatch {
  const rowOptions = resolveRowOptions(options);
  const encoding = options.encoding ?? 'utf-8';
  const csv = rowOptions.format === 'csv';
  const listLimit = options.listLimit ?? 1000;
  const builder = new ManifestBuilder({ seed: rowOptions.seed, today: rowOptions.today, format: rowOptions.format, encoding, listLimit }, rowOptions.badKinds);
  let settle!: { resolve: (m: BatchManifest) => void; reject: (e: Error) => void };
  const manifest = new Promise<BatchManifest>((resolve, reject) => (settle = { resolve, reject }));
  manifest.catch(() => undefined); // awaited by the caller, if at all

  async function* chunks(): AsyncGenerator<Buffer> {
    let pending = csv ? csvHeader() : '';
    let line = csv ? 2 : 1;
    let bytes = 0;
    const flush = () => {
      const chunk = encodeText(pending, encoding);
      pending = '';
      bytes += chunk.length;
      return chunk;
    };
    // The same resolved options (today above all) as the manifest's.
    for (const sample of sampleRows({ ...options, today: rowOptions.today })) {
      builder.add(sample, line);
      const text = csv ? csvRecord(sample.fields) : ndjsonLine(sample.fields);
      line += newlines(text);
      pending += text;
      if (pending.length >= CHUNK_CHARACTERS) yield flush();
      if (sample.row % PROGRESS_EVERY === 0) options.onProgress?.(sample.row, rowOptions.rows);
    }
    if (pending.length > 0) yield flush();
    if (rowOptions.rows % PROGRESS_EVERY !== 0) options.onProgress?.(rowOptions.rows, rowOptions.rows);
    settle.resolve(builder.finish(line - 1, bytes));
  }

  const stream = Readable.from(chunks(), { objectMode: false });
  stream.once('close', () => settle.reject(new Error('the batch stream was closed before its end')));
  stream.once('error', (error) => settle.reject(error));
  return { stream, manifest };
}

/** Writes a sample batch to `path` (and its manifest, as JSON, to `manifestPath` if given); resolves to the manifest. */
export async function writeBatch(path: string, options: BatchOptions & { manifestPath?: string }): Promise<BatchManifest> {
  const { stream, manifest } = generateBatch(options);
  await pipeline(stream, createWriteStream(path));
  const result = await manifest;
  if (options.manifestPath) await writeFile(options.manifestPath, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
