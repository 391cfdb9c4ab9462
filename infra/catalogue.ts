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
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof tables;

/** What a function may do with the field-encryption keys. */
export type KeyUse = 'encrypt' | 'decrypt';

export interface FunctionSpec {
  /** Source file of the handler, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** Tables and the access the function needs (least privilege on AWS). */
  tables: Partial<Record<TableName, 'read' | 'readWrite'>>;
  /** Whether the function authenticates bearer keys (reads the operator key secret). */
  authenticates: boolean;
  /** Field encryption: encrypt (new data keys, lookup hashes) and/or decrypt. */
  keys: KeyUse[];
}

export const functions = {
  health: {
    entry: 'functions/health/handler.ts',
    description: 'GET|HEAD /health (can the store be reached?) and unmatched routes (404, 405)',
    memoryMb: 256,
    timeoutSeconds: 5,
    tables: { sources: 'read' },
    authenticates: false,
    keys: [],
  },
  openapi: {
    entry: 'functions/openapi/handler.ts',
    description: 'GET /openapi.json, generated from the contracts',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {},
    authenticates: false,
    keys: [],
  },
  sources: {
    entry: 'functions/sources/handler.ts',
    description: 'Register and list sources, rotate their keys (operator)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { sources: 'readWrite' },
    authenticates: true,
    keys: [],
  },
  submissions: {
    entry: 'functions/submissions/handler.ts',
    description: 'POST /v1/submissions/{kind}: validate, normalise and store pushed records',
    memoryMb: 1024,
    timeoutSeconds: 29,
    tables: { sources: 'read', records: 'readWrite', idempotency: 'readWrite' },
    authenticates: true,
    keys: ['encrypt'],
  },
  records: {
    entry: 'functions/records/handler.ts',
    description: 'GET /v1/records/{id}: a record with its versions (owner or operator)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { sources: 'read', records: 'read' },
    authenticates: true,
    keys: ['decrypt'],
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
  { routeKey: '$default', function: 'health' },
];

/** Request limits of the HTTP API, applied by API Gateway on AWS and by the local router. */
export const api = {
  /** Steady-state requests per second and burst, for the whole API. */
  throttle: { ratePerSecond: 200, burst: 400 },
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
