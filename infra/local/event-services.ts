/**
 * Everything of the local stack that starts a function other than an HTTP request, with the S3 and
 * SQS it needs: the S3 emulator with the catalogue's buckets (s3-local.ts, provision.ts) and their
 * notifications (s3-events.ts), the Lambda Invoke API (lambda-api.ts) and the schedules
 * (schedules.ts), all invoking through Lambda's asynchronous invocation (lambda-async.ts) into the
 * stack's Lambda runtime; the SQS emulator with the catalogue's queues (sqs-local.ts,
 * sqs-provision.ts) and Lambda's SQS triggers (sqs-poller.ts); and the buckets' lifecycle
 * expiration (s3-lifecycle.ts). Also the handler environment that points the handlers at them.
 */
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { secondsSetting } from '../../shared/upward/environment.js';
import {
  buckets,
  functionNameEnvVar,
  functionReferences,
  functions,
  localFunctionName,
  schedules,
  storageEnvironment,
  unknownFunctionReferences,
  type BucketSpec,
  type EventSourceSpec,
  type FunctionReferencing,
} from '../catalogue.js';
import { asyncInvocations, type AsyncInvocations } from './lambda-async.js';
import { startLambdaApi, type LambdaApi } from './lambda-api.js';
import type { FunctionInvoker } from './lambda-runtime.js';
import { provisionBuckets } from './provision.js';
import { s3EventRelay } from './s3-events.js';
import { expireObjects } from './s3-lifecycle.js';
import { startS3Local, type S3Local } from './s3-local.js';
import { startSchedules, type ScheduleTimers } from './schedules.js';
import { localSqsClientConfig, startSqsLocal, type SqsLocal } from './sqs-local.js';
import { startSqsEventSources, type SqsEventSources } from './sqs-poller.js';
import { localQueuesEnvironment, provisionQueues, type ProvisionedQueue } from './sqs-provision.js';

export interface EventServicesOptions {
  dataDir: string;
  /** The stack's credentials: the S3 emulator accepts requests signed with them. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** The stack's Lambda runtime. */
  invoker: FunctionInvoker;
  log: (line: string) => void;
}

export interface EventServices {
  s3Endpoint: string;
  sqsEndpoint: string;
  /** The catalogue's queues as provisioned (URLs, ARNs), by catalogue name. */
  queues: Readonly<Record<string, ProvisionedQueue>>;
  lambdaEndpoint: string;
  /** The handlers' environment for S3 and Lambda (localServicesEnvironment). */
  environment: Record<string, string>;
  /** Starts the schedules: call it once the stack is up (the start-up ones fire at once). */
  startSchedules(): void;
  /** Starts the event-source mappings (the queues' pollers; the catalogue's, or those given): call it once the stack is up. */
  startEventSources(mappings?: Readonly<Record<string, EventSourceSpec>>): void;
  /** Stops what invokes functions: the schedules, the Invoke API, bucket notifications and the retries still due. */
  stopInvoking(): Promise<void>;
  /** Stops the S3 and SQS emulators (once the functions are stopped too). */
  stopEmulators(): Promise<void>;
}

const hasFunction = (fn: string) => Object.hasOwn(functions, fn);

/**
 * A test and demo setting, never used on AWS: one visibility timeout (seconds) for every local queue instead of
 * the catalogue's (the delivery queues' six minutes), so that a message whose connector crashed or gave it back
 * comes again within a test's time. Unset: the catalogue's.
 */
export const LOCAL_QUEUE_VISIBILITY_ENV = 'HUB_SQS_VISIBILITY_SECONDS';

/** The visibility timeout every local queue gets instead of its own, or undefined for the catalogue's. */
export function localQueueVisibilityOverride(env: Readonly<Record<string, string | undefined>> = process.env): number | undefined {
  const seconds = secondsSetting(LOCAL_QUEUE_VISIBILITY_ENV, 0, env);
  return seconds > 0 ? seconds : undefined;
}

/** How often expired objects are looked for after the start (S3 expires within about a day). */
const LIFECYCLE_EVERY_MS = 60 * 60_000;

/**
 * The handlers' environment for S3 and Lambda, the same names as on AWS: the endpoints
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA), path-style S3 URLs, checksums only where required
 * (else a streamed PutObject reaches the emulator in aws-chunked framing and is stored that way), each
 * bucket's name in its variable, and the name of each function that another one invokes.
 */
export function localServicesEnvironment(
  s3Endpoint: string,
  lambdaEndpoint: string,
  catalogue: FunctionReferencing & { buckets: Readonly<Record<string, BucketSpec>> } = { functions, buckets, schedules },
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint,
    [storageEnvironment.s3ForcePathStyle]: 'true',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
  for (const spec of Object.values(catalogue.buckets)) env[spec.envVar] = spec.localName;
  for (const { at, function: fn } of functionReferences(catalogue)) {
    if (at.startsWith('functions.') && Object.hasOwn(catalogue.functions, fn)) env[functionNameEnvVar(fn)] = localFunctionName(fn);
  }
  return env;
}

