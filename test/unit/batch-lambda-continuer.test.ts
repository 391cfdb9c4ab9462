/**
 * The ingest's Continuer on AWS (shared/batch/lambda-continuer.ts): an asynchronous invocation of the batch-ingest
 * function itself with the batch id, queued (202) or an error; and the event it sends, as the handler reads it.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { continuationEvent, isContinuationEvent, LambdaContinuer } from '../../shared/batch/lambda-continuer.js';

const lambda = mockClient(LambdaClient);
const continuer = new LambdaContinuer(new LambdaClient({ region: 'cn-north-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }), 'CreditHub-batchIngest');

beforeEach(() => lambda.reset());

describe('LambdaContinuer', () => {
  it('invokes the function asynchronously (InvocationType Event) with the batch to continue', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await continuer.continueLater('bat_x');
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'CreditHub-batchIngest', InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual({ continueBatch: 'bat_x' });
  });

  it('fails when the invocation was not queued, and when Lambda refuses it', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(continuer.continueLater('bat_x')).rejects.toThrow(/not queued.*200/);
    lambda.on(InvokeCommand).rejects(new Error('TooManyRequestsException'));
    await expect(continuer.continueLater('bat_x')).rejects.toThrow('TooManyRequestsException');
  });
});

describe('the continuation event', () => {
  it('is recognised by its shape, and nothing else is', () => {
    expect(isContinuationEvent(continuationEvent('bat_x'))).toBe(true);
    for (const other of [{ sweep: true }, { continueBatch: 7 }, null, 'bat_x', { Records: [] }]) expect(isContinuationEvent(other)).toBe(false);
  });
});
