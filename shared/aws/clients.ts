/**
 * AWS clients, created once per container and only when first used. Endpoints
 * come from the standard environment (AWS_ENDPOINT_URL_DYNAMODB and friends),
 * which is how the local stack points the same handlers at its emulators.
 * Timeouts and retries: client-config.ts. The S3 and Lambda clients are in
 * s3-client.ts and lambda-client.ts, so that only the functions that use them
 * load them at init.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoClientConfig } from './client-config.js';
import { meterCapacity } from './consumed-capacity.js';
import { meterRequests } from './request-meter.js';

let documentClient: DynamoDBDocumentClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(meterRequests(meterCapacity(new DynamoDBClient(dynamoClientConfig()))), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

