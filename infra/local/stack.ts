/**
 * The local stack: DynamoDB Local with the catalogue's tables, local key
 * files, and the HTTP API invoking the same Lambda handlers as on AWS. State
 * lives in the data folder and survives a restart.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { generateApiKey } from '../../shared/auth/api-keys.js';
import { installOperatorKey } from '../../shared/auth/operator-key.js';
import { DynamoSourcesStore, type OperatorKeyChange } from '../../shared/store/sources-store.js';
import { ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { currentLookupKeyVersion } from '../../shared/config.js';
import { buckets, environment, eventSources, exchange, functions, platforms, tables, type EventSourceSpec } from '../catalogue.js';
import { dataFolderCredentials, LOCAL_REGION, startDynamoDbLocal, type DynamoDbLocal, type LocalCredentials } from './dynamodb-local.js';
import { corsOriginsFromEnv, startGateway, type Gateway } from './gateway.js';
import { workerInvoker, type FunctionInvoker, type Isolation } from './lambda-runtime.js';
import { startEventServices, type EventServices } from './event-services.js';
import { provisionTables } from './provision.js';
import { acquireDataFolderLock } from './data-folder-lock.js';
import { parseReceiverFaults, RECEIVER_FAULTS_ENV, startPlatformReceiver, type PlatformReceiver } from './platform-receiver.js';
import { startStreamPollers, type StreamPollers } from './stream-poller.js';
import { startSiteServer, type SiteServer } from './site-server.js';
import { REDRIVE_MODE_ENV } from '../../shared/upward/redrive.js';

export interface LocalStackOptions {
  port: number;
  dataDir: string;
  operatorKey?: string;
  /** Keep DynamoDB in memory (tests); the data folder still holds keys. */
  inMemory?: boolean;
  log?: (line: string) => void;
  /** The built-in platform receiver's port (0 or unset: any free port); it runs only for platforms without a URL. */
  receiverPort?: number;
  /** The public site's port (SITE_PORT; 0 or unset: any free port). */
  sitePort?: number;
}

/**
 * The sender USCC of the exchange packages when HUB_SENDER_USCC is unset locally (a valid GB 32100 code that
 * says "local": on AWS the CDK context value `senderUscc` is required).
 */
export const LOCAL_SENDER_USCC = '91110000600037341L';

export interface LocalStack {
  apiUrl: string;
  operatorKey: string;
  operatorKeyGenerated: boolean;
  /** What this start did to the stored operator key hash (replaced: another operator key was in the store, and no longer works). */
  operatorKeyChange: OperatorKeyChange;
  dataDir: string;
  dynamoEndpoint: string;
  /** The S3 emulator and the Lambda Invoke API (event-services.ts). */
  s3Endpoint: string;
  sqsEndpoint: string;
  lambdaEndpoint: string;
  /** The public site (the site bucket behind the CloudFront stand-in, site-server.ts). */
  siteUrl: string;
  /** The built-in receiver standing in for the platforms without a URL, and where it keeps what it received. */
  receiver?: { url: string; dir: string };
  stop(): Promise<void>;
}

const REGION = LOCAL_REGION;

/** The operator key: the given one, or the one kept in the data folder, or a new one kept there. */
export function resolveOperatorKey(dataDir: string, given?: string): { key: string; generated: boolean } {
  if (given) return { key: given, generated: false };
  const file = join(dataDir, 'operator.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false };
  const key = generateApiKey();
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  return { key, generated: true };
}

/**
 * The environment the handlers see: the same variable names as on AWS, pointing at local resources.
 * No operator key in it: the handlers find the operator's key hash in the sources table, as on AWS.
 */
export function handlerEnvironment(dynamoEndpoint: string, keyDir: string, credentials: LocalCredentials): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: REGION,
    // The data folder's own key id: DynamoDB Local keeps its tables under it (dynamodb-local.ts).
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    POWERTOOLS_SERVICE_NAME: 'credit-hub',
    [environment.localKeyDir]: keyDir,
    // The SQS emulator has no StartMessageMoveTask: a dead-letter redrive receives, resends and deletes (shared/upward/redrive.ts).
    [REDRIVE_MODE_ENV]: 'resend',
  };
  for (const spec of Object.values(tables)) env[spec.envVar] = spec.localName;
  return env;
}

