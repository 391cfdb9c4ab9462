/**
 * The SQS client of the upward path (shared/aws/sqs-client.ts) and the queue adapters over it
 * (shared/upward/delivery-queues.ts), against a local HTTP server that answers SQS's JSON protocol: requests go
 * to AWS_ENDPOINT_URL_SQS whatever host the queue URL names (the local emulator's URLs name one that does not
 * resolve), and what goes over the wire.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_ATTEMPTS } from '../../shared/aws/client-config.js';
import { sqsClientConfig } from '../../shared/aws/sqs-client.js';
import { REASON_ATTRIBUTE, SEND_BATCH_BYTES, sendChunks, SqsDeadLetters, SqsDeliveryQueues } from '../../shared/upward/delivery-queues.js';
import { messageBody, packageKeyOf, type DeliveryRef } from '../../shared/upward/package-model.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

interface Seen {
  host?: string;
  target?: string;
  body: Record<string, unknown>;
}

/** An SQS endpoint: answers SendMessageBatch (refusing entries whose body names `refuse`) and SendMessage. */
async function fakeSqs(refuse = '') {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, any>;
      const target = req.headers['x-amz-target'] as string | undefined;
      seen.push({ host: req.headers.host, target, body });
      let answer: unknown;
      if (target === 'AmazonSQS.SendMessageBatch') {
        const entries = body.Entries as { Id: string; MessageBody: string }[];
        answer = {
          Successful: entries.filter((e) => !refuse || !e.MessageBody.includes(refuse)).map((e) => ({ Id: e.Id, MessageId: `m${e.Id}`, MD5OfMessageBody: md5(e.MessageBody) })),
          Failed: entries.filter((e) => refuse && e.MessageBody.includes(refuse)).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
        };
      } else {
        answer = { MessageId: 'm', MD5OfMessageBody: md5(body.MessageBody as string) };
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { seen, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The key of the i-th package of these tests. */
const keyOf = (i: number) => packageKeyOf({ sequenceNumber: String(1000 + i), recordId: `pen_${i}`, version: 1 });
const DEAD = messageBody({ key: keyOf(0), platform: 'national', path: '01' });

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
// A queue URL as the emulator hands them out: a host that does not resolve.
const QUEUE = (name: string) => `http://sqs.cn-north-1.localhost:9324/000000000000/${name}`;

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('sqs client', () => {
  it('is configured with the hub’s timeouts and without the queue URL as endpoint', async () => {
    const config = sqsClientConfig();
    expect(config.useQueueUrlAsEndpoint).toBe(false);
    expect(config.maxAttempts).toBe(MAX_ATTEMPTS);
  });

  it('is created once, and sends to AWS_ENDPOINT_URL_SQS whatever host the queue URL names', async () => {
    const sqs = await fakeSqs();
    try {
      vi.stubEnv('AWS_REGION', 'cn-north-1');
      vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
      vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
      vi.resetModules();
      const fresh = await import('../../shared/aws/sqs-client.js');
      expect(fresh.sqs()).toBe(fresh.sqs());
      await new SqsDeadLetters(fresh.sqs(), QUEUE('hub-national-dlq')).send(DEAD, 'HTTP 400: 无效');
      expect(sqs.seen).toHaveLength(1);
      expect(sqs.seen[0]!.host).toBe(new URL(sqs.endpoint).host);
      expect(sqs.seen[0]!.target).toBe('AmazonSQS.SendMessage');
      expect(sqs.seen[0]!.body).toMatchObject({
        QueueUrl: QUEUE('hub-national-dlq'),
        MessageBody: DEAD,
        MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'HTTP 400: 无效' } },
      });
      fresh.sqs().destroy();
    } finally {
      await sqs.close();
    }
  });
});

describe('SqsDeliveryQueues', () => {
  it('sends each platform’s messages to its queue, ten per request, and names those SQS did not take', async () => {
    const sqs = await fakeSqs(keyOf(7));
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient(sqsClientConfig({ endpoint: sqs.endpoint, region: 'cn-north-1', credentials }));
    try {
      const queues = new SqsDeliveryQueues(client, { provincial: QUEUE('hub-provincial'), national: QUEUE('hub-national') });
      const refs: DeliveryRef[] = Array.from({ length: 25 }, (_, i) => ({ key: keyOf(i), platform: i % 4 === 3 ? 'national' : 'provincial', path: i % 5 === 0 ? '' : '10' }));
      const failed = await queues.send(refs);
      expect([...failed]).toEqual([7]);
      const batches = sqs.seen.map((s) => [s.body.QueueUrl, (s.body.Entries as unknown[]).length]);
      expect(batches.sort()).toEqual([
        [QUEUE('hub-national'), 6],
        [QUEUE('hub-provincial'), 10],
        [QUEUE('hub-provincial'), 9],
      ].sort());
      const bodies = sqs.seen.flatMap((s) => (s.body.Entries as { MessageBody: string }[]).map((e) => JSON.parse(e.MessageBody)));
      expect(bodies).toHaveLength(25);
      // Each message names its package, platform and part, and nothing else (package-model.ts messageBody).
      expect(bodies).toContainEqual({ key: keyOf(3), platform: 'national', path: '10' });
      expect(bodies).toContainEqual({ key: keyOf(5), platform: 'provincial', path: '' });
      for (const s of sqs.seen) {
        const platform = s.body.QueueUrl === QUEUE('hub-national') ? 'national' : 'provincial';
        for (const e of s.body.Entries as { MessageBody: string }[]) expect(JSON.parse(e.MessageBody).platform).toBe(platform);
      }
    } finally {
      client.destroy();
      await sqs.close();
    }
  });

  it('sends the versions a message carries, and never more than 256 KB of messages in one request', async () => {
    const sqs = await fakeSqs();
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient(sqsClientConfig({ endpoint: sqs.endpoint, region: 'cn-north-1', credentials }));
    try {
      const queues = new SqsDeliveryQueues(client, { national: QUEUE('hub-national') });
      // Six messages of about 100 KB each: two to a request (three would pass 256 KB).
      const big = (i: number) => ({ key: keyOf(i), platform: 'national' as const, path: '', versions: String(i).repeat(100_000) });
      expect([...(await queues.send([0, 1, 2, 3, 4, 5].map(big)))]).toEqual([]);
      const sizes = sqs.seen.map((x) => (x.body.Entries as { MessageBody: string }[]).map((e) => Buffer.byteLength(e.MessageBody)));
      expect(sizes.map((request) => request.length)).toEqual([2, 2, 2]);
      for (const request of sizes) expect(request.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(SEND_BATCH_BYTES);
      const bodies = sqs.seen.flatMap((x) => (x.body.Entries as { MessageBody: string }[]).map((e) => JSON.parse(e.MessageBody)));
      expect(bodies).toEqual([0, 1, 2, 3, 4, 5].map(big));
    } finally {
      client.destroy();
      await sqs.close();
    }
  });

  it('cuts messages into requests of ten at most, and of 256 KB at most, in order', () => {
    const bodies = [10, 200_000, 62_200, 10, 262_144, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5].map((n) => 'x'.repeat(n));
    expect(sendChunks(bodies.map((_, i) => i), bodies)).toEqual([[0, 1], [2, 3], [4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [15]]);
    expect(sendChunks([], bodies)).toEqual([]);
  });

  it('refuses to send to a platform it has no queue URL for', async () => {
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient(sqsClientConfig({ endpoint: 'http://127.0.0.1:9', region: 'cn-north-1', credentials, maxAttempts: 1 }));
    try {
      await expect(new SqsDeliveryQueues(client, { national: QUEUE('hub-national') }).send([{ key: keyOf(1), platform: 'provincial', path: '' }])).rejects.toThrow(/provincial/);
    } finally {
      client.destroy();
    }
  });

  it('names every message of a request that failed as a whole', async () => {
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    // Nothing listens there: the connection is refused.
    const client = new SQSClient(sqsClientConfig({ endpoint: 'http://127.0.0.1:9', region: 'cn-north-1', credentials, maxAttempts: 1 }));
    try {
      const failed = await new SqsDeliveryQueues(client, { national: QUEUE('hub-national') }).send([
        { key: keyOf(1), platform: 'national', path: '' },
        { key: keyOf(2), platform: 'national', path: '0' },
      ]);
      expect([...failed].sort()).toEqual([0, 1]);
    } finally {
      client.destroy();
    }
  });
});
