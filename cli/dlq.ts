/**
 * `hub dlq list PLATFORM` and `hub dlq redrive PLATFORM` (the credit office, with the operator key): what an upward
 * platform refused or never took (GET /v1/dlq/{platform}, every page), and sending it again
 * (POST /v1/dlq/{platform}/redrive, called again while the hub says there is more).
 */
import { CliError } from './errors.js';
import type { HubClient } from './http-client.js';
import { table } from './sources.js';

export const PLATFORMS = ['provincial', 'national'] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface DeadLetter {
  recordId: string;
  version: number;
  operation: string;
  reason: string;
  failedAt: string;
  attempts: number;
}

export interface DeadLetterList {
  platform: string;
  depth: number;
  items: DeadLetter[];
}

export interface RedriveTotals {
  platform: string;
  /** Requests made (the hub answers `more` while it ran short of time). */
  calls: number;
  redriven: number;
  moved: number;
  /** On AWS: the SQS message move tasks started (or found running). */
  tasks: string[];
}

/** The most pages read, and redrive calls made, before giving up (a hub that never says it is done). */
export const MAX_CALLS = 10_000;
/** Redrive calls in a row that may report `more` without any progress before the command gives up. */
export const MAX_IDLE_CALLS = 3;

const PAGE_LIMIT = 1000;
const hints = (platform: string) => ({
  403: '死信队列操作需要运营方密钥 (the dead-letter queues need the operator key)',
  404: `没有上级平台${platform} (no platform ${platform}: ${PLATFORMS.join(' or ')})`,
});

function unexpected(what: string, body: unknown): CliError {
  return new CliError(`hub的应答无法识别 (unexpected answer to ${what}: ${JSON.stringify(body).slice(0, 200)})`);
}

/** Every failed delivery of the platform, oldest first, page after page; the queue's depth as the first page said. */
export async function listDeadLetters(client: HubClient, platform: Platform, signal?: AbortSignal): Promise<DeadLetterList> {
  const items: DeadLetter[] = [];
  let depth = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_CALLS; page++) {
    const query = new URLSearchParams({ limit: String(PAGE_LIMIT), ...(cursor ? { cursor } : {}) });
    const { body } = await client.request<{ depth: number; items: DeadLetter[]; next?: string }>('GET', `/v1/dlq/${platform}?${query}`, {
      action: { zh: `读取${platform}的死信队列`, en: `reading the dead-letter queue of ${platform}` },
      hints: hints(platform),
      ...(signal ? { signal } : {}),
    });
    if (typeof body?.depth !== 'number' || !Array.isArray(body.items) || (body.next !== undefined && typeof body.next !== 'string')) throw unexpected(`GET /v1/dlq/${platform}`, body);
    if (page === 0) depth = body.depth;
    items.push(...body.items);
    if (body.next === undefined) return { platform, depth, items };
    cursor = body.next;
  }
  throw new CliError(`死信队列页数过多 (more than ${MAX_CALLS} pages of dead letters: stopped)`);
}

/** Redrives the platform, calling again while the hub says there is more; the totals. */
export async function redriveDeadLetters(client: HubClient, platform: Platform, notice: (line: string) => void, signal?: AbortSignal): Promise<RedriveTotals> {
  const totals: RedriveTotals = { platform, calls: 0, redriven: 0, moved: 0, tasks: [] };
  let idle = 0;
  while (totals.calls < MAX_CALLS) {
    const { body } = await client.request<{ redriven: number; moved?: number; task?: string; more?: boolean }>('POST', `/v1/dlq/${platform}/redrive`, {
      action: { zh: `重新投递${platform}的死信`, en: `redriving the dead letters of ${platform}` },
      hints: hints(platform),
      // Safe to send again: a redrive repeated does what is left.
      replayable: true,
      ...(signal ? { signal } : {}),
    });
    if (typeof body?.redriven !== 'number' || (body.moved !== undefined && typeof body.moved !== 'number') || (body.task !== undefined && typeof body.task !== 'string')) {
      throw unexpected(`POST /v1/dlq/${platform}/redrive`, body);
    }
    totals.calls++;
    totals.redriven += body.redriven;
    totals.moved += body.moved ?? 0;
    if (body.task && !totals.tasks.includes(body.task)) totals.tasks.push(body.task);
    if (body.more !== true) return totals;
    idle = body.redriven === 0 && (body.moved ?? 0) === 0 ? idle + 1 : 0;
    if (idle >= MAX_IDLE_CALLS) {
      throw new CliError(
        `hub连续${idle}次未能取得进展 (the hub made no progress in ${idle} redrive requests in a row; ${totals.redriven} deliveries redriven, ${totals.moved} messages moved so far): 请稍后重新运行 (run it again later)`,
      );
    }
    notice(`hub: 还有未完成的，继续 (more to redrive: ${totals.redriven} deliveries, ${totals.moved} messages so far; asking again)`);
  }
  throw new CliError(`重新投递请求过多 (more than ${MAX_CALLS} redrive requests: stopped)`);
}

/** The failed deliveries for a person (stdout). */
export function formatDeadLetters(list: DeadLetterList): string {
  let text = `平台 platform ${list.platform}: 死信队列消息 messages in the dead-letter queue ${list.depth}, 失败的投递 failed deliveries ${list.items.length}\n`;
  if (list.items.length === 0) return text;
  text += table(
    ['记录 record', '版本 version', '操作 operation', '失败时间 failed at', '尝试 attempts', '原因 reason'],
    list.items.map((d) => [d.recordId, String(d.version), d.operation, d.failedAt, String(d.attempts), d.reason.replace(/\s+/g, ' ')]),
  );
  return text;
}

/** The totals of a redrive for a person (stdout). */
export function formatRedrive(totals: RedriveTotals): string {
  const moved = totals.tasks.length > 0 ? `SQS移动任务 message move task ${totals.tasks.join(', ')}` : `移回队列的消息 messages moved back to the queue ${totals.moved}`;
  return `平台 platform ${totals.platform}: 重新投递 deliveries redriven ${totals.redriven}, ${moved}\n`;
}
