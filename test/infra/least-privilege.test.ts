/**
 * Least privilege and accountability on AWS (issue 6), checked on the
 * synthesised template rather than on the stack's code:
 * - no stored operator key, and nothing that could read one;
 * - explicit key policies: administration without use for the account, each
 *   use granted by name to the roles the catalogue says, with conditions;
 * - each role has exactly the DynamoDB calls its function makes, on the keys
 *   it names, and nobody may change the append-only audit trail;
 * - each role has exactly the SQS calls its function makes, and what the
 *   event-source mapping feeding it calls; a stream's reader exactly the
 *   stream calls, on that stream;
 * - reserved concurrency per function;
 * - every table, queue and log group under the customer-managed storage key.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldKeyUse, functionNameEnvVar, type BucketAccess, type SqsAction, type TableAccess } from '../../infra/catalogue.js';
import {
  APPEND_ONLY_DENIED_ACTIONS,
  checkCatalogue,
  HubStack,
  hubCatalogue,
  KEY_ADMIN_ACTIONS,
  LOG_GROUP_PREFIX,
  OPERATOR_KEY_ADMIN_ACTIONS,
  SQS_CONSUMER_ACTIONS,
  STREAM_READ_ACTIONS,
  type HubCatalogue,
} from '../../infra/stack.js';
import { KmsKeyring } from '../../shared/crypto/kms-keyring.js';
import { PROBE_KEY } from '../../shared/store/store-probe.js';
import { dynamoActionsOf, sqsActionsOf } from './dynamo-calls.js';
import {
  asArray,
  covers,
  getAttArn,
  logicalIdOf,
  permissions,
  refersTo,
  roleStatements,
  same,
  statementsOfDocument,
  synthesise,
  SYNTH_TIMEOUT,
  type Statement,
  type Synthesised,
} from './synth.js';

type Json = any;

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/**
 * The DynamoDB calls each function makes, table by table, read from the code
 * call by call. The catalogue must say exactly this (and the roles, exactly
 * the catalogue): a call added to the code without its line here and in the
 * catalogue fails on AWS with AccessDenied, and a grant with no call behind it
 * fails this test.
 */