/**
 * Starts the stack holding the data folder's lock (data-folder-lock.ts), taken before anything in the
 * folder is touched: a second stack on the same folder is refused, naming the first one's pid and port.
 * The lock records the HTTP port once the gateway listens, and is released when the stack stops.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Folders made before the data folder was private are tightened too.
  chmodSync(dataDir, 0o700);
  const lock = acquireDataFolderLock(dataDir);
  let stack: LocalStack;
  try {
    stack = await startLockedStack(options, dataDir);
  } catch (e) {
    lock.release();
    throw e;
  }
  const stop = async () => {
    try {
      await stack.stop();
    } finally {
      lock.release();
    }
  };
  try {
    lock.setPort(Number(new URL(stack.apiUrl).port));
  } catch (e) {
    await stop();
    throw e;
  }
  return { ...stack, stop };
}

/**
 * HUB_LAMBDA_PROCESS_FUNCTIONS: the functions (catalogue names, comma-separated, or `*`) whose execution
 * environments run as processes of their own, each invocation reporting its peak memory (the benchmark's
 * measure of the batch ingest's memory). The others run in worker threads.
 */
/**
 * HUB_EVENT_SOURCES_DISABLED: event-source mappings (catalogue names of `eventSources`, comma-separated) the local
 * stack does not run, as a mapping on AWS can be disabled (`Enabled: false`): what they would read stays where it is
 * (a queue keeps its messages; a stream's position stays, and the mapping picks up from it when enabled again). The
 * court-batch benchmark disables `recordChanges`, so that it measures the ingest and not the upward fan-out on the same
 * two cores. Unknown names are refused.
 */
export function enabledEventSources(setting: string | undefined): Record<string, EventSourceSpec> {
  const disabled = new Set((setting ?? '').split(',').map((n) => n.trim()).filter(Boolean));
  const unknown = [...disabled].filter((n) => !Object.hasOwn(eventSources, n));
  if (unknown.length > 0) throw new Error(`HUB_EVENT_SOURCES_DISABLED names no event source of the catalogue: ${unknown.join(', ')} (known: ${Object.keys(eventSources).join(', ')})`);
  return Object.fromEntries(Object.entries(eventSources).filter(([name]) => !disabled.has(name)));
}

export function processIsolation(setting: string | undefined): (fn: string) => Isolation {
  const names = new Set((setting ?? '').split(',').map((n) => n.trim()).filter(Boolean));
  return (fn) => (names.has('*') || names.has(fn) ? 'process' : 'thread');
}

