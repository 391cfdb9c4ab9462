/**
 * `hub reviews list` (the credit office, with the operator key): the records waiting for review
 * (GET /v1/reviews, API.md "Review, objections, repair"), oldest first: one page, or every page following the
 * cursor. An item carries the subject's name and the document number, never an identity number.
 */
import { REVIEW_PAGE_DEFAULT, REVIEW_PAGE_MAX } from '../contracts/publication.js';
import { CliError } from './errors.js';
import type { HubClient } from './http-client.js';
import { table } from './sources.js';
import { cellText, timeCell } from './terminal-text.js';

export { REVIEW_PAGE_DEFAULT, REVIEW_PAGE_MAX };

export interface ReviewItem {
  id: string;
  kind: string;
  source: string;
  version: number;
  name?: string;
  document: string;
  decisionDate: string;
  grade?: string;
  from: string;
  until?: string;
  waitingSince: string;
  underObjection: boolean;
}

export interface ReviewsPage {
  items: ReviewItem[];
  /** The cursor of the next page; absent at the end (always absent after `all`). */
  next?: string;
}

export interface ListReviewsOptions {
  /** Records per request, 1 to REVIEW_PAGE_MAX. */
  limit: number;
  /** Every page (following `next`), not only the first. */
  all: boolean;
  /** Start after the page whose `next` this is. */
  cursor?: string;
  signal?: AbortSignal;
}

/** The most pages read with `all` before giving up (a hub that never ends its list). */
export const MAX_PAGES = 10_000;

export const operatorHints = (what: { zh: string; en: string }) => ({
  403: `${what.zh}需要运营方密钥 (${what.en} needs the operator key)`,
});

function isItem(item: unknown): item is ReviewItem {
  const i = item as ReviewItem;
  return typeof i === 'object' && i !== null && typeof i.id === 'string' && typeof i.kind === 'string' && typeof i.source === 'string' && typeof i.waitingSince === 'string';
}

/** The records waiting for review, oldest first: the first page (from `cursor`), or with `all` every page. */
export async function listReviews(client: HubClient, options: ListReviewsOptions): Promise<ReviewsPage> {
  const items: ReviewItem[] = [];
  let cursor = options.cursor;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ limit: String(options.limit), ...(cursor ? { cursor } : {}) });
    const { body } = await client.request<ReviewsPage>('GET', `/v1/reviews?${query}`, {
      action: { zh: '读取待审核记录', en: 'reading the review queue' },
      hints: { ...operatorHints({ zh: '审核队列', en: 'the review queue' }), 400: '请检查 --limit 和 --cursor (check --limit and --cursor)' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!Array.isArray(body?.items) || !body.items.every(isItem) || (body.next !== undefined && typeof body.next !== 'string')) {
      throw new CliError(`hub的应答无法识别 (unexpected answer to GET /v1/reviews: ${JSON.stringify(body).slice(0, 200)})`);
    }
    items.push(...body.items);
    if (body.next === undefined) return { items };
    if (!options.all) return { items, next: body.next };
    cursor = body.next;
  }
  throw new CliError(`待审核记录页数过多 (more than ${MAX_PAGES} pages of the review queue: stopped)`);
}

/** The queue for a person (stdout): id, kind, source, since when, the document; a line saying there is more. */
export function formatReviews(page: ReviewsPage): string {
  if (page.items.length === 0) return '（没有待审核的记录 nothing waits for review）\n';
  return table(
    ['ID', '种类 kind', '数据源 source', '等待自 waiting since', '异议 objection', '文书号 document'],
    page.items.map((i) => [i.id, i.kind, cellText(i.source, 64), timeCell(i.waitingSince), i.underObjection ? '异议处理中 open' : '-', cellText(i.document, 80)]),
  );
}

/** What to say on stderr when the list stopped at a page. */
export function moreNotice(page: ReviewsPage): string | undefined {
  if (page.next === undefined) return undefined;
  return `hub: 还有更多待审核的记录 (more records wait for review: hub reviews list --all, or --cursor ${page.next})`;
}