const DYNAMO_CALLS: Record<string, Record<string, TableAccess>> = {
  health: {
    // shared/store/store-probe.ts probeSourcesTable(): one GetItemCommand of PROBE_KEY (pk HEALTH).
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: [PROBE_KEY.pk.S] },
  },
  // contracts/openapi.ts only: no store.
  openapi: {},
  sources: {
    // shared/auth/authenticate.ts → DynamoSourcesStore.principalForKey(): GetCommand of KEY#<hash>.
    // DynamoSourcesStore.create(): TransactWriteCommand of two Puts (SOURCES/<id>, KEY#<hash>).
    // .list(): QueryCommand of pk SOURCES.
    // .rotateKey(): GetCommand of SOURCES/<id>, then a TransactWriteCommand of an Update (SOURCES/<id>),
    //   a Delete (KEY#<old hash>) and a Put (KEY#<new hash>).
    // (.setOperatorKey() is called by the `hub operator rotate-key` CLI with an administrator's
    //   credentials, never by a function: no access to the OPERATOR pointer.)
    sources: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], leadingKeys: ['KEY#*', 'SOURCES'] },
    // shared/auth/rate-limit.ts → DynamoThrottleStore.admit(): one conditional UpdateCommand of RATE#<hash>#<second>.
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
  },
  submissions: {
    // The key, and the publication policy: shared/publication/policy-store.ts get(), a GetCommand of POLICY/PUBLICATION per push.
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*', 'POLICY'] },
    // shared/ingest/submit.ts → DynamoRecordsStore.getHeads(): BatchGetCommand of REC#<id>/HEAD;
    // .write(): a conditional PutCommand of the head per new record; per update a TransactWriteCommand of Puts only
    // (the head, and the superseded version); all REC#<id>.
    records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'] },
    // shared/http/idempotency.ts → Powertools' DynamoDBPersistenceLayer: GetItem (the stored answer),
    // PutItem (conditional, in progress), UpdateItem (the answer), DeleteItem (a failed request leaves
    // no record). Its keys start with the Lambda function's name, known only once deployed: no LeadingKeys.
    idempotency: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
  },
  records: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    // DynamoRecordsStore.getRecord(): QueryCommand of pk REC#<id> (the head and its versions).
    records: { actions: ['dynamodb:Query'], leadingKeys: ['REC#*'] },
    // shared/upward/delivery-view.ts readVersionDeliveries() → DynamoPackagesStore getClaim() (GetCommand of
    // REC#<id>/V#<n>), getBody() (GetCommand of PKG#<key>/BODY), listDeliveries() (QueryCommand of pk PKG#<key>).
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:Query'], leadingKeys: ['REC#*', 'PKG#*'] },
    // DynamoAuditStore.recordRead(): PutCommand of READ#<id> with attribute_not_exists (never an overwrite).
    audit: { actions: ['dynamodb:PutItem'], leadingKeys: ['READ#*'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
  },
  audit: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    // shared/audit/list-reads.ts → DynamoAuditStore.readsOfRecord(): QueryCommand of pk READ#<id>;
    // .readsOnDay(): QueryCommand of the byDay index.
    audit: { actions: ['dynamodb:Query'], leadingKeys: ['READ#*'], queryIndexes: ['byDay'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
  },
  batches: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    // shared/store/batches-store.ts DynamoBatchesStore.create(): PutCommand of BATCH#<id> with attribute_not_exists;
    // .get(): GetCommand of BATCH#<id> (GET /v1/batches/{batchId}).
    batches: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['BATCH#*'] },
    // shared/http/idempotency.ts (POST /v1/batches takes an Idempotency-Key): as for submissions.
    idempotency: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
  },
  batchIngest: {
    // shared/batch/ingest-batch.ts → submitRecords (shared/ingest/submit.ts): the push path, as for submissions.
    records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'] },
    // The publication policy, as for submissions: a GetCommand of POLICY/PUBLICATION per chunk pushed.
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['POLICY'] },
    // DynamoBatchesStore.get(): GetCommand; .takeLease/.begin/.saveCheckpoint/.releaseLease/.complete/.fail():
    // conditional UpdateCommands of BATCH#<id>; .listUnfinished() (the sweep): QueryCommand of the unfinished index.
    batches: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: ['BATCH#*'], queryIndexes: ['unfinished'] },
  },
  fanout: {
    // shared/upward/fanout.ts → DynamoPackagesStore: openBody() a conditional PutCommand of PKG#<key>/BODY, claim() a
    // conditional PutCommand of REC#<id>/V#<n> per version, closeBody() a conditional UpdateCommand, getBody() a
    // GetCommand (a package that claimed a version first), createDelivery() conditional PutCommands of PKG#<key>.
    // The records table's changes come from its stream (the event-source mapping's grant, not a table call).
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['REC#*', 'PKG#*'] },
  },
  connectorProvincial: {
    // shared/upward/record-versions.ts → BatchGetCommands of REC#<id>/HEAD and REC#<id>/V#<n>.
    records: { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['REC#*'] },
    // DynamoPackagesStore getDelivery()/getBody(): GetCommands; markDelivered/markFailed/recordAttempt(): conditional
    // UpdateCommands; split(): a TransactWriteCommand of an Update and Puts, all PKG#<key>.
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'] },
  },
  connectorNational: {
    // The same handler as connectorProvincial, for the other platform.
    records: { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['REC#*'] },
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'] },
  },
  jobs: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    // shared/jobs/runs-store.ts DynamoRunsStore.create(): a conditional PutCommand of RUN#<id>; .get(): GetCommand;
    // .replaceWaiting(): a conditional PutCommand (a run the runner could not be reached for is failed). The same for
    // expire runs (shared/publication/expire-run.ts DynamoExpireRunsStore create / get / replaceWaiting).
    jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['RUN#*'] },
  },
  syncRunner: {
    // DynamoRunsStore: create() (a schedule's run) PutCommand, get() GetCommand, the rest conditional UpdateCommands
    // of RUN#<id>; shared/jobs/job-lease.ts: UpdateCommands of LOCK#<job>; shared/jobs/watermark-store.ts:
    // GetCommand and a conditional UpdateCommand of WATERMARK#<platform>.
    jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['RUN#*', 'LOCK#*', 'WATERMARK#*'] },
    // shared/sync/delivery-pages.ts: QueryCommands of the byDay and owed indexes; DynamoPackagesStore.getBody(): a
    // GetCommand of PKG#<key>/BODY; .markDelivered(): conditional UpdateCommands of PKG#<key>/<platform>[#<part>] once
    // the platform acknowledged the package.
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'], queryIndexes: ['byDay', 'owed'] },
    // shared/upward/record-versions.ts DynamoRecordVersions.read(): BatchGetCommands of REC#<id>/HEAD and V#<n>.
    records: { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['REC#*'] },
  },
  feedback: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    // shared/upward/feedback.ts → DynamoPackagesStore.setFeedback(): a conditional UpdateCommand of the claim
    // REC#<id>/V#<n> (a version never packaged fails the condition and is answered in `unknown`).
    deliveries: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['REC#*'] },
  },
  dlq: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    // shared/upward/dead-letter-list.ts → DynamoPackagesStore.listFailed(): QueryCommands of the failed index, and
    // getBody(): a GetCommand of each failed delivery's PKG#<key>/BODY (its records);
    // shared/upward/redrive.ts → .resetToPending(): conditional UpdateCommands of PKG#<key>.
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: ['PKG#*'], queryIndexes: ['failed'] },
  },
  deliverySweep: {
    // shared/upward/delivery-sweep.ts → DynamoPackagesStore.listOwed() and .oldestOwed(): QueryCommands of the owed
    // index; .markRequeued(): a conditional UpdateCommand of PKG#<key> (one sweep requeues a delivery once);
    // settleOpenPackages(): listOpen() (the open index), then what the fan-out does (settlePackage): GetCommand of the
    // body, conditional PutCommands of claims (REC#) and deliveries (PKG#), the body closed by an UpdateCommand;
    // shared/upward/reconcile.ts → .findClaimed(): BatchGetCommands of claims (REC#), .getReconcileCursor() and
    // .saveReconcileCursor(): a GetCommand and a conditional PutCommand of CURSOR#reconcile.
    deliveries: { actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['REC#*', 'PKG#*', 'CURSOR#*'], queryIndexes: ['owed', 'open'] },
    // The reconciliation's DynamoHeadsScan.scan(): a ScanCommand of the heads (a Scan names no key).
    records: { actions: ['dynamodb:Scan'] },
  },
  publication: {
    // The key, and DynamoPolicyStore get() / put(): a GetCommand and a PutCommand of POLICY/PUBLICATION.
    sources: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['KEY#*', 'POLICY'] },
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    // shared/publication/decisions-store.ts: getHead() a GetCommand of REC#<id>/HEAD; commit() a TransactWriteCommand of
    // two Puts (the new head on the version read, the replaced head as V#<n>); queue() a QueryCommand of publicationQueue (keys only)
    // and a BatchGetCommand of the page's heads.
    records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'], queryIndexes: ['publicationQueue'] },
  },
  objections: {
    sources: { actions: ['dynamodb:GetItem'], leadingKeys: ['KEY#*'] },
    // Keys' counters, and shared/publication/client-limit.ts: the per-client counter of objections (RATE#<hash>#<minute>).
    throttle: { actions: ['dynamodb:UpdateItem'], leadingKeys: ['RATE#*'] },
    // decisions-store.ts getHead() and commit() (the objection mark), as for publication; it never lists the queue.
    records: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'] },
    // shared/publication/objections-store.ts: get() a GetCommand; filing() a Put and resolution() an Update inside the
    // record's TransactWriteCommand; listOpen() a QueryCommand of the open index.
    objections: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['OBJ#*'], queryIndexes: ['open'] },
  },
  expireRunner: {
    // shared/publication/expire-run.ts DynamoExpireRunsStore: get() GetCommand, save() conditional UpdateCommands,
    // create() (a schedule's run) a PutCommand, all RUN#<id>.
    jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['RUN#*'] },
    // decisions-store.ts: queue() a QueryCommand of publicationQueue; getHead() and commit() per record ended.
    records: { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['REC#*'], queryIndexes: ['publicationQueue'] },
  },
  sitePublisher: {
    // shared/site-publishing/site-index-store.ts DynamoSiteIndex: QueryCommands of a partition (members, hasMembers),
    // BatchGetCommands of PAGE#<path> hashes, BatchWriteCommands of entries, group members and hashes (puts and deletes),
    // and the publish run's ScanCommands of the whole table (its own index: a Scan names no key, so no LeadingKeys).
    sitePages: { actions: ['dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'] },
    // shared/site-publishing/heads-scan.ts DynamoHeadsScan: the publish run's ScanCommand of the heads (filter sk = HEAD), and
    // setQueue(): a conditional UpdateCommand of the review queue's two index attributes on a head an older hub stored without them.
    records: { actions: ['dynamodb:Scan', 'dynamodb:UpdateItem'] },
    // DynamoRunsStore (through publishRuns): get() GetCommand, create() (a scheduled run) PutCommand, the rest conditional
    // UpdateCommands of RUN#<id>; DynamoJobLeases: UpdateCommands of LOCK#publish (runs and stream invocations alike).
    jobs: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], leadingKeys: ['RUN#*', 'LOCK#*'] },
  },
};

