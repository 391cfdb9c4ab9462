/**
 * Fan-out (shared/upward/fanout.ts) on Lambda: fed by the records table's change stream (heads only: the event
 * source's filter), it writes what each upward platform is owed and queues it. Failures are reported per stream
 * record (reportBatchItemFailures); the log line has counts only, never a record's content.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { logger } from '../../shared/logger.js';
import { fanOut, type FanoutDeps } from '../../shared/upward/fanout.js';
import { fanoutDeps } from './deps.js';

export function fanoutHandler(deps: () => FanoutDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const { batchItemFailures, ...counts } = await fanOut(event, deps());
    if (counts.failed > 0) logger.warn('fan-out', counts);
    else logger.info('fan-out', counts);
    return { batchItemFailures };
  };
}

export const handler = fanoutHandler(fanoutDeps);
