/**
 * Which failures of AWS dependencies are "unavailable for now" (503 with
 * Retry-After) and which are faults (500): the errors the real SDK clients
 * throw, after their own retries, against local servers that refuse, hang up,
 * never answer, throttle or fail; and the shapes Node gives the failures that
 * cannot be produced on this machine on demand (DNS, EPIPE, a connect
 * timeout).
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, functions } from '../../infra/catalogue.js';
import { freePort } from '../../infra/local/dynamodb-local.js';
import { awsClientConfig, CONNECTION_TIMEOUT_MS, dynamoClientConfig, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from '../../shared/aws/client-config.js';
import { dynamo } from '../../shared/aws/clients.js';
import { isDependencyUnavailable, unavailableReason } from '../../shared/aws/errors.js';
import { errorResponse } from '../../shared/http/middleware.js';
import { PROBE_ATTEMPTS, PROBE_REQUEST_TIMEOUT_MS } from '../../shared/store/store-probe.js';

const region = 'cn-north-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

async function listen<S extends Server | TcpServer>(server: S): Promise<{ server: S; endpoint: string }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const servers: (Server | TcpServer)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** An AWS JSON-protocol endpoint that answers every request with this error. */
async function failingEndpoint(status: number, type: string, contentType = 'application/x-amz-json-1.0'): Promise<string> {
  const { server, endpoint } = await listen(
    createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': contentType, 'x-amzn-errortype': type, 'x-amzn-requestid': 'req' });
        res.end(JSON.stringify({ __type: type, message: `${type} from the test server` }));
      });
    }),
  );
  servers.push(server);
  return endpoint;
}

async function thrown(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

const getItem = new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } });
/** A DynamoDB client as the hub builds it, pointed at `endpoint`, with fewer attempts to keep the tests short. */
const dynamoAt = (endpoint: string, maxAttempts = 2) => new DynamoDBClient(dynamoClientConfig({ endpoint, region, credentials, maxAttempts }));

function expect503(error: unknown) {
  const res = errorResponse(error);
  expect(res.statusCode).toBe(503);
  expect(res.headers?.['retry-after']).toBe(String(api.retryAfterSeconds));
  expect(JSON.parse(res.body!)).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('(temporarily unavailable'), details: [] } });
}

function expect500(error: unknown) {
  const res = errorResponse(error);
  expect(res.statusCode).toBe(500);
  expect(res.headers?.['retry-after']).toBeUndefined();
  expect(JSON.parse(res.body!).error.code).toBe('internal');
}

