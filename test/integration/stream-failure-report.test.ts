/**
 * A stream batch given up on this machine is reported, not dropped, and can be replayed: the stream poller
 * (infra/local/stream-poller.ts) reading DynamoDB Local's real stream gives a failing batch up and sends Lambda's
 * failure record to the catalogue's stream-failures queue in the SQS emulator (fauxqs, provisioned as the local
 * stack provisions it); the record, read from that queue, replays the same records from the stream
 * (shared/streams/replay.ts) — the function's invocation is the one call mocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkSkTable } from '../support/pk-sk-table.js';
import { eventSources, queues, type EventSourceSpec } from '../../infra/catalogue.js';
import { randomCredentials, startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import type { FunctionInvoker } from '../../infra/local/lambda-runtime.js';
import { localSqsClientConfig, startSqsLocal, type SqsLocal } from '../../infra/local/sqs-local.js';
import { provisionQueues, type ProvisionedQueues } from '../../infra/local/sqs-provision.js';
import { startStreamPollers } from '../../infra/local/stream-poller.js';
import { parseStreamFailureRecord } from '../../shared/streams/failure-record.js';
import { replayReportedBatch } from '../../shared/streams/replay.js';

const REGION = 'cn-north-1';
const root = mkdtempSync(join(tmpdir(), 'hub-stream-failures-'));
const credentials = randomCredentials();
const lambda = mockClient(LambdaClient);
let dynamo: DynamoDbLocal | undefined;
let sqsLocal: SqsLocal | undefined;
let db: DynamoDBClient;
let sqs: SQSClient;
let provisioned: ProvisionedQueues;

beforeAll(async () => {
  [dynamo, sqsLocal] = await Promise.all([startDynamoDbLocal({ dbPath: join(root, 'dynamodb'), credentials }), startSqsLocal({ dir: join(root, 'sqs'), region: REGION })]);
  db = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials });
  sqs = new SQSClient(localSqsClientConfig({ endpoint: sqsLocal.endpoint, region: REGION, credentials }));
  provisioned = await provisionQueues(sqs, { endpoint: sqsLocal.endpoint });
}, 120_000);

afterAll(async () => {
  lambda.restore();
  db?.destroy();
  sqs?.destroy();
  await Promise.all([dynamo?.stop(), sqsLocal?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await attempt();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pkOf = (r: DynamoDBStreamEvent['Records'][number]) => (r.dynamodb!.Keys!.pk as { S: string }).S;

describe('a stream batch given up on the local stack', () => {
  it('is reported to the stream-failures queue as Lambda’s failure record, and replays the same records from the stream', async () => {
    const streamArn = (await createPkSkTable(db, 'records-failures', { stream: true })).streamArn!;
    // A version item (filtered out by the mapping) between two heads, then a head that succeeds.
    for (const [pk, sk] of [['REC#1', 'HEAD'], ['REC#1', 'V#0000000001'], ['REC#2', 'HEAD'], ['REC#3', 'HEAD']] as const) {
      await db.send(new PutItemCommand({ TableName: 'records-failures', Item: { pk: { S: pk }, sk: { S: sk } } }));
    }

    // The catalogue's mapping, with no retry: a failing batch is given up at once.
    const spec: Extract<EventSourceSpec, { type: 'dynamodb-stream' }> = { ...eventSources.recordChanges, batchSize: 2, maxBatchingWindowSeconds: 0, retryAttempts: 0, bisectBatchOnError: false };
    const given: string[][] = [];
    const invoker: FunctionInvoker = {
      invoke: async (_fn, event) => {
        const pks = (event as DynamoDBStreamEvent).Records.map(pkOf);
        given.push(pks);
        return pks.includes('REC#1') ? { status: 'error', errorType: 'Error', errorMessage: 'the fault' } : { status: 'ok', result: null };
      },
      close: async () => undefined,
    };
    const logged: string[] = [];
    const pollers = startStreamPollers({
      endpoint: dynamo!.endpoint,
      region: REGION,
      credentials,
      invoker,
      dataDir: mkdtempSync(join(root, 'data-')),
      hasFunction: () => true,
      eventSources: { recordChanges: spec },
      tables: { records: { localName: 'records-failures' } },
      onFailure: { connection: { endpoint: sqsLocal!.endpoint, region: REGION, credentials }, queues: provisioned.queues },
      log: (l) => logged.push(l),
      idlePollMs: 50,
      discoverEveryMs: 200,
      retryBackoff: { firstMs: 20, maxMs: 80 },
    });
    let body: string;
    try {
      body = await waitFor('the failure record', async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: provisioned.queues.streamFailures!.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        return out.Messages?.[0]?.Body;
      });
      await waitFor('REC#3', async () => (given.some((b) => b.includes('REC#3')) ? true : undefined));
    } finally {
      await pollers.stop();
    }
    expect(given).toEqual([['REC#1', 'REC#2'], ['REC#3']]);
    expect(queues.streamFailures.localName).toBe('hub-stream-failures');
    expect(logged.filter((l) => l.includes('retries exhausted: they are skipped and reported to the queue streamFailures'))).toHaveLength(1);

    const record = JSON.parse(body) as { requestContext: Record<string, unknown>; DDBStreamBatchInfo: Record<string, unknown> };
    expect(record.requestContext).toMatchObject({ functionArn: `arn:aws:lambda:${REGION}:000000000000:function:credit-hub-fanout`, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 });
    expect(record.DDBStreamBatchInfo).toMatchObject({ streamArn, batchSize: 2 });
    expect(body).not.toContain('REC#');

    // The fault fixed: the record replays exactly the two heads given up, as the mapping sent them.
    lambda.reset();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"batchItemFailures":[]}') as never });
    const streams = new DynamoDBStreamsClient({ endpoint: dynamo!.endpoint, region: REGION, credentials });
    try {
      const result = await replayReportedBatch({ streams, lambda: new LambdaClient({ region: REGION }) }, parseStreamFailureRecord(body), { newImageEquals: spec.newImageEquals });
      expect(result).toEqual({ read: 3, replayed: 2, failedAgain: [] });
    } finally {
      streams.destroy();
    }
    const event = JSON.parse(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array)) as DynamoDBStreamEvent;
    expect(event.Records.map(pkOf)).toEqual(['REC#1', 'REC#2']);
    expect(event.Records.map((r) => r.dynamodb!.SequenceNumber)).toEqual([record.DDBStreamBatchInfo.startSequenceNumber, record.DDBStreamBatchInfo.endSequenceNumber]);
  }, 90_000);
});
