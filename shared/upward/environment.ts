/** What the upward functions learn from their environment, by the catalogue's names (`queues`, `platforms`). */
import { exchange, platforms, queues } from '../../infra/catalogue.js';
import { REDELIVERY_BASE_SECONDS } from './retry-policy.js';
import { isPlatformName, PLATFORM_NAMES, type PlatformName } from './package-model.js';

/** The environment variable naming a connector's platform (functions.connector*.environment). */
export const PLATFORM_ENV = 'HUB_PLATFORM';

export function requiredEnv(variable: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const value = env[variable];
  if (!value) throw new Error(`environment variable ${variable} is not set`);
  return value;
}

/** Each platform's delivery queue URL, from its queue's envVar (the fan-out and the sweep send to both). */
export function deliveryQueueUrls(env: Readonly<Record<string, string | undefined>> = process.env): Record<PlatformName, string> {
  return Object.fromEntries(PLATFORM_NAMES.map((p) => [p, requiredEnv(queues[platforms[p].queue].envVar, env)])) as Record<PlatformName, string>;
}

/** The platform a connector delivers to (HUB_PLATFORM). */
export function connectorPlatform(env: Readonly<Record<string, string | undefined>> = process.env): PlatformName {
  const value = requiredEnv(PLATFORM_ENV, env);
  if (!isPlatformName(value)) throw new Error(`environment variable ${PLATFORM_ENV} is ${JSON.stringify(value)}, not one of ${PLATFORM_NAMES.join(', ')}`);
  return value;
}

/**
 * Test and demo settings, never set on AWS (the CDK stack passes neither; nor does `npm start` unless the user
 * does): the reliability tests shorten the connectors' request timeout and the sweep's requeue age, which the
 * catalogue sets for production (exchange.requestTimeoutSeconds, exchange.requeueAfterSeconds).
 */
export const PLATFORM_TIMEOUT_ENV = 'HUB_PLATFORM_TIMEOUT_SECONDS';
export const REQUEUE_AFTER_ENV = 'HUB_REQUEUE_AFTER_SECONDS';
export const REDELIVERY_BASE_ENV = 'HUB_REDELIVERY_BASE_SECONDS';
export const RECONCILE_SETTLED_AFTER_ENV = 'HUB_RECONCILE_SETTLED_AFTER_SECONDS';

/** A whole number of seconds, at least 1, from `variable`; `fallback` when unset or empty; throws on anything else. */
export function secondsSetting(variable: string, fallback: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`environment variable ${variable} must be a whole number of seconds, at least 1, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** How long a connector waits for a platform's answer (HUB_PLATFORM_TIMEOUT_SECONDS, else exchange.requestTimeoutSeconds), in ms. */
export function platformRequestTimeoutMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return secondsSetting(PLATFORM_TIMEOUT_ENV, exchange.requestTimeoutSeconds, env) * 1000;
}

/** How long after it was last queued the sweep queues an owed delivery again (HUB_REQUEUE_AFTER_SECONDS, else exchange.requeueAfterSeconds), in ms. */
export function requeueAfterMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return secondsSetting(REQUEUE_AFTER_ENV, exchange.requeueAfterSeconds, env) * 1000;
}

/**
 * How old a version without a claim must be before the reconciliation packages it (HUB_RECONCILE_SETTLED_AFTER_SECONDS,
 * in tests and demos only; else exchange.reconcile.settledAfterSeconds), in ms.
 */
export function reconcileSettledAfterMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return secondsSetting(RECONCILE_SETTLED_AFTER_ENV, exchange.reconcile.settledAfterSeconds, env) * 1000;
}

/**
 * The first redelivery delay of a message its platform could not take (HUB_REDELIVERY_BASE_SECONDS, else
 * retry-policy.ts REDELIVERY_BASE_SECONDS), in seconds: doubled at each receive.
 */
export function redeliveryBaseSeconds(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return secondsSetting(REDELIVERY_BASE_ENV, REDELIVERY_BASE_SECONDS, env);
}
