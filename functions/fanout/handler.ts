/**
 * Fan-out (shared/upward/fanout.ts) on Lambda: fed by the records table's change stream (heads only: the event
 * source's filter), it writes the packages each upward platform is owed and queues them. A failure is thrown: the
 * event-source mapping reads the batch again (bisected), and fanOut is safe to repeat on any composition of it.
 * The log line has counts only, never a record's content.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import { fanOut, type FanoutDeps } from '../../shared/upward/fanout.js';
import { fanoutDeps } from './deps.js';

export function fanoutHandler(deps: () => FanoutDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const mark = usageMark();
    const report = await fanOut(event, deps());
    // With what the invocation cost: DynamoDB units and AWS requests (the benchmark adds these up).
    logger.info('fan-out', { ...report, ...usageSince(mark) });
    return { batchItemFailures: [] };
  };
}

export const handler = fanoutHandler(fanoutDeps);
