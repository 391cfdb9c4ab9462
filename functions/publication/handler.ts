/**
 * Review and repair (API.md "Review, objections, repair"), for the operator:
 * - GET /v1/publication-policy, PUT /v1/publication-policy: what is approved on arrival (shared/publication/policy.ts);
 * - GET /v1/reviews: the records waiting for review, oldest first (the sparse index `publicationQueue`), paged;
 * - POST /v1/records/{id}/approve {note?}, /withhold {reason}, /repair {reason}: decisions
 *   (shared/publication/decisions.ts), each a new version of the record that reaches the upward platforms.
 * Thin: the rules are in shared/publication/, the clock is injected (tests: repair dates).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { approveSchema, publicationPolicySchema, repairSchema, reviewsQuerySchema, REVIEW_PAGE_DEFAULT, withholdSchema } from '../../contracts/publication.js';
import { RECORD_ID_PATTERN } from '../../contracts/record-id.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { dynamo } from '../../shared/aws/clients.js';
import { tableName } from '../../shared/config.js';
import { authDeps, policyStore } from '../../shared/deps.js';
import { todayInChina } from '../../shared/domain/dates.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { logger } from '../../shared/logger.js';
import { approve, repair, withhold, type DecisionContext, type Outcome } from '../../shared/publication/decisions.js';
import { decideOnRecord, DynamoDecisionsStore, type DecisionsStore } from '../../shared/publication/decisions-store.js';
import type { PolicyStore } from '../../shared/publication/policy-store.js';
import { decisionBody, decodePosition, encodePosition, queryOf, refusedDecision } from '../../shared/publication/request.js';

export interface PublicationDeps {
  decisions: DecisionsStore;
  policy: PolicyStore;
  now: () => Date;
}

let decisions: DynamoDecisionsStore | undefined;
export function defaultDeps(): PublicationDeps {
  decisions ??= new DynamoDecisionsStore(dynamo(), tableName('records'));
  return { decisions, policy: policyStore(), now: () => new Date() };
}

const NAME_FIELDS = ['XK_XDR_MC', 'CF_XDR_MC', 'iname'];

/** A record waiting for review, as the queue lists it (identity numbers never: only the name and the document). */
export function reviewItem(head: StoredHead) {
  const name = NAME_FIELDS.map((f) => head.fields[f]).find((v) => v !== undefined);
  return {
    id: head.id,
    kind: head.kind,
    source: head.sourceId,
    version: head.version,
    ...(name !== undefined ? { name } : {}),
    document: head.identity,
    decisionDate: head.decisionDate,
    ...(head.publication.grade ? { grade: head.publication.grade } : {}),
    from: head.publication.from,
    ...(head.publication.until ? { until: head.publication.until } : {}),
    waitingSince: head.publicationQueueKey ?? head.receivedAt,
    underObjection: head.objection !== undefined,
  };
}

export function decisionResult(head: StoredHead) {
  const { state, from, minUntil, until, endedOn, endReason } = head.publication;
  return {
    id: head.id,
    version: head.version,
    publication: { state, from, ...(minUntil ? { minUntil } : {}), ...(until ? { until } : {}), ...(endedOn ? { endedOn } : {}), ...(endReason ? { endReason } : {}) },
  };
}

async function decide(event: APIGatewayProxyEventV2, deps: PublicationDeps, make: (head: StoredHead, ctx: DecisionContext) => Outcome) {
  const id = event.pathParameters?.id ?? '';
  if (!RECORD_ID_PATTERN.test(id)) throw notFound('没有这条记录 (unknown record id)');
  const now = deps.now();
  const ctx: DecisionContext = { by: 'operator', at: now.toISOString(), today: todayInChina(now) };
  const result = await decideOnRecord(deps.decisions, id, (head) => make(head, ctx));
  if (result.status !== 'written') refusedDecision(result);
  logger.appendKeys({ recordId: id, decision: event.routeKey.split('/').pop(), state: result.head.publication.state, version: result.head.version });
  return json(200, decisionResult(result.head));
}

export function publicationHandler(makeDeps: () => PublicationDeps) {
  return httpHandler(async (event) => {
    requireRole(await authenticate(event, authDeps()), ['operator']);
    const deps = makeDeps();
    switch (event.routeKey) {
      case 'GET /v1/publication-policy':
        return json(200, await deps.policy.get());
      case 'PUT /v1/publication-policy': {
        const body = decisionBody(event, publicationPolicySchema);
        const policy = { approvedOnArrival: body.approvedOnArrival, updatedBy: 'operator', updatedAt: deps.now().toISOString() };
        await deps.policy.put(policy);
        logger.appendKeys({ policy: { kinds: policy.approvedOnArrival.kinds, sources: policy.approvedOnArrival.sources.length } });
        return json(200, policy);
      }
      case 'GET /v1/reviews': {
        const query = queryOf(event, reviewsQuerySchema);
        const page = await deps.decisions.queue('review', query.limit ?? REVIEW_PAGE_DEFAULT, decodePosition('reviews', query.cursor));
        return json(200, { items: page.heads.map(reviewItem), ...(page.next ? { next: encodePosition('reviews', page.next) } : {}) });
      }
      case 'POST /v1/records/{id}/approve': {
        const body = decisionBody(event, approveSchema);
        return decide(event, deps, (head, ctx) => approve(head, ctx, body.note));
      }
      case 'POST /v1/records/{id}/withhold': {
        const body = decisionBody(event, withholdSchema);
        return decide(event, deps, (head, ctx) => withhold(head, ctx, body.reason));
      }
      case 'POST /v1/records/{id}/repair': {
        const body = decisionBody(event, repairSchema);
        return decide(event, deps, (head, ctx) => repair(head, ctx, body.reason));
      }
      default:
        throw notFound(`没有这个接口 (no route ${event.routeKey})`, 'no_route');
    }
  });
}

export const handler = publicationHandler(defaultDeps);
