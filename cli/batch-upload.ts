/**
 * `hub batch upload FILE`: a court's file of 失信被执行人 rows as a court
 * batch (API.md "Court batches"). The file's first rows are checked here
 * first, as the hub would (header, format, encoding), so that a wrong flag
 * fails at once rather than after a 5 GB upload; then `POST /v1/batches`
 * (with an Idempotency-Key: a retried request never creates two batches),
 * the file streamed to the presigned `uploadUrl` with a progress bar by
 * bytes, and the batch followed to its end; the rejected rows are saved
 * next to the input.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { CliError, fileError } from './errors.js';
import type { HubClient } from './http-client.js';
import { followBatch, type BatchStatus } from './batch-status.js';
import { downloadFile } from './download-file.js';
import { barOf, bytes, etaOf, percentOf, type ProgressFactory, type ProgressView } from './progress.js';
import { readFileRows, type FileEncoding, type FileFormat } from './record-reader.js';
import { putFile } from './upload-file.js';

/** API.md: any size up to 5 GB (one S3 PUT). */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

export interface BatchUploadOptions {
  file: string;
  format: FileFormat;
  encoding: FileEncoding;
  rejectsPath: string;
  pollMs?: number;
  stallMs?: number;
}

export interface BatchUploadDeps {
  client: HubClient;
  progress: ProgressFactory;
  notice: (line: string) => void;
  signal?: AbortSignal;
}

export interface BatchOutcome {
  batchId: string;
  status: BatchStatus;
  /** Where the rejected rows were saved, when there were any. */
  rejectsPath?: string;
}

interface Created {
  batchId: string;
  uploadUrl: string;
  expiresAt: string;
}

const uploadView: ProgressView<{ size: number }> = {
  render: ({ value, eta }, { size }, note) => [`上传 upload ${barOf(size ? value / size : 1)} ${percentOf(value, size)}`, `${bytes(value)} / ${bytes(size)}`, note ?? etaOf(eta)].filter(Boolean).join(' | '),
};

/** Reads the file's header and first rows as the hub will: a file that is not what the flags say fails here. */
export async function checkFileStart(file: string, format: FileFormat, encoding: FileEncoding): Promise<void> {
  const rows = readFileRows(file, { format, encoding, kind: 'dishonest-debtor' });
  try {
    await rows.next();
  } finally {
    await rows.return(undefined);
  }
}

export async function uploadBatch(options: BatchUploadOptions, deps: BatchUploadDeps): Promise<BatchOutcome> {
  const { file, format, encoding } = options;
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new CliError(`不是文件 (not a file): ${file}`);
    size = stat.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fileError(e, file, { zh: '读取', en: 'read' });
  }
  if (size === 0) throw new CliError(`文件无效 (invalid file) ${file}: 文件为空 (empty file)`);
  if (size > MAX_UPLOAD_BYTES) throw new CliError(`文件超过5 GB (the file is ${bytes(size)}, over the 5 GB a batch may have): 请分成几个批次 (split it into several batches)`);
  await checkFileStart(file, format, encoding);

  const { body: created } = await deps.client.request<Created>('POST', '/v1/batches', {
    action: { zh: '创建批次', en: 'creating the batch' },
    json: { kind: 'dishonest-debtor', format, encoding },
    idempotencyKey: `hub-batch:${randomUUID()}`,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  if (typeof created?.batchId !== 'string' || typeof created.uploadUrl !== 'string') {
    throw new CliError(`hub的应答无法识别 (unexpected answer to creating the batch: ${JSON.stringify(created).slice(0, 200)})`);
  }
  const { batchId } = created;
  deps.notice(`hub: 批次已创建 (batch created): ${batchId}; 上传地址有效至 (upload URL valid until) ${created.expiresAt}`);

  const bar = deps.progress(uploadView, size, { size });
  try {
    await putFile(created.uploadUrl, file, {
      onProgress: (sent) => bar.update(sent, { size }),
      onRetry: (reason, attempt, delayMs) => bar.note(`重试 retry ${attempt}: ${reason}, ${Math.ceil(delayMs / 1000)}s`),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (e) {
    if (e instanceof CliError) throw new CliError(`${e.message} (batch ${batchId})`, e.exitCode);
    throw e;
  } finally {
    bar.stop();
  }
  deps.notice(`hub: 已上传 (uploaded) ${bytes(size)}; 等待导入 (following the ingest of batch ${batchId}; Ctrl-C stops following, not the batch)`);

  const status = await followBatch(deps.client, batchId, {
    progress: deps.progress,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.stallMs !== undefined ? { stallMs: options.stallMs } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const rejectsPath = await saveRejects(status, options.rejectsPath, deps.signal);
  return { batchId, status, ...(rejectsPath ? { rejectsPath } : {}) };
}

/** Saves a completed batch's rejected rows to `path`; the path, or undefined when there are none. */
export async function saveRejects(status: BatchStatus, path: string, signal?: AbortSignal): Promise<string | undefined> {
  if (status.status !== 'completed' || status.rejected === 0 || !status.rejectsUrl) return undefined;
  await downloadFile(status.rejectsUrl, path, signal);
  return path;
}
