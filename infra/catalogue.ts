/**
 * The one description of the hub's resources. The CDK stack (infra/stack.ts)
 * turns it into CloudFormation; the local stack (infra/local/) turns it into
 * DynamoDB Local tables, an HTTP router that builds API Gateway v2 events,
 * and the environment the handlers read. Neither runtime names a resource
 * that is not here, so they cannot drift.
 */

export type AttributeType = 'S' | 'N';

export interface TableSpec {
  /** Environment variable through which handlers learn the table name. */
  envVar: string;
  /** Table name in the local stack (on AWS, CloudFormation names it). */
  localName: string;
  partitionKey: { name: string; type: AttributeType };
  sortKey?: { name: string; type: AttributeType };
  globalIndexes: { name: string; partitionKey: { name: string; type: AttributeType }; sortKey?: { name: string; type: AttributeType } }[];
  /** Change stream for later fan-out (new and old images). */
  stream: boolean;
  /** Attribute holding an epoch-seconds expiry (DynamoDB TTL), if items expire. */
  timeToLiveAttribute?: string;
  /** Items are only ever added: no function may update or delete them (an audit trail). */
  appendOnly?: boolean;
  description: string;
}

export const tables = {
  sources: {
    envVar: 'HUB_SOURCES_TABLE',
    localName: 'hub-sources',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [],
    stream: false,
    description: 'Sources (pk SOURCES, sk id) and their API key hashes (pk KEY#<sha256>)',
  },
  records: {
    envVar: 'HUB_RECORDS_TABLE',
    localName: 'hub-records',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [{ name: 'bySubject', partitionKey: { name: 'subjectKey', type: 'S' }, sortKey: { name: 'id', type: 'S' } }],
    stream: true,
    description: 'Records: pk REC#<id>; sk HEAD holds the current version, sk V#<n> each superseded one',
  },
  idempotency: {
    envVar: 'HUB_IDEMPOTENCY_TABLE',
    localName: 'hub-idempotency',
    partitionKey: { name: 'id', type: 'S' },
    globalIndexes: [],
    stream: false,
    timeToLiveAttribute: 'expiration',
    description: 'Idempotency-Key records of pushes (Powertools Idempotency): the first answer, kept 24 hours',
  },
  audit: {
    envVar: 'HUB_AUDIT_TABLE',
    localName: 'hub-audit',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [{ name: 'byDay', partitionKey: { name: 'day', type: 'S' }, sortKey: { name: 'sk', type: 'S' } }],
    stream: false,
    appendOnly: true,
    description: 'Append-only audit of reads of personal data: pk READ#<record id>, sk <ISO time>#<request id>; byDay index (day YYYY-MM-DD in China)',
  },
  throttle: {
    envVar: 'HUB_THROTTLE_TABLE',
    localName: 'hub-throttle',
    partitionKey: { name: 'pk', type: 'S' },
    globalIndexes: [],
    stream: false,
    timeToLiveAttribute: 'expiresAt',
    description: 'Per-key request counters (pk RATE#<key hash>#<second>), expiring after a minute',
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof tables;

/** What a function may do with the field-encryption keys. */
export type KeyUse = 'encrypt' | 'decrypt';

/**
 * What a function's role may do on the field keys, and nothing else: the key
 * policies (infra/stack.ts) allow a use only with these, and
 * shared/crypto/kms-keyring.ts sends exactly these.
 */
export const fieldKeyUse = {
  /** Every GenerateDataKey and Decrypt on the field key carries this encryption context. */
  encryptionContext: { purpose: 'credit-hub-field-encryption' },
  /** Every GenerateMac on the lookup key uses this algorithm. */
  macAlgorithm: 'HMAC_SHA_256',
} as const;

/** The DynamoDB data-plane actions (IAM action names) a function can be granted on a table. */
export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:Scan'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

/**
 * One function's access to one table, written by hand: exactly the calls the
 * function makes (a TransactWriteItems needs the action of each of its items:
 * PutItem, UpdateItem, DeleteItem, ConditionCheckItem; a BatchGet, BatchGetItem).
 */
export interface TableAccess {
  readonly actions: readonly DynamoAction[];
  /** The partition keys it touches, when known (`dynamodb:LeadingKeys`, StringLike: `REC#*`). */
  readonly leadingKeys?: readonly string[];
  /** Global secondary indexes it queries (dynamodb:Query on those indexes only). */
  readonly queryIndexes?: readonly string[];
}

export interface FunctionSpec {
  /** Source file of the handler, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** The tables it uses and exactly the DynamoDB calls it makes on each (its IAM policy on AWS). */
  tables: Partial<Record<TableName, TableAccess>>;
  /**
   * Whether the function authenticates bearer keys: it reads key hashes from the
   * sources table (`KEY#<sha256>` items) and counts requests per key in the throttle table.
   */
  authenticates: boolean;
  /** Field encryption: encrypt (new data keys, lookup hashes) and/or decrypt. */
  keys: readonly KeyUse[];
  /**
   * Concurrent executions reserved for (and capped at) this function: one busy
   * function can neither starve the others nor the account.
   */
  reservedConcurrency: number;
}

export const functions = {
  health: {
    entry: 'functions/health/handler.ts',
    description: 'GET|HEAD /health (can the store be reached?) and unmatched routes (404, 405)',
    memoryMb: 256,
    timeoutSeconds: 5,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['HEALTH'] },
    },
    authenticates: false,
    keys: [],
    reservedConcurrency: 5,
  },
  openapi: {
    entry: 'functions/openapi/handler.ts',
    description: 'GET /openapi.json, generated from the contracts',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {},
    authenticates: false,
    keys: [],
    reservedConcurrency: 2,
  },
  sources: {
    entry: 'functions/sources/handler.ts',
    description: 'Register and list sources, rotate their keys (operator)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], leadingKeys: ['KEY#*', 'SOURCES'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 5,
  },
  submissions: {
    entry: 'functions/submissions/handler.ts',
    description: 'POST /v1/submissions/{kind}: validate, normalise and store pushed records',
    memoryMb: 1024,
    timeoutSeconds: 29,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'] },
      idempotency: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    },
    authenticates: true,
    keys: ['encrypt'],
    reservedConcurrency: 50,
  },
  records: {
    entry: 'functions/records/handler.ts',
    description: 'GET /v1/records/{id}: a record with its versions (owner or operator)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      records: { actions: ['dynamodb:Query'], leadingKeys: ['REC#*'] },
      audit: { actions: ['dynamodb:PutItem'], leadingKeys: ['READ#*'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    },
    authenticates: true,
    keys: ['decrypt'],
    reservedConcurrency: 20,
  },
  audit: {
    entry: 'functions/audit/handler.ts',
    description: 'GET /v1/audit/reads: who read which record with identity numbers in full, when, from where (operator)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      audit: { actions: ['dynamodb:Query'], leadingKeys: ['READ#*'], queryIndexes: ['byDay'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 5,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof functions;

export interface Throttle {
  ratePerSecond: number;
  burst: number;
}

export interface RouteSpec {
  /** API Gateway route key: `METHOD /path/{param}`, or `$default` for unmatched requests. */
  routeKey: string;
  function: FunctionName;
  /**
   * A throttle of the route's own instead of the stage's (API Gateway route
   * settings): health checks must answer while the API is saturated.
   */
  throttle?: Throttle;
}

/** Health checks are throttled apart from the rest of the API, so a busy hub still says it is alive. */
const HEALTH_THROTTLE: Throttle = { ratePerSecond: 20, burst: 40 };

export const routes: readonly RouteSpec[] = [
  { routeKey: 'GET /health', function: 'health', throttle: HEALTH_THROTTLE },
  { routeKey: 'HEAD /health', function: 'health', throttle: HEALTH_THROTTLE },
  { routeKey: 'GET /openapi.json', function: 'openapi' },
  { routeKey: 'POST /v1/sources', function: 'sources' },
  { routeKey: 'GET /v1/sources', function: 'sources' },
  { routeKey: 'POST /v1/sources/{id}/keys', function: 'sources' },
  { routeKey: 'POST /v1/submissions/{kind}', function: 'submissions' },
  { routeKey: 'GET /v1/records/{id}', function: 'records' },
  { routeKey: 'GET /v1/audit/reads', function: 'audit' },
  { routeKey: '$default', function: 'health' },
];

/** Request limits of the HTTP API, applied by API Gateway on AWS and by the local router. */
export const api = {
  /** Steady-state requests per second and burst, for the whole API. */
  throttle: { ratePerSecond: 200, burst: 400 },
  /**
   * Requests one key may make per second (a fixed one-second window per key, counted in the
   * `throttle` table once the key is recognised: shared/auth/rate-limit.ts) → 429 with
   * Retry-After: 1. Well below the stage limit, so that no one key can take the whole API.
   */
  perKey: { source: { ratePerSecond: 50 }, operator: { ratePerSecond: 100 } },
  /** Largest request body a handler accepts (API Gateway's own limit is 10 MB). */
  maxBodyBytes: 6 * 1024 * 1024,
  /** What API Gateway itself refuses before any handler runs. */
  gatewayMaxBodyBytes: 10 * 1024 * 1024,
  /** Longest request target (path and query) the API takes: longer is 414. */
  maxUrlBytes: 8 * 1024,
  /** Seconds a client is told to wait (Retry-After) after a 429 or a 503. */
  retryAfterSeconds: 5,
  /**
   * CORS for a browser console: off unless origins are configured (HUB_CORS_ORIGINS,
   * comma-separated, locally; the `corsOrigins` context value of the CDK app on AWS).
   */
  cors: {
    allowHeaders: ['authorization', 'content-type', 'content-encoding', 'idempotency-key'],
    exposeHeaders: ['retry-after'],
    maxAgeSeconds: 600,
  },
  /** How long an Idempotency-Key keeps its first answer (API.md: 24 hours). */
  idempotencyTtlSeconds: 24 * 3600,
} as const;

/** Environment variables that select the key material (see shared/config.ts). */
export const environment = {
  operatorKeyHash: 'HUB_OPERATOR_KEY_HASH',
  operatorKeySecretArn: 'HUB_OPERATOR_KEY_SECRET_ARN',
  localKeyDir: 'HUB_KEY_DIR',
  dataKeyArn: 'HUB_DATA_KEY_ARN',
  lookupKeyArn: 'HUB_LOOKUP_KEY_ARN',
  corsOrigins: 'HUB_CORS_ORIGINS',
} as const;
