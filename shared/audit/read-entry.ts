/**
 * What the audit keeps of a read that disclosed identity numbers in full:
 * who (the source id or `operator`, and the role), which record, when, from
 * where (client IP, User-Agent cut short, API Gateway's request id).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AuditRead } from '../../contracts/audit.js';
import { principalName, type Principal } from '../auth/authenticate.js';
import { shorten } from '../domain/text.js';

/** How much of the User-Agent header is kept. */
export const USER_AGENT_MAX = 200;

export function readEntry(event: APIGatewayProxyEventV2, principal: Principal, recordId: string, at: Date): AuditRead {
  const http = event.requestContext?.http;
  return {
    recordId,
    reader: principalName(principal),
    readerRole: principal.role,
    at: at.toISOString(),
    route: event.routeKey,
    sourceIp: http?.sourceIp ?? '',
    userAgent: shorten(http?.userAgent ?? '', USER_AGENT_MAX),
    requestId: event.requestContext?.requestId ?? '',
  };
}