/**
 * The SQS calls each function's code makes, queue by queue (IAM action names: a SendMessageBatch is authorised as
 * sqs:SendMessage). As for DYNAMO_CALLS: the catalogue must say exactly this. What an event-source mapping calls on
 * the queue it polls is not here: the stack derives it from `eventSources`.
 */
const SQS_CALLS: Record<string, Record<string, readonly SqsAction[]>> = {
  // shared/upward/delivery-queues.ts SqsDeliveryQueues.send(): SendMessageBatchCommands to each platform's queue.
  fanout: { provincial: ['sqs:SendMessage'], national: ['sqs:SendMessage'] },
  // SqsDeadLetters.send(): a SendMessageCommand to the platform's dead-letter queue (a 4xx: that message alone);
  // SqsRedelivery.delay(): a ChangeMessageVisibilityCommand on its own queue (the platform unavailable: a later receive).
  // SqsDeliveryQueues.send(): the two parts of a package the platform refused whole, on its own queue.
  connectorProvincial: { provincialDead: ['sqs:SendMessage'], provincial: ['sqs:ChangeMessageVisibility', 'sqs:SendMessage'] },
  connectorNational: { nationalDead: ['sqs:SendMessage'], national: ['sqs:ChangeMessageVisibility', 'sqs:SendMessage'] },
  // SqsDeliveryQueues.send() again, for what is still owed long after it was queued.
  deliverySweep: { provincial: ['sqs:SendMessage'], national: ['sqs:SendMessage'] },
  // shared/upward/dead-letter-queue.ts: GetQueueAttributes (depth, ARN), ListMessageMoveTasks + StartMessageMoveTask
  // (AWS), or ReceiveMessage + SendMessage to the platform's queue + DeleteMessage (HUB_DLQ_REDRIVE=resend, locally).
  dlq: {
    provincialDead: ['sqs:GetQueueAttributes', 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
    nationalDead: ['sqs:GetQueueAttributes', 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
    provincial: ['sqs:SendMessage'],
    national: ['sqs:SendMessage'],
  },
};

/**
 * The S3 calls of each function that uses a bucket, read from its code (and the calls a presigned URL it hands out
 * makes, which S3 authorises as the signer). As for DYNAMO_CALLS: the catalogue must say exactly this.
 */
const S3_CALLS: Record<string, Record<string, BucketAccess>> = {
  syncRunner: {
    // shared/sync/package-segments.ts: an Upload of each segment of a package and of the list of the deliveries it
    // carried (multipart: PutObject actions; AbortMultipartUpload when it fails) and GetObject of them (the SHA-256,
    // the POST; marking delivered).
    exchange: { objects: { 'sync/': ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'] } },
  },
  batches: {
    // functions/batches/handler.ts: presignedUploadUrl (a PUT of uploads/<id>), rejectsUrl (a GET of rejects/<id>.ndjson),
    // statObject of uploads/<id> (ListObjectsV2 with Prefix) for a waiting batch past its expiry.
    batches: { objects: { 'uploads/': ['s3:PutObject'], 'rejects/': ['s3:GetObject'] }, lists: ['uploads/'] },
  },
  batchIngest: {
    // S3ObjectSource: statObject (ListObjectsV2 under uploads/), ranged GetObject. S3RejectSink: PutObject of parts,
    // GetObject of parts, Upload of the joined file (multipart: PutObject actions; AbortMultipartUpload when it fails),
    // statObject of the joined file (ListObjectsV2 under rejects/), DeleteObjects of the parts.
    batches: {
      objects: { 'uploads/': ['s3:GetObject'], 'rejects/': ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] },
      lists: ['uploads/', 'rejects/'],
    },
  },
  sitePublisher: {
    // shared/site-publishing/site-bucket.ts S3SiteBucket: PutObjectCommand and DeleteObjectCommand of pages and assets
    // under the site's paths (shared/site/paths.ts); never listed (the sitePages table says what is there).
    site: {
      objects: Object.fromEntries(
        ['index.html', '404.html', 'search.html', 'assets/', 'lists/', 'records/', 'subjects/', 'search/'].map((prefix) => [prefix, ['s3:PutObject', 's3:DeleteObject']]),
      ),
    },
  },
};

/** Every KMS operation that uses key material (as opposed to managing the key). */
const KMS_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:GenerateDataKeyPair',
  'kms:GenerateDataKeyPairWithoutPlaintext',
  'kms:GenerateMac',
  'kms:VerifyMac',
  'kms:Sign',
  'kms:Verify',
  'kms:DeriveSharedSecret',
  // A grant hands a use to someone else.
  'kms:CreateGrant',
];

/** Lambda keeps at least 100 unreserved; the hub takes at most half of the default 1,000. */
const RESERVED_CONCURRENCY_BUDGET = 500;

let synth: Synthesised;
let stack: HubStack;
let resources: Record<string, Json>;

beforeAll(() => {
  synth = synthesise();
  ({ stack, resources } = synth);
}, SYNTH_TIMEOUT);
afterAll(() => synth?.dispose());

const functionEntries = Object.entries(hubCatalogue.functions);
const id = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(stack, construct);
const tableId = (name: string) => id(stack.tables[name]!);
const roleId = (fn: string) => resources[id(stack.functions[fn]!)].Properties.Role['Fn::GetAtt'][0] as string;
const keyPolicy = (key: Parameters<typeof logicalIdOf>[1]) => statementsOfDocument(resources[id(key)].Properties.KeyPolicy);
const rootPrincipal = (p: Json) => JSON.stringify(p ?? {}).includes(':root');
/** Every policy document in the template: roles' inline policies, IAM policies, key and table resource policies. */
function allPolicyDocuments(): Json[] {
  return Object.values(resources).flatMap((r) => [
    ...asArray(r.Properties?.Policies).map((p: Json) => p.PolicyDocument),
    r.Properties?.PolicyDocument,
    r.Properties?.KeyPolicy,
    r.Properties?.ResourcePolicy?.PolicyDocument,
  ]).filter(Boolean);
}
/** The tables whose change streams feed a function (its event-source mappings). */
const streamTablesOf = (fn: string) =>
  Object.values(hubCatalogue.eventSources).flatMap((source) => (source.type === 'dynamodb-stream' && source.function === fn ? [source.table] : []));
/** The queues a function's event-source mappings poll. */
const consumedQueuesOf = (fn: string) => Object.values(hubCatalogue.eventSources).flatMap((source) => (source.type === 'sqs' && source.function === fn ? [source.queue] : []));
/** Where a function's stream mappings report the batches they give up (Lambda sends there with the function's role). */
const failureQueuesOf = (fn: string) => [
  ...new Set(Object.values(hubCatalogue.eventSources).flatMap((source) => (source.type === 'dynamodb-stream' && source.function === fn && source.onFailure ? [source.onFailure] : []))),
];
/** The roles named as principals of a statement (logical ids). */
const principalRoles = (s: Statement) => asArray(s.Principal?.AWS).map((p: Json) => p['Fn::GetAtt']?.[0] as string);

describe('the operator key is not stored, and no role can read one', () => {
  it('has no Secrets Manager resource', () => {
    expect(Object.values(resources).filter((r) => r.Type.startsWith('AWS::SecretsManager::'))).toEqual([]);
  });

  it('grants no Secrets Manager action in any policy (roles, keys, tables)', () => {
    const actions = allPolicyDocuments().flatMap((d) => statementsOfDocument(d).flatMap((s) => s.Action));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => /^secretsmanager:/i.test(a) || a === '*')).toEqual([]);
  });

  it.each(functionEntries)('%s: no operator key (or its hash, or a secret) in its environment', (name) => {
    const env = resources[id(stack.functions[name]!)].Properties.Environment.Variables as Record<string, Json>;
    expect(Object.keys(env).filter((k) => /OPERATOR|SECRET/.test(k))).toEqual([]);
    expect(Object.keys(env)).not.toContain('HUB_OPERATOR_KEY_HASH');
  });

  it('exports no operator key secret', () => {
    // The one operator output is the administrator role's ARN: no key, no secret.
    expect(Object.keys(synth.template.toJSON().Outputs).filter((o) => /operator|secret/i.test(o))).toEqual(['OperatorKeyAdminRoleArn']);
    expect(JSON.stringify(synth.template.toJSON().Outputs.OperatorKeyAdminRoleArn.Value)).toContain('OperatorKeyAdminRole');
  });
});

