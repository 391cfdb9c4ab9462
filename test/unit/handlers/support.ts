/**
 * Shared set-up of the handler tests: the environment the handlers read
 * (set when this module is evaluated, so it must be imported before any
 * handler), the DynamoDB document-client mock, and builders of API Gateway v2
 * events, a Lambda context and mocked principals.
 *
 * Not a test file itself (vitest only collects *.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll } from 'vitest';
import type { RecordKind, SourceRole } from '../../../contracts/kinds.js';
import { environment, tables } from '../../../infra/catalogue.js';
import { hashApiKey } from '../../../shared/auth/api-keys.js';
import { ensureLocalKeys } from '../../../shared/crypto/local-keyring.js';
import type { KeyPrincipal, OperatorPrincipal } from '../../../shared/store/sources-store.js';

export const SOURCES_TABLE = 'test-sources';
export const RECORDS_TABLE = 'test-records';
export const THROTTLE_TABLE = 'test-throttle';
export const AUDIT_TABLE = 'test-audit';
export const DELIVERIES_TABLE = 'test-deliveries';
export const OPERATOR_KEY = 'hub_operator-key-for-unit-tests-0123456789abcdef';
export const DEPARTMENT_KEY = 'hub_department-key-for-unit-tests-0123456789';
export const OTHER_DEPARTMENT_KEY = 'hub_other-department-key-for-unit-tests-987';
export const SOURCE_USCC = '91110000600037341L';
export const OTHER_USCC = '121200004013590816';
export const KEY_DIR = mkdtempSync(join(tmpdir(), 'hub-handler-keys-'));
// Each test file that imports this module gets its own key folder, removed after the file.
afterAll(() => rmSync(KEY_DIR, { recursive: true, force: true }));

process.env[tables.sources.envVar] = SOURCES_TABLE;
process.env[tables.records.envVar] = RECORDS_TABLE;
process.env[tables.throttle.envVar] = THROTTLE_TABLE;
process.env[tables.audit.envVar] = AUDIT_TABLE;
process.env[tables.deliveries.envVar] = DELIVERIES_TABLE;
process.env.AWS_REGION = 'cn-north-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env[environment.localKeyDir] = KEY_DIR;
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
ensureLocalKeys(KEY_DIR);

/** One mock for the whole file: every handler's DynamoDB calls go through DynamoDBDocumentClient#send. */
export const ddb = mockClient(DynamoDBDocumentClient);

export const department: KeyPrincipal = {
  sourceId: 'shi-scjgj',
  name: '市市场监督管理局',
  uscc: SOURCE_USCC,
  role: 'department',
  kinds: ['license', 'penalty'],
};

export const otherDepartment: KeyPrincipal = {
  sourceId: 'shi-swj',
  name: '市商务局',
  uscc: OTHER_USCC,
  role: 'department',
  kinds: ['license'],
};

export function principal(overrides: Partial<KeyPrincipal> & { role?: SourceRole; kinds?: RecordKind[] } = {}): KeyPrincipal {
  return { ...department, ...overrides };
}

/** Makes `key` authenticate as `who` (GetCommand on KEY#<sha256 of key>); other keys are unknown. */
export function mockKey(key: string, who: KeyPrincipal | OperatorPrincipal): void {
  ddb.on(GetCommand, { TableName: SOURCES_TABLE, Key: { pk: `KEY#${hashApiKey(key)}`, sk: 'KEY' } }).resolves({
    Item: { pk: `KEY#${hashApiKey(key)}`, sk: 'KEY', ...who },
  });
}

/** Makes OPERATOR_KEY the operator's: its principal item, as `hub operator rotate-key` writes it. */
export function mockOperatorKey(): void {
  mockKey(OPERATOR_KEY, { role: 'operator' });
}

/**
 * Default for every GetCommand not matched more specifically: no item; and OPERATOR_KEY is the
 * operator's. The per-key counters (UpdateCommand on the throttle table) admit every request unless a
 * test says otherwise.
 */
export function mockNoItems(): void {
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand, { TableName: THROTTLE_TABLE }).resolves({});
  mockOperatorKey();
}

/** The per-key counter's UpdateCommands (one per authenticated request). */
export function throttleCalls() {
  return ddb.commandCalls(UpdateCommand, { TableName: THROTTLE_TABLE });
}

export interface EventOptions {
  pathParameters?: Record<string, string>;
  key?: string;
  headers?: Record<string, string>;
  body?: string | object;
  isBase64Encoded?: boolean;
  rawPath?: string;
  /** Query string parameters, as API Gateway passes them (repeated names joined with commas). */
  query?: Record<string, string>;
  sourceIp?: string;
  userAgent?: string;
  requestId?: string;
}

/** An API Gateway HTTP API (payload 2.0) event for `routeKey` ('POST /v1/submissions/{kind}'). */
export function apiEvent(routeKey: string, options: EventOptions = {}): APIGatewayProxyEventV2 {
  const [method, template] = routeKey === '$default' ? ['GET', '/nowhere'] : (routeKey.split(' ') as [string, string]);
  const rawPath = options.rawPath ?? template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(options.pathParameters?.[name] ?? ''));
  const headers: Record<string, string> = { host: 'hub.test', 'content-type': 'application/json', ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: options.query ? new URLSearchParams(options.query).toString() : '',
    headers,
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'unit',
      domainName: 'hub.test',
      domainPrefix: 'hub',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: options.sourceIp ?? '127.0.0.1', userAgent: options.userAgent ?? 'vitest' },
      requestId: options.requestId ?? 'req-1',
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

export function lambdaContext(name = 'credit-hub-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:cn-north-1:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'unit',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Response<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
  raw: string;
}

/** Invokes a middy-wrapped handler and parses its JSON answer. */
export async function invoke<T = any>(handler: Handler, event: APIGatewayProxyEventV2): Promise<Response<T>> {
  const result = await handler(event, lambdaContext());
  const raw = result.body ?? '';
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: result.statusCode ?? 200, headers, body: raw ? (JSON.parse(raw) as T) : (undefined as T), raw };
}

/** Asserts API.md's error shape and returns the error object. */
export function errorOf(res: Response): { code: string; message: string; details: { field: string; message: string }[] } {
  const body = res.body as { error?: { code: unknown; message: unknown; details: unknown } };
  if (!body?.error || typeof body.error.code !== 'string' || typeof body.error.message !== 'string' || !Array.isArray(body.error.details)) {
    throw new Error(`not the API error shape: ${res.raw}`);
  }
  return body.error as ReturnType<typeof errorOf>;
}

/** Every input the mock received for one command class, serialized (to search for secrets). */
export function sentInputs(command: abstract new (...args: any[]) => unknown): string {
  return JSON.stringify(ddb.commandCalls(command as never).map((c) => c.args[0].input));
}

export function allSentInputs(): string {
  return JSON.stringify(ddb.calls().map((c) => (c.args[0] as { input: unknown }).input));
}
