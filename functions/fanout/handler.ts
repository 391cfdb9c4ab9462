/**
 * Fan-out (shared/upward/fanout.ts) on Lambda: fed by the records table's change stream (heads only: the event
 * source's filter), it writes what each upward platform is owed and queues it. Failures are reported per stream
 * record (reportBatchItemFailures); the log line has counts only, never a record's content.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { logger } from '../../shared/logger.js';
import { fanOut, type FanoutDeps } from '../../shared/upward/fanout.js';
import { fanoutDeps } from './deps.js';

export function fanoutHandler(deps: () => FanoutDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const mark = usageMark();
    const { batchItemFailures, ...counts } = await fanOut(event, deps());
    // With what the invocation cost: DynamoDB units and AWS requests (the benchmark adds these up).
    const line = { ...counts, ...usageSince(mark) };
    if (counts.failed > 0) logger.warn('fan-out', line);
    else logger.info('fan-out', line);
    return { batchItemFailures };
  };
}

export const handler = fanoutHandler(fanoutDeps);
