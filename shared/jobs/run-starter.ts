/**
 * Starts a run on the sync runner: an asynchronous invocation (InvocationType `Event`, answered 202 at once) of the
 * syncRunner function with `{"runId"}` — also how a run continues itself. Locally the same call reaches the local
 * stack's Lambda Invoke API (AWS_ENDPOINT_URL_LAMBDA).
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { RunEvent } from '../sync/run-sync.js';

export interface RunStarter {
  start(event: RunEvent): Promise<void>;
}

export class LambdaRunStarter implements RunStarter {
  constructor(
    private readonly client: LambdaClient,
    /** The syncRunner function's name (or ARN). */
    private readonly functionName: string,
  ) {}

  async start(event: RunEvent): Promise<void> {
    const out = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    // An asynchronous invocation is queued with 202; anything else queued nothing.
    if (out.StatusCode !== 202) throw new Error(`run ${event.runId} was not queued on the sync runner (Lambda answered ${out.StatusCode})`);
  }
}