describe('the hub’s DynamoDB client (shared/aws/clients.ts) against a closed port', () => {
  let previous: string | undefined;
  beforeAll(async () => {
    previous = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${await freePort()}`;
    process.env.AWS_REGION ??= region;
    process.env.AWS_ACCESS_KEY_ID ??= credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= credentials.secretAccessKey;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    else process.env.AWS_ENDPOINT_URL_DYNAMODB = previous;
    dynamo().destroy();
  });

  it('fails fast with ECONNREFUSED after its retries, classified as a connection failure → 503 with Retry-After', async () => {
    const error = await thrown(dynamo().send(new GetCommand({ TableName: 'hub-sources', Key: { pk: 'x', sk: 'y' } })));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.$metadata.attempts).toBe(MAX_ATTEMPTS);
    expect(unavailableReason(error)).toBe('connection');
    expect503(error);
  });

  it('has connection and request timeouts that throw (the handler’s resolved configuration)', () => {
    const handler = dynamo().config.requestHandler as unknown as { httpHandlerConfigs(): Record<string, unknown> };
    expect(handler.httpHandlerConfigs()).toMatchObject({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true });
  });
});

describe('timeouts and retries (shared/aws/client-config.ts)', () => {
  // Every attempt waits at most its request timeout; the SDK's back-off between attempts stays well under a second in all.
  const BACKOFF_ALLOWANCE_MS = 1_000;

  it('gives up on a hung store before the shortest timeout of any function that uses a table with the hub’s client', () => {
    const users = Object.entries(functions).filter(([name, f]) => name !== 'health' && Object.keys(f.tables).length > 0);
    expect(users.length).toBeGreaterThan(0);
    const shortest = Math.min(...users.map(([, f]) => f.timeoutSeconds * 1000));
    expect(MAX_ATTEMPTS * REQUEST_TIMEOUT_MS + BACKOFF_ALLOWANCE_MS).toBeLessThan(shortest);
    expect(CONNECTION_TIMEOUT_MS).toBeLessThanOrEqual(1_000);
  });

  it('lets the health probe answer within the health function’s timeout', () => {
    expect(PROBE_ATTEMPTS * PROBE_REQUEST_TIMEOUT_MS + BACKOFF_ALLOWANCE_MS).toBeLessThan(functions.health.timeoutSeconds * 1000);
  });

  it('turns a request the store never answers into a TimeoutError instead of waiting (throwOnRequestTimeout)', async () => {
    const { server, endpoint } = await listen(createServer(() => undefined));
    servers.push(server);
    const client = dynamoAt(endpoint);
    // The configured request timeout, shortened for the test: the handler's throwOnRequestTimeout decides that it throws
    // (without it the SDK would only warn and wait for ever, and this test would run into vitest's timeout).
    const error = await thrown(client.send(getItem, { requestTimeout: 200 }));
    client.destroy();
    expect(error.name).toBe('TimeoutError');
    expect(unavailableReason(error)).toBe('timeout');
    expect503(error);
  });

  it('the KMS client gets the same options', () => {
    expect(awsClientConfig({ region })).toEqual({ region, maxAttempts: MAX_ATTEMPTS, requestHandler: dynamoClientConfig().requestHandler });
  });
});

describe('connection failures', () => {
  it('a store that hangs up on every request (socket hang up) → connection', async () => {
    const { server, endpoint } = await listen(createTcpServer((socket) => socket.destroy()));
    servers.push(server);
    const client = dynamoAt(endpoint);
    const error = await thrown(client.send(getItem));
    client.destroy();
    expect(error.code).toBe('ECONNRESET');
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    expect(unavailableReason(error)).toBe('connection');
    expect503(error);
  });

  // The shapes Node's http client and the SDK's HTTP handler give these failures (with the SDK's $metadata added after its retries).
  const nodeError = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), { $metadata: { attempts: 3, totalRetryDelay: 120 } }, props);
  it.each([
    ['a DNS name that does not resolve', nodeError('getaddrinfo ENOTFOUND dynamodb.cn-north-1.amazonaws.com.cn', { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo' }), 'connection'],
    ['a DNS server that does not answer', nodeError('getaddrinfo EAI_AGAIN dynamodb.cn-north-1.amazonaws.com.cn', { code: 'EAI_AGAIN', errno: -3001, syscall: 'getaddrinfo' }), 'connection'],
    ['a connection closed while writing', nodeError('write EPIPE', { code: 'EPIPE', errno: -32, syscall: 'write' }), 'connection'],
    ['a connection reset', nodeError('read ECONNRESET', { code: 'ECONNRESET', errno: -104, syscall: 'read' }), 'connection'],
    ['no route to the host', nodeError('connect EHOSTUNREACH 10.0.0.1:443', { code: 'EHOSTUNREACH', syscall: 'connect' }), 'connection'],
    ['the network unreachable', nodeError('connect ENETUNREACH 10.0.0.1:443', { code: 'ENETUNREACH', syscall: 'connect' }), 'connection'],
    ['a TCP connect that timed out in the kernel', nodeError('connect ETIMEDOUT 10.0.0.1:443', { code: 'ETIMEDOUT', name: 'TimeoutError', syscall: 'connect' }), 'timeout'],
    [
      'the SDK’s connection timeout',
      nodeError('@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 1000 ms.', { name: 'TimeoutError' }),
      'timeout',
    ],
    ['the SDK’s socket timeout', nodeError('@smithy/node-http-handler - the request socket timed out after 3000 ms of inactivity', { name: 'TimeoutError' }), 'timeout'],
  ])('%s → %s', (_what, error, reason) => {
    expect(unavailableReason(error)).toBe(reason);
    expect503(error);
  });
});

describe('what the services answer (real SDK clients, after their retries)', () => {
  it.each([
    [400, 'ThrottlingException', 'throttling'],
    [400, 'ProvisionedThroughputExceededException', 'throttling'],
    [400, 'RequestLimitExceeded', 'throttling'],
    [500, 'InternalServerError', 'server'],
    [503, 'ServiceUnavailable', 'server'],
  ])('DynamoDB %i %s → %s → 503', async (status, type, reason) => {
    const client = dynamoAt(await failingEndpoint(status, `com.amazonaws.dynamodb.v20120810#${type}`), 1);
    const error = await thrown(client.send(getItem));
    client.destroy();
    expect(error.name).toBe(type);
    expect(unavailableReason(error)).toBe(reason);
    expect503(error);
  });

  it.each([
    [400, 'ValidationException'],
    [400, 'ResourceNotFoundException'],
    [400, 'AccessDeniedException'],
    [400, 'ConditionalCheckFailedException'],
  ])('DynamoDB %i %s is a fault, not unavailability → 500', async (status, type) => {
    const client = dynamoAt(await failingEndpoint(status, `com.amazonaws.dynamodb.v20120810#${type}`), 1);
    const error = await thrown(client.send(getItem));
    client.destroy();
    expect(error.name).toBe(type);
    expect(isDependencyUnavailable(error)).toBe(false);
    expect500(error);
  });

  it('retries throttling itself before giving up (the error says how many attempts)', async () => {
    const client = dynamoAt(await failingEndpoint(400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException'), 2);
    const error = await thrown(client.send(getItem));
    client.destroy();
    expect(error.$metadata.attempts).toBe(2);
    expect(unavailableReason(error)).toBe('throttling');
  });

  const kmsAt = (endpoint: string) => new KMSClient(awsClientConfig({ endpoint, region, credentials, maxAttempts: 1 }));
  it.each([
    [400, 'ThrottlingException', 'throttling'],
    [400, 'LimitExceededException', 'throttling'],
    [500, 'KMSInternalException', 'server'],
    [503, 'DependencyTimeoutException', 'server'],
    [400, 'DisabledException', undefined],
    [400, 'AccessDeniedException', undefined],
  ])('KMS %i %s → %s', async (status, type, reason) => {
    const client = kmsAt(await failingEndpoint(status, type, 'application/x-amz-json-1.1'));
    const error = await thrown(client.send(new GenerateDataKeyCommand({ KeyId: 'alias/x', KeySpec: 'AES_256' })));
    client.destroy();
    expect(error.name).toBe(type);
    expect(unavailableReason(error)).toBe(reason);
    if (reason) expect503(error);
    else expect500(error);
  });

});

describe('other errors', () => {
  it('looks through a library’s wrapper to its cause (Powertools Idempotency wraps its store’s errors)', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
    const wrapped = new Error('Failed to save in progress record to idempotency store', { cause });
    expect(unavailableReason(wrapped)).toBe('connection');
    expect503(wrapped);
  });

  it('does not treat an abort (the caller’s own deadline) as the dependency failing', () => {
    const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError', $metadata: { attempts: 1 } });
    expect(unavailableReason(abort)).toBeUndefined();
  });

  it.each([null, undefined, 'ECONNREFUSED', 42, new Error('a bug'), new TypeError('x is not a function'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }])(
    '%s is not unavailability → 500',
    (error) => {
      expect(isDependencyUnavailable(error)).toBe(false);
      expect500(error);
    },
  );
});
