/**
 * A connector (shared/upward/connector.ts) on Lambda: one code, two functions (connectorProvincial,
 * connectorNational: HUB_PLATFORM), each fed by its platform's queue. Messages of a batch are delivered in
 * parallel (Powertools Batch); one the platform cannot take yet is reported failed alone (reportBatchItemFailures)
 * and comes back once the delay the connector set on it has passed (ChangeMessageVisibility), the others are done
 * (deleted by the event-source mapping, including one let go on its last receive: its delivery stays owed, for
 * the sweep). A fault that is not the platform's on a message's last receive marks its delivery failed
 * (`internal: <error name>`) before the message goes back: SQS then moves it to the dead-letter queue, and the
 * operator sees it in GET /v1/dlq. Publishes Delivered, Retried and DeadLettered (dimension platform) and one log
 * line of counts per invocation.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import { deliverMessage, markInternalFailure, type ConnectorDeps, type DeliveryOutcome, type QueueMessage } from '../../shared/upward/connector.js';
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
    const outcomes: Partial<Record<DeliveryOutcome | 'error' | 'internal-failed', number>> = {};
    let retried = 0;
    let delivered = 0;
    // Versions read back from the records table (the message did not carry them: inline-versions.ts).
    let versionsRead = 0;
    // What the batch's messages weigh (SQS bills a receive per 64 KB of them).
    const messageBytes = event.Records.reduce((n, r) => n + Buffer.byteLength(r.body), 0);
    const tally = (key: DeliveryOutcome | 'error' | 'internal-failed') => (outcomes[key] = (outcomes[key] ?? 0) + 1);
    const deliver = async (record: SQSRecord): Promise<void> => {
      const queued: QueueMessage = { body: record.body, receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'), receiptHandle: record.receiptHandle };
      let outcome: DeliveryOutcome;
      try {
        const result = await deliverMessage(queued, deps);
        retried += result.retries;
        versionsRead += result.versionsRead ?? 0;
        outcome = result.outcome;
        if (outcome === 'delivered') delivered += result.records;
      } catch (e) {
        tally('error');
        // The error's kind and message only (AWS errors, a version mismatch): never the message body.
        logger.error('connector: a message failed', { platform: deps.platform, messageId: record.messageId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        try {
          if (await markInternalFailure(queued, e, deps)) tally('internal-failed');
        } catch (marking) {
          logger.error('connector: could not mark the delivery failed', { platform: deps.platform, messageId: record.messageId, error: marking instanceof Error ? marking.name : 'unknown' });
        }
        throw e;
      }
      tally(outcome);
      if (outcome === 'retry-later') throw new DeliveryDeferredError(`${deps.platform}: ${outcome}`);
    };
    try {
      return await processPartialResponse(event, deliver, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
    } finally {
      metrics().connector(deps.platform, { delivered, retried, deadLettered: (outcomes['dead-lettered'] ?? 0) + (outcomes['internal-failed'] ?? 0) });
      logger.info('connector', { platform: deps.platform, messages: event.Records.length, messageBytes, records: delivered, versionsRead, retried, ...outcomes, ...usageSince(mark) });
    }
  };
}

export const handler = connectorHandler(connectorDeps, connectorMetrics);
