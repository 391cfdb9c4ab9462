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
  globalIndexes: {
    name: string;
    partitionKey: { name: string; type: AttributeType };
    sortKey?: { name: string; type: AttributeType };
    /**
     * What the index keeps of each item: everything (the default), or only the keys (`KEYS_ONLY`): then a
     * write of the item costs one index write unit instead of one per KB of the item, and readers fetch the
     * items themselves (BatchGetItem) — for an index that is written far more often than it is read.
     */
    projection?: 'KEYS_ONLY';
  }[];
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
    globalIndexes: [
      // Keys only: every head is in it, so every push writes it (one unit instead of one per KB of the head); a
      // reader of a subject's records (credit checks) reads their heads by key.
      { name: 'bySubject', partitionKey: { name: 'subjectKey', type: 'S' }, sortKey: { name: 'id', type: 'S' }, projection: 'KEYS_ONLY' },
      // Sparse: only heads waiting for review (`review`, by the time they began to wait) or approved with an end
      // (`approved`, by `until`) carry `publicationQueue` (shared/publication/decisions.ts): GET /v1/reviews and the
      // expire job read exactly those. One index for both (CloudFormation adds one GSI per table update).
      // Keys only: every head waiting for review or approved with an end is in it, so each push and decision writes
      // it; its readers (the review list, the expire job) read a page of heads by their keys.
      {
        name: 'publicationQueue',
        partitionKey: { name: 'publicationQueue', type: 'S' },
        sortKey: { name: 'publicationQueueKey', type: 'S' },
        projection: 'KEYS_ONLY',
      },
    ],
    stream: true,
    description: 'Records: pk REC#<id>; sk HEAD holds the current version, sk V#<n> each superseded one; index publicationQueue (waiting for review, approved by end date)',
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
  batches: {
    envVar: 'HUB_BATCHES_TABLE',
    localName: 'hub-batches',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // Sparse: only batches still waiting or processing carry `unfinished` (shared/store/batches-store.ts), so the
    // sweep reads exactly those, oldest first, however many finished batches the table holds.
    globalIndexes: [{ name: 'unfinished', partitionKey: { name: 'unfinished', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } }],
    stream: false,
    description:
      'Court batches: pk BATCH#<id>, sk BATCH: what was declared, status, the upload’s ETag, the ingest’s lease and checkpoint (byte offset, line, counts, reject parts), the final counts; index unfinished (waiting or processing only)',
  },
  deliveries: {
    envVar: 'HUB_DELIVERIES_TABLE',
    localName: 'hub-deliveries',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // Sparse: only deliveries still owed carry `owedBy` (the platform), so the sweep and the lag metric read exactly
    // those, oldest first, however many were delivered.
    globalIndexes: [
      { name: 'owed', partitionKey: { name: 'owedBy', type: 'S' }, sortKey: { name: 'owedSince', type: 'S' } },
      // Sparse like `owed`: only failed deliveries carry `failedBy` (the platform): the operator's dead-letter list.
      { name: 'failed', partitionKey: { name: 'failedBy', type: 'S' }, sortKey: { name: 'failedAt', type: 'S' } },
      // Every delivery by platform and day (`changeDay` = <platform>#<YYYY-MM-DD>, China time), in order: the nightly sync reads the changes since its watermark.
      { name: 'byDay', partitionKey: { name: 'changeDay', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } },
      // Sparse: only package bodies whose claims are not settled carry `openFor` (a fan-out stopped between opening
      // and closing one): the sweep settles them. Keys only: the body is read by its key.
      { name: 'open', partitionKey: { name: 'openFor', type: 'S' }, sortKey: { name: 'openedAt', type: 'S' }, projection: 'KEYS_ONLY' },
    ],
    stream: false,
    description:
      'What each upward platform is owed and was sent, by package (docs/upward-packages.md): claims pk REC#<record id>, sk V#<version, 10 digits> (the package carrying that version, the platforms’ feedback); bodies pk PKG#<package key>, sk BODY (the record versions in it); deliveries pk PKG#<package key>, sk <platform>[#<part>] (pending | delivered | failed | split, its idempotency key, attempts); indexes owed (pending only), failed (failed only), byDay (every delivery, by platform and day), open (bodies being settled)',
  },
  jobs: {
    envVar: 'HUB_JOBS_TABLE',
    localName: 'hub-jobs',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [],
    stream: false,
    description:
      'Job runs (pk RUN#<run id>, sk RUN: job, status, counts, checkpoint), one lease per job (pk LOCK#<job>, sk LOCK: two runs never overlap) and the nightly sync’s watermark per platform (pk WATERMARK#<platform>, sk WATERMARK)',
  },
  objections: {
    envVar: 'HUB_OBJECTIONS_TABLE',
    localName: 'hub-objections',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // Sparse: only open objections carry `openQueue`: the operator's list reads exactly those, oldest first.
    globalIndexes: [{ name: 'open', partitionKey: { name: 'openQueue', type: 'S' }, sortKey: { name: 'filedAt', type: 'S' } }],
    stream: false,
    description:
      'Objections (异议) to published records: pk OBJ#<id>, sk OBJ: the record, the reason, the contact (field ciphertext only), deadlines in working days, the resolution; index open (open only)',
  },
  sitePages: {
    envVar: 'HUB_SITE_PAGES_TABLE',
    localName: 'hub-site-pages',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [],
    stream: false,
    description:
      'The public site’s own index, kept by the publisher (shared/site-publishing/): the public entries of each day list, subject page and search shard (pk LIST#<section>/YYYY/MM/DD, SUBJECT#<slug>, SEARCH#<shard>; sk <record id>), the days, months and sections that have records (pk MONTH#<section>/YYYY-MM, SECTION#<section>, INDEX) and the SHA-256 of every page in the site bucket (pk PAGE#<path>, sk PAGE), so that a change rewrites only the pages it touches and skips unchanged ones',
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
  /**
   * The version of the lookup key new lookup hashes are written under (label
   * `credit-hub/lookup-key/v<N>`, shared/crypto/lookup-hash.ts); HUB_LOOKUP_KEY_VERSION
   * overrides it. Raising it is a migration: every stored hash is re-derived (README).
   */
  lookupKeyVersion: 1,
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

/** The S3 data-plane actions (IAM action names) a function can be granted on a bucket's objects. */
export type S3ObjectAction = 's3:GetObject' | 's3:PutObject' | 's3:DeleteObject' | 's3:AbortMultipartUpload';

/**
 * One function's access to one bucket, written by hand like TableAccess: per key prefix, exactly
 * the object calls it makes (a presigned URL counts as the call it signs: S3 authorises it as the
 * signer), and the prefixes it lists (ListObjectsV2 with a Prefix: `s3:ListBucket` on condition of
 * `s3:prefix`). Objects of the bucket are encrypted under the stack's storage key, so a reader may
 * also decrypt with it and a writer also generate data keys, through S3 and for this bucket only.
 */
export interface BucketAccess {
  /** By key prefix (`uploads/`): the object actions on the keys under it. */
  readonly objects: Readonly<Record<string, readonly S3ObjectAction[]>>;
  /** Key prefixes it lists objects under. */
  readonly lists?: readonly string[];
}

export interface FunctionSpec {
  /** Source file of the handler, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  /**
   * A cap on its JavaScript heap (old space, MB) below what its memory would allow: V8 then collects before
   * the process grows past what the function's design needs (NODE_OPTIONS --max-old-space-size on AWS; the
   * local runtime's heap limit). Without it the heap may grow towards the function's memory.
   */
  heapMb?: number;
  timeoutSeconds: number;
  /** The tables it uses and exactly the DynamoDB calls it makes on each (its IAM policy on AWS). */
  tables: Partial<Record<TableName, TableAccess>>;
  /** The buckets it uses (a key of `buckets`) and exactly the S3 calls it makes on each; its handler learns each bucket's name from the bucket's envVar. */
  buckets?: Readonly<Record<string, BucketAccess>>;
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
  /**
   * Functions this one invokes (Lambda Invoke, asynchronously: InvocationType Event), by their
   * catalogue names. Each target's deployed name reaches it in `functionNameEnvVar(target)`
   * (on AWS the CloudFormation name; locally `localFunctionName(target)`), and its role may invoke exactly those.
   */
  invokes?: readonly string[];
  /** The queues it uses (a key of `queues`) and exactly the SQS calls it makes on each; its handler learns each queue's URL from the queue's envVar. */
  queues?: Readonly<Record<string, readonly SqsAction[]>>;
  /** Constant environment of its own (a connector's platform). */
  environment?: Readonly<Record<string, string>>;
  /** The upward platforms it sends to (keys of `platforms`): it learns each one's base URL from the platform's urlEnvVar, and the sender USCC. */
  platforms?: readonly string[];
}

/** The SQS actions (IAM action names) a function can be granted on a queue. */
export type SqsAction =
  | 'sqs:SendMessage'
  | 'sqs:ReceiveMessage'
  | 'sqs:DeleteMessage'
  | 'sqs:ChangeMessageVisibility'
  | 'sqs:GetQueueAttributes'
  | 'sqs:StartMessageMoveTask'
  | 'sqs:ListMessageMoveTasks';

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
      // The key lookup, and the publication policy (POLICY/PUBLICATION, one GetCommand per push).
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*', 'POLICY'] },
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
      // The current version's claim (GetItem REC#), its package's body (GetItem PKG#) and deliveries (Query PKG#).
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:Query'], leadingKeys: ['REC#*', 'PKG#*'] },
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
  batches: {
    entry: 'functions/batches/handler.ts',
    description: 'POST /v1/batches (a court opens a batch: presigned upload URL) and GET /v1/batches/{batchId} (status, counts, rejects)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      // shared/store/batches-store.ts: create() a conditional PutCommand, get() a GetCommand, both BATCH#<id>.
      batches: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['BATCH#*'] },
      idempotency: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    },
    buckets: {
      // The upload URL is a presigned PUT of uploads/<id>; the rejects URL a presigned GET of rejects/<id>.ndjson;
      // a waiting batch past its expiry is looked for under uploads/ before it is reported failed.
      batches: { objects: { 'uploads/': ['s3:PutObject'], 'rejects/': ['s3:GetObject'] }, lists: ['uploads/'] },
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 10,
  },
  batchIngest: {
    entry: 'functions/batch-ingest/handler.ts',
    description: 'Ingests court batches: started by the upload (S3 event), continued by itself from its checkpoint, restarted by the sweep schedule',
    // 512 MB for the CPU share Lambda gives with it. The ingest holds one chunk of rows (500 rows, 1 MB at most) at a
    // time; its process peaked at 259–273 MB over a 1,000,000-row file, with or without a heap cap (README, Benchmarks).
    memoryMb: 512,
    // Lambda's limit: a longer batch continues from its checkpoint in another invocation.
    timeoutSeconds: 900,
    tables: {
      // The push path (shared/ingest/submit.ts), as for submissions: BatchGetCommand of heads; a conditional PutCommand per
      // new record, a TransactWriteCommand of Puts per update.
      records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'] },
      // The publication policy, read once per chunk pushed (GetCommand of POLICY/PUBLICATION).
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['POLICY'] },
      // shared/store/batches-store.ts: get() a GetCommand, lease/checkpoint/complete/fail conditional UpdateCommands,
      // listUnfinished() a QueryCommand of the sparse index (the sweep).
      batches: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: ['BATCH#*'], queryIndexes: ['unfinished'] },
    },
    buckets: {
      // uploads/: stat (ListObjectsV2) and ranged GETs; rejects/: parts put, read back and deleted once joined by a
      // multipart upload (aborted when it fails), the joined object looked for first (a retried finish).
      batches: {
        objects: { 'uploads/': ['s3:GetObject'], 'rejects/': ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] },
        lists: ['uploads/', 'rejects/'],
      },
    },
    authenticates: false,
    keys: ['encrypt'],
    // At most this many batches are ingested at once; more wait for the sweep (their upload stays in S3).
    reservedConcurrency: 10,
    // Its own continuation (an asynchronous invoke) when it runs short of time.
    invokes: ['batchIngest'],
  },
  fanout: {
    entry: 'functions/fanout/handler.ts',
    description: 'Packs the new record versions of the records table’s change stream into packages owed to each upward platform, and queues them',
    memoryMb: 512,
    timeoutSeconds: 60,
    tables: {
      // shared/upward/packages-store.ts: conditional PutCommands of claims (REC#), bodies and deliveries (PKG#); the
      // body closed by a conditional UpdateCommand; a body read back with GetCommand (a package claimed before).
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['REC#*', 'PKG#*'] },
    },
    queues: { provincial: ['sqs:SendMessage'], national: ['sqs:SendMessage'] },
    authenticates: false,
    keys: [],
    reservedConcurrency: 5,
  },
  connectorProvincial: {
    entry: 'functions/connector/handler.ts',
    description: 'Delivers packages of record versions to the provincial platform (省信用信息共享平台) from its queue',
    memoryMb: 512,
    timeoutSeconds: 60,
    tables: {
      // The package's record versions (HEAD, or V#<n> when superseded): BatchGetCommands; its body and delivery:
      // GetCommands (PKG#); conditional UpdateCommands; a split: a TransactWriteCommand (an Update and two Puts, PKG#).
      records: { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['REC#*'] },
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'] },
    },
    // A platform's 4xx on a part of one record: that message goes to the dead-letter queue at once (not retried
    // maxReceiveCount times); on a package of several, its two parts are queued on the platform's own queue.
    // A platform unavailable: the message is hidden for a growing delay before its next receive (ChangeMessageVisibility).
    queues: { provincialDead: ['sqs:SendMessage'], provincial: ['sqs:ChangeMessageVisibility', 'sqs:SendMessage'] },
    environment: { HUB_PLATFORM: 'provincial' },
    platforms: ['provincial'],
    authenticates: false,
    keys: ['decrypt'],
    // A slow platform holds at most these; the other platform's connector has its own.
    reservedConcurrency: 5,
  },
  connectorNational: {
    entry: 'functions/connector/handler.ts',
    description: 'Delivers packages of record versions to the national platform (全国信用信息共享平台) from its queue',
    memoryMb: 512,
    timeoutSeconds: 60,
    tables: {
      records: { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['REC#*'] },
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'] },
    },
    queues: { nationalDead: ['sqs:SendMessage'], national: ['sqs:ChangeMessageVisibility', 'sqs:SendMessage'] },
    environment: { HUB_PLATFORM: 'national' },
    platforms: ['national'],
    authenticates: false,
    keys: ['decrypt'],
    reservedConcurrency: 5,
  },
  feedback: {
    entry: 'functions/feedback/handler.ts',
    description: 'POST /v1/feedback: a platform reports per-record outcomes (received, rejected with a reason, 联合奖惩 result) on what it was sent',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
      // The claim of the version each outcome is about: a conditional UpdateCommand of its feedback (an unknown one fails the condition).
      deliveries: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['REC#*'] },
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 5,
  },
  dlq: {
    entry: 'functions/dlq/handler.ts',
    description: 'GET /v1/dlq/{platform} (what a platform refused or never took) and POST /v1/dlq/{platform}/redrive (send it again) for the operator',
    memoryMb: 512,
    timeoutSeconds: 29,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
      // The failed index (Query, oldest first), each failed delivery's body (GetCommand: its records); a redriven
      // delivery is made pending again (conditional UpdateCommand).
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'], queryIndexes: ['failed'] },
    },
    // The dead-letter queues' depth, and their redrive: StartMessageMoveTask on AWS; where that is missing (the local
    // emulator), receive, send to the platform's queue, delete.
    queues: {
      provincialDead: ['sqs:GetQueueAttributes', 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
      nationalDead: ['sqs:GetQueueAttributes', 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
      provincial: ['sqs:SendMessage'],
      national: ['sqs:SendMessage'],
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 2,
  },
  jobs: {
    entry: 'functions/jobs/handler.ts',
    description: 'POST /v1/jobs/{name} (start a run: 202 {runId}) and GET /v1/jobs/runs/{runId} (its status and counts), for the operator',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
      jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['RUN#*'] },
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 5,
    invokes: ['syncRunner', 'expireRunner', 'sitePublisher'],
  },
  syncRunner: {
    entry: 'functions/sync-runner/handler.ts',
    description: 'Runs the nightly sync of a platform: every change since its acknowledged watermark and what it still owes, as one gzip NDJSON package with a manifest; resumes a crashed run, never overlaps another',
    memoryMb: 512,
    timeoutSeconds: 900,
    tables: {
      jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['RUN#*', 'LOCK#*', 'WATERMARK#*'] },
      // Package deliveries by day and owed (Query of the indexes); their bodies (GetItem of PKG#<key>/BODY); marked
      // delivered once the platform acknowledged the package (conditional UpdateItem of PKG#<key>/<platform>[#<part>]).
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'], queryIndexes: ['byDay', 'owed'] },
      // The record versions' content (shared/upward/record-versions.ts: BatchGetItem of heads and V# items).
      records: { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['REC#*'] },
    },
    buckets: {
      exchange: { objects: { 'sync/': ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'] } },
    },
    authenticates: false,
    keys: ['decrypt'],
    // The nightly sync of either platform.
    platforms: ['provincial', 'national'],
    reservedConcurrency: 2,
    invokes: ['syncRunner'],
  },
  publication: {
    entry: 'functions/publication/handler.ts',
    description: 'The publication policy (GET|PUT /v1/publication-policy), the review queue (GET /v1/reviews) and the decisions approve, withhold and repair (POST /v1/records/{id}/…), for the operator',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      // The key lookup, and the policy item (shared/publication/policy-store.ts: GetCommand, PutCommand of POLICY/PUBLICATION).
      sources: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['KEY#*', 'POLICY'] },
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
      // shared/publication/decisions-store.ts: getHead() a GetCommand; commit() a TransactWriteCommand of two Puts (the head, the
      // version it replaces); queue() a QueryCommand of the sparse index publicationQueue (keys only), then a BatchGetCommand of the page's heads.
      records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'], queryIndexes: ['publicationQueue'] },
    },
    authenticates: true,
    keys: [],
    reservedConcurrency: 5,
  },
  objections: {
    entry: 'functions/objections/handler.ts',
    description: 'POST /v1/objections (anyone, no key; limited per client), GET /v1/objections and POST /v1/objections/{id}/resolve (operator)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
      // Keys' counters, and the per-client counters of objections (RATE#<hash of the address>#<minute>).
      throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
      // The record's head, and its new version with the objection mark (a TransactWriteCommand with the objection).
      records: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'] },
      // shared/publication/objections-store.ts: get() a GetCommand; filing a Put and resolution an Update (in the
      // record's transaction); listOpen() a QueryCommand of the sparse index open.
      objections: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['OBJ#*'], queryIndexes: ['open'] },
    },
    authenticates: true,
    // The contact is encrypted when filed and decrypted for the operator's list.
    keys: ['encrypt', 'decrypt'],
    // Anyone may call it: few at a time, so that a flood cannot take more of the account.
    reservedConcurrency: 5,
  },
  expireRunner: {
    entry: 'functions/expire-runner/handler.ts',
    description: 'The expire job: ends the approved publications whose period is over (as of a day), reading them from the sparse index publicationQueue; started by POST /v1/jobs/expire, daily by its schedule, and by itself to continue',
    memoryMb: 512,
    timeoutSeconds: 900,
    tables: {
      // The run: GetCommand, conditional UpdateCommands (shared/publication/expire-run.ts); a scheduled run: PutCommand.
      jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['RUN#*'] },
      // The index (QueryCommand), each head (GetCommand) and its new version (TransactWriteCommand of two Puts).
      records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'], queryIndexes: ['publicationQueue'] },
    },
    authenticates: false,
    keys: [],
    reservedConcurrency: 1,
    invokes: ['expireRunner'],
  },
  sitePublisher: {
    entry: 'functions/site-publisher/handler.ts',
    description: 'The public site’s only writer: each record change (the records stream) rewrites the pages it touches; the publish job (POST /v1/jobs/publish, daily) brings the whole site up to date; unchanged pages are skipped by hash',
    memoryMb: 512,
    timeoutSeconds: 900,
    tables: {
      // shared/site-publishing/site-index-store.ts: QueryCommands of a partition, BatchGetCommands of page hashes,
      // BatchWriteCommands of entries and hashes, and the publish run's ScanCommands of the whole table (its own index).
      sitePages: { actions: ['dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'] },
      // shared/site-publishing/heads-scan.ts: the publish run's ScanCommand of the heads (a Scan names no key), and setQueue(): a
      // conditional UpdateCommand of a head an older hub stored without the review queue's index attributes (those two only).
      records: { actions: ['dynamodb:Scan', 'dynamodb:UpdateItem'] },
      // The publish run's item (shared/jobs/runs-store.ts: GetCommand, conditional UpdateCommands; a scheduled run's PutCommand)
      // and the site's lease, which stream invocations take too (shared/jobs/job-lease.ts: UpdateCommands of LOCK#publish).
      jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['RUN#*', 'LOCK#*'] },
    },
    buckets: {
      // The bucket holds the site and nothing else: pages and assets are PUT and DELETEd, never listed (the site-pages
      // table says what is there), under the site's own paths (shared/site/paths.ts; test/unit/site-publishing-paths.test.ts
      // checks that every page the renderer makes is under one of them).
      site: {
        objects: {
          'index.html': ['s3:PutObject', 's3:DeleteObject'],
          '404.html': ['s3:PutObject', 's3:DeleteObject'],
          'search.html': ['s3:PutObject', 's3:DeleteObject'],
          'assets/': ['s3:PutObject', 's3:DeleteObject'],
          'lists/': ['s3:PutObject', 's3:DeleteObject'],
          'records/': ['s3:PutObject', 's3:DeleteObject'],
          'subjects/': ['s3:PutObject', 's3:DeleteObject'],
          'search/': ['s3:PutObject', 's3:DeleteObject'],
        },
      },
    },
    authenticates: false,
    // Never decrypts: a person's certificate number is shown as 已隐藏 (shared/site/public-record.ts).
    keys: [],
    // One writer at a time (the site's lease makes it so in either runtime; on AWS this also keeps a run and the
    // stream from waiting on each other's lease).
    reservedConcurrency: 1,
    invokes: ['sitePublisher'],
  },
  deliverySweep: {
    entry: 'functions/delivery-sweep/handler.ts',
    description: 'Queues again the deliveries still owed long after they were queued (a message lost, expired or stuck), reports the age of the oldest, and (hourly) packages record versions no package carries long after they were written',
    memoryMb: 512,
    timeoutSeconds: 300,
    tables: {
      // The owed index (Query, oldest first) and a conditional UpdateCommand of each delivery queued again; the open
      // index, and each open body settled as the fan-out does (GetCommand, claims and deliveries PutCommands, the body
      // closed by an UpdateCommand).
      // The reconciliation (shared/upward/reconcile.ts): BatchGetCommands of claims, and its cursor (GetCommand, a
      // conditional PutCommand of CURSOR#reconcile); it packages versions as the fan-out does (the commands above).
      deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['REC#*', 'PKG#*', 'CURSOR#*'], queryIndexes: ['owed', 'open'] },
      // The reconciliation's ScanCommand of the heads (shared/site-publishing/heads-scan.ts; a Scan names no key).
      records: { actions: ['dynamodb:Scan'] },
    },
    queues: { provincial: ['sqs:SendMessage'], national: ['sqs:SendMessage'] },
    authenticates: false,
    keys: [],
    reservedConcurrency: 1,
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
  { routeKey: 'POST /v1/batches', function: 'batches' },
  { routeKey: 'GET /v1/batches/{batchId}', function: 'batches' },
  { routeKey: 'POST /v1/feedback', function: 'feedback' },
  { routeKey: 'GET /v1/dlq/{platform}', function: 'dlq' },
  { routeKey: 'POST /v1/dlq/{platform}/redrive', function: 'dlq' },
  { routeKey: 'POST /v1/jobs/{name}', function: 'jobs' },
  { routeKey: 'GET /v1/jobs/runs/{runId}', function: 'jobs' },
  { routeKey: 'GET /v1/publication-policy', function: 'publication' },
  { routeKey: 'PUT /v1/publication-policy', function: 'publication' },
  { routeKey: 'GET /v1/reviews', function: 'publication' },
  { routeKey: 'POST /v1/records/{id}/approve', function: 'publication' },
  { routeKey: 'POST /v1/records/{id}/withhold', function: 'publication' },
  { routeKey: 'POST /v1/records/{id}/repair', function: 'publication' },
  { routeKey: 'POST /v1/objections', function: 'objections' },
  { routeKey: 'GET /v1/objections', function: 'objections' },
  { routeKey: 'POST /v1/objections/{id}/resolve', function: 'objections' },
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
  localKeyDir: 'HUB_KEY_DIR',
  dataKeyArn: 'HUB_DATA_KEY_ARN',
  lookupKeyArn: 'HUB_LOOKUP_KEY_ARN',
  lookupKeyVersion: 'HUB_LOOKUP_KEY_VERSION',
  corsOrigins: 'HUB_CORS_ORIGINS',
  /**
   * Seconds a batch's upload URL works (POST /v1/batches → expiresAt); `batches.uploadUrlSeconds` when
   * unset. For tests and demonstrations of an expired URL; not set on AWS.
   */
  batchUploadSeconds: 'HUB_BATCH_UPLOAD_SECONDS',
} as const;

