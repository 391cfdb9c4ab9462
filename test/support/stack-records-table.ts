/**
 * Reads a running local stack's records table directly, past the API, to see
 * what is really stored: the HEAD item and the `V#n` items of every record.
 *
 * The stack names its DynamoDB Local in its banner ("DynamoDB Local: http://…").
 * Its credentials are the data folder's own (`dynamodb-credentials.json`): DynamoDB
 * Local keeps the stack's tables under that access key id.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { tables } from '../../infra/catalogue.js';
import { CREDENTIALS_FILE, LOCAL_REGION, readDataFolderCredentials } from '../../infra/local/dynamodb-local.js';

const REGION = LOCAL_REGION;
export { CREDENTIALS_FILE };

/** DynamoDB Local's endpoint, as the stack's banner gives it. */
export function dynamoEndpointOf(stackOutput: string): string {
  const endpoint = /DynamoDB Local:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stackOutput)?.[1];
  if (!endpoint) throw new Error(`no "DynamoDB Local: http://…" line in the stack's output:\n${stackOutput.slice(0, 2000)}`);
  return endpoint;
}

/** The credentials the stack's DynamoDB Local takes: the data folder's own when it has them. */
export function stackCredentials(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  return readDataFolderCredentials(dataDir);
}

export interface StoredRecordItems {
  head?: Record<string, any>;
  /** `V#n` items by n. */
  versions: Map<number, Record<string, any>>;
  /** Items of the record that are neither HEAD nor V#n. */
  other: string[];
}

/** Every item of the records table, by record id (from `pk=REC#<id>`); other partitions under `''`. */
export async function scanRecordsTable(stackOutput: string, dataDir: string): Promise<Map<string, StoredRecordItems>> {
  const client = new DynamoDBClient({ endpoint: dynamoEndpointOf(stackOutput), region: REGION, credentials: stackCredentials(dataDir) });
  const doc = DynamoDBDocumentClient.from(client);
  const byId = new Map<string, StoredRecordItems>();
  try {
    let start: Record<string, any> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tables.records.localName, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const pk = String(item.pk);
        const id = pk.startsWith('REC#') ? pk.slice(4) : '';
        const entry: StoredRecordItems = byId.get(id) ?? { versions: new Map(), other: [] };
        byId.set(id, entry);
        const sk = String(item.sk);
        const version = /^V#(\d{10})$/.exec(sk);
        if (sk === 'HEAD' && id) entry.head = item;
        else if (version && id) entry.versions.set(Number(version[1]), item);
        else entry.other.push(`${pk} ${sk}`);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return byId;
}

/**
 * What is torn in a record's items: a head without all its versions 1..version-1, versions beyond
 * the head's, versions without a head, or anything else in its partition. Empty when whole.
 */
export function tornParts(id: string, items: StoredRecordItems): string[] {
  const problems: string[] = [];
  if (items.other.length) problems.push(`${id}: unexpected items ${items.other.join(', ')}`);
  if (!items.head) return [...problems, `${id}: versions ${[...items.versions.keys()].join(', ')} without a HEAD`];
  const version = Number(items.head.version);
  if (items.versions.size !== version - 1) problems.push(`${id}: HEAD version ${version} with ${items.versions.size} V# items`);
  for (let n = 1; n < version; n++) if (!items.versions.has(n)) problems.push(`${id}: HEAD version ${version} but V#${n} is missing`);
  for (const n of items.versions.keys()) if (n < 1 || n >= version) problems.push(`${id}: V#${n} beside HEAD version ${version}`);
  return problems;
}
