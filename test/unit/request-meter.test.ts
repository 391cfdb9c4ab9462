/**
 * The request meter (shared/aws/request-meter.ts): every request the hub's AWS clients send is counted by service
 * and operation, each attempt once (the SDK's retries included), through the real SDK against a local HTTP server;
 * with the capacity meter, a piece of work's usage for its summary log line.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamo } from '../../shared/aws/clients.js';
import { meterCapacity } from '../../shared/aws/consumed-capacity.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { meterRequests, operationName, requestCounts, requestsSince, sqsExtraChunks, usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { s3, s3ClientConfig } from '../../shared/aws/s3-client.js';
import { sqs } from '../../shared/aws/sqs-client.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
/** What the server answers next, in order; then 200 with `{}`. */
const answers: { status: number; body: string }[] = [];
let endpoint = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.once('end', () => {
    const answer = answers.shift() ?? { status: 200, body: '{}' };
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(Buffer.byteLength(answer.body)) });
    res.end(answer.body);
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('request meter', () => {
  it('names an operation by its service and command', () => {
    expect(operationName('DynamoDBClient', 'TransactWriteItemsCommand')).toBe('DynamoDB.TransactWriteItems');
    expect(operationName('SQSClient', 'SendMessageBatchCommand')).toBe('SQS.SendMessageBatch');
    expect(operationName(undefined, undefined)).toBe('unknown.unknown');
  });

  it('counts each request sent, per operation, and leaves out the operations not used since', async () => {
    const client = meterRequests(new S3Client(s3ClientConfig({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 })));
    const before = requestCounts();
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k1', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k2', Body: 'y' }));
    expect(requestsSince(before)).toEqual({ 'S3.PutObject': 2 });
    client.destroy();
  });

  it('counts every attempt: a request the SDK sends again after a 500 counts twice', async () => {
    const client = meterRequests(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 }));
    answers.push({ status: 500, body: '{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}' });
    const before = requestCounts();
    await client.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'a' } } }));
    expect(requestsSince(before)).toEqual({ 'DynamoDB.PutItem': 2 });
    client.destroy();
  });

  it('counts an SQS send of more than 64 KB of payload as SQS bills it: one request per 64 KB chunk', async () => {
    const { SendMessageBatchCommand, SQSClient } = await import('@aws-sdk/client-sqs');
    const client = meterRequests(new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, useQueueUrlAsEndpoint: false }));
    const queue = `${endpoint}/000000000000/q`;
    const before = requestCounts();
    // 3 entries: 60 KB + 60 KB + 10 bytes and an attribute = 123 KB: two chunks, one past the first.
    answers.push({ status: 200, body: '{"Successful":[],"Failed":[]}' }, { status: 200, body: '{"Successful":[],"Failed":[]}' });
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue,
        Entries: [
          { Id: '1', MessageBody: 'a'.repeat(60 * 1024) },
          { Id: '2', MessageBody: 'b'.repeat(60 * 1024) },
          { Id: '3', MessageBody: 'c'.repeat(10), MessageAttributes: { reason: { DataType: 'String', StringValue: 'x' } } },
        ],
      }),
    );
    await client.send(new SendMessageBatchCommand({ QueueUrl: queue, Entries: [{ Id: '1', MessageBody: 'small' }] }));
    expect(requestsSince(before)).toEqual({ 'SQS.SendMessageBatch': 2, 'SQS.SendMessageBatch.extra64KB': 1 });
    expect(sqsExtraChunks({ MessageBody: 'x'.repeat(64 * 1024) })).toBe(0);
    expect(sqsExtraChunks({ MessageBody: 'x'.repeat(64 * 1024 + 1) })).toBe(1);
    expect(sqsExtraChunks({ Entries: [{ MessageBody: '中'.repeat(50_000) }] })).toBe(2);
    client.destroy();
  });

  it('gives a piece of work’s usage: DynamoDB units with the requests', async () => {
    const client = meterRequests(meterCapacity(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 })));
    const mark = usageMark();
    answers.push({ status: 200, body: '{"ConsumedCapacity":{"TableName":"t","CapacityUnits":2}}' });
    await client.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'b' } } }));
    expect(usageSince(mark)).toEqual({ readUnits: 0, writeUnits: 2, transactWriteUnits: 0, requests: { 'DynamoDB.PutItem': 1 } });
    client.destroy();
  });

  it('is on every client the handlers get (DynamoDB, SQS, S3, Lambda)', () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    try {
      // The document client shares its DynamoDB client's middleware stack.
      for (const client of [dynamo(), sqs(), s3(), lambda()]) {
        expect(client.middlewareStack.identify().some((m) => m.startsWith('hubRequestMeter'))).toBe(true);
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
