/**
 * The ingest's Continuer on AWS: an asynchronous invocation (InvocationType
 * `Event`) of the batch-ingest function itself, with the batch id. Lambda
 * queues the event and answers 202 at once; the new invocation takes the
 * batch's lease (released by the worker that asked) and reads on from the
 * checkpoint. Should the event be lost, the sweep schedule continues the batch
 * all the same: nothing depends on this call but speed.
 *
 * The local stack answers the same call with its Lambda Invoke API
 * (infra/local/lambda-api.ts), through AWS_ENDPOINT_URL_LAMBDA.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Continuer } from './ports.js';

/** The event of a continuation: the batch to read on. */
export interface ContinuationEvent {
  continueBatch: string;
}

export const continuationEvent = (batchId: string): ContinuationEvent => ({ continueBatch: batchId });

export function isContinuationEvent(event: unknown): event is ContinuationEvent {
  return typeof event === 'object' && event !== null && typeof (event as ContinuationEvent).continueBatch === 'string';
}

export class LambdaContinuer implements Continuer {
  constructor(
    private readonly client: LambdaClient,
    /** The batch-ingest function's name (or ARN). */
    private readonly functionName: string,
  ) {}

  async continueLater(batchId: string): Promise<void> {
    const out = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(continuationEvent(batchId))),
      }),
    );
    // An asynchronous invocation is queued with 202; anything else queued nothing.
    if (out.StatusCode !== 202) throw new Error(`the continuation of batch ${batchId} was not queued (Lambda answered ${out.StatusCode})`);
  }
}
