/** What the upward functions learn from their environment, by the catalogue's names (`queues`, `platforms`). */
import { platforms, queues } from '../../infra/catalogue.js';
import { isPlatformName, PLATFORM_NAMES, type PlatformName } from './delivery-model.js';

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