async function startLockedStack(options: LocalStackOptions, dataDir: string): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const mappings = enabledEventSources(process.env.HUB_EVENT_SOURCES_DISABLED);
  for (const name of Object.keys(eventSources).filter((n) => !Object.hasOwn(mappings, n))) log(`event source ${name} disabled (HUB_EVENT_SOURCES_DISABLED)`);
  const keyDir = join(dataDir, 'keys');
  ensureLocalKeys(keyDir, currentLookupKeyVersion());
  const operator = resolveOperatorKey(dataDir, options.operatorKey);

  log('starting DynamoDB Local …');
  const dynamo: DynamoDbLocal = await startDynamoDbLocal(
    options.inMemory
      ? { credentials: dataFolderCredentials(dataDir) }
      : { dbPath: join(dataDir, 'dynamodb'), logFile: join(dataDir, 'dynamodb-local.log'), credentials: dataFolderCredentials(dataDir), log },
  );
  let gateway: Gateway | undefined;
  let invoker: FunctionInvoker | undefined;
  let services: EventServices | undefined;
  let receiver: PlatformReceiver | undefined;
  let site: SiteServer | undefined;
  let operatorKeyChange: OperatorKeyChange = 'unchanged';
  // What this start put in process.env for the handlers that the user had not set, taken out again at stop.
  const defaulted: string[] = [];
  const setDefault = (name: string, value: string) => {
    if (process.env[name]) return;
    process.env[name] = value;
    defaulted.push(name);
  };
  try {
    // Platforms without a URL get the built-in receiver (API.md "Running it"); set before any environment starts.
    if (Object.values(platforms).some((p) => !process.env[p.urlEnvVar])) {
      receiver = await startPlatformReceiver({ dir: join(dataDir, 'platforms'), port: options.receiverPort ?? 0, faults: parseReceiverFaults(process.env[RECEIVER_FAULTS_ENV]), log });
      const urls = receiver.environment();
      for (const p of Object.values(platforms)) if (urls[p.urlEnvVar]) setDefault(p.urlEnvVar, urls[p.urlEnvVar]!);
    }
    setDefault(exchange.senderUsccEnvVar, LOCAL_SENDER_USCC);
    // Each function runs in execution environments of its own, as on Lambda (lambda-runtime.ts); none starts before it is invoked.
    invoker = workerInvoker({ log, isolation: processIsolation(process.env.HUB_LAMBDA_PROCESS_FUNCTIONS) });
    log('starting S3 (s3rver) and the Lambda Invoke API …');
    services = await startEventServices({ dataDir, credentials: dynamo.credentials, region: REGION, invoker, log });
    Object.assign(process.env, handlerEnvironment(dynamo.endpoint, keyDir, dynamo.credentials), services.environment);
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: dynamo.credentials });
    try {
      const created = await provisionTables(client);
      log(created.length ? `created tables: ${created.join(', ')}` : 'tables already exist: state kept from the last run');
      // The stored operator key hash is made this start's key: the same rotation as `hub operator rotate-key` on AWS.
      operatorKeyChange = await installOperatorKey(new DynamoSourcesStore(DynamoDBDocumentClient.from(client), tables.sources.localName), operator.key);
      if (operatorKeyChange === 'replaced') log('operator key: replaced the one stored before (that key no longer works)');
    } finally {
      client.destroy();
    }

    site = await startSiteServer({
      port: options.sitePort ?? 0,
      s3: { endpoint: services.s3Endpoint, region: REGION, credentials: dynamo.credentials },
      bucket: buckets.site.localName,
      website: buckets.site.website,
      log,
    });
    gateway = await startGateway({ port: options.port, invoker, corsOrigins: corsOriginsFromEnv() });
  } catch (e) {
    await site?.close();
    await services?.stopInvoking();
    await invoker?.close();
    await receiver?.close();
    await services?.stopEmulators();
    await dynamo.stop();
    for (const name of defaulted) delete process.env[name];
    throw e;
  }

  const gw = gateway;
  const functionsRuntime = invoker;
  const events = services;
  // EventBridge's schedules, the ones marked for it fired once now: what a stopped or killed stack left undone resumes.
  events.startSchedules();
  // Lambda's event-source mappings: the queues' pollers and the records table's stream.
  events.startEventSources(mappings);
  const streams: StreamPollers = startStreamPollers({
    eventSources: mappings,
    endpoint: dynamo.endpoint,
    region: REGION,
    credentials: dynamo.credentials,
    invoker: functionsRuntime,
    dataDir,
    hasFunction: (fn) => Object.hasOwn(functions, fn),
    // A batch given up is reported to its mapping's on-failure queue, as Lambda does (queues.streamFailures).
    onFailure: { connection: { endpoint: events.sqsEndpoint, region: REGION, credentials: dynamo.credentials }, queues: events.queues },
    log,
  });
  const platformReceiver = receiver;
  const siteServer = site;
  return {
    apiUrl: gw.url,
    operatorKey: operator.key,
    operatorKeyGenerated: operator.generated,
    operatorKeyChange,
    dataDir,
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: events.s3Endpoint,
    sqsEndpoint: events.sqsEndpoint,
    lambdaEndpoint: events.lambdaEndpoint,
    siteUrl: siteServer.url,
    ...(platformReceiver ? { receiver: { url: platformReceiver.url, dir: platformReceiver.dir } } : {}),
    stop: async () => {
      await gw.close();
      await Promise.all([streams.stop(), events.stopInvoking()]);
      await functionsRuntime.close();
      await platformReceiver?.close();
      await siteServer.close();
      await events.stopEmulators();
      await dynamo.stop();
      for (const name of defaulted) delete process.env[name];
    },
  };
}
