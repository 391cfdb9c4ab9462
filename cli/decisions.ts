/**
 * The operator's decisions on a record (API.md "Review, objections, repair"): `hub reviews approve|withhold` and
 * `hub records repair` — POST /v1/records/{id}/approve {note?}, /withhold {reason}, /repair {reason}. Each is a
 * new version of the record that reaches the upward platforms. A repair refused before the end of the grade's
 * minimum publication period (409 repair_too_early) says from which day it is possible.
 */
import { RECORD_ID_PATTERN } from '../contracts/record-id.js';
import { CliError } from './errors.js';
import { HubRefusal, type HubClient } from './http-client.js';
import { operatorHints } from './reviews.js';
import { labelled } from './terminal-text.js';

export type Decision = 'approve' | 'withhold' | 'repair';

export interface DecisionResult {
  id: string;
  version: number;
  publication: {
    state: string;
    from: string;
    minUntil?: string;
    until?: string;
    endedOn?: string;
    endReason?: string;
  };
}

const WORDS: Record<Decision, { zh: string; en: string }> = {
  approve: { zh: '批准公示', en: 'approving' },
  withhold: { zh: '暂缓公示', en: 'withholding' },
  repair: { zh: '信用修复', en: 'repairing' },
};

/** A record id as API.md gives them (pen_…, lic_…); a usage error otherwise, before anything is sent. */
export function recordId(text: string): string {
  if (!RECORD_ID_PATTERN.test(text)) {
    throw new CliError(`记录标识格式不对 (not a record id: ${JSON.stringify(text.slice(0, 80))}; a kind prefix such as pen_ or lic_ and 26 characters, as hub reviews list shows)`);
  }
  return text;
}

/** A text option that must say something (the API refuses an empty one); trimmed. */
export function requiredText(option: string, text: string | undefined): string {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') throw new CliError(`${option} 不能为空 (${option} must not be empty)`);
  return trimmed;
}

function isResult(body: unknown): body is DecisionResult {
  const b = body as DecisionResult;
  return typeof b === 'object' && b !== null && typeof b.id === 'string' && typeof b.version === 'number' && typeof b.publication?.state === 'string';
}

/** The day a repair becomes possible, as the hub's refusal names it (YYYY-MM-DD), if it does. */
export function repairPossibleFrom(message: string | undefined): string | undefined {
  return /\b(\d{4}-\d{2}-\d{2})\b/.exec(message ?? '')?.[1];
}

/**
 * Sends the decision; its result. `body` is the request body ({note} for approve, {reason} otherwise). Not sent
 * again when no answer came: the decision may have been taken, and a second one would be refused as a conflict.
 */
export async function decide(client: HubClient, id: string, decision: Decision, body: { note?: string; reason?: string }, signal?: AbortSignal): Promise<DecisionResult> {
  const words = WORDS[decision];
  try {
    const answer = await client.request<DecisionResult>('POST', `/v1/records/${encodeURIComponent(id)}/${decision}`, {
      action: { zh: `${words.zh}记录${id}`, en: `${words.en} record ${id}` },
      json: body,
      hints: {
        ...operatorHints({ zh: '审核决定', en: 'a decision' }),
        404: '没有这条记录 (no record with this id: see hub reviews list)',
        400: decision === 'approve' ? 'note 即 --note (note is --note)' : 'reason 即 --reason (reason is --reason)',
        409: '记录当前的公示状态不允许此操作 (the record’s publication state does not allow this)',
      },
      ...(signal ? { signal } : {}),
    });
    if (!isResult(answer.body)) throw new CliError(`hub的应答无法识别 (unexpected answer to ${words.en} ${id}: ${JSON.stringify(answer.body).slice(0, 200)})`);
    return answer.body;
  } catch (e) {
    if (e instanceof HubRefusal && e.code === 'repair_too_early') {
      const from = repairPossibleFrom(e.apiMessage);
      throw new CliError(
        from
          ? `记录${id}尚不能信用修复：最短公示期至${from}，自${from}起可申请 (record ${id} cannot be repaired yet: possible from ${from}, the end of its grade's minimum publication period) [HTTP 409 repair_too_early]`
          : `记录${id}尚不能信用修复：最短公示期未满 (record ${id} cannot be repaired yet: its grade's minimum publication period is not over) [HTTP 409 repair_too_early]`,
      );
    }
    throw e;
  }
}

const STATES: Record<string, string> = {
  'pending-review': '待审核 pending review',
  approved: '已批准公示 approved',
  withheld: '暂缓公示 withheld',
  'not-published': '不公示 not published',
  ended: '公示已结束 ended',
};

const END_REASONS: Record<string, string> = {
  removed: '已移除 removed',
  repaired: '信用修复 repaired',
  revoked: '已撤销 revoked',
  expired: '期满 expired',
};

/** The record after the decision, for a person (stdout). */
export function formatDecision(result: DecisionResult): string {
  const p = result.publication;
  let text = `记录 record ${result.id}: ${STATES[p.state] ?? p.state} (版本 version ${result.version})\n`;
  text += labelled('公示期 period', `${p.from} → ${p.until ?? '…'}`);
  if (p.minUntil) text += labelled('最短公示期至 minimum until', p.minUntil);
  if (p.endedOn) text += labelled('结束于 ended on', `${p.endedOn}${p.endReason ? ` (${END_REASONS[p.endReason] ?? p.endReason})` : ''}`);
  return text;
}
