/**
 * The local stack's event services as the stack starts them (infra/local/event-services.ts), from the
 * catalogue itself: the S3 emulator with the catalogue's buckets, the Lambda Invoke API for the
 * catalogue's functions, the start-up schedules, the references it cannot wire said at start, and a
 * stop that leaves nothing running.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buckets, functions, localFunctionName, schedules, unknownFunctionReferences, type ScheduleSpec } from '../../infra/catalogue.js';
import { startEventServices, type EventServices } from '../../infra/local/event-services.js';
import type { FunctionInvoker } from '../../infra/local/lambda-runtime.js';
import { isRunning } from '../../infra/local/process-identity.js';
import { s3Paths } from '../../infra/local/s3-local.js';
import { awsClientConfig } from '../../shared/aws/client-config.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: `HUBTEST${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
const dataDir = mkdtempSync(join(tmpdir(), 'hub-events-'));
const invoked: { fn: string; event: unknown }[] = [];
const invoker: FunctionInvoker = {
  invoke: async (fn, event) => {
    invoked.push({ fn, event });
    return { status: 'ok', result: { fn } };
  },
  close: async () => undefined,
};
const logged: string[] = [];
let services: EventServices | undefined;

beforeAll(async () => {
  services = await startEventServices({ dataDir, credentials, region: REGION, invoker, log: (l) => logged.push(l) });
});

afterAll(async () => {
  await services?.stopInvoking();
  await services?.stopEmulators();
  rmSync(dataDir, { recursive: true, force: true });
});

const hasFunction = (fn: string) => Object.hasOwn(functions, fn);

describe('the local event services', () => {
  it('start S3 on 127.0.0.1 in the data folder with the catalogue’s buckets', async () => {
    expect(services!.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new S3Client(s3ClientConfig({ endpoint: services!.s3Endpoint, region: REGION, credentials, forcePathStyle: true }));
    try {
      for (const spec of Object.values(buckets)) await client.send(new HeadBucketCommand({ Bucket: spec.localName }));
    } finally {
      client.destroy();
    }
    expect(logged).toContain(`created buckets: ${Object.values(buckets).map((b) => b.localName).join(', ')}`);
    expect(services!.environment).toMatchObject({ AWS_ENDPOINT_URL_S3: services!.s3Endpoint, AWS_ENDPOINT_URL_LAMBDA: services!.lambdaEndpoint });
  });

  it('say at start which references of the catalogue they cannot wire (a function not there yet)', () => {
    const unwired = logged.filter((l) => l.startsWith('not wired: '));
    expect(unwired).toEqual(unknownFunctionReferences().map((r) => `not wired: ${r.at} names the function ${r.function}, which the catalogue does not have (yet)`));
  });

  it('answer the Invoke API for the catalogue’s functions by their local names', async () => {
    const client = new LambdaClient(awsClientConfig({ endpoint: services!.lambdaEndpoint, region: REGION, credentials }));
    try {
      const out = await client.send(new InvokeCommand({ FunctionName: localFunctionName('health'), Payload: new TextEncoder().encode('{"ping":1}') }));
      expect(JSON.parse(new TextDecoder().decode(out.Payload))).toEqual({ fn: 'health' });
    } finally {
      client.destroy();
    }
    expect(invoked).toContainEqual({ fn: 'health', event: { ping: 1 } });
  });

  it('fire the start-up schedules once they are started, with their input', async () => {
    invoked.length = 0;
    services!.startSchedules();
    await new Promise((r) => setTimeout(r, 100));
    const due = Object.values(schedules).filter((s) => s.alsoAtLocalStart && hasFunction(s.function));
    // A schedule with an input for the start (localStartInput) or an input gets it; one without gets EventBridge's "Scheduled Event".
    expect(invoked).toEqual(
      due.map((s) => ({
        fn: s.function,
        event: (s as ScheduleSpec).localStartInput ?? (s as ScheduleSpec).input ?? expect.objectContaining({ 'detail-type': 'Scheduled Event', source: 'aws.events' }),
      })),
    );
  });

  it('stop: nothing invokes any more, and the S3 emulator is gone', async () => {
    const pid = JSON.parse(readFileSync(s3Paths(join(dataDir, 's3')).pidFile, 'utf8')).emulator.pid as number;
    await services!.stopInvoking();
    await expect(fetch(`${services!.lambdaEndpoint}/2015-03-31/functions/${localFunctionName('health')}/invocations`, { method: 'POST', body: '{}' })).rejects.toThrow();
    await services!.stopEmulators();
    expect(isRunning(pid)).toBe(false);
    services = undefined;
  });
});
