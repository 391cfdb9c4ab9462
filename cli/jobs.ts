/**
 * Jobs (API.md "Jobs", operator key): start a run (`POST /v1/jobs/{name}` → its runId), read its status
 * (`GET /v1/jobs/runs/{runId}`), or follow it to its end with its counts on a progress line.
 */
import { CliError } from './errors.js';
import { followStatus, type FollowOptions } from './follow-status.js';
import type { HubClient } from './http-client.js';
import { bytes, count, type ProgressView } from './progress.js';

export type RunState = 'waiting' | 'running' | 'completed' | 'failed';

export interface RunCounts {
  changes: number;
  owed: number;
  skipped: number;
  records: number;
  bytes: number;
}

export interface JobRunStatus {
  runId: string;
  job: string;
  status: RunState;
  counts: RunCounts;
  asOf?: string;
  from?: string;
  to?: string;
  requestedBy?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
}

const STATES: readonly RunState[] = ['waiting', 'running', 'completed', 'failed'];
const COUNTS = ['changes', 'owed', 'skipped', 'records', 'bytes'] as const;

export const isRunFinished = (s: Pick<JobRunStatus, 'status'>) => s.status === 'completed' || s.status === 'failed';

/** Starts a run of `job`; its runId. */
export async function startJob(client: HubClient, job: string, asOf: string | undefined, signal?: AbortSignal): Promise<string> {
  const { body } = await client.request<{ runId?: unknown }>('POST', `/v1/jobs/${encodeURIComponent(job)}`, {
    action: { zh: `启动任务${job}`, en: `starting job ${job}` },
    json: asOf ? { asOf } : {},
    // Sent again after no answer, it would start a second run (which fails while the first runs): not replayed.
    replayable: false,
    ...(signal ? { signal } : {}),
  });
  if (typeof body?.runId !== 'string') throw new CliError(`hub的回答无法识别 (unexpected answer to starting ${job}: ${JSON.stringify(body).slice(0, 200)})`);
  return body.runId;
}

export async function getRun(client: HubClient, runId: string, signal?: AbortSignal): Promise<JobRunStatus> {
  const { body } = await client.request<JobRunStatus>('GET', `/v1/jobs/runs/${encodeURIComponent(runId)}`, {
    action: { zh: `查询运行${runId}`, en: `reading run ${runId}` },
    ...(signal ? { signal } : {}),
  });
  const zero: RunCounts = { changes: 0, owed: 0, skipped: 0, records: 0, bytes: 0 };
  const counts: RunCounts = { ...zero, ...((body?.counts ?? {}) as Partial<RunCounts>) };
  if (!STATES.includes(body?.status) || COUNTS.some((c) => typeof counts[c] !== 'number')) {
    throw new CliError(`hub的运行状态无法识别 (unexpected run status: ${JSON.stringify(body).slice(0, 200)})`);
  }
  return { ...body, counts };
}

const STATE_NAMES: Record<RunState, string> = {
  waiting: '等待 waiting',
  running: '运行中 running',
  completed: '已完成 completed',
  failed: '失败 failed',
};

export const runView: ProgressView<{ status: JobRunStatus; elapsedMs: number }> = {
  render: (_state, { status, elapsedMs }, note) =>
    [
      `${status.job} ${STATE_NAMES[status.status]}`,
      `变更 changes ${count(status.counts.changes)} 补发 owed ${count(status.counts.owed)} 跳过 skipped ${count(status.counts.skipped)}`,
      `${count(status.counts.records)} 条 records${status.counts.bytes ? ` ${bytes(status.counts.bytes)}` : ''}`,
      note ?? `${Math.round(elapsedMs / 1000)}s`,
    ].join(' | '),
};

export type FollowRunOptions = FollowOptions;

/** Reads the run's status until it is completed or failed; the last status read. */
export function followRun(client: HubClient, runId: string, options: FollowRunOptions): Promise<JobRunStatus> {
  return followStatus(
    {
      read: (signal) => getRun(client, runId, signal),
      isFinished: isRunFinished,
      view: runView,
      value: (status) => status.counts.records,
      defaultStallMs: 20 * 60_000,
      stalled: (status, minutes) =>
        `运行${runId}已${minutes}分钟没有进展，仍为${status.status} (run ${runId} has made no progress for ${minutes} min and is still ${status.status}): ` +
        `稍后用 hub jobs status ${runId} 查看 (check later with hub jobs status ${runId})`,
    },
    options,
  );
}

/** The status for a person (stdout). */
export function formatRunStatus(status: JobRunStatus): string {
  const c = status.counts;
  const width = Math.max(...[c.changes, c.owed, c.skipped, c.records].map((n) => count(n).length));
  const row = (label: string, n: string) => `  ${label.padEnd(22)}${n.padStart(width)}\n`;
  let text = `运行 run ${status.runId} (${status.job}): ${STATE_NAMES[status.status]}\n`;
  if (status.from || status.to) text += `  窗口 window            ${status.from ?? '…'} → ${status.to ?? '…'}\n`;
  text += row('变更 changes', count(c.changes));
  text += row('补发 owed', count(c.owed));
  text += row('跳过 skipped', count(c.skipped));
  text += row('记录 records', count(c.records));
  if (c.bytes) text += `  ${'大小 bytes'.padEnd(22)}${bytes(c.bytes)}\n`;
  if (status.status === 'failed') text += `原因 (reason): ${status.reason ?? '未说明 (none given)'}\n`;
  return text;
}
