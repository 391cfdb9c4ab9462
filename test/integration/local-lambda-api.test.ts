/**
 * The local Lambda Invoke API (infra/local/lambda-api.ts) through the real @aws-sdk/client-lambda, as
 * a handler calls it with AWS_ENDPOINT_URL_LAMBDA pointing at the local stack: synchronous invocations
 * answer the function's result or its error; asynchronous ones are accepted at once and run in the
 * local Lambda runtime with Lambda's retries.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvokeCommand, LambdaClient, ResourceNotFoundException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFunctionName } from '../../infra/catalogue.js';
import { asyncInvocations } from '../../infra/local/lambda-async.js';
import { startLambdaApi, type LambdaApi } from '../../infra/local/lambda-api.js';
import { workerInvoker, type FunctionInvoker, type InvokeOutcome } from '../../infra/local/lambda-runtime.js';
import { awsClientConfig } from '../../shared/aws/client-config.js';

const probe = resolve(import.meta.dirname, '../support/lambda-handlers/probe.ts');
const dir = mkdtempSync(join(tmpdir(), 'hub-lambda-api-'));
const logged: string[] = [];
const runtime = workerInvoker({
  log: (line) => logged.push(line),
  functions: {
    probe: { entry: probe, memoryMb: 128, timeoutSeconds: 5 },
    slow: { entry: probe, memoryMb: 128, timeoutSeconds: 1 },
  },
});
const attempts: { fn: string; requestId: string; event: unknown; outcome: InvokeOutcome }[] = [];
const recording: FunctionInvoker = {
  invoke: async (fn, event, requestId) => {
    const outcome = await runtime.invoke(fn, event, requestId);
    attempts.push({ fn, requestId, event, outcome });
    return outcome;
  },
  close: () => runtime.close(),
};
const invocations = asyncInvocations({ invoker: recording, retryDelaysMs: [100, 200], log: (line) => logged.push(line) });

let api: LambdaApi;
let client: LambdaClient;

beforeAll(async () => {
  api = await startLambdaApi({ invoker: recording, async: invocations, functionNames: ['probe', 'slow'] });
  // As a handler builds it (shared/aws/clients.ts): the endpoint from the environment, here given directly.
  client = new LambdaClient(awsClientConfig({ endpoint: api.endpoint, region: 'cn-north-1', credentials: { accessKeyId: 'HUBTESTKEY0000000', secretAccessKey: 'x' } }));
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
  invocations.close();
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

const payload = (event: unknown) => new TextEncoder().encode(JSON.stringify(event));
const parsed = (out: InvokeCommandOutput) => JSON.parse(new TextDecoder().decode(out.Payload)) as Record<string, unknown>;

describe('local Lambda Invoke API', () => {
  it('listens on 127.0.0.1', () => {
    expect(api.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('RequestResponse: answers 200 with the function’s result, run in its own execution environment', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), Payload: payload({}) }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(parsed(out)).toMatchObject({ functionName: 'credit-hub-probe', contextName: 'credit-hub-probe' });
  });

  it('accepts the function’s ARN and the $LATEST qualifier', async () => {
    const arn = `arn:aws-cn:lambda:cn-north-1:123456789012:function:${localFunctionName('probe')}`;
    expect((await client.send(new InvokeCommand({ FunctionName: arn, Payload: payload({}) }))).StatusCode).toBe(200);
    expect((await client.send(new InvokeCommand({ FunctionName: `${arn}:$LATEST`, Payload: payload({}) }))).StatusCode).toBe(200);
    expect((await client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), Qualifier: '$LATEST', Payload: payload({}) }))).StatusCode).toBe(200);
  });

  it('RequestResponse: a function error is a 200 with X-Amz-Function-Error and the error as the payload', async () => {
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), Payload: payload({ fail: 'boom' }) }));
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBe('Unhandled');
      expect(parsed(out)).toMatchObject({ errorType: 'Error', errorMessage: 'boom' });
    } finally {
      process.stderr.write = stderr;
    }
  });

  it('RequestResponse: a timeout is a function error naming it', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('slow'), Payload: payload({ sleepMs: 1500 }) }));
    expect(out.FunctionError).toBe('Unhandled');
    expect(parsed(out)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 1.00 seconds') });
  });

  it('Event: answers 202 at once and runs the function asynchronously with the payload', async () => {
    const file = join(dir, 'event.txt');
    attempts.length = 0;
    const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), InvocationType: 'Event', Payload: payload({ sleepMs: 500, writeFile: file }) }));
    expect(out.StatusCode).toBe(202);
    // Answered before the function wrote its file: the call did not wait for the function.
    expect(existsSync(file)).toBe(false);
    await invocations.idle();
    expect(readFileSync(file, 'utf8')).toMatch(/^written by \d+\n$/);
    expect(attempts).toEqual([expect.objectContaining({ fn: 'probe', event: { sleepMs: 500, writeFile: file }, outcome: expect.objectContaining({ status: 'ok' }) })]);
  });

  it('Event: a failing function is tried twice more after a delay, with the same request id, then the event is dropped and logged', async () => {
    attempts.length = 0;
    logged.length = 0;
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), InvocationType: 'Event', Payload: payload({ fail: 'still broken' }) }));
      expect(out.StatusCode).toBe(202);
      await invocations.idle();
    } finally {
      process.stderr.write = stderr;
    }
    expect(attempts.map((a) => a.outcome.status)).toEqual(['error', 'error', 'error']);
    expect(new Set(attempts.map((a) => a.requestId)).size).toBe(1);
    expect(logged.filter((l) => l.includes('retrying in'))).toHaveLength(2);
    expect(logged.at(-1)).toMatch(new RegExp(`credit-hub-probe ${attempts[0]!.requestId} async invocation \\(Invoke API\\) dropped after 3 attempts: Error: still broken`));
  });

  it('Event: a timed-out invocation is retried as well', async () => {
    attempts.length = 0;
    await client.send(new InvokeCommand({ FunctionName: localFunctionName('slow'), InvocationType: 'Event', Payload: payload({ sleepMs: 1500 }) }));
    await invocations.idle();
    expect(attempts.map((a) => a.outcome.status)).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('DryRun: 204 and nothing runs', async () => {
    attempts.length = 0;
    const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), InvocationType: 'DryRun', Payload: payload({}) }));
    expect(out.StatusCode).toBe(204);
    expect(attempts).toEqual([]);
  });

  it('answers ResourceNotFoundException for a function that does not exist or another qualifier', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'credit-hub-nothing', Payload: payload({}) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    // The catalogue name alone is not the function's name.
    await expect(client.send(new InvokeCommand({ FunctionName: 'probe', Payload: payload({}) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), Qualifier: '3', Payload: payload({}) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses a payload that is not JSON, and one over the 1 MB of an asynchronous invocation', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), Payload: new TextEncoder().encode('{not json') }))).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
    });
    const big = payload({ pad: 'x'.repeat(1024 * 1024) });
    await expect(client.send(new InvokeCommand({ FunctionName: localFunctionName('probe'), InvocationType: 'Event', Payload: big }))).rejects.toMatchObject({
      name: 'RequestTooLargeException',
    });
  });
});