describe('field keys: explicit policies, administration without use', () => {
  const fieldKeys = () => [
    ['field', stack.fieldKey],
    ['lookup', stack.lookupKey],
  ] as const;

  it('both keys have written policies: the account root manages, never uses, and has no kms:*', () => {
    for (const [name, key] of fieldKeys()) {
      const statements = keyPolicy(key);
      const root = statements.filter((s) => rootPrincipal(s.Principal));
      expect(root, `${name} key: one administration statement for the account`).toHaveLength(1);
      expect(root[0]!.Effect).toBe('Allow');
      expect([...root[0]!.Action].sort()).toEqual([...KEY_ADMIN_ACTIONS].sort());
      for (const pattern of root[0]!.Action) {
        expect(pattern).not.toBe('kms:*');
        expect(KMS_USE_ACTIONS.filter((use) => covers(pattern, use)), `${name} key: ${pattern} covers a use`).toEqual([]);
      }
      // Nobody at all is granted kms:* or a wildcard principal.
      for (const s of statements) {
        expect(s.Action.filter((a) => a === 'kms:*' || a === '*'), `${name} key`).toEqual([]);
        expect(JSON.stringify(s.Principal)).not.toMatch(/"\*"/);
      }
    }
  });

  it('field key: GenerateDataKey for the writers, Decrypt for the readers, by role, with the encryption context', () => {
    const roles = (use: 'encrypt' | 'decrypt') => functionEntries.filter(([, f]) => f.keys.includes(use)).map(([n]) => roleId(n)).sort();
    // The objections function encrypts an objector's contact, and decrypts it for the operator's list.
    expect(roles('encrypt')).toEqual([roleId('submissions'), roleId('batchIngest'), roleId('objections')].sort());
    // The records function shows identity numbers; the connectors and the nightly sync send them to the platforms.
    expect(roles('decrypt')).toEqual([roleId('records'), roleId('connectorProvincial'), roleId('connectorNational'), roleId('syncRunner'), roleId('objections')].sort());
    const uses = keyPolicy(stack.fieldKey).filter((s) => !rootPrincipal(s.Principal));
    const context = Object.fromEntries(Object.entries(fieldKeyUse.encryptionContext).map(([k, v]) => [`kms:EncryptionContext:${k}`, v]));
    expect(uses.map((s) => ({ action: s.Action, roles: principalRoles(s).sort(), condition: s.Condition, effect: s.Effect }))).toEqual(
      expect.arrayContaining([
        { action: ['kms:GenerateDataKey'], roles: roles('encrypt'), condition: { StringEquals: context }, effect: 'Allow' },
        { action: ['kms:Decrypt'], roles: roles('decrypt'), condition: { StringEquals: context }, effect: 'Allow' },
      ]),
    );
    expect(uses).toHaveLength(2);
  });

  it('lookup key: GenerateMac for the writers only, HMAC_SHA_256 only', () => {
    const uses = keyPolicy(stack.lookupKey).filter((s) => !rootPrincipal(s.Principal));
    expect(uses.map((s) => ({ action: s.Action, roles: principalRoles(s).sort(), condition: s.Condition, effect: s.Effect }))).toEqual([
      // `encrypt` brings the lookup key too (catalogue KeyUse): the objections function holds it without using it.
      { action: ['kms:GenerateMac'], roles: [roleId('submissions'), roleId('batchIngest'), roleId('objections')].sort(), condition: { StringEquals: { 'kms:MacAlgorithm': fieldKeyUse.macAlgorithm } }, effect: 'Allow' },
    ]);
  });

  it('no role has a field-key permission in an IAM policy (uses are granted in the key policies only)', () => {
    for (const [name] of functionEntries) {
      const onFieldKeys = roleStatements(resources, roleId(name)).filter((s) => [stack.fieldKey, stack.lookupKey].some((k) => refersTo(s.Resource, id(k))));
      expect(onFieldKeys, name).toEqual([]);
    }
  });

  it('the keyring sends exactly what the key policies require (context on data keys, HMAC_SHA_256 on MACs)', async () => {
    const kms = mockClient(KMSClient);
    try {
      kms.on(GenerateDataKeyCommand).resolves({ Plaintext: new Uint8Array(32), CiphertextBlob: new Uint8Array(8) });
      kms.on(DecryptCommand).resolves({ Plaintext: new Uint8Array(32) });
      kms.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(32) });
      const keyring = new KmsKeyring(new KMSClient({ region: 'cn-north-1' }), 'arn:aws-cn:kms:cn-north-1:111122223333:key/field', 'arn:aws-cn:kms:cn-north-1:111122223333:key/lookup');
      await keyring.generateDataKey();
      await keyring.unwrapDataKey(Buffer.alloc(8));
      await keyring.lookupKey(1);
      const contexts = [
        ...kms.commandCalls(GenerateDataKeyCommand).map((c) => c.args[0].input.EncryptionContext),
        ...kms.commandCalls(DecryptCommand).map((c) => c.args[0].input.EncryptionContext),
      ];
      expect(contexts).toEqual([fieldKeyUse.encryptionContext, fieldKeyUse.encryptionContext]);
      const macs = kms.commandCalls(GenerateMacCommand);
      expect(macs.length).toBeGreaterThan(0);
      for (const call of macs) expect(call.args[0].input.MacAlgorithm).toBe(fieldKeyUse.macAlgorithm);
    } finally {
      kms.restore();
    }
  });
});

