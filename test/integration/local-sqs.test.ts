/**
 * The local stack's SQS (infra/local/sqs-local.ts, fauxqs-process.mjs) and its queues
 * (infra/local/sqs-provision.ts), through the real AWS SDK: the emulator listens on 127.0.0.1 only,
 * the catalogue's queues get their attributes and redrive policies, queues and messages survive a
 * restart, the queue URLs handed to handlers reach the emulator from a plain SDK client, and an
 * emulator is stopped with its stack or, once orphaned, by the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queues as catalogueQueues } from '../../infra/catalogue.js';
import { isRunning } from '../../infra/local/process-identity.js';
import { localSqsClientConfig, sqsPaths, startSqsLocal, type SqsLocal } from '../../infra/local/sqs-local.js';
import { localQueuesEnvironment, provisionQueues, type ProvisionedQueues } from '../../infra/local/sqs-provision.js';
import { SqsRedelivery } from '../../shared/upward/delivery-queues.js';
import { canListSockets, listeningSockets } from '../support/listening-sockets.js';
import { describeOrphanedEmulator, until } from '../support/orphaned-emulator-suite.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: 'HUBTESTSQS0000000001', secretAccessKey: 'not-checked-by-the-emulator' };
const root = resolve(import.meta.dirname, '../..');
const temp = mkdtempSync(join(tmpdir(), 'hub-sqs-'));
const dir = join(temp, 'sqs');

let sqs: SqsLocal | undefined;
let client: SQSClient;
let provisioned: ProvisionedQueues;
const others: ChildProcess[] = [];

const newClient = (endpoint: string) => new SQSClient(localSqsClientConfig({ endpoint, region: REGION, credentials }));

beforeAll(async () => {
  sqs = await startSqsLocal({ dir });
  client = newClient(sqs.endpoint);
  provisioned = await provisionQueues(client, { endpoint: sqs.endpoint });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  client?.destroy();
  await sqs?.stop();
  for (const c of others) c.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

async function attributes(url: string): Promise<Record<string, string>> {
  return (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
}

/** Whether a TCP connection to host:port is refused. */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), r(false)));
    socket.once('timeout', () => (socket.destroy(), r(true)));
    socket.once('error', () => r(true));
  });
}

