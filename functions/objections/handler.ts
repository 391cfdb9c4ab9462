/**
 * Objections (异议, API.md "Review, objections, repair"):
 * - POST /v1/objections, with no key (the subject or the public): {recordId, reason, contact} → 202 {objectionId}.
 *   Limited per client (its IP address: shared/publication/client-limit.ts) before anything else is read. Only a
 *   record published on the site today can be objected to: any other id is 404, exactly as an unknown one (record
 *   ids are derived from public facts: nothing is learnt about records that are not public). The contact is
 *   encrypted before it is stored and never logged; the record is marked 异议处理中 in the same transaction.
 * - GET /v1/objections?status=open (operator): the open objections, oldest first (the earliest deadlines, so the
 *   overdue first), with their deadlines in Chinese working days and the contact decrypted.
 * - POST /v1/objections/{id}/resolve {outcome, note} (operator): upheld (the record stands), corrected (it stays
 *   published; its source pushes the corrected version) or revoked (publication ends: the platforms are told to
 *   delete it). The mark goes with the last open objection.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  objectionSchema,
  objectionsQuerySchema,
  OBJECTION_ID_PATTERN,
  resolveObjectionSchema,
  REVIEW_PAGE_DEFAULT,
} from '../../contracts/publication.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { dynamo } from '../../shared/aws/clients.js';
import { fieldCipher, tableName } from '../../shared/config.js';
import type { FieldCipher } from '../../shared/crypto/field-cipher.js';
import { authDeps, throttleStore } from '../../shared/deps.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { isPublishedOn } from '../../shared/domain/publication.js';
import type { StoredHead } from '../../shared/domain/record-model.js';
import { conflict, notFound } from '../../shared/http/errors.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { logger } from '../../shared/logger.js';
import { admitClient } from '../../shared/publication/client-limit.js';
import { clearObjection, markObjection, revoke, type DecisionContext, type Outcome } from '../../shared/publication/decisions.js';
import { decideOnRecord, DynamoDecisionsStore, type DecisionsStore } from '../../shared/publication/decisions-store.js';
import { contactContext, newObjection, newObjectionId, objectionView } from '../../shared/publication/objection-model.js';
import { DynamoObjectionsStore } from '../../shared/publication/objections-store.js';
import { decisionBody, decodePosition, encodePosition, queryOf } from '../../shared/publication/request.js';
import type { ThrottleStore } from '../../shared/store/throttle-store.js';

export interface ObjectionsDeps {
  decisions: DecisionsStore;
  objections: DynamoObjectionsStore;
  throttle: ThrottleStore;
  cipher: () => Promise<FieldCipher>;
  now: () => Date;
}

let stores: { decisions: DynamoDecisionsStore; objections: DynamoObjectionsStore } | undefined;
export function defaultDeps(): ObjectionsDeps {
  stores ??= { decisions: new DynamoDecisionsStore(dynamo(), tableName('records')), objections: new DynamoObjectionsStore(dynamo(), tableName('objections')) };
  return { ...stores, throttle: throttleStore(), cipher: fieldCipher, now: () => new Date() };
}

const UNKNOWN_RECORD = '没有这条公示中的记录 (no record with this id is published)';

/** What resolving does to the record: one objection fewer open and, when revoked, publication ended. */
export function resolvedHead(head: StoredHead, outcome: 'upheld' | 'corrected' | 'revoked', ctx: DecisionContext, note: string): Outcome {
  const cleared = clearObjection(head, ctx.at);
  if (outcome !== 'revoked') return { head: cleared };
  // One new version for both changes: the revocation is decided on the head with the mark cleared.
  const revoked = revoke({ ...cleared, version: head.version }, ctx, note);
  return { head: revoked.version === head.version ? cleared : revoked };
}

async function file(event: APIGatewayProxyEventV2, deps: ObjectionsDeps) {
  const now = deps.now();
  await admitClient(deps.throttle, event.requestContext?.http?.sourceIp ?? 'unknown', now.getTime());
  const body = decisionBody(event, objectionSchema);
  const today = todayInChina(now);
  const id = newObjectionId();
  const contactCipher = await (await deps.cipher()).encrypt(body.contact, contactContext(id));
  const objection = newObjection({ id, recordId: body.recordId, reason: body.reason, contactCipher, now });
  const result = await decideOnRecord(
    deps.decisions,
    body.recordId,
    (head) => (isPublishedOn(head.publication, today) ? { head: markObjection(head, objection.filedAt) } : { refused: 'publication_state', message: UNKNOWN_RECORD }),
    () => [deps.objections.filing(objection)],
  );
  if (result.status !== 'written') throw notFound(UNKNOWN_RECORD);
  // Never the contact nor the reason: ids only.
  logger.appendKeys({ objectionId: id, recordId: body.recordId });
  return json(202, { objectionId: id });
}

async function resolve(event: APIGatewayProxyEventV2, deps: ObjectionsDeps) {
  const id = event.pathParameters?.id ?? '';
  const objection = OBJECTION_ID_PATTERN.test(id) ? await deps.objections.get(id) : undefined;
  if (!objection) throw notFound('没有这项异议 (unknown objection id)');
  const body = decisionBody(event, resolveObjectionSchema);
  const already = () => conflict('该异议已处理 (the objection is already resolved)', 'objection_state');
  if (objection.status !== 'open') throw already();
  const now = deps.now();
  const ctx: DecisionContext = { by: 'operator', at: now.toISOString(), today: todayInChina(now) };
  const result = await decideOnRecord(
    deps.decisions,
    objection.recordId,
    (head) => resolvedHead(head, body.outcome, ctx, body.note),
    () => [deps.objections.resolution(id, body.outcome, body.note, ctx.by, ctx.at)],
  );
  if (result.status === 'other-failed') throw already();
  if (result.status !== 'written') throw new Error(`objection ${id}: its record ${objection.recordId} could not be updated (${result.status})`);
  logger.appendKeys({ objectionId: id, recordId: objection.recordId, outcome: body.outcome, state: result.head.publication.state });
  return json(200, { id, status: 'resolved', outcome: body.outcome, recordVersion: result.head.version });
}

async function listOpen(event: APIGatewayProxyEventV2, deps: ObjectionsDeps) {
  const query = queryOf(event, objectionsQuerySchema);
  const after = decodePosition('objections', query.cursor);
  const page = await deps.objections.listOpen(query.limit ?? REVIEW_PAGE_DEFAULT, after ? { id: after.id, filedAt: after.key } : undefined);
  const cipher = page.items.length > 0 ? await deps.cipher() : undefined;
  const today = todayInChina(deps.now());
  const items = await Promise.all(page.items.map(async (o) => objectionView(o, await cipher!.decrypt(o.contactCipher, contactContext(o.id)), today)));
  return json(200, { items, ...(page.next ? { next: encodePosition('objections', { id: page.next.id, key: page.next.filedAt }) } : {}) });
}

export function objectionsHandler(makeDeps: () => ObjectionsDeps) {
  return httpHandler(async (event) => {
    if (event.routeKey === 'POST /v1/objections') return file(event, makeDeps());
    requireRole(await authenticate(event, authDeps()), ['operator']);
    const deps = makeDeps();
    switch (event.routeKey) {
      case 'GET /v1/objections':
        return listOpen(event, deps);
      case 'POST /v1/objections/{id}/resolve':
        return resolve(event, deps);
      default:
        throw notFound(`没有这个接口 (no route ${event.routeKey})`, 'no_route');
    }
  });
}

export const handler = objectionsHandler(defaultDeps);
