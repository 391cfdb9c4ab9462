/**
 * The upward path's metrics (exchange.metrics of infra/catalogue.ts) through Powertools Metrics: CloudWatch
 * embedded metric format on standard output, namespace `CreditHub`, service `upward`, dimension `platform`.
 * The stack alarms on OldestOwedAgeSeconds (and on the dead-letter queues' depth).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';
import { exchange, type PlatformName } from '../../infra/catalogue.js';

export type ConnectorCounts = { delivered: number; retried: number; deadLettered: number };

/** What the handlers publish; the Powertools adapter below, a recording one in tests. */
export interface DeliveryMetrics {
  /** The connector's counts of one invocation. */
  connector(platform: PlatformName, counts: ConnectorCounts): void;
  /** The sweep's measure of one platform's lag. */
  oldestOwedAge(platform: PlatformName, seconds: number): void;
}

export class PowertoolsDeliveryMetrics implements DeliveryMetrics {
  constructor(private readonly metrics: Metrics = new Metrics({ namespace: exchange.metrics.namespace, serviceName: exchange.metrics.service })) {}

  connector(platform: PlatformName, counts: ConnectorCounts): void {
    this.#publish(platform, [
      [exchange.metrics.delivered, counts.delivered, MetricUnit.Count],
      [exchange.metrics.retried, counts.retried, MetricUnit.Count],
      [exchange.metrics.deadLettered, counts.deadLettered, MetricUnit.Count],
    ]);
  }

  oldestOwedAge(platform: PlatformName, seconds: number): void {
    this.#publish(platform, [[exchange.metrics.oldestOwedAge, seconds, MetricUnit.Seconds]]);
  }

  #publish(platform: PlatformName, values: [string, number, Unit][]): void {
    // Dimensions are cleared by every publish: set for each line.
    this.metrics.addDimension('platform', platform);
    for (const [name, value, unit] of values) this.metrics.addMetric(name, unit, value);
    this.metrics.publishStoredMetrics();
  }
}