describe('DynamoDB: exactly the calls each function makes', () => {
  const granted = (name: string) =>
    permissions(roleStatements(resources, roleId(name))).filter((p) => p.action.startsWith('dynamodb:') || p.action === '*');

  it('the catalogue says exactly the calls read from the code', () => {
    expect(Object.keys(DYNAMO_CALLS).sort()).toEqual(Object.keys(hubCatalogue.functions).sort());
    for (const [name, spec] of functionEntries) {
      const normalise = (t: Record<string, TableAccess>) =>
        Object.fromEntries(
          Object.entries(t).map(([table, a]) => [table, { actions: [...a.actions].sort(), leadingKeys: [...(a.leadingKeys ?? [])].sort(), queryIndexes: [...(a.queryIndexes ?? [])].sort() }]),
        );
      expect(normalise(spec.tables), name).toEqual(normalise(DYNAMO_CALLS[name]!));
    }
  });

  it('every function that authenticates reads key hashes and counts its requests per key; the others neither', () => {
    for (const [name, spec] of functionEntries) {
      const tables = spec.tables as Record<string, TableAccess>;
      const readsKeys = tables.sources?.actions.includes('dynamodb:GetItem') && tables.sources.leadingKeys?.includes('KEY#*');
      const counts = tables.throttle?.actions.includes('dynamodb:UpdateItem') ?? false;
      expect({ name, readsKeys: Boolean(readsKeys), counts }).toEqual({ name, readsKeys: spec.authenticates, counts: spec.authenticates });
    }
  });

  it.each(functionEntries)('%s: no action that nothing in its bundle can issue', async (name, spec) => {
    const possible = await dynamoActionsOf(spec.entry);
    const claimed = new Set(Object.values(spec.tables).flatMap((a) => [...a.actions, ...(a.queryIndexes?.length ? ['dynamodb:Query'] : [])]));
    expect([...claimed].filter((a) => !possible.has(a)), `${name} can issue only ${[...possible].sort().join(', ')}`).toEqual([]);
  }, SYNTH_TIMEOUT);

  it.each(functionEntries)('%s: its role allows exactly the catalogue calls, table by table, on the keys named (and reads the streams that feed it)', (name, spec) => {
    const allows = granted(name).filter((p) => p.effect === 'Allow');
    const expected: { action: string; resource: Json; condition: Json }[] = [];
    for (const [table, access] of Object.entries(spec.tables) as [string, TableAccess][]) {
      const condition = access.leadingKeys?.length ? { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...access.leadingKeys] } } : null;
      for (const action of access.actions) expected.push({ action, resource: getAttArn(tableId(table)), condition });
      for (const index of access.queryIndexes ?? []) {
        expected.push({ action: 'dynamodb:Query', resource: { 'Fn::Join': ['', [getAttArn(tableId(table)), `/index/${index}`]] }, condition: null });
      }
    }
    // A change stream feeding it: what its event-source mapping calls, on that stream only.
    for (const table of streamTablesOf(name)) {
      for (const action of STREAM_READ_ACTIONS) expected.push({ action, resource: { 'Fn::GetAtt': [tableId(table), 'StreamArn'] }, condition: null });
    }
    const key = (p: { action: string; resource: Json; condition: Json }) => JSON.stringify([p.action, p.resource, p.condition]);
    expect(allows.map((p) => key(p)).sort()).toEqual(expected.map(key).sort());
    for (const p of allows) {
      expect(p.action, 'no wildcard action').not.toMatch(/\*/);
      expect(p.resource, 'no wildcard resource').not.toBe('*');
    }
  });

  it('no function may Scan, BatchWriteItem or use PartiQL anywhere, but the site publisher on what its full run reads and its own index, and the delivery sweep on the heads it reconciles', () => {
    // The publish job rebuilds the site from every head (a Scan of the records table: it holds no field key, so it can
    // neither decrypt certificates nor derive lookup hashes) and sweeps its own sitePages table (Scan, BatchWriteItem).
    // The delivery sweep's reconciliation reads every head too (shared/upward/reconcile.ts), with no field key either:
    // the versions it packages keep their certificate numbers encrypted, for the connectors to decrypt.
    const allowed: Record<string, Record<string, readonly string[]>> = {
      sitePublisher: { records: ['dynamodb:Scan'], sitePages: ['dynamodb:Scan', 'dynamodb:BatchWriteItem'] },
      deliverySweep: { records: ['dynamodb:Scan'] },
    };
    expect(hubCatalogue.functions.sitePublisher!.keys).toEqual([]);
    expect(hubCatalogue.functions.deliverySweep!.keys).toEqual([]);
    for (const [name] of functionEntries) {
      const risky = granted(name).filter((p) => p.effect === 'Allow' && /^dynamodb:(Scan|BatchWriteItem|PartiQL.*|\*)$/.test(p.action));
      const exempt = (p: (typeof risky)[number]) => Object.entries(allowed[name] ?? {}).some(([table, actions]) => actions.includes(p.action) && refersTo(p.resource, tableId(table)));
      expect(risky.filter((p) => !exempt(p)), name).toEqual([]);
    }
  });

  it('the submissions role, holding GenerateMac, can neither scan nor query the records table (no offline reversal of lookup hashes)', () => {
    const onRecords = granted('submissions').filter((p) => p.effect === 'Allow' && refersTo(p.resource, tableId('records')));
    expect(onRecords.map((p) => p.action).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PutItem']);
    for (const p of onRecords) expect(p.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REC#*'] } });
  });
});

