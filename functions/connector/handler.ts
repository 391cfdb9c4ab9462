/**
 * A connector (shared/upward/connector.ts) on Lambda: one code, two functions (connectorProvincial,
 * connectorNational: HUB_PLATFORM), each fed by its platform's queue. Messages of a batch are delivered in
 * parallel (Powertools Batch); one the platform cannot take yet is reported failed alone (reportBatchItemFailures)
 * and comes back after the visibility timeout, the others are done. Publishes Delivered, Retried and DeadLettered
 * (dimension platform) and one log line of counts per invocation.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import { deliverMessage, type ConnectorDeps, type DeliveryOutcome } from '../../shared/upward/connector.js';
import type { DeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { connectorDeps, connectorMetrics } from './deps.js';

/** A message the platform could not take yet: given back to the queue. */
export class DeliveryDeferredError extends Error {
  override name = 'DeliveryDeferredError';
}

export function connectorHandler(makeDeps: (context: Context) => ConnectorDeps, metrics: () => DeliveryMetrics) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const mark = usageMark();
    const deps = makeDeps(context);
    const outcomes: Partial<Record<DeliveryOutcome | 'error', number>> = {};
    let retried = 0;
    const tally = (key: DeliveryOutcome | 'error') => (outcomes[key] = (outcomes[key] ?? 0) + 1);
    const deliver = async (record: SQSRecord): Promise<void> => {
      let outcome: DeliveryOutcome;
      try {
        const result = await deliverMessage(record.body, Number(record.attributes.ApproximateReceiveCount ?? '1'), deps);
        retried += result.retries;
        outcome = result.outcome;
      } catch (e) {
        tally('error');
        // The error's kind and message only (AWS errors, a version mismatch): never the message body.
        logger.error('connector: a message failed', { platform: deps.platform, messageId: record.messageId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        throw e;
      }
      tally(outcome);
      if (outcome === 'retry-later' || outcome === 'given-up') throw new DeliveryDeferredError(`${deps.platform}: ${outcome}`);
    };
    try {
      return await processPartialResponse(event, deliver, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
    } finally {
      metrics().connector(deps.platform, { delivered: outcomes.delivered ?? 0, retried, deadLettered: (outcomes['dead-lettered'] ?? 0) + (outcomes['given-up'] ?? 0) });
      logger.info('connector', { platform: deps.platform, messages: event.Records.length, retried, ...outcomes, ...usageSince(mark) });
    }
  };
}

export const handler = connectorHandler(connectorDeps, connectorMetrics);