export async function startEventServices(options: EventServicesOptions): Promise<EventServices> {
  const { log, region } = options;
  /** The buckets' lifecycle expiration; a failure is logged, and tried again at the next round. */
  const expire = async (client: S3Client) => {
    try {
      const deleted = await expireObjects(client, new Date());
      for (const [bucket, n] of Object.entries(deleted)) if (n > 0) log(`lifecycle: deleted ${n} expired objects of ${bucket}`);
    } catch (e) {
      log(`lifecycle: could not expire objects: ${(e as Error).message}`);
    }
  };
  for (const r of unknownFunctionReferences()) {
    log(`not wired: ${r.at} names the function ${r.function}, which the catalogue does not have (yet)`);
  }
  const invocations: AsyncInvocations = asyncInvocations({ invoker: options.invoker, log });
  const relay = s3EventRelay({ region, hasFunction, invokeAsync: (fn, event, source) => invocations.invoke(fn, event, source), log });
  let s3: S3Local | undefined;
  let sqsLocal: SqsLocal | undefined;
  let api: LambdaApi | undefined;
  let provisioned: Record<string, ProvisionedQueue> = {};
  try {
    s3 = await startS3Local({ dir: join(options.dataDir, 's3'), credentials: options.credentials, onEvent: (event) => relay.deliver(event) });
    const client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region, credentials: options.credentials, forcePathStyle: true }));
    try {
      const created = await provisionBuckets(client);
      log(created.length ? `created buckets: ${created.join(', ')}` : 'buckets already exist: objects kept from the last run');
      await expire(client);
    } finally {
      client.destroy();
    }
    sqsLocal = await startSqsLocal({ dir: join(options.dataDir, 'sqs'), region });
    const sqsAdmin = new SQSClient(localSqsClientConfig({ endpoint: sqsLocal.endpoint, region, credentials: options.credentials }));
    try {
      const visibilityTimeoutSeconds = localQueueVisibilityOverride();
      const { queues, created } = await provisionQueues(sqsAdmin, { endpoint: sqsLocal.endpoint, ...(visibilityTimeoutSeconds ? { visibilityTimeoutSeconds } : {}) });
      if (visibilityTimeoutSeconds) log(`queues: visibility timeout ${visibilityTimeoutSeconds} s for every queue (${LOCAL_QUEUE_VISIBILITY_ENV}, a test setting)`);
      provisioned = queues;
      log(created.length ? `created queues: ${created.join(', ')}` : 'queues already exist: messages kept from the last run');
    } finally {
      sqsAdmin.destroy();
    }
    api = await startLambdaApi({ invoker: options.invoker, async: invocations, functionNames: Object.keys(functions) });
  } catch (e) {
    invocations.close();
    await api?.close();
    await sqsLocal?.stop();
    await s3?.stop();
    throw e;
  }
  const [storage, invokeApi, queueService] = [s3, api, sqsLocal];
  let timers: ScheduleTimers | undefined;
  let pollers: SqsEventSources | undefined;
  const lifecycle = setInterval(() => {
    const client = new S3Client(s3ClientConfig({ endpoint: storage.endpoint, region, credentials: options.credentials, forcePathStyle: true }));
    void expire(client).finally(() => client.destroy());
  }, LIFECYCLE_EVERY_MS);
  lifecycle.unref();
  return {
    s3Endpoint: storage.endpoint,
    sqsEndpoint: queueService.endpoint,
    queues: provisioned,
    lambdaEndpoint: invokeApi.endpoint,
    environment: { ...localServicesEnvironment(storage.endpoint, invokeApi.endpoint), ...localQueuesEnvironment(queueService.endpoint, provisioned) },
    startSchedules() {
      timers ??= startSchedules({ region, hasFunction, fire: (fn, event, source) => invocations.invoke(fn, event, source) });
    },
    startEventSources(mappings) {
      pollers ??= startSqsEventSources({
        ...(mappings ? { eventSources: mappings } : {}),
        connection: { endpoint: queueService.endpoint, region, credentials: options.credentials },
        queues: provisioned,
        invoker: options.invoker,
        hasFunction,
        log,
      });
    },
    async stopInvoking() {
      clearInterval(lifecycle);
      timers?.stop();
      await Promise.all([invokeApi.close(), pollers?.stop()]);
      invocations.close();
    },
    async stopEmulators() {
      await Promise.all([storage.stop(), queueService.stop()]);
    },
  };
}