describe('the catalogue’s queues in the SQS emulator', () => {
  it('creates every queue by its localName, dead-letter queues first, with the catalogue’s attributes and redrive policy', async () => {
    const specs = Object.values(catalogueQueues);
    expect([...provisioned.created].sort()).toEqual(specs.map((s) => s.localName).sort());
    for (const [name, spec] of Object.entries(catalogueQueues)) {
      const queue = provisioned.queues[name]!;
      expect(queue.url).toBe(`${sqs!.endpoint}/000000000000/${spec.localName}`);
      expect(queue.arn).toBe(`arn:aws:sqs:${REGION}:000000000000:${spec.localName}`);
      const got = await attributes(queue.url);
      expect(got).toMatchObject({ QueueArn: queue.arn, VisibilityTimeout: String(spec.visibilityTimeoutSeconds), MessageRetentionPeriod: String(spec.retentionSeconds) });
      const deadLetter = 'deadLetter' in spec ? spec.deadLetter : undefined;
      if (deadLetter) {
        expect(JSON.parse(got.RedrivePolicy!)).toEqual({ deadLetterTargetArn: provisioned.queues[deadLetter.queue]!.arn, maxReceiveCount: deadLetter.maxReceiveCount });
        expect(provisioned.created.indexOf(catalogueQueues[deadLetter.queue].localName)).toBeLessThan(provisioned.created.indexOf(spec.localName));
      } else {
        expect(got.RedrivePolicy).toBeUndefined();
      }
    }
  });

  it('creates nothing the second time, and gives existing queues the attributes asked for (a test’s short visibility timeout, then the catalogue’s again)', async () => {
    const url = provisioned.queues.provincial!.url;
    const short = await provisionQueues(client, { endpoint: sqs!.endpoint, visibilityTimeoutSeconds: 2 });
    expect(short.created).toEqual([]);
    expect(short.queues.provincial!.visibilityTimeoutSeconds).toBe(2);
    expect((await attributes(url)).VisibilityTimeout).toBe('2');
    expect((await provisionQueues(client, { endpoint: sqs!.endpoint })).created).toEqual([]);
    expect((await attributes(url)).VisibilityTimeout).toBe(String(catalogueQueues.provincial.visibilityTimeoutSeconds));
  });

  it('refuses a redrive policy naming a queue the catalogue does not have, and redrive policies in a cycle', async () => {
    await expect(
      provisionQueues(client, {
        endpoint: sqs!.endpoint,
        queues: { lonely: { envVar: 'X', localName: 'test-lonely', description: 't', visibilityTimeoutSeconds: 30, retentionSeconds: 3600, deadLetter: { queue: 'missing', maxReceiveCount: 3 } } },
      }),
    ).rejects.toThrow('queues.lonely.deadLetter names the queue missing');
    const cyclic = (name: string, deadLetter: string) => ({ envVar: 'X', localName: `test-${name}`, description: 't', visibilityTimeoutSeconds: 30, retentionSeconds: 3600, deadLetter: { queue: deadLetter, maxReceiveCount: 3 } });
    await expect(provisionQueues(client, { endpoint: sqs!.endpoint, queues: { a: cyclic('a', 'b'), b: cyclic('b', 'a') } })).rejects.toThrow('a → b → a form a cycle');
    expect(() => localQueuesEnvironment(sqs!.endpoint, {})).toThrow('was not provisioned');
  });

  it('hands handlers queue URLs on the emulator’s endpoint that a plain SDK client reaches, with or without AWS_ENDPOINT_URL_SQS', async () => {
    const env = localQueuesEnvironment(sqs!.endpoint, provisioned.queues);
    expect(env).toEqual({
      AWS_ENDPOINT_URL_SQS: sqs!.endpoint,
      ...Object.fromEntries(Object.entries(catalogueQueues).map(([name, spec]) => [spec.envVar, provisioned.queues[name]!.url])),
    });
    const url = env[catalogueQueues.nationalDead.envVar]!;
    const plain = new SQSClient({ region: REGION, credentials, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    try {
      await plain.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"no":"endpoint"}' }));
    } finally {
      plain.destroy();
    }
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', env.AWS_ENDPOINT_URL_SQS!);
    // As the handlers' client (shared/aws/sqs-client.ts) is made: the endpoint from the environment, and with it alone.
    const configured = new SQSClient({ region: REGION, credentials });
    const endpointOnly = new SQSClient({ region: REGION, credentials, useQueueUrlAsEndpoint: false });
    try {
      await configured.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"with":"endpoint"}' }));
      await endpointOnly.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"endpoint":"only"}' }));
    } finally {
      configured.destroy();
      endpointOnly.destroy();
      vi.unstubAllEnvs();
    }
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((got.Messages ?? []).map((m) => m.Body).sort()).toEqual(['{"endpoint":"only"}', '{"no":"endpoint"}', '{"with":"endpoint"}']);
  });
});

