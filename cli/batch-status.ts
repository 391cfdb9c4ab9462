/**
 * A court batch's status (`GET /v1/batches/{id}`, API.md): read once, or
 * followed until it is completed or failed with the rows done so far on a
 * progress line (the total is unknown until the end), and shown as counts.
 */
import { CliError } from './errors.js';
import { followStatus, type FollowOptions } from './follow-status.js';
import type { HubClient } from './http-client.js';
import { count, type ProgressView } from './progress.js';

export type BatchState = 'waiting' | 'processing' | 'completed' | 'failed';

export interface BatchStatus {
  status: BatchState;
  total: number;
  accepted: number;
  updated: number;
  duplicates: number;
  rejected: number;
  rejectsUrl?: string;
  /** failed: why (the hub's words). */
  reason?: string;
}

const STATES: readonly BatchState[] = ['waiting', 'processing', 'completed', 'failed'];

export const isFinished = (s: BatchStatus) => s.status === 'completed' || s.status === 'failed';

export async function getBatch(client: HubClient, batchId: string, signal?: AbortSignal): Promise<BatchStatus> {
  const { body } = await client.request<BatchStatus>('GET', `/v1/batches/${encodeURIComponent(batchId)}`, {
    action: { zh: `查询批次${batchId}`, en: `reading batch ${batchId}` },
    ...(signal ? { signal } : {}),
  });
  const numbers = ['total', 'accepted', 'updated', 'duplicates', 'rejected'] as const;
  if (!STATES.includes(body?.status) || numbers.some((n) => typeof body[n] !== 'number')) {
    throw new CliError(`hub的批次状态无法识别 (unexpected batch status: ${JSON.stringify(body).slice(0, 200)})`);
  }
  return body;
}

const STATE_NAMES: Record<BatchState, string> = {
  waiting: '等待上传 waiting',
  processing: '导入中 processing',
  completed: '已完成 completed',
  failed: '失败 failed',
};

export const ingestView: ProgressView<{ status: BatchStatus; elapsedMs: number }> = {
  render: (_state, { status, elapsedMs }, note) =>
    [
      `导入 ingest ${STATE_NAMES[status.status]}`,
      `${count(status.total)} 行 rows`,
      `新增 accepted ${count(status.accepted)} 更新 updated ${count(status.updated)} 重复 duplicates ${count(status.duplicates)} 拒收 rejected ${count(status.rejected)}`,
      note ?? `${Math.round(elapsedMs / 1000)}s`,
    ].join(' | '),
};

export type { FollowOptions };

/** Reads the batch's status until it is completed or failed; the last status read. */
export function followBatch(client: HubClient, batchId: string, options: FollowOptions): Promise<BatchStatus> {
  return followStatus(
    {
      read: (signal) => getBatch(client, batchId, signal),
      isFinished,
      view: ingestView,
      value: (status) => status.total,
      defaultStallMs: 15 * 60_000,
      stalled: (status, minutes) =>
        `批次${batchId}已${minutes}分钟没有进展，仍为${status.status} (batch ${batchId} has made no progress for ${minutes} min and is still ${status.status}): ` +
        `稍后用 hub batch status ${batchId} --follow 查看 (check later with hub batch status ${batchId} --follow)`,
    },
    options,
  );
}

/** The status for a person (stdout). */
export function formatBatchStatus(batchId: string, status: BatchStatus, rejectsPath?: string): string {
  const width = Math.max(...[status.total, status.accepted, status.updated, status.duplicates, status.rejected].map((n) => count(n).length));
  const row = (label: string, n: number) => `  ${label.padEnd(22)}${count(n).padStart(width)}\n`;
  let text = `批次 batch ${batchId}: ${STATE_NAMES[status.status]}\n`;
  text += row('行 rows', status.total);
  text += row('新增 accepted', status.accepted);
  text += row('更新 updated', status.updated);
  text += row('重复 duplicates', status.duplicates);
  text += row('拒收 rejected', status.rejected);
  if (status.status === 'failed') text += `原因 (reason): ${status.reason ?? '未说明 (none given)'}\n`;
  if (rejectsPath) text += `拒收行的行号和原因 (line numbers and reasons of the rejected rows): ${rejectsPath}\n`;
  else if (status.rejectsUrl) text += `拒收行下载地址 (the rejected rows can be downloaded from): ${status.rejectsUrl}\n`;
  return text;
}