describe('the audit trail is append-only', () => {
  const appendOnly = () => Object.entries(hubCatalogue.tables).filter(([, t]) => t.appendOnly).map(([n]) => n);

  it('the audit table is append-only in the catalogue', () => {
    expect(appendOnly()).toEqual(['audit']);
  });

  it.each(functionEntries)('%s: explicitly denied every change to the audit table, and allowed none', (name) => {
    const ps = permissions(roleStatements(resources, roleId(name)));
    for (const table of appendOnly()) {
      const arn = getAttArn(tableId(table));
      const denied = ps.filter((p) => p.effect === 'Deny' && same(p.resource, arn) && p.condition === null).map((p) => p.action);
      expect(denied.sort()).toEqual([...APPEND_ONLY_DENIED_ACTIONS].sort());
      expect(denied).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']));
      const allowed = ps.filter((p) => p.effect === 'Allow' && refersTo(p.resource, tableId(table)) && APPEND_ONLY_DENIED_ACTIONS.some((a) => covers(p.action, a)));
      expect(allowed).toEqual([]);
    }
  });

  it('the audit table’s resource policy denies every change to everyone', () => {
    for (const table of appendOnly()) {
      const policy = resources[tableId(table)].Properties.ResourcePolicy?.PolicyDocument;
      expect(policy, `${table} has a resource policy`).toBeDefined();
      const denies = statementsOfDocument(policy).filter((s) => s.Effect === 'Deny');
      expect(denies).toHaveLength(1);
      expect(denies[0]!.Principal).toEqual({ AWS: '*' });
      expect(denies[0]!.Condition).toBeUndefined();
      expect(denies[0]!.Resource).toEqual(['*']);
      expect([...denies[0]!.Action].sort()).toEqual([...APPEND_ONLY_DENIED_ACTIONS].sort());
      // The trail cannot be made to expire either.
      expect(resources[tableId(table)].Properties.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('a catalogue that lets a function update or delete on an append-only table is refused', () => {
    for (const action of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const) {
      const bad: HubCatalogue = {
        ...hubCatalogue,
        functions: { ...hubCatalogue.functions, records: { ...hubCatalogue.functions.records!, tables: { ...hubCatalogue.functions.records!.tables, audit: { actions: ['dynamodb:PutItem', action] } } } },
      };
      expect(() => checkCatalogue(bad)).toThrow(/append-only table "audit"/);
    }
  });

  it('a catalogue that queries an index the table does not have is refused', () => {
    const bad: HubCatalogue = {
      ...hubCatalogue,
      functions: { ...hubCatalogue.functions, audit: { ...hubCatalogue.functions.audit!, tables: { audit: { actions: ['dynamodb:Query'], queryIndexes: ['byWho'] } } } },
    };
    expect(() => checkCatalogue(bad)).toThrow(/unknown index "byWho"/);
    // The stack checks before it builds anything.
    expect(() => synthesise({ catalogue: bad }, 'Bad')).toThrow(/unknown index "byWho"/);
  });
});

describe('reserved concurrency', () => {
  it.each(functionEntries)('%s: reserved concurrency from the catalogue', (name, spec) => {
    expect(Number.isInteger(spec.reservedConcurrency) && spec.reservedConcurrency > 0).toBe(true);
    expect(resources[id(stack.functions[name]!)].Properties.ReservedConcurrentExecutions).toBe(spec.reservedConcurrency);
  });

  it(`reserves at most ${RESERVED_CONCURRENCY_BUDGET} in all, and pushes get the most`, () => {
    const reserved = functionEntries.map(([name]) => resources[id(stack.functions[name]!)].Properties.ReservedConcurrentExecutions as number | undefined);
    expect(reserved.every((n) => typeof n === 'number')).toBe(true);
    expect(reserved.reduce((a, b) => a! + b!, 0)).toBeLessThanOrEqual(RESERVED_CONCURRENCY_BUDGET);
    const most = Math.max(...functionEntries.map(([, f]) => f.reservedConcurrency));
    expect(hubCatalogue.functions.submissions!.reservedConcurrency).toBe(most);
  });
});

describe('storage key: every table and log group, never the field keys', () => {
  const storageArn = () => getAttArn(id(stack.storageKey));

  it('is a separate symmetric key, rotated, retained', () => {
    const k = resources[id(stack.storageKey)];
    expect(k.Properties.EnableKeyRotation).toBe(true);
    expect(k.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT').toBe('SYMMETRIC_DEFAULT');
    expect(k.DeletionPolicy).toBe('Retain');
    expect(new Set([id(stack.storageKey), id(stack.fieldKey), id(stack.lookupKey)]).size).toBe(3);
  });

  it('encrypts every table (customer managed: not AWS owned, not AWS managed)', () => {
    const tables = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(Object.keys(hubCatalogue.tables).length);
    for (const [tid, t] of tables) {
      expect(t.Properties.SSESpecification, tid).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: storageArn() });
    }
  });

  it('encrypts every log group (functions and API access logs), all under the stack’s prefix', () => {
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(functionEntries.length + 1);
    expect(groups.map(([gid]) => gid)).toContain(id(stack.accessLogs));
    for (const [gid, g] of groups) {
      expect(g.Properties.KmsKeyId, gid).toEqual(storageArn());
      expect(JSON.stringify(g.Properties.LogGroupName)).toContain(`"/credit-hub/",{"Ref":"AWS::StackName"},"/`);
    }
    expect(LOG_GROUP_PREFIX).toContain('/credit-hub/');
  });

  it('its policy: administration without use for the account; use only through DynamoDB, S3, SQS or CloudWatch Logs, or by CloudWatch Logs for this stack’s log groups', () => {
    const statements = keyPolicy(stack.storageKey);
    for (const s of statements) expect(s.Action.filter((a) => a === 'kms:*' || a === '*')).toEqual([]);
    const root = statements.filter((s) => rootPrincipal(s.Principal));
    const admin = root.filter((s) => s.Condition === undefined);
    expect(admin).toHaveLength(1);
    expect([...admin[0]!.Action].sort()).toEqual([...KEY_ADMIN_ACTIONS].sort());
    const through = root.filter((x) => x.Condition !== undefined);
    expect(through.map((s) => JSON.stringify(s.Condition.StringEquals['kms:ViaService']).match(/"(dynamodb|logs|s3|sqs)\."/)?.[1]).sort()).toEqual(['dynamodb', 'logs', 's3', 'sqs']);
    const viaS3 = through.find((x) => JSON.stringify(x.Condition.StringEquals['kms:ViaService']).includes('"s3.'))!;
    expect([...viaS3.Action].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    const viaSqs = through.find((x) => JSON.stringify(x.Condition.StringEquals['kms:ViaService']).includes('"sqs.'))!;
    expect([...viaSqs.Action].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    for (const s of through) expect(s.Condition.StringEquals['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    const logs = statements.filter((s) => JSON.stringify(s.Principal?.Service ?? {}).includes('"logs."'));
    expect(logs).toHaveLength(1);
    const arn = JSON.stringify(logs[0]!.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']);
    expect(arn).toContain(':log-group:/credit-hub/');
    expect(arn).toContain('AWS::StackName');
    // Nothing else but DynamoDB's read-only look at the key.
    const others = statements.filter((s) => !root.includes(s) && !logs.includes(s));
    expect(others.map((s) => ({ principal: s.Principal, action: s.Action }))).toEqual([{ principal: { Service: 'dynamodb.amazonaws.com' }, action: ['kms:DescribeKey'] }]);
  });

  it.each(functionEntries)('%s: the storage key through CloudWatch Logs for its own log group only', (name) => {
    const onKey = permissions(roleStatements(resources, roleId(name))).filter((p) => p.action.startsWith('kms:'));
    const viaLogs = onKey.filter((p) => JSON.stringify(p.condition?.StringEquals?.['kms:ViaService']).includes('"logs."'));
    expect(viaLogs.map((p) => p.action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    for (const p of viaLogs) {
      expect(p.resource).toEqual(storageArn());
      const arn = JSON.stringify(p.condition.ArnEquals['kms:EncryptionContext:aws:logs:arn']);
      expect(arn).toContain(`/functions/${name}"`);
      expect(arn).not.toContain('*');
    }
  });

  it.each(functionEntries)('%s: the storage key only through DynamoDB, only for its tables (and the streams that feed it), encrypting only for those it writes', (name, spec) => {
    const onKey = permissions(roleStatements(resources, roleId(name)))
      .filter((p) => p.action.startsWith('kms:'))
      .filter((p) => !/"(logs|s3|sqs)\."/.test(JSON.stringify(p.condition?.StringEquals?.['kms:ViaService'])));
    for (const p of onKey) {
      expect(p.resource).toEqual(storageArn());
      expect(JSON.stringify(p.condition?.StringEquals?.['kms:ViaService'])).toContain('"dynamodb."');
    }
    const tables = Object.entries(spec.tables) as [string, TableAccess][];
    const read = [...new Set([...tables.map(([t]) => t), ...streamTablesOf(name)])];
    if (read.length === 0) {
      expect(onKey).toEqual([]);
      return;
    }
    const forTables = (action: string) =>
      onKey.filter((p) => p.action === action).flatMap((p) => asArray(p.condition.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName']).map((t: Json) => t.Ref as string));
    expect(forTables('kms:Decrypt').sort()).toEqual(read.map((t) => tableId(t)).sort());
    const written = tables.filter(([, a]) => a.actions.some((x) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(x))).map(([t]) => tableId(t)).sort();
    for (const action of ['kms:Encrypt', 'kms:GenerateDataKey']) expect(forTables(action).sort(), action).toEqual(written);
    expect(onKey.map((p) => p.action).filter((a) => !['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'].includes(a))).toEqual([]);
  });
});

describe('S3: exactly the calls each function makes, under the key prefixes it names', () => {
  const bucketId = (name: string) => id(stack.buckets[name]!);
  const s3Grants = (fn: string) => permissions(roleStatements(resources, roleId(fn))).filter((p) => p.action.startsWith('s3:') || p.action === '*');

  it('the catalogue says exactly the calls read from the code', () => {
    const using = functionEntries.filter(([, f]) => Object.keys(f.buckets ?? {}).length > 0).map(([n]) => n);
    expect(using.sort()).toEqual(Object.keys(S3_CALLS).sort());
    for (const name of using) expect(hubCatalogue.functions[name]!.buckets, name).toEqual(S3_CALLS[name]);
  });

  it.each(functionEntries)('%s: its role allows exactly the catalogue’s object actions per prefix, and listing only under its prefixes', (name, spec) => {
    const expected: string[] = [];
    for (const [bucket, access] of Object.entries(spec.buckets ?? {}) as [string, BucketAccess][]) {
      const arn = getAttArn(bucketId(bucket));
      for (const [prefix, actions] of Object.entries(access.objects)) {
        for (const action of actions) expected.push(JSON.stringify([action, { 'Fn::Join': ['', [arn, `/${prefix}*`]] }, null]));
      }
      if (access.lists?.length) expected.push(JSON.stringify(['s3:ListBucket', arn, { StringLike: { 's3:prefix': access.lists.map((p) => `${p}*`) } }]));
    }
    const granted = s3Grants(name).map((p) => {
      expect(p.effect).toBe('Allow');
      return JSON.stringify([p.action, p.resource, p.condition]);
    });
    expect(granted.sort()).toEqual(expected.sort());
  });

  it('no role may read or write a whole bucket, delete the bucket, or change its policy; the site bucket has one writer', () => {
    const siteArn = JSON.stringify(getAttArn(bucketId('site')));
    for (const [name] of functionEntries) {
      for (const p of s3Grants(name)) {
        expect(p.action, name).not.toMatch(/\*|Bucket(Policy|Acl|Notification)|DeleteBucket|PutLifecycle/);
        if (p.action === 's3:ListBucket') continue;
        // The site bucket: only its one writer, only PUT and DELETE, only under the site's paths (never `/*`).
        if (JSON.stringify(p.resource).includes(siteArn)) {
          expect(name).toBe('sitePublisher');
          expect(['s3:PutObject', 's3:DeleteObject']).toContain(p.action);
          expect(JSON.stringify(p.resource)).toMatch(/\/(index\.html|404\.html|search\.html|assets\/|lists\/|records\/|subjects\/|search\/)\*"/);
        } else expect(JSON.stringify(p.resource), name).toMatch(/\/(uploads|rejects|sync)\/\*"/);
      }
    }
    const siteWriters = functionEntries.filter(([, f]) => Object.keys(f.buckets ?? {}).includes('site')).map(([n]) => n);
    expect(siteWriters).toEqual(['sitePublisher']);
  });

  it.each(functionEntries)('%s: the storage key through S3 only for its buckets, generating data keys only where it writes', (name, spec) => {
    const viaS3 = permissions(roleStatements(resources, roleId(name))).filter((p) => JSON.stringify(p.condition?.StringEquals?.['kms:ViaService'] ?? '').includes('"s3.'));
    // A website bucket (the public site) is encrypted with S3-managed keys: no use of the storage key for it.
    const buckets = (Object.entries(spec.buckets ?? {}) as [string, BucketAccess][]).filter(([b]) => !hubCatalogue.buckets[b]!.website);
    if (buckets.length === 0) {
      expect(viaS3).toEqual([]);
      return;
    }
    const writes = buckets.some(([, a]) => Object.values(a.objects).some((actions) => actions.includes('s3:PutObject')));
    expect(viaS3.map((p) => p.action).sort()).toEqual(writes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']);
    for (const p of viaS3) {
      expect(p.resource).toEqual(getAttArn(id(stack.storageKey)));
      expect(p.condition.StringEquals['kms:EncryptionContext:aws:s3:arn']).toEqual(buckets.map(([b]) => getAttArn(bucketId(b))));
      expect(p.condition.StringEquals['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    }
  });
});

describe('SQS: exactly the calls each function makes, and what the mapping that feeds it calls', () => {
  const queueId = (name: string) => id(stack.queues[name]!);
  const sqsGrants = (fn: string) => permissions(roleStatements(resources, roleId(fn))).filter((p) => p.action.startsWith('sqs:') || p.action === '*');
  const viaSqs = (fn: string) => permissions(roleStatements(resources, roleId(fn))).filter((p) => JSON.stringify(p.condition?.StringEquals?.['kms:ViaService'] ?? '').includes('"sqs.'));
  const arnKey = (queue: string) => JSON.stringify(getAttArn(queueId(queue)));

  it('what an event-source mapping calls is AWS’s documented minimum (AWSLambdaSQSQueueExecutionRole, AWSLambdaDynamoDBExecutionRole), no wildcard', () => {
    expect([...SQS_CONSUMER_ACTIONS].sort()).toEqual(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
    expect([...STREAM_READ_ACTIONS].sort()).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
  });

  it('the catalogue says exactly the calls read from the code', () => {
    const using = functionEntries.filter(([, f]) => Object.keys(f.queues ?? {}).length > 0).map(([n]) => n);
    expect(using.sort()).toEqual(Object.keys(SQS_CALLS).sort());
    for (const name of using) expect(hubCatalogue.functions[name]!.queues, name).toEqual(SQS_CALLS[name]);
  });

  it.each(functionEntries)('%s: no SQS action that nothing in its bundle can issue', async (name, spec) => {
    const possible = await sqsActionsOf(spec.entry);
    const claimed = new Set(Object.values(spec.queues ?? {}).flat());
    expect([...claimed].filter((a) => !possible.has(a)), `${name} can issue only ${[...possible].sort().join(', ')}`).toEqual([]);
  }, SYNTH_TIMEOUT);

  it.each(functionEntries)('%s: its role allows exactly its catalogue calls, queue by queue, and the mapping’s calls on the queue it polls', (name, spec) => {
    const expected = new Set<string>();
    for (const [queue, actions] of Object.entries(spec.queues ?? {})) for (const action of actions) expected.add(JSON.stringify([action, getAttArn(queueId(queue))]));
    for (const queue of consumedQueuesOf(name)) for (const action of SQS_CONSUMER_ACTIONS) expected.add(JSON.stringify([action, getAttArn(queueId(queue))]));
    for (const queue of failureQueuesOf(name)) expected.add(JSON.stringify(['sqs:SendMessage', getAttArn(queueId(queue))]));
    const granted = sqsGrants(name).map((p) => {
      expect(p.effect).toBe('Allow');
      expect(p.condition).toBeNull();
      return JSON.stringify([p.action, p.resource]);
    });
    expect(granted.sort()).toEqual([...expected].sort());
  });

  it('each connector polls its own platform’s queue and sends only to that platform’s queues (the parts of a package split, and the dead-letter queue); only the dlq function (the local redrive) also receives and deletes, and only from dead-letter queues', () => {
    for (const platform of Object.values(hubCatalogue.platforms)) {
      expect(consumedQueuesOf(platform.connector)).toEqual([platform.queue]);
      const sends = sqsGrants(platform.connector).filter((p) => p.action === 'sqs:SendMessage');
      expect(sends.map((p) => p.resource).sort(byJson)).toEqual([getAttArn(queueId(platform.queue)), getAttArn(queueId(platform.deadLetterQueue))].sort(byJson));
    }
    const connectors = new Set(Object.values(hubCatalogue.platforms).map((p) => p.connector));
    const deadLetterQueues = Object.values(hubCatalogue.platforms).map((p) => getAttArn(queueId(p.deadLetterQueue)));
    for (const [name] of functionEntries.filter(([n]) => !connectors.has(n))) {
      const receives = sqsGrants(name).filter((p) => ['sqs:ReceiveMessage', 'sqs:DeleteMessage'].includes(p.action));
      if (name === 'dlq') for (const p of receives) expect(deadLetterQueues, `dlq ${p.action}`).toContainEqual(p.resource);
      else expect(receives, name).toEqual([]);
    }
  });

  it.each(functionEntries)('%s: the storage key through SQS only for its queues: data keys where it sends (and for the dead-letter queue of a queue it polls), decrypting where it sends or receives', (name, spec) => {
    const queues = Object.entries(spec.queues ?? {}) as [string, readonly string[]][];
    const sent = new Set([...queues.filter(([, actions]) => actions.includes('sqs:SendMessage')).map(([q]) => q), ...failureQueuesOf(name)]);
    for (const queue of consumedQueuesOf(name)) {
      const deadLetter = hubCatalogue.queues[queue]!.deadLetter;
      if (deadLetter) sent.add(deadLetter.queue);
    }
    const received = [...consumedQueuesOf(name), ...queues.filter(([, actions]) => actions.some((a) => a === 'sqs:ReceiveMessage' || a === 'sqs:StartMessageMoveTask')).map(([q]) => q)];
    const decrypted = new Set([...sent, ...received]);
    const grants = viaSqs(name);
    const contextOf = (action: string) => grants.filter((p) => p.action === action).flatMap((p) => asArray(p.condition.StringEquals['kms:EncryptionContext:aws:sqs:arn']).map((arn: Json) => JSON.stringify(arn)));
    expect(contextOf('kms:GenerateDataKey').sort()).toEqual([...sent].map(arnKey).sort());
    expect(contextOf('kms:Decrypt').sort()).toEqual([...decrypted].map(arnKey).sort());
    expect(grants.map((p) => p.action).filter((a) => a !== 'kms:GenerateDataKey' && a !== 'kms:Decrypt')).toEqual([]);
    for (const p of grants) {
      expect(p.effect).toBe('Allow');
      expect(p.resource).toEqual(getAttArn(id(stack.storageKey)));
      expect(p.condition.StringEquals['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    }
  });
});

describe('Lambda: a function invokes exactly the functions the catalogue says', () => {
  it.each(functionEntries)('%s: lambda:InvokeFunction on the functions it invokes, by name, and nothing else of Lambda', (name, spec) => {
    const lambda = permissions(roleStatements(resources, roleId(name))).filter((p) => p.action.startsWith('lambda:'));
    const targets = [...new Set(spec.invokes ?? [])];
    expect(lambda.map((p) => p.action)).toEqual(targets.map(() => 'lambda:InvokeFunction'));
    // One statement naming each target (in whatever order the policy renders them).
    const named = lambda.map((p) => JSON.stringify(p.resource));
    for (const target of targets) {
      expect(named.filter((r) => r.includes(`:function:${stack.invokedFunctionName(target)}"`)), target).toHaveLength(1);
      expect(resources[id(stack.functions[target]!)].Properties.FunctionName).toBe(stack.invokedFunctionName(target));
      expect(resources[id(stack.functions[name]!)].Properties.Environment.Variables[functionNameEnvVar(target)]).toBe(stack.invokedFunctionName(target));
    }
  });
});

describe('the operator key administrator', () => {
  it('is a role assumed only with MFA, that may touch only the operator items of the sources table', () => {
    const roles = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('OperatorKeyAdminRole'));
    expect(roles).toHaveLength(1);
    const [, role] = roles[0]!;
    const trust = JSON.stringify(role.Properties.AssumeRolePolicyDocument);
    expect(trust).toContain('aws:MultiFactorAuthPresent');
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const dynamo = statements.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect([dynamo[0].Action].flat().sort()).toEqual([...OPERATOR_KEY_ADMIN_ACTIONS].sort());
    expect(dynamo[0].Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']).toEqual(['OPERATOR', 'KEY#*']);
    expect(JSON.stringify(dynamo[0].Resource)).toContain(id(stack.tables.sources!));
  });
});