/** The environment variable through which a function learns another function's deployed name: `batchIngest` → `HUB_FUNCTION_BATCH_INGEST`. */
export function functionNameEnvVar(fn: string): string {
  return `HUB_FUNCTION_${fn.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** A function's name in the local stack (its Lambda runtime and Invoke API): `credit-hub-<catalogue name>`. */
export function localFunctionName(fn: string): string {
  return `credit-hub-${fn}`;
}

/** What a bucket notification fires on (S3's `s3:ObjectCreated:*` and `s3:ObjectRemoved:*`). */
export type BucketEventType = 'ObjectCreated' | 'ObjectRemoved';

export interface BucketNotificationSpec {
  event: BucketEventType;
  /** Only objects whose key starts with this (S3's prefix filter rule). */
  prefix?: string;
  /** Only objects whose key ends with this (S3's suffix filter rule). */
  suffix?: string;
  /**
   * The function invoked asynchronously with the S3 event (a key of `functions`; a plain string so that
   * a notification may be declared before its function: test/unit/catalogue-references.test.ts).
   */
  function: string;
}

export interface BucketSpec {
  /** Environment variable through which handlers learn the bucket name. */
  envVar: string;
  /** Bucket name in the local stack (on AWS, CloudFormation names it). */
  localName: string;
  description: string;
  /** Functions started by events of this bucket (an S3 bucket notification → Lambda). */
  notifications: readonly BucketNotificationSpec[];
  /** Objects are deleted this many days after they were written (an S3 lifecycle expiration rule). */
  expireAfterDays?: number;
  /**
   * The bucket is a public website's origin: on AWS a CloudFront distribution serves it (origin access control: the
   * bucket itself stays private) and its objects are encrypted with S3-managed keys, which CloudFront reads without a
   * grant on any of the hub's keys; locally infra/local/site-server.ts serves it. Only public content may be put there.
   */
  website?: WebsiteSpec;
}

/** How a website bucket is served: the same on AWS (CloudFront, infra/stack.ts) and locally (infra/local/site-server.ts). */
export interface WebsiteSpec {
  /** What `/` serves (CloudFront's default root object). Only `/`: a path ending in `/` is a key like any other, as on CloudFront. */
  indexDocument: string;
  /** What a missing object serves, with status 404 (CloudFront's custom error response; a short built-in page where it is absent). */
  notFoundDocument: string;
  /** How long CloudFront may serve a page without asking the bucket again (and keeps a 404): a withheld page is gone from every edge within this. */
  cacheSeconds: number;
}

/**
 * The security headers of every response of a website bucket (pages, assets, errors): CloudFront's response headers
 * policy on AWS, the local site server's own headers; defined here once for both (test/infra checks the policy).
 * No script or style inline, nothing from another origin, no framing, no referrer sent on, HTTPS only.
 */
export const siteSecurityHeaders = {
  contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  strictTransportSecurity: { maxAgeSeconds: 63_072_000, includeSubdomains: true, preload: false },
  contentTypeOptions: 'nosniff',
  frameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
} as const;

/** siteSecurityHeaders as HTTP response headers (lower-case names). */
export function siteSecurityHeaderValues(): Record<string, string> {
  const hsts = siteSecurityHeaders.strictTransportSecurity;
  return {
    'content-security-policy': siteSecurityHeaders.contentSecurityPolicy,
    'strict-transport-security': `max-age=${hsts.maxAgeSeconds}${hsts.includeSubdomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`,
    'x-content-type-options': siteSecurityHeaders.contentTypeOptions,
    'x-frame-options': siteSecurityHeaders.frameOptions,
    'referrer-policy': siteSecurityHeaders.referrerPolicy,
  };
}

/** The local stack's public site (API.md "Running it"): SITE_PORT, 3001 unless set. */
export const localSite = { portEnvVar: 'SITE_PORT', defaultPort: 3001 } as const;

export const buckets = {
  batches: {
    envVar: 'HUB_BATCH_BUCKET',
    localName: 'hub-batches',
    description:
      'Court batch files, uploaded by the courts through presigned PUT URLs (uploads/…, which start the ingest), and the rejected rows of each batch (downloaded through presigned GET URLs)',
    notifications: [{ event: 'ObjectCreated', prefix: 'uploads/', function: 'batchIngest' }],
    // Batch files hold identity numbers: kept long enough to ingest and to download the rejects, not longer.
    expireAfterDays: 30,
  },
  exchange: {
    envVar: 'HUB_EXCHANGE_BUCKET',
    localName: 'hub-exchange',
    description: 'The nightly sync’s packages (sync/<platform>/<run id>/<writer>/<n>.ndjson.gz: gzip segments, written as a stream under keys of the invocation writing them and sent from there, so a resumed run sends the same bytes; a stale writer’s leftovers are never named and expire with the bucket)',
    notifications: [],
    // They hold identity numbers: kept for a month of re-sends and audits, not longer.
    expireAfterDays: 30,
  },
  site: {
    envVar: 'HUB_SITE_BUCKET',
    localName: 'hub-site',
    description:
      'The public disclosure site (API.md "The public site"): static pages and assets only, nothing else; served locally on SITE_PORT and on AWS through CloudFront (origin access control; the bucket itself is not public)',
    notifications: [],
    website: { indexDocument: 'index.html', notFoundDocument: '404.html', cacheSeconds: 60 },
  },
} as const satisfies Record<string, BucketSpec>;

export type BucketName = keyof typeof buckets;

/** Court batches (API.md "Court batches"; functions batches and batchIngest). */
export const batchLimits = {
  /** How long a batch's presigned upload URL works (`expiresAt`); environment.batchUploadSeconds overrides it. */
  uploadUrlSeconds: 3600,
  /** How long a presigned `rejectsUrl` works from the GET that returned it. */
  rejectsUrlSeconds: 3600,
  /**
   * How long an ingest's lease on its batch lasts unrenewed. Renewed at every checkpoint (a chunk of 500 rows,
   * seconds apart): a worker that died (a crash, a killed stack, a Lambda timeout) is replaced by the sweep once it
   * lapses. Correctness does not depend on it: a chunk pushed twice is applied once (shared/batch/ingest-batch.ts).
   */
  leaseSeconds: 60,
} as const;

/** How handlers reach S3: `true` where buckets are addressed by path-style URLs (the local emulator on 127.0.0.1); unset on AWS. */
export const storageEnvironment = {
  s3ForcePathStyle: 'HUB_S3_FORCE_PATH_STYLE',
} as const;

interface ScheduleCommon {
  /** The function invoked (asynchronously) when the schedule fires (a key of `functions`, as for notifications). */
  function: string;
  /** The event the function receives (the target's constant input); without it, EventBridge's "Scheduled Event". */
  input?: Readonly<Record<string, unknown>>;
  /** The local stack also fires it once right after it has started (work left by a stack that was stopped or killed). */
  alsoAtLocalStart: boolean;
  /** The event of that firing at local start, when it differs from `input` (the delivery sweep: everything owed, however recently queued). */
  localStartInput?: Readonly<Record<string, unknown>>;
  description: string;
}

/**
 * When a schedule fires: every `everyMinutes` (an EventBridge `rate(n minutes)` schedule), or once a day at
 * `dailyAt` ('HH:MM', China time: UTC+8, no daylight saving), an EventBridge cron expression in UTC on AWS
 * (infra/daily-schedule.ts) and a timer set to the next occurrence locally (infra/local/schedules.ts).
 */
export type ScheduleSpec = ScheduleCommon & ({ everyMinutes: number; dailyAt?: never } | { dailyAt: string; everyMinutes?: never });

export const schedules = {
  batchSweep: {
    function: 'batchIngest',
    // A batch whose worker died resumes within a minute of its lease lapsing (batchLimits.leaseSeconds). A sweep
    // is one Query of a sparse index that is empty while no batch is open: 1,440 a day cost next to nothing.
    everyMinutes: 1,
    input: { sweep: true },
    alsoAtLocalStart: true,
    description: 'Continues court batches whose ingest stalled (a crash, a lost invocation) from their checkpoint, starts uploads whose event was lost, fails batches never uploaded to',
  },
  deliverySweep: {
    function: 'deliverySweep',
    everyMinutes: 5,
    alsoAtLocalStart: true,
    // At start, what a killed stack left in flight is queued again at once, not 15 minutes later (a duplicate
    // message is harmless: the same Idempotency-Key, and the connector skips a delivery no longer pending).
    localStartInput: { atStart: true },
    description: 'Queues again what an upward platform is still owed long after it was queued (exchange.requeueAfterSeconds)',
  },
  deliveryReconcile: {
    function: 'deliverySweep',
    // Hourly: a pass is begun once a day (exchange.reconcile.passEverySeconds) and goes on, run after run, until it has
    // read every head; the other runs find it ended and return at once (one GetItem).
    everyMinutes: 60,
    input: { reconcile: true },
    // At local start too, a new pass unless one is under way: a stack stopped for more than a day finds its stream
    // records gone (DynamoDB Local keeps 24 hours), and a pass over a local table is cheap.
    alsoAtLocalStart: true,
    localStartInput: { reconcile: true, atStart: true },
    description: 'Packages for the upward platforms a record’s current version that no package carries long after it was written (its stream record never reached the fan-out)',
  },
  // The nightly syncs (API.md "Jobs"), half an hour apart: each platform's run holds its own lease (LOCK#<job>).
  syncProvincial: {
    function: 'syncRunner',
    dailyAt: '02:00',
    input: { job: 'sync-provincial' },
    // At local start: the run a killed stack left unfinished goes on from its checkpoint (no new run is made).
    alsoAtLocalStart: true,
    localStartInput: { resumeJob: 'sync-provincial' },
    description: 'The nightly sync of the provincial platform: every change since its watermark and what it still owes, as one package',
  },
  syncNational: {
    function: 'syncRunner',
    dailyAt: '02:30',
    input: { job: 'sync-national' },
    alsoAtLocalStart: true,
    localStartInput: { resumeJob: 'sync-national' },
    description: 'The nightly sync of the national platform: every change since its watermark and what it still owes, as one package',
  },
  // Just after midnight in China: what ended yesterday leaves the site and the platforms are told.
  expire: {
    function: 'expireRunner',
    dailyAt: '00:10',
    input: { job: 'expire' },
    alsoAtLocalStart: false,
    description: 'The expire job as of today in China: ends the approved publications whose period is over',
  },
  // After the expire job: the whole site as of the new day (periods that began or ended by the date alone).
  publish: {
    function: 'sitePublisher',
    dailyAt: '00:40',
    input: { job: 'publish' },
    alsoAtLocalStart: false,
    description: 'The publish job as of today in China: brings the whole public site up to date, writing only pages that changed',
  },
} as const satisfies Record<string, ScheduleSpec>;

export type ScheduleName = keyof typeof schedules;

export interface QueueSpec {
  /** Environment variable through which handlers learn the queue URL. */
  envVar: string;
  /**
   * Environment variable through which handlers learn the queue's ARN (on AWS; the stack sets it with the URL): a
   * platform's queue is the destination of its dead-letter queue's redrive (StartMessageMoveTask DestinationArn).
   */
  arnEnvVar?: string;
  /** Queue name in the local stack (on AWS, CloudFormation names it). */
  localName: string;
  description: string;
  /** How long a received message stays invisible (Lambda: at least 6 times the consuming function's timeout). */
  visibilityTimeoutSeconds: number;
  /** How long a message is kept unreceived. */
  retentionSeconds: number;
  /** Where a message goes after this many receives without being deleted (a redrive policy). */
  deadLetter?: { queue: string; maxReceiveCount: number };
}

/**
 * A failing batch of the records table's stream is retried for 6 hours (Lambda's MaximumRecordAgeInSeconds), then
 * reported to `queues.streamFailures`: the stream keeps records 24 hours, so it can still be replayed for 18 hours.
 */
export const STREAM_FAILURE_RECORD_AGE_SECONDS = 6 * 3600;
/** How long a DynamoDB stream keeps a record (AWS's, and DynamoDB Local's): 24 hours. */
export const STREAM_RETENTION_SECONDS = 24 * 3600;

/** The connectors' timeout is 60 s: a message in flight stays hidden six times that, as AWS advises for Lambda. */
const DELIVERY_VISIBILITY_SECONDS = 360;
const FOURTEEN_DAYS = 14 * 24 * 3600;

export const queues = {
  provincial: {
    envVar: 'HUB_PROVINCIAL_QUEUE_URL',
    arnEnvVar: 'HUB_PROVINCIAL_QUEUE_ARN',
    localName: 'hub-provincial',
    description: 'Packages of record versions owed to the provincial platform (one message per package, or part of one), consumed by connectorProvincial',
    visibilityTimeoutSeconds: DELIVERY_VISIBILITY_SECONDS,
    retentionSeconds: 4 * 24 * 3600,
    deadLetter: { queue: 'provincialDead', maxReceiveCount: 5 },
  },
  provincialDead: {
    envVar: 'HUB_PROVINCIAL_DLQ_URL',
    localName: 'hub-provincial-dlq',
    description: 'Deliveries the provincial platform refused (4xx) or that failed maxReceiveCount times: for the operator (GET /v1/dlq/provincial, redrive)',
    visibilityTimeoutSeconds: 30,
    retentionSeconds: FOURTEEN_DAYS,
  },
  national: {
    envVar: 'HUB_NATIONAL_QUEUE_URL',
    arnEnvVar: 'HUB_NATIONAL_QUEUE_ARN',
    localName: 'hub-national',
    description: 'Packages of record versions owed to the national platform (one message per package, or part of one), consumed by connectorNational',
    visibilityTimeoutSeconds: DELIVERY_VISIBILITY_SECONDS,
    retentionSeconds: 4 * 24 * 3600,
    deadLetter: { queue: 'nationalDead', maxReceiveCount: 5 },
  },
  nationalDead: {
    envVar: 'HUB_NATIONAL_DLQ_URL',
    localName: 'hub-national-dlq',
    description: 'Deliveries the national platform refused (4xx) or that failed maxReceiveCount times: for the operator (GET /v1/dlq/national, redrive)',
    visibilityTimeoutSeconds: 30,
    retentionSeconds: FOURTEEN_DAYS,
  },
  streamFailures: {
    envVar: 'HUB_STREAM_FAILURES_QUEUE_URL',
    localName: 'hub-stream-failures',
    description:
      'Lambda’s failure records of the records table’s stream mappings (recordChanges → fanout, recordPublishing → sitePublisher): a batch given up after 6 hours of retries, named by shard and sequence numbers (no record content), to replay while the stream still holds it',
    visibilityTimeoutSeconds: 30,
    retentionSeconds: FOURTEEN_DAYS,
  },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = keyof typeof queues;

export interface PlatformSpec {
  /** 省信用信息共享平台 … */
  name: string;
  /** Environment variable holding the platform's base URL (API.md); unset locally, the built-in receiver stands in. On AWS, the CDK context value `urlContext`. */
  urlEnvVar: string;
  urlContext: string;
  /** Its delivery queue and dead-letter queue (keys of `queues`), and the connector consuming the first (a key of `functions`). */
  queue: QueueName;
  deadLetterQueue: QueueName;
  connector: string;
}

/** The upward platforms (API.md "Upward platforms"; DOMAIN.md 逐级推送). */
export const platforms = {
  provincial: { name: '省信用信息共享平台', urlEnvVar: 'HUB_PROVINCIAL_URL', urlContext: 'provincialUrl', queue: 'provincial', deadLetterQueue: 'provincialDead', connector: 'connectorProvincial' },
  national: { name: '全国信用信息共享平台', urlEnvVar: 'HUB_NATIONAL_URL', urlContext: 'nationalUrl', queue: 'national', deadLetterQueue: 'nationalDead', connector: 'connectorNational' },
} as const satisfies Record<string, PlatformSpec>;

export type PlatformName = keyof typeof platforms;

/** What the exchange packages say about the sender (GB/T 39443 package header). */
export const exchange = {
  /** The sender's USCC (the city credit office): HUB_SENDER_USCC, or the CDK context value `senderUscc`. */
  senderUsccEnvVar: 'HUB_SENDER_USCC',
  senderUsccContext: 'senderUscc',
  /** A delivery still owed this long after it was last queued is queued again by the sweep. */
  requeueAfterSeconds: 15 * 60,
  /** A package body still open this long after it was opened (its fan-out stopped half way) is settled by the sweep. */
  settleOpenAfterSeconds: 60,
  /** Attempts of one POST inside one invocation (5xx, 408, 429, timeouts), with exponential back-off and full jitter. */
  attemptsPerInvocation: 4,
  /** A POST taking longer is abandoned as a timeout (and retried). */
  requestTimeoutSeconds: 10,
  /**
   * The connectors' and the sweep's metrics (Powertools Metrics, CloudWatch embedded metric format), each with the
   * dimension `platform`. The stack alarms on the DLQs' depth and on `oldestOwedAge`.
   */
  metrics: {
    namespace: 'CreditHub',
    service: 'upward',
    delivered: 'Delivered',
    retried: 'Retried',
    deadLettered: 'DeadLettered',
    /** Seconds since the oldest delivery still owed was created (the sweep, every run). */
    oldestOwedAge: 'OldestOwedAgeSeconds',
  },
  /** The delivery-lag alarm fires when the oldest owed delivery is older than this. */
  lagAlarmSeconds: 3600,
  /**
   * The reconciliation (shared/upward/reconcile.ts, schedules.deliveryReconcile): a record's current version that no
   * package carries is packaged once it is older than the stream's retention and an hour (until then the stream, or a
   * replay of a reported failure, may still bring it, and its older versions after it); a pass over every head begins a day after the last began, and goes on a page of
   * `pageItems` items at a time while its invocation has more than `marginSeconds` left.
   */
  reconcile: {
    settledAfterSeconds: STREAM_RETENTION_SECONDS + 3600,
    passEverySeconds: 24 * 3600,
    pageItems: 500,
    marginSeconds: 60,
  },
} as const;

/** A Lambda event-source mapping: a function fed from a table's change stream or from a queue. */
export type EventSourceSpec =
  | {
      type: 'dynamodb-stream';
      /** A key of `tables` whose `stream` is on. */
      table: TableName;
      function: string;
      batchSize: number;
      maxBatchingWindowSeconds: number;
      startingPosition: 'TRIM_HORIZON' | 'LATEST';
      /** -1: until the record leaves the stream (24 hours) or is older than maximumRecordAgeSeconds. */
      retryAttempts: number;
      bisectBatchOnError: boolean;
      /**
       * A failing batch is given up once its oldest record is this old (Lambda's MaximumRecordAgeInSeconds, 60 or more;
       * absent: -1, until the stream drops it after 24 hours). Well under the stream's 24 hours, so that a batch
       * reported to `onFailure` is still in the stream to be read again (replayed) for hours after.
       */
      maximumRecordAgeSeconds?: number;
      /**
       * Lambda's on-failure destination (a key of `queues`): a batch given up (retries or record age) is reported
       * there as Lambda's failure record (shard, first and last sequence numbers, no record content), never
       * dropped silently. Locally the stream poller sends the same record to the same queue.
       */
      onFailure?: QueueName;
      /** Only stream records whose new image matches (Lambda event filtering): `{ sk: 'HEAD' }`. */
      newImageEquals?: Readonly<Record<string, string>>;
      reportBatchItemFailures: true;
      description: string;
    }
  | {
      type: 'sqs';
      /** A key of `queues`. */
      queue: QueueName;
      function: string;
      batchSize: number;
      maxBatchingWindowSeconds: number;
      /** Concurrent invocations this mapping drives at most. */
      maxConcurrency: number;
      reportBatchItemFailures: true;
      description: string;
    };

export const eventSources = {
  recordChanges: {
    type: 'dynamodb-stream',
    table: 'records',
    function: 'fanout',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    startingPosition: 'TRIM_HORIZON',
    retryAttempts: -1,
    bisectBatchOnError: true,
    maximumRecordAgeSeconds: STREAM_FAILURE_RECORD_AGE_SECONDS,
    onFailure: 'streamFailures',
    newImageEquals: { sk: 'HEAD' },
    reportBatchItemFailures: true,
    description: 'Every new head of a record (a new or changed version) → fanout',
  },
  recordPublishing: {
    type: 'dynamodb-stream',
    table: 'records',
    function: 'sitePublisher',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    startingPosition: 'TRIM_HORIZON',
    // Until it succeeds or its records are 6 hours old: while a publish run holds the site's lease, batches come back with back-off.
    retryAttempts: -1,
    bisectBatchOnError: true,
    maximumRecordAgeSeconds: STREAM_FAILURE_RECORD_AGE_SECONDS,
    onFailure: 'streamFailures',
    newImageEquals: { sk: 'HEAD' },
    reportBatchItemFailures: true,
    description: 'Every change of a record’s head (a new version, a review decision, an objection mark) → sitePublisher: the pages it touches',
  },
  provincialDeliveries: {
    type: 'sqs',
    queue: 'provincial',
    function: 'connectorProvincial',
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxConcurrency: 5,
    reportBatchItemFailures: true,
    description: 'The provincial queue → connectorProvincial',
  },
  nationalDeliveries: {
    type: 'sqs',
    queue: 'national',
    function: 'connectorNational',
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxConcurrency: 5,
    reportBatchItemFailures: true,
    description: 'The national queue → connectorNational',
  },
} as const satisfies Record<string, EventSourceSpec>;

export type EventSourceName = keyof typeof eventSources;

/** One place where the catalogue names a function outside `functions` (a notification, a schedule, an `invokes`). */
export interface FunctionReference {
  /** Where: `buckets.batches.notifications[0]`, `schedules.batchSweep`, `functions.x.invokes[0]`. */
  at: string;
  function: string;
}

/** The parts of a catalogue that name functions (the catalogue itself by default; tests pass others). */
export interface FunctionReferencing {
  functions: Readonly<Record<string, Partial<FunctionSpec>>>;
  buckets: Readonly<Record<string, Pick<BucketSpec, 'notifications'>>>;
  schedules: Readonly<Record<string, Pick<ScheduleSpec, 'function'>>>;
  eventSources?: Readonly<Record<string, Pick<EventSourceSpec, 'function'>>>;
  platforms?: Readonly<Record<string, Pick<PlatformSpec, 'connector'>>>;
}

const thisCatalogue: FunctionReferencing = { functions, buckets, schedules, eventSources, platforms };

/** Every function named by a bucket notification, a schedule or a function's `invokes`, with where. */
export function functionReferences(catalogue: FunctionReferencing = thisCatalogue): FunctionReference[] {
  const found: FunctionReference[] = [];
  for (const [name, bucket] of Object.entries(catalogue.buckets)) {
    bucket.notifications.forEach((n, i) => found.push({ at: `buckets.${name}.notifications[${i}]`, function: n.function }));
  }
  for (const [name, schedule] of Object.entries(catalogue.schedules)) found.push({ at: `schedules.${name}`, function: schedule.function });
  for (const [name, source] of Object.entries(catalogue.eventSources ?? {})) found.push({ at: `eventSources.${name}`, function: source.function });
  for (const [name, platform] of Object.entries(catalogue.platforms ?? {})) found.push({ at: `platforms.${name}.connector`, function: platform.connector });
  for (const [name, fn] of Object.entries(catalogue.functions)) {
    (fn.invokes ?? []).forEach((target, i) => found.push({ at: `functions.${name}.invokes[${i}]`, function: target }));
  }
  return found;
}

/** The references to functions that `functions` does not have (the local stack wires none of them and says so). */
export function unknownFunctionReferences(catalogue: FunctionReferencing = thisCatalogue): FunctionReference[] {
  return functionReferences(catalogue).filter((r) => !Object.hasOwn(catalogue.functions, r.function));
}
