/** Starts (or continues) an expire run: an asynchronous invocation (InvocationType Event) of the expire runner with `{"runId"}`. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export async function startExpireRun(client: LambdaClient, functionName: string, runId: string): Promise<void> {
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify({ runId })) }));
  // An asynchronous invocation is queued with 202; anything else queued nothing.
  if (out.StatusCode !== 202) throw new Error(`expire run ${runId} was not queued (Lambda answered ${out.StatusCode})`);
}
