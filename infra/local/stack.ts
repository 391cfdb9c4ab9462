/**
 * The local stack: DynamoDB Local with the catalogue's tables, local key
 * files, and the HTTP API invoking the same Lambda handlers as on AWS. State
 * lives in the data folder and survives a restart.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { generateApiKey, hashApiKey } from '../../shared/auth/api-keys.js';
import { ensureLocalKeys } from '../../shared/crypto/local-keyring.js';
import { environment, tables } from '../catalogue.js';
import { localCredentials, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { corsOriginsFromEnv, startGateway, type Gateway } from './gateway.js';
import { workerInvoker, type FunctionInvoker } from './lambda-runtime.js';
import { provisionTables } from './provision.js';
import { acquireDataFolderLock } from './data-folder-lock.js';

export interface LocalStackOptions {
  port: number;
  dataDir: string;
  operatorKey?: string;
  /** Keep DynamoDB in memory (tests); the data folder still holds keys. */
  inMemory?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  operatorKey: string;
  operatorKeyGenerated: boolean;
  dataDir: string;
  dynamoEndpoint: string;
  stop(): Promise<void>;
}

const REGION = 'cn-north-1';

/** The operator key: the given one, or the one kept in the data folder, or a new one kept there. */
export function resolveOperatorKey(dataDir: string, given?: string): { key: string; generated: boolean } {
  if (given) return { key: given, generated: false };
  const file = join(dataDir, 'operator.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false };
  const key = generateApiKey();
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  return { key, generated: true };
}

/** The environment the handlers see: the same variable names as on AWS, pointing at local resources. */
export function handlerEnvironment(dynamoEndpoint: string, keyDir: string, operatorKey: string): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    POWERTOOLS_SERVICE_NAME: 'credit-hub',
    [environment.localKeyDir]: keyDir,
    [environment.operatorKeyHash]: hashApiKey(operatorKey),
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
  mkdirSync(dataDir, { recursive: true });
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

async function startLockedStack(options: LocalStackOptions, dataDir: string): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const keyDir = join(dataDir, 'keys');
  ensureLocalKeys(keyDir);
  const operator = resolveOperatorKey(dataDir, options.operatorKey);

  log('starting DynamoDB Local …');
  const dynamo: DynamoDbLocal = await startDynamoDbLocal(
    options.inMemory ? {} : { dbPath: join(dataDir, 'dynamodb'), logFile: join(dataDir, 'dynamodb-local.log') },
  );
  let gateway: Gateway | undefined;
  let invoker: FunctionInvoker | undefined;
  try {
    Object.assign(process.env, handlerEnvironment(dynamo.endpoint, keyDir, operator.key));
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: localCredentials });
    const created = await provisionTables(client);
    client.destroy();
    log(created.length ? `created tables: ${created.join(', ')}` : 'tables already exist: state kept from the last run');

    // Each function runs in execution environments of its own, as on Lambda (lambda-runtime.ts).
    invoker = workerInvoker({ log });
    gateway = await startGateway({ port: options.port, invoker, corsOrigins: corsOriginsFromEnv() });
  } catch (e) {
    await invoker?.close();
    await dynamo.stop();
    throw e;
  }

  const gw = gateway;
  const functionsRuntime = invoker;
  return {
    apiUrl: gw.url,
    operatorKey: operator.key,
    operatorKeyGenerated: operator.generated,
    dataDir,
    dynamoEndpoint: dynamo.endpoint,
    stop: async () => {
      await gw.close();
      await functionsRuntime.close();
      await dynamo.stop();
    },
  };
}
