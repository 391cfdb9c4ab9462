/**
 * How the hub's AWS clients talk to their services: fail fast instead of
 * hanging an invocation when a service cannot be reached or stops answering.
 * Without these the SDK waits for a TCP connection as long as the operating
 * system lets it and for an answer forever, and the Lambda runs into its
 * timeout (a 500 from API Gateway, no Retry-After).
 *
 * Worst case for one call to a store that accepts connections but never
 * answers: MAX_ATTEMPTS × REQUEST_TIMEOUT_MS plus the SDK's back-off between
 * attempts; that stays below the timeout of every function that uses a table
 * (checked in test/unit/aws-errors.test.ts). The error the SDK throws then
 * (TimeoutError, ECONNREFUSED …) is classified in errors.ts as 503.
 *
 * No SDK import here (types only): the health function loads the SDK only
 * when it first probes the store.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** Longest wait for a TCP connection (DynamoDB answers within milliseconds from inside the region). */
export const CONNECTION_TIMEOUT_MS = 1_000;
/** Longest wait for a response once the request is sent (a 100-item transaction takes well under a second). */
export const REQUEST_TIMEOUT_MS = 2_500;
/** Attempts per call, the first included (the SDK retries throttling, 5xx, timeouts and connection errors). */
export const MAX_ATTEMPTS = 3;

/** The HTTP handler options (NodeHttpHandler's): connection and request timeouts that throw instead of only warning. */
export const httpHandlerOptions = {
  connectionTimeout: CONNECTION_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  // Without this the SDK only logs a warning when requestTimeout passes, and goes on waiting.
  throwOnRequestTimeout: true,
} as const;

/** Constructor options of the hub's DynamoDB clients (endpoint and region come from the standard environment). */
export function dynamoClientConfig(overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClientConfig {
  return { maxAttempts: MAX_ATTEMPTS, requestHandler: { ...httpHandlerOptions }, ...overrides };
}

/** The same for the other AWS clients (KMS, Secrets Manager): `new KMSClient(awsClientConfig())`. */
export function awsClientConfig<T extends object>(overrides: T = {} as T): { maxAttempts: number; requestHandler: typeof httpHandlerOptions } & T {
  return { maxAttempts: MAX_ATTEMPTS, requestHandler: { ...httpHandlerOptions }, ...overrides };
}
