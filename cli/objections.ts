/**
 * `hub objections list|resolve` (the credit office, with the operator key): the open objections (异议) of API.md
 * "Review, objections, repair" — GET /v1/objections?status=open, every page, the overdue first, with the deadlines
 * the hub counts in Chinese working days — and their resolution (POST /v1/objections/{id}/resolve
 * {outcome, note}). The objector's contact is shown: the hub gives it to the operator, and to no one else.
 */
import { OBJECTION_ACCEPT_WORKING_DAYS, OBJECTION_ANSWER_WORKING_DAYS, OBJECTION_ID_PATTERN, OBJECTION_OUTCOMES, REVIEW_PAGE_MAX, type ObjectionOutcome } from '../contracts/publication.js';
import { CliError } from './errors.js';
import type { HubClient } from './http-client.js';
import { operatorHints } from './reviews.js';
import { table } from './sources.js';
import { cellText, timeCell } from './terminal-text.js';

export { OBJECTION_OUTCOMES, type ObjectionOutcome };

export interface Objection {
  id: string;
  recordId: string;
  reason: string;
  contact: string;
  status: 'open' | 'resolved';
  filedAt: string;
  /** The platform says whether it accepts the objection by this day (Chinese working days after filing). */
  acceptBy: string;
  /** The providing department answers by this day. */
  answerBy: string;
  overdue: boolean;
  acceptanceOverdue: boolean;
}

export interface ObjectionResolved {
  id: string;
  status: 'resolved';
  outcome: ObjectionOutcome;
  recordVersion: number;
}

/** The most pages read before giving up (a hub that never ends its list). */
export const MAX_PAGES = 10_000;

const HINTS = operatorHints({ zh: '异议处理', en: 'handling objections' });

function isObjection(item: unknown): item is Objection {
  const o = item as Objection;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.id === 'string' &&
    typeof o.recordId === 'string' &&
    typeof o.filedAt === 'string' &&
    typeof o.acceptBy === 'string' &&
    typeof o.answerBy === 'string' &&
    typeof o.overdue === 'boolean' &&
    typeof o.acceptanceOverdue === 'boolean'
  );
}

/** Past the answer deadline first, then past the acceptance deadline, then the rest; the hub's order (oldest first) within each. */
export function overdueFirst(items: readonly Objection[]): Objection[] {
  const rank = (o: Objection) => (o.overdue ? 0 : o.acceptanceOverdue ? 1 : 2);
  return items
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}

/** Every open objection (page after page), the overdue first. */
export async function listOpenObjections(client: HubClient, signal?: AbortSignal): Promise<Objection[]> {
  const items: Objection[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ status: 'open', limit: String(REVIEW_PAGE_MAX), ...(cursor ? { cursor } : {}) });
    const { body } = await client.request<{ items: Objection[]; next?: string }>('GET', `/v1/objections?${query}`, {
      action: { zh: '读取未处理的异议', en: 'reading the open objections' },
      hints: HINTS,
      ...(signal ? { signal } : {}),
    });
    if (!Array.isArray(body?.items) || !body.items.every(isObjection) || (body.next !== undefined && typeof body.next !== 'string')) {
      throw new CliError(`hub的应答无法识别 (unexpected answer to GET /v1/objections: ${JSON.stringify(body).slice(0, 200)})`);
    }
    items.push(...body.items);
    if (body.next === undefined) return overdueFirst(items);
    cursor = body.next;
  }
  throw new CliError(`异议页数过多 (more than ${MAX_PAGES} pages of objections: stopped)`);
}

/** An objection id as the hub gives them (obj_…); a usage error otherwise, before anything is sent. */
export function objectionId(text: string): string {
  if (!OBJECTION_ID_PATTERN.test(text)) throw new CliError(`异议标识格式不对 (not an objection id: ${JSON.stringify(text.slice(0, 80))}; obj_ and 26 characters, as hub objections list shows)`);
  return text;
}

/** Resolves the objection. Not sent again when no answer came: a second resolution is refused (409 objection_state). */
export async function resolveObjection(client: HubClient, id: string, outcome: ObjectionOutcome, note: string, signal?: AbortSignal): Promise<ObjectionResolved> {
  const { body } = await client.request<ObjectionResolved>('POST', `/v1/objections/${encodeURIComponent(id)}/resolve`, {
    action: { zh: `处理异议${id}`, en: `resolving objection ${id}` },
    json: { outcome, note },
    hints: {
      ...HINTS,
      400: 'outcome 即 --outcome, note 即 --note (outcome is --outcome, note is --note)',
      404: '没有这项异议 (no objection with this id: see hub objections list)',
      409: '该异议已处理 (already resolved: hub objections list shows the open ones)',
    },
    ...(signal ? { signal } : {}),
  });
  if (typeof body?.id !== 'string' || body.status !== 'resolved' || typeof body.recordVersion !== 'number') {
    throw new CliError(`hub的应答无法识别 (unexpected answer to resolving ${id}: ${JSON.stringify(body).slice(0, 200)})`);
  }
  return body;
}

function state(o: Objection): string {
  if (o.overdue) return '答复逾期 answer overdue';
  if (o.acceptanceOverdue) return '受理逾期 acceptance overdue';
  return '-';
}

/** The open objections for a person (stdout): the overdue first, the deadlines as the hub counts them. */
export function formatObjections(items: readonly Objection[]): string {
  if (items.length === 0) return '（没有未处理的异议 no open objections）\n';
  const overdue = items.filter((o) => o.overdue).length;
  const late = items.filter((o) => !o.overdue && o.acceptanceOverdue).length;
  let text = `未处理的异议 open objections ${items.length}, 答复逾期 answer overdue ${overdue}, 受理逾期 acceptance overdue ${late}\n`;
  text += `期限按中国工作日计算：受理${OBJECTION_ACCEPT_WORKING_DAYS}个工作日，答复${OBJECTION_ANSWER_WORKING_DAYS}个工作日 (deadlines in Chinese working days after filing: accept within ${OBJECTION_ACCEPT_WORKING_DAYS}, answer within ${OBJECTION_ANSWER_WORKING_DAYS})\n`;
  text += table(
    ['ID', '记录 record', '提出 filed', '受理期限 accept by', '答复期限 answer by', '状态 state', '联系方式 contact', '理由 reason'],
    items.map((o) => [o.id, o.recordId, timeCell(o.filedAt), cellText(o.acceptBy, 10), cellText(o.answerBy, 10), state(o), cellText(String(o.contact ?? ''), 60), cellText(String(o.reason ?? ''), 120)]),
  );
  return text;
}

const OUTCOMES: Record<ObjectionOutcome, string> = {
  upheld: '维持 upheld: 记录不变 (the record stands)',
  corrected: '更正 corrected: 记录仍公示，由数据源报送更正后的版本 (it stays published; its source pushes the corrected version)',
  revoked: '撤销 revoked: 公示已结束 (publication ended; the platforms are told to delete it)',
};

export function formatResolved(resolved: ObjectionResolved): string {
  return `异议 objection ${resolved.id}: 已处理 resolved — ${OUTCOMES[resolved.outcome] ?? resolved.outcome}; 记录版本 record version ${resolved.recordVersion}\n`;
}