describe('the SQS emulator', () => {
  it('answers on 127.0.0.1 only: a connection to any other address of this machine is refused', async () => {
    const port = sqs!.port;
    expect(await refused('127.0.0.1', port)).toBe(false);
    // Another loopback address (always there on Linux) and every address of the machine's interfaces.
    const addresses = ['127.0.0.2', ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => !a.internal).map((a) => a.address))];
    for (const host of addresses) expect(await refused(host, port), `${host}:${port}`).toBe(true);
    if (canListSockets()) expect(listeningSockets(sqs!.pid).map((s) => [s.address, s.loopbackOnly])).toEqual([['127.0.0.1', true]]);
  });

  it('keeps its queues and messages in a folder of the owner’s only', () => {
    const paths = sqsPaths(dir);
    expect(statSync(paths.data).mode & 0o777).toBe(0o700);
    for (const file of [paths.database, paths.log]) expect(statSync(file).mode & 0o077, file).toBe(0);
  });

  it('takes a connector’s put-off (ChangeMessageVisibility, never 0) with persistence on: the message stays hidden, then comes back, its receive count grown', async () => {
    const url = provisioned.queues.national!.url;
    const body = JSON.stringify({ recordId: 'r-put-off', version: 1, platform: 'national' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const receive = (wait: number) => client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: wait, MessageSystemAttributeNames: ['All'] }));
    const first = (await receive(1)).Messages ?? [];
    expect(first.map((m) => m.Body)).toEqual([body]);
    const redelivery = new SqsRedelivery(client, url);
    await redelivery.delay(first[0]!.ReceiptHandle!, 600);
    expect((await receive(0)).Messages ?? []).toEqual([]);
    // Put off again, shorter (as a Retry-After would): it comes back.
    await redelivery.delay(first[0]!.ReceiptHandle!, 1);
    const again = (await receive(10)).Messages ?? [];
    expect(again.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([[body, '2']]);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again[0]!.ReceiptHandle! }));
  });

  it('keeps queues, redrive policies and messages across a restart, and its pid file names only the running emulator', async () => {
    const url = provisioned.queues.provincial!.url;
    const body = JSON.stringify({ recordId: 'r-restart', version: 3, platform: 'provincial' });
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes: { source: { DataType: 'String', StringValue: 'restart-test' } } }),
    );
    const policy = (await attributes(url)).RedrivePolicy;
    const firstPid = sqs!.pid;
    expect(JSON.parse(readFileSync(sqsPaths(dir).pidFile, 'utf8')).emulator.pid).toBe(firstPid);

    await sqs!.stop();
    expect(isRunning(firstPid)).toBe(false);
    expect(existsSync(sqsPaths(dir).pidFile)).toBe(false);
    expect(readFileSync(sqsPaths(dir).log, 'utf8')).toMatch(/SIGTERM: stopping[\s\S]*stopped/);

    sqs = await startSqsLocal({ dir });
    client.destroy();
    client = newClient(sqs.endpoint);
    expect(JSON.parse(readFileSync(sqsPaths(dir).pidFile, 'utf8')).emulator.pid).toBe(sqs.pid);
    provisioned = await provisionQueues(client, { endpoint: sqs.endpoint });
    expect(provisioned.created).toEqual([]);
    const again = provisioned.queues.provincial!.url;
    expect((await attributes(again)).RedrivePolicy).toBe(policy);
    const got = await client.send(
      new ReceiveMessageCommand({ QueueUrl: again, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    );
    expect(got.Messages).toHaveLength(1);
    expect(got.Messages![0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: body,
      MD5OfBody: sent.MD5OfMessageBody,
      Attributes: { ApproximateReceiveCount: '1' },
      MessageAttributes: { source: { DataType: 'String', StringValue: 'restart-test' } },
    });
  });
});

describeOrphanedEmulator({
  name: 'SQS',
  root,
  temp,
  others,
  paths: (folder) => ({ pidFile: sqsPaths(folder).pidFile, log: sqsPaths(folder).log, data: sqsPaths(folder).data }),
  start: (folder) => startSqsLocal({ dir: folder }),
  stray: (folder) => spawn(process.execPath, [join(root, 'infra/local/fauxqs-process.mjs'), '--data-dir', sqsPaths(folder).data], { stdio: 'ignore' }),
  startSource: (folder) => `import { startSqsLocal } from ${JSON.stringify(join(root, 'infra/local/sqs-local.ts'))};
      const emulator = await startSqsLocal({ dir: ${JSON.stringify(folder)} });`,
});
