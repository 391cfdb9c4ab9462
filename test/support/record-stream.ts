/**
 * The records table's change stream as the fan-out reads it (shared/upward/fanout.ts): head images and stream
 * records of their INSERT, MODIFY and REMOVE, with sequence numbers in stream order.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export const STREAM_PERSON_ID = '110102199101010078';

/** A penalty's head item as the records table holds it (a stand-in ciphertext that spells a number: never to be seen). */
export function headImage(id: string, version: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: `REC#${id}`,
    sk: 'HEAD',
    id,
    kind: 'penalty',
    sourceId: 'shi-scjgj',
    version,
    status: 'active',
    publication: { state: 'pending-review', from: '2026-01-05' },
    receivedAt: '2026-01-06T00:00:00.000Z',
    fields: { CF_XDR_MC: '张三', CF_WSH: `罚${id}` },
    certificate: { type: '001', cipher: `v1.${STREAM_PERSON_ID}`, hash: 'v1#h' },
    ...overrides,
  };
}

/** A stream record (NEW_AND_OLD_IMAGES) with sequence number `sequence`. */
export function streamRecord(sequence: number | string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE', newImage?: Record<string, unknown>, oldImage?: Record<string, unknown>): DynamoDBRecord {
  return {
    eventID: `e-${sequence}`,
    eventName,
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:cn-north-1:000000000000:table/hub-records/stream/2026-01-01T00:00:00.000',
    dynamodb: {
      SequenceNumber: String(sequence).padStart(21, '0'),
      ...(newImage ? { NewImage: marshall(newImage, { removeUndefinedValues: true }) as never } : {}),
      ...(oldImage ? { OldImage: marshall(oldImage, { removeUndefinedValues: true }) as never } : {}),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** The stream record of a new version: an INSERT for version 1, a MODIFY from the previous version after. */
export function newVersionRecord(sequence: number, id: string, version: number, overrides: Record<string, unknown> = {}): DynamoDBRecord {
  return version === 1 ? streamRecord(sequence, 'INSERT', headImage(id, 1, overrides)) : streamRecord(sequence, 'MODIFY', headImage(id, version, overrides), headImage(id, version - 1));
}

export const streamEvent = (records: readonly DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: [...records] });
