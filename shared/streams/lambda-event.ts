/**
 * The event Lambda sends a function fed by a DynamoDB stream, made from the Streams API's records (GetRecords),
 * and Lambda's event filtering on the new image: used by the local stack's stream poller
 * (infra/local/stream-poller.ts) and by the replay of a reported batch (replay.ts).
 */
import type { _Record as StreamApiRecord, AttributeValue as StreamAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord, DynamoDBStreamEvent, StreamRecord } from 'aws-lambda';

/** A stream attribute value as Lambda puts it in the event: binary as base64 text. */
export function lambdaAttributeValue(value: StreamAttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: lambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(lambdaAttributeValue) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(', ')}`);
}

function lambdaImage(image: Record<string, StreamAttributeValue>): Record<string, LambdaAttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, lambdaAttributeValue(v)]));
}

/** One stream record as Lambda delivers it: the Streams API's record, its time in epoch seconds, the stream's ARN, the stack's region. */
export function lambdaStreamRecord(record: StreamApiRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const dynamodb: StreamRecord = {
    ...(d.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) } : {}),
    ...(d.Keys ? { Keys: lambdaImage(d.Keys) } : {}),
    ...(d.NewImage ? { NewImage: lambdaImage(d.NewImage) } : {}),
    ...(d.OldImage ? { OldImage: lambdaImage(d.OldImage) } : {}),
    ...(d.SequenceNumber !== undefined ? { SequenceNumber: d.SequenceNumber } : {}),
    ...(d.SizeBytes !== undefined ? { SizeBytes: d.SizeBytes } : {}),
    ...(d.StreamViewType ? { StreamViewType: d.StreamViewType } : {}),
  };
  return {
    ...(record.eventID ? { eventID: record.eventID } : {}),
    ...(record.eventName ? { eventName: record.eventName } : {}),
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } } : {}),
  };
}

export function lambdaStreamEvent(records: readonly StreamApiRecord[], streamArn: string, region: string): DynamoDBStreamEvent {
  return { Records: records.map((r) => lambdaStreamRecord(r, streamArn, region)) };
}

/**
 * Lambda event filtering on the new image (`{"dynamodb":{"NewImage":{"sk":{"S":["HEAD"]}}}}`): every
 * attribute named is a string equal to the value. A record without a new image (REMOVE) fails any filter.
 */
export function passesFilter(record: StreamApiRecord, newImageEquals: Readonly<Record<string, string>> | undefined): boolean {
  if (!newImageEquals) return true;
  const image = record.dynamodb?.NewImage;
  if (!image) return false;
  return Object.entries(newImageEquals).every(([name, value]) => image[name]?.S === value);
}
