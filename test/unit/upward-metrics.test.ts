/** The upward path's metrics (shared/upward/delivery-metrics.ts) as CloudWatch receives them: EMF lines of Powertools Metrics. */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { exchange } from '../../infra/catalogue.js';
import { PowertoolsDeliveryMetrics } from '../../shared/upward/delivery-metrics.js';

function capture() {
  const metrics = new Metrics({ namespace: exchange.metrics.namespace, serviceName: exchange.metrics.service });
  const lines: Record<string, any>[] = [];
  // Powertools writes EMF through a console of its own: read what it writes.
  (metrics as unknown as { console: { log(text: string): void } }).console = { log: (text: string) => lines.push(JSON.parse(text)) };
  return { adapter: new PowertoolsDeliveryMetrics(metrics), lines };
}

describe('PowertoolsDeliveryMetrics', () => {
  it('publishes a connector’s counts under the catalogue’s namespace and names, with the platform as dimension', () => {
    const { adapter, lines } = capture();
    adapter.connector('provincial', { delivered: 7, retried: 2, deadLettered: 1 });
    adapter.connector('national', { delivered: 0, retried: 0, deadLettered: 0 });
    expect(lines).toHaveLength(2);
    const [first, second] = lines;
    const directive = first!._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('CreditHub');
    expect(directive.Dimensions).toEqual([['service', 'platform']]);
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: exchange.metrics.delivered, Unit: 'Count' },
        { Name: exchange.metrics.retried, Unit: 'Count' },
        { Name: exchange.metrics.deadLettered, Unit: 'Count' },
      ]),
    );
    expect(first).toMatchObject({ service: 'upward', platform: 'provincial', Delivered: 7, Retried: 2, DeadLettered: 1 });
    // Each line names its own platform (Powertools clears dimensions at every publish).
    expect(second).toMatchObject({ platform: 'national', Delivered: 0 });
  });

  it('publishes the age of the oldest owed delivery in seconds', () => {
    const { adapter, lines } = capture();
    adapter.oldestOwedAge('national', 1800);
    expect(lines[0]).toMatchObject({ platform: 'national', [exchange.metrics.oldestOwedAge]: 1800 });
    expect(lines[0]!._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'OldestOwedAgeSeconds', Unit: 'Seconds' }]);
  });
});
