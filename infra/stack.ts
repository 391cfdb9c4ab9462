/**
 * The hub on AWS, generated entirely from the resource catalogue
 * (infra/catalogue.ts): one DynamoDB table per `tables` entry, one Lambda
 * function (with its own role and log group) per `functions` entry, one HTTP
 * API route per `routes` entry. Nothing here names a table, function or route:
 * adding an entry to the catalogue adds it to the stack.
 *
 * Key material — three customer-managed KMS keys, each with a written key
 * policy (CDK's default `kms:*` for the account root is never added):
 * - the field key (symmetric, rotated) wraps the data keys that encrypt
 *   identity numbers field by field: GenerateDataKey for the functions that
 *   write them, Decrypt for those that show them, both only with the hub's
 *   encryption context;
 * - the lookup key (HMAC_256) derives the keyed hashes of identity numbers, so
 *   a subject can be found without decrypting anything: GenerateMac for the
 *   writers, HMAC_SHA_256 only;
 * - the storage key (symmetric, rotated) encrypts everything that is not an
 *   identity number: every table and every log group. Reading a table never
 *   grants decrypting the identity numbers in it.
 * The account's administrators manage the keys (policies, rotation, deletion)
 * but cannot use the field keys: those uses are granted in the key policies,
 * by name, to the function roles the catalogue says, and to nobody else.
 *
 * DynamoDB access is written by hand in the catalogue: each role gets exactly
 * the calls its function makes, on the items whose partition keys it names
 * (`dynamodb:LeadingKeys`). Append-only tables (the audit trail) are denied
 * UpdateItem and DeleteItem to every role and, by the table's own resource
 * policy, to everyone.
 *
 * Buckets (court batch files): one per `buckets` entry, under the storage key,
 * private, TLS only, unversioned, expiring their objects; their notifications
 * start the catalogue's functions; S3 access is written by hand too, per key
 * prefix. Schedules are EventBridge rules (a rate, or a daily time in China as a
 * cron expression in UTC); a function that invokes another
 * (or itself) may invoke exactly those.
 *
 * Sharing upward: one SQS queue per `queues` entry, under the storage key, TLS
 * only, with its redrive policy; Lambda event-source mappings per
 * `eventSources` entry (the records table's change stream, filtered to new
 * heads; each platform's queue), all reporting partial batch failures. A
 * stream mapping gives a failing batch up at its maximum record age (well
 * before the stream drops it) and reports it to its on-failure queue (Lambda's
 * failure record), never dropping it silently. A role gets exactly the SQS
 * calls its catalogue entry names, plus what the mappings that feed it need
 * (the on-failure queue: SendMessage), and the storage key through SQS only for
 * those queues. Each dead-letter queue (the on-failure queue too) has a depth
 * alarm, each platform a delivery-lag alarm
 * (no actions: the stack has no notification topic; wire one to them). The
 * platforms' base URLs and the sender's USCC come from CDK context values
 * (`-c provincialUrl=… -c nationalUrl=… -c senderUscc=…`): the stack refuses
 * to synthesise without them rather than deploy connectors that can deliver
 * nothing.
 */
import * as path from 'node:path';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, cx_api as cxapi, type CfnElement, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AttributeType as DynamoAttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { AccountRootPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Architecture, EventSourceMapping, FilterCriteria, FilterRule, RecursiveLoop, Runtime, StartingPosition, Tracing, type IEventSourceDlq } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CacheCookieBehavior,
  CachedMethods,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  HttpVersion,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
  type HeadersFrameOption,
  type HeadersReferrerPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { usccProblem } from '../shared/domain/identifiers.js';
import { bundling } from './bundling.js';
import { dailyCronExpression } from './daily-schedule.js';
import * as catalogue from './catalogue.js';
import {
  environment,
  fieldKeyUse,
  functionNameEnvVar,
  type AttributeType,
  type BucketAccess,
  type BucketSpec,
  type EventSourceSpec,
  type FunctionSpec,
  type PlatformSpec,
  type QueueSpec,
  type ScheduleSpec,
  type TableAccess,
  type TableSpec,
  type Throttle,
  type WebsiteSpec,
} from './catalogue.js';

/**
 * What the stack is generated from: the shape of infra/catalogue.ts, with names
 * widened to strings so that a test can hand the stack a catalogue with more
 * entries and see them appear.
 */
export interface HubCatalogue {
  readonly tables: Readonly<Record<string, TableSpec>>;
  readonly functions: Readonly<Record<string, Omit<FunctionSpec, 'tables'> & { readonly tables: Readonly<Record<string, TableAccess>> }>>;
  readonly buckets: Readonly<Record<string, BucketSpec>>;
  readonly schedules: Readonly<Record<string, ScheduleSpec>>;
  readonly routes: readonly { readonly routeKey: string; readonly function: string; readonly throttle?: Throttle }[];
  readonly api: {
    readonly throttle: Throttle;
    readonly cors: { readonly allowHeaders: readonly string[]; readonly exposeHeaders: readonly string[]; readonly maxAgeSeconds: number };
  };
  readonly queues: Readonly<Record<string, QueueSpec>>;
  readonly platforms: Readonly<Record<string, Omit<PlatformSpec, 'queue' | 'deadLetterQueue'> & { readonly queue: string; readonly deadLetterQueue: string }>>;
  readonly eventSources: Readonly<Record<string, CatalogueEventSource>>;
  /** What the stack needs of `exchange`: the sender's USCC (variable and context value), the lag metric and its alarm. */
  readonly exchange: {
    readonly senderUsccEnvVar: string;
    readonly senderUsccContext: string;
    readonly metrics: { readonly namespace: string; readonly service: string; readonly oldestOwedAge: string };
    readonly lagAlarmSeconds: number;
  };
}
type CatalogueFunction = HubCatalogue['functions'][string];
/** An event source whose table or queue is named by a plain string (as everywhere in HubCatalogue). */
export type CatalogueEventSource =
  | (Omit<Extract<EventSourceSpec, { type: 'dynamodb-stream' }>, 'table'> & { readonly table: string })
  | (Omit<Extract<EventSourceSpec, { type: 'sqs' }>, 'queue'> & { readonly queue: string });

/** How long EventBridge keeps trying to deliver the event of a daily schedule (a nightly run an hour late is still wanted). */
export const DAILY_EVENT_MAX_AGE_MINUTES = 60;

/** The hub's catalogue (infra/catalogue.ts). */
export const hubCatalogue: HubCatalogue = {
  tables: catalogue.tables,
  functions: catalogue.functions,
  buckets: catalogue.buckets,
  schedules: catalogue.schedules,
  routes: catalogue.routes,
  api: catalogue.api,
  queues: catalogue.queues,
  platforms: catalogue.platforms,
  eventSources: catalogue.eventSources,
  exchange: catalogue.exchange,
};

export interface HubStackProps extends StackProps {
  /** The resource catalogue to generate the stack from; infra/catalogue.ts unless given (tests). */
  readonly catalogue?: HubCatalogue;
  /**
   * Browser origins allowed by CORS (a credit office console, say); none by default, and then the
   * API answers no preflight. From the app's `corsOrigins` context value (comma-separated).
   */
  readonly corsOrigins?: readonly string[];
}

/** The repository root: function entries in the catalogue are relative to it. */
export const repoRoot = path.resolve(import.meta.dirname, '..');

export const SERVICE_NAME = 'credit-hub';
export const FIELD_KEY_ALIAS = 'alias/credit-hub/fields';
export const LOOKUP_KEY_ALIAS = 'alias/credit-hub/lookup';
export const STORAGE_KEY_ALIAS = 'alias/credit-hub/storage';

/**
 * What the account (its administrators, through IAM) may do with a key:
 * manage it, never use it. Not `kms:Create*`: that would include CreateGrant,
 * with which an administrator could hand a use of the key to anyone.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/** DynamoDB actions that change or remove an existing item: never allowed on an append-only table. */
export const APPEND_ONLY_DENIED_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  // Turning TTL on would let DynamoDB delete the trail by expiry.
  'dynamodb:UpdateTimeToLive',
] as const;

/** DynamoDB actions that write items: a role with one of these on a table may also encrypt under the storage key for it. */
const WRITE_ACTIONS = new Set<string>(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']);

/**
 * What DynamoDB calls on the storage key on behalf of a caller of a table it
 * encrypts (AWS's list for customer-managed table keys, without wildcards):
 * unwrapping the table key for every caller; for writers, also encrypting.
 */
export const STORAGE_KEY_READ_ACTIONS = ['kms:Decrypt'] as const;
export const STORAGE_KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'] as const;

/**
 * What S3 calls on the storage key on behalf of a caller of a bucket it encrypts (SSE-KMS with a bucket
 * key): decrypting to read; generating data keys to write (and decrypting, which a multipart upload needs).
 */
export const STORAGE_KEY_S3_READ_ACTIONS = ['kms:Decrypt'] as const;
export const STORAGE_KEY_S3_WRITE_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;
/** S3 object actions that write: a function with one of these on a bucket may generate data keys for it. */
const S3_WRITE_ACTIONS = new Set<string>(['s3:PutObject']);

/**
 * What a Lambda event-source mapping calls on the queue it polls, with the function's role (the calls of AWS's
 * AWSLambdaSQSQueueExecutionRole): not in the catalogue's `queues`, which lists what the function's code calls.
 */
export const SQS_CONSUMER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;
/** What a Lambda event-source mapping calls on the change stream it reads, with the function's role. */
export const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'] as const;
/**
 * What SQS calls on the storage key on behalf of a caller of a queue it encrypts (SSE-KMS): a sender's messages
 * need a data key (generated, or a cached one decrypted); a receiver's, decrypting.
 */
export const STORAGE_KEY_SQS_SEND_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;
export const STORAGE_KEY_SQS_RECEIVE_ACTIONS = ['kms:Decrypt'] as const;
/** SQS actions that put a message into the queue they name (the caller's data key encrypts it). */
const SQS_SEND_ACTIONS = new Set<string>(['sqs:SendMessage']);
/**
 * SQS actions that take messages out of the queue they name, decrypted for the caller: receiving, and moving them
 * out of a dead-letter queue (whose destination the mover needs SendMessage on, and so a data key for, anyway).
 */
const SQS_RECEIVE_ACTIONS = new Set<string>(['sqs:ReceiveMessage', 'sqs:StartMessageMoveTask']);

/**
 * The delivery-lag alarm's period: three runs of the sweep that reports the age of the oldest owed delivery
 * (every 5 minutes), so that one run landing on a period boundary never leaves a period empty.
 */
export const DELIVERY_LAG_PERIOD_MINUTES = 15;
/**
 * A lag period without a value is an alarm: the sweep reports every platform's lag on every run (0 when nothing
 * is owed), so fifteen minutes without a value mean it has stopped (failing, throttled, its schedule gone), and
 * with it the requeueing of lost messages: the lag is unknown and growing.
 */
export const LAG_MISSING_DATA = TreatMissingData.BREACHING;

/** Days after which an incomplete multipart upload (a rejects file being joined when its worker died) is aborted. */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 1;
/** How long the buckets' server access logs are kept. */
export const ACCESS_LOG_DAYS = 365;

/** Where the stack's log groups live: the storage key encrypts log groups under this prefix only. */
export const LOG_GROUP_PREFIX = `/${SERVICE_NAME}/${Aws.STACK_NAME}/`;

/** Fields written to the API access log: no request body, no headers. */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationError: '$context.integrationErrorMessage',
} as const;

/** `sources` → `Sources`, `dishonest-debtors` → `DishonestDebtors`: construct ids from catalogue names. */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** What IAM accepts in a role's description (tab, line breaks, printable Latin-1): CloudFormation fails the role otherwise. */
export const IAM_DESCRIPTION_PATTERN = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

/** A description IAM accepts: typographic quotes as ASCII, other characters outside Latin-1 left out (and the brackets they leave empty). */
export function iamDescription(text: string): string {
  return text
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[^\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]/g, '')
    .replace(/\s*\(\s*\)/g, '')
    .replace(/ {2,}/g, ' ');
}

function attributeType(type: AttributeType): DynamoAttributeType {
  return type === 'N' ? DynamoAttributeType.NUMBER : DynamoAttributeType.STRING;
}

const HTTP_METHODS = new Set<string>(Object.values(HttpMethod));

/** `$default` → the default route key; `METHOD /path` → that method and path. */
export function parseRouteKey(routeKey: string): HttpRouteKey {
  if (routeKey === '$default') return HttpRouteKey.DEFAULT;
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  if (!match || !HTTP_METHODS.has(match[1]!)) {
    throw new Error(`Route key "${routeKey}" is neither $default nor "METHOD /path"`);
  }
  return HttpRouteKey.with(match[2]!, match[1] as HttpMethod);
}

/** What `hub operator rotate-key` calls on the sources table (shared/store/sources-store.ts setOperatorKey). */
export const OPERATOR_KEY_ADMIN_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'] as const;

/** The service name a KMS request made through DynamoDB carries (`kms:ViaService`), in any partition. */
const dynamoViaService = () => `dynamodb.${Aws.REGION}.${Aws.URL_SUFFIX}`;
/** Likewise through S3. */
const s3ViaService = () => `s3.${Aws.REGION}.${Aws.URL_SUFFIX}`;
/** Likewise through SQS. */
const sqsViaService = () => `sqs.${Aws.REGION}.${Aws.URL_SUFFIX}`;
/** Likewise through CloudWatch Logs; also its regional service principal. */
const logsService = () => `logs.${Aws.REGION}.${Aws.URL_SUFFIX}`;
/** The ARN of one of the stack's log groups, as CloudWatch Logs puts it in its encryption context. */
const logGroupArnPattern = (nameUnderPrefix: string) => `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${LOG_GROUP_PREFIX}${nameUnderPrefix}`;

/** A key policy with only the administration statement: uses are added by name. */
function adminOnlyKeyPolicy(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AdministrationWithoutUse',
        principals: [new AccountRootPrincipal()],
        actions: [...KEY_ADMIN_ACTIONS],
        resources: ['*'],
      }),
    ],
  });
}

export class HubStack extends Stack {
  /** Wraps the data keys of field envelope encryption (identity numbers). */
  public readonly fieldKey: Key;
  /** HMAC key for the keyed hashes of identity numbers (lookups without decryption). */
  public readonly lookupKey: Key;
  /** Encrypts every table and log group: everything that is not an identity number. */
  public readonly storageKey: Key;
  /** Assumed (with MFA) by whoever runs `hub operator rotate-key`; no function can write the operator key. */
  public readonly operatorKeyAdminRole: Role;
  /** By catalogue table name. */
  public readonly tables: Record<string, Table> = {};
  /** By catalogue bucket name. */
  public readonly buckets: Record<string, Bucket> = {};
  /** The CloudFront distribution of each website bucket (the public site), by catalogue bucket name; and their headers policies. */
  public readonly distributions: Record<string, Distribution> = {};
  public readonly responseHeadersPolicies: Record<string, ResponseHeadersPolicy> = {};
  /** Receives the buckets' server access logs (who read or wrote which object, from where); only when there are buckets. */
  public readonly accessLogsBucket?: Bucket;
  /** By catalogue schedule name. */
  public readonly schedules: Record<string, Rule> = {};
  /** By catalogue queue name. */
  public readonly queues: Record<string, Queue> = {};
  /** By catalogue event-source name. */
  public readonly eventSourceMappings: Record<string, EventSourceMapping> = {};
  /** The depth alarm of each dead-letter queue, by queue name. */
  public readonly deadLetterAlarms: Record<string, Alarm> = {};
  /** The delivery-lag alarm of each upward platform, by platform name. */
  public readonly deliveryLagAlarms: Record<string, Alarm> = {};
  /** The upward platforms' base URLs and the sender's USCC, from the CDK context. */
  public readonly upward: UpwardSettings;
  /** By catalogue function name; likewise each function's role and log group. */
  public readonly functions: Record<string, NodejsFunction> = {};
  public readonly roles: Record<string, Role> = {};
  public readonly logGroups: Record<string, LogGroup> = {};
  public readonly accessLogs: LogGroup;
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  public readonly catalogue: HubCatalogue;

  constructor(scope: Construct, id: string, props: HubStackProps = {}) {
    const { catalogue: given, corsOrigins = [], ...stackProps } = props;
    super(scope, id, stackProps);
    // S3 server access logs are delivered by permission of the log bucket's policy, not by its ACL (which would
    // need ACLs enabled on it): CDK's behaviour for new projects, set here before any construct is added.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const cat = (this.catalogue = given ?? hubCatalogue);
    // Refused before anything is built (or bundled): a grant the catalogue may not make.
    checkCatalogue(cat);
    // Likewise a deployment that does not say where the upward platforms are.
    this.upward = upwardSettings(cat, (key) => this.node.tryGetContext(key));

    // ---- Keys ---------------------------------------------------------------
    // Each is given its policy, so CDK adds no default statement; the uses are added below, by role.
    this.fieldKey = new Key(this, 'FieldKey', {
      description: 'Credit hub: wraps the data keys of field envelope encryption (identity numbers)',
      enableKeyRotation: true,
      alias: FIELD_KEY_ALIAS,
      policy: adminOnlyKeyPolicy(),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.lookupKey = new Key(this, 'LookupKey', {
      description: 'Credit hub: HMAC key deriving the keyed hashes used to look subjects up by identity number',
      keySpec: KeySpec.HMAC_256,
      keyUsage: KeyUsage.GENERATE_VERIFY_MAC,
      alias: LOOKUP_KEY_ALIAS,
      policy: adminOnlyKeyPolicy(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // HMAC keys cannot rotate automatically (a new key would also change every stored lookup
    // hash). cdk-nag's KMS5 only applies to symmetric encryption keys, so nothing to acknowledge.

    this.storageKey = new Key(this, 'StorageKey', {
      description: 'Credit hub: encrypts the DynamoDB tables and the log groups (everything but identity numbers)',
      enableKeyRotation: true,
      alias: STORAGE_KEY_ALIAS,
      policy: adminOnlyKeyPolicy(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.storageKey.addToResourcePolicy(
      new PolicyStatement({
        // As the AWS managed key for DynamoDB allows: principals of this account, and only through
        // DynamoDB (the roles' own policies then say which tables; CloudFormation creates the tables).
        sid: 'UseThroughDynamoDB',
        principals: [new AccountRootPrincipal()],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey', 'kms:CreateGrant'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': dynamoViaService(), 'kms:CallerAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.storageKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DynamoDBDescribesTheKey',
        principals: [new ServicePrincipal('dynamodb.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
      }),
    );
    this.storageKey.addToResourcePolicy(
      new PolicyStatement({
        // CloudWatch Logs encrypts this stack's log groups (and only those) with the key.
        sid: 'CloudWatchLogsForThisStacksLogGroups',
        principals: [new ServicePrincipal(logsService())],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroupArnPattern('*') } },
      }),
    );
    this.storageKey.addToResourcePolicy(
      new PolicyStatement({
        // CloudWatch Logs may also use the key on behalf of the caller writing (or reading) a log group
        // (kms:ViaService logs): principals of this account, through CloudWatch Logs, for this stack's
        // log groups only; each function role's own policy names its one log group.
        sid: 'UseThroughCloudWatchLogs',
        principals: [new AccountRootPrincipal()],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:ViaService': logsService(), 'kms:CallerAccount': Aws.ACCOUNT_ID },
        },
      }),
    );

    if (Object.keys(cat.buckets).length > 0) {
      this.storageKey.addToResourcePolicy(
        new PolicyStatement({
          // As for DynamoDB: principals of this account, only through S3 (the roles' own policies then say which
          // bucket, by its encryption context). The bucket's ARN cannot be named here: the bucket refers to the key.
          sid: 'UseThroughS3',
          principals: [new AccountRootPrincipal()],
          actions: [...new Set([...STORAGE_KEY_S3_READ_ACTIONS, ...STORAGE_KEY_S3_WRITE_ACTIONS])],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': s3ViaService(), 'kms:CallerAccount': Aws.ACCOUNT_ID } },
        }),
      );
    }

    if (Object.keys(cat.queues).length > 0) {
      this.storageKey.addToResourcePolicy(
        new PolicyStatement({
          // As for S3: principals of this account, only through SQS (the roles' own policies then say which queues,
          // by SQS's encryption context, the queue's ARN). A queue's ARN cannot be named here: the queue refers to the key.
          sid: 'UseThroughSQS',
          principals: [new AccountRootPrincipal()],
          actions: [...new Set([...STORAGE_KEY_SQS_SEND_ACTIONS, ...STORAGE_KEY_SQS_RECEIVE_ACTIONS])],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': sqsViaService(), 'kms:CallerAccount': Aws.ACCOUNT_ID } },
        }),
      );
    }

    // ---- Tables -----------------------------------------------------------------
    for (const [name, spec] of Object.entries(cat.tables)) {
      const table = new Table(this, `${pascal(name)}Table`, {
        partitionKey: { name: spec.partitionKey.name, type: attributeType(spec.partitionKey.type) },
        ...(spec.sortKey ? { sortKey: { name: spec.sortKey.name, type: attributeType(spec.sortKey.type) } } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        ...(spec.stream ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
        deletionProtection: true,
        ...(spec.timeToLiveAttribute ? { timeToLiveAttribute: spec.timeToLiveAttribute } : {}),
        // The storage key, never the field key: reading a table must not grant decrypting identity numbers.
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.storageKey,
        ...(spec.appendOnly ? { resourcePolicy: appendOnlyTablePolicy() } : {}),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of spec.globalIndexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey.type) },
          ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: attributeType(index.sortKey.type) } } : {}),
          projectionType: index.projection === 'KEYS_ONLY' ? ProjectionType.KEYS_ONLY : ProjectionType.ALL,
        });
      }
      this.tables[name] = table;
      new CfnOutput(this, `${pascal(name)}TableName`, {
        value: table.tableName,
        description: `${spec.description} (${spec.envVar})`,
      });
    }

    // ---- Buckets --------------------------------------------------------------------
    if (Object.keys(cat.buckets).length > 0) {
      // Server access logs of the buckets: S3 delivers them only to a bucket encrypted with S3-managed keys. It does
      // not log its own accesses (each log delivery would be logged in turn); cdk-nag's S1 knows a log bucket.
      // A website bucket's CloudFront distribution logs here too (standard logging), which delivers through the
      // bucket's ACL: ACLs stay enabled then (the bucket owner still owns every object; no public ACL is allowed).
      const cdnLogs = Object.values(cat.buckets).some((b) => b.website);
      this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
        encryption: BucketEncryption.S3_MANAGED,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: cdnLogs ? ObjectOwnership.BUCKET_OWNER_PREFERRED : ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_DAYS) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    for (const [name, spec] of Object.entries(cat.buckets)) {
      const bucket = new Bucket(this, `${pascal(name)}Bucket`, {
        // The storage key, never the field key: batch files hold identity numbers in clear, so only the functions
        // the catalogue names may read them, through S3, for this bucket (their role policies). A website bucket
        // holds public pages only: S3-managed keys, which CloudFront reads with no grant on any of the hub's keys.
        ...(spec.website
          ? { encryption: BucketEncryption.S3_MANAGED }
          : { encryption: BucketEncryption.KMS, encryptionKey: this.storageKey, bucketKeyEnabled: true }),
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        // No versioning: an object replaced or expired must be gone, not kept as a noncurrent version with the
        // identity numbers it holds. The ingest needs none: it reads on condition of the ETag first seen.
        versioned: false,
        lifecycleRules: [
          {
            id: 'expire-objects',
            ...(spec.expireAfterDays !== undefined ? { expiration: Duration.days(spec.expireAfterDays) } : {}),
            abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOADS_DAYS),
          },
        ],
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: `${name}/`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.buckets[name] = bucket;
      new CfnOutput(this, `${pascal(name)}BucketName`, { value: bucket.bucketName, description: `${spec.description} (${spec.envVar})` });
      if (spec.website) this.addWebsite(name, bucket, spec.website);
    }

    // ---- Queues ---------------------------------------------------------------------
    // A dead-letter queue is made before the queues that send to it.
    const makeQueue = (name: string): Queue => {
      const made = this.queues[name];
      if (made) return made;
      const spec = cat.queues[name]!;
      const queue = new Queue(this, `${pascal(name)}Queue`, {
        // The storage key: messages name record versions only (no identity number), but the queues are the hub's data.
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: this.storageKey,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(spec.retentionSeconds),
        ...(spec.deadLetter ? { deadLetterQueue: { queue: makeQueue(spec.deadLetter.queue), maxReceiveCount: spec.deadLetter.maxReceiveCount } } : {}),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.queues[name] = queue;
      new CfnOutput(this, `${pascal(name)}QueueUrl`, { value: queue.queueUrl, description: `${spec.description} (${spec.envVar})` });
      return queue;
    };
    for (const name of Object.keys(cat.queues)) makeQueue(name);

    // ---- Functions ----------------------------------------------------------------
    const keyUsers = { encrypt: [] as Role[], decrypt: [] as Role[] };
    for (const [name, spec] of Object.entries(cat.functions)) {
      const role = this.addFunction(name, spec);
      if (spec.keys.includes('encrypt')) keyUsers.encrypt.push(role);
      if (spec.keys.includes('decrypt')) keyUsers.decrypt.push(role);
    }

    // ---- Bucket notifications and schedules: what starts a function besides a request ------
    for (const [name, spec] of Object.entries(cat.buckets)) {
      for (const notification of spec.notifications) {
        const fn = this.functions[notification.function];
        if (!fn) throw new Error(`Bucket "${name}" notifies unknown function "${notification.function}"`);
        const filter = { ...(notification.prefix ? { prefix: notification.prefix } : {}), ...(notification.suffix ? { suffix: notification.suffix } : {}) };
        this.buckets[name]!.addEventNotification(notification.event === 'ObjectCreated' ? EventType.OBJECT_CREATED : EventType.OBJECT_REMOVED, new LambdaDestination(fn), filter);
      }
    }
    this.acknowledgeNotificationsHandler();
    for (const [name, spec] of Object.entries(cat.schedules)) {
      const fn = this.functions[spec.function];
      if (!fn) throw new Error(`Schedule "${name}" names unknown function "${spec.function}"`);
      this.schedules[name] = new Rule(this, `${pascal(name)}Schedule`, {
        description: `Credit hub: ${spec.description}`,
        // A daily schedule is a time in China (UTC+8); EventBridge rules read cron expressions in UTC.
        schedule: spec.dailyAt !== undefined ? Schedule.expression(dailyCronExpression(spec.dailyAt)) : Schedule.rate(Duration.minutes(spec.everyMinutes)),
        targets: [
          new LambdaFunction(fn, {
            ...(spec.input ? { event: RuleTargetInput.fromObject(spec.input) } : {}),
            // A missed sweep is made up by the next one; a nightly run still starts if it is delivered within the hour.
            retryAttempts: 2,
            maxEventAge: spec.dailyAt !== undefined ? Duration.minutes(DAILY_EVENT_MAX_AGE_MINUTES) : Duration.minutes(spec.everyMinutes),
          }),
        ],
      });
    }

    // ---- Event-source mappings: a table's change stream, a queue ------------------------------
    // No CDK event-source class: those grant on their own (the whole storage key, ListStreams on "*"); the roles
    // already hold exactly what each mapping calls (addFunction).
    for (const [name, source] of Object.entries(cat.eventSources)) {
      const common = {
        target: this.functions[source.function]!,
        batchSize: source.batchSize,
        maxBatchingWindow: Duration.seconds(source.maxBatchingWindowSeconds),
        reportBatchItemFailures: source.reportBatchItemFailures,
      };
      this.eventSourceMappings[name] =
        source.type === 'dynamodb-stream'
          ? new EventSourceMapping(this, `${pascal(name)}EventSource`, {
              ...common,
              eventSourceArn: this.tables[source.table]!.tableStreamArn!,
              startingPosition: source.startingPosition === 'LATEST' ? StartingPosition.LATEST : StartingPosition.TRIM_HORIZON,
              retryAttempts: source.retryAttempts,
              bisectBatchOnError: source.bisectBatchOnError,
              ...(source.maximumRecordAgeSeconds !== undefined ? { maxRecordAge: Duration.seconds(source.maximumRecordAgeSeconds) } : {}),
              ...(source.onFailure ? { onFailure: queueDestination(this.queues[source.onFailure]!) } : {}),
              ...(source.newImageEquals ? { filters: [newImageFilter(source.newImageEquals)] } : {}),
            })
          : new EventSourceMapping(this, `${pascal(name)}EventSource`, {
              ...common,
              eventSourceArn: this.queues[source.queue]!.queueArn,
              maxConcurrency: source.maxConcurrency,
            });
    }
    // cdk-nag's SQS3 knows a dead-letter queue by a redrive policy or a function's DeadLetterConfig naming it, not by
    // an event-source mapping's on-failure destination.
    const redriveTargets = new Set(Object.values(cat.queues).flatMap((q) => (q.deadLetter ? [q.deadLetter.queue] : [])));
    for (const name of failureDestinations(cat).filter((q) => !redriveTargets.has(q) && !cat.queues[q]!.deadLetter)) {
      Validations.of(this.queues[name]!.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `${name} is itself a dead-letter queue: the on-failure destination of the stream mappings (Lambda's failure records of the batches they give up), read by the operator; it has no dead-letter queue of its own.`,
      });
    }

    // ---- Alarms: a dead-letter queue holding anything; a platform owed for too long ------------
    // No actions: the stack has no notification topic (subscribe one to these alarms, or watch them in CloudWatch).
    // A stream mapping's on-failure destination is a dead-letter queue too: a batch given up is reported there.
    const deadLetterQueues = new Set([...Object.values(cat.queues).flatMap((q) => (q.deadLetter ? [q.deadLetter.queue] : [])), ...failureDestinations(cat)]);
    for (const name of deadLetterQueues) {
      this.deadLetterAlarms[name] = new Alarm(this, `${pascal(name)}DepthAlarm`, {
        alarmDescription: `Credit hub: ${name} holds messages. ${cat.queues[name]!.description}`,
        metric: this.queues[name]!.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: Stats.MAXIMUM }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // SQS stops reporting an empty queue nobody calls: nothing to see.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    const metrics = cat.exchange.metrics;
    for (const [name, platform] of Object.entries(cat.platforms)) {
      this.deliveryLagAlarms[name] = new Alarm(this, `${pascal(name)}DeliveryLagAlarm`, {
        alarmDescription: `Credit hub: ${platform.name} (${name}) has been owed a record version for more than ${cat.exchange.lagAlarmSeconds} s (${metrics.namespace} ${metrics.oldestOwedAge})`,
        // Powertools Metrics adds the `service` dimension to every metric it writes.
        metric: new Metric({
          namespace: metrics.namespace,
          metricName: metrics.oldestOwedAge,
          dimensionsMap: { service: metrics.service, platform: name },
          statistic: Stats.MAXIMUM,
          period: Duration.minutes(DELIVERY_LAG_PERIOD_MINUTES),
        }),
        threshold: cat.exchange.lagAlarmSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: LAG_MISSING_DATA,
      });
    }

    // ---- Uses of the field keys, in their key policies, by role ---------------------
    // Not in the roles' IAM policies: the account root has no use statement, so an IAM policy
    // could not grant a use anyway; the key policy is the one place that says who may.
    const encryptionContext = Object.fromEntries(
      Object.entries(fieldKeyUse.encryptionContext).map(([k, v]) => [`kms:EncryptionContext:${k}`, v]),
    );
    if (keyUsers.encrypt.length > 0) {
      this.fieldKey.addToResourcePolicy(
        new PolicyStatement({
          sid: 'WritersGenerateDataKeys',
          principals: keyUsers.encrypt,
          actions: ['kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: encryptionContext },
        }),
      );
      this.lookupKey.addToResourcePolicy(
        new PolicyStatement({
          sid: 'WritersDeriveLookupKeys',
          principals: keyUsers.encrypt,
          actions: ['kms:GenerateMac'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:MacAlgorithm': fieldKeyUse.macAlgorithm } },
        }),
      );
    }
    if (keyUsers.decrypt.length > 0) {
      this.fieldKey.addToResourcePolicy(
        new PolicyStatement({
          sid: 'ReadersUnwrapDataKeys',
          principals: keyUsers.decrypt,
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: encryptionContext },
        }),
      );
    }

    // ---- HTTP API -------------------------------------------------------------------
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: SERVICE_NAME,
      description: 'Credit hub HTTP API (authorization by bearer keys in the handlers)',
      createDefaultStage: false,
      ...(corsOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: [...corsOrigins],
              allowHeaders: [...cat.api.cors.allowHeaders],
              exposeHeaders: [...cat.api.cors.exposeHeaders],
              allowMethods: [...new Set(cat.routes.filter((r) => r.routeKey !== '$default').map((r) => r.routeKey.split(' ')[0]! as CorsHttpMethod))],
              maxAge: Duration.seconds(cat.api.cors.maxAgeSeconds),
            },
          }
        : {}),
    });

    this.accessLogs = this.logGroup('ApiAccessLogs', 'api-access');
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: cat.api.throttle.ratePerSecond, burstLimit: cat.api.throttle.burst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    // Routes with a throttle of their own (health checks) are throttled apart from the stage.
    const routeSettings = Object.fromEntries(
      cat.routes.filter((r) => r.throttle).map((r) => [r.routeKey, { ThrottlingRateLimit: r.throttle!.ratePerSecond, ThrottlingBurstLimit: r.throttle!.burst }]),
    );
    if (Object.keys(routeSettings).length > 0) {
      (this.stage.node.defaultChild as CfnStage).addPropertyOverride('RouteSettings', routeSettings);
    }

    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of cat.routes) {
      let integration = integrations.get(route.function);
      if (!integration) {
        const fn = this.functions[route.function];
        if (!fn) throw new Error(`Route "${route.routeKey}" names unknown function "${route.function}"`);
        integration = new HttpLambdaIntegration(`${pascal(route.function)}Integration`, fn, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        });
        integrations.set(route.function, integration);
      }
      const httpRoute = new HttpRoute(this, `Route ${route.routeKey.replaceAll('/', '|')}`, {
        httpApi: this.httpApi,
        routeKey: parseRouteKey(route.routeKey),
        integration,
      });
      Validations.of(httpRoute.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Authorization is done in the handlers: every /v1 call carries a bearer key that is checked against key hashes stored in DynamoDB (roles operator, department, court, discipline, checker, platform); /health, /openapi.json and POST /v1/objections are public by contract.',
      });
    }

    // ---- The operator key's administrator -------------------------------------------------
    // No function may write the operator key (pk OPERATOR and its KEY# item): `hub operator
    // rotate-key` does, run by a person of the credit office's IT who assumes this role with MFA.
    this.operatorKeyAdminRole = new Role(this, 'OperatorKeyAdminRole', {
      assumedBy: new AccountRootPrincipal().withConditions({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
      description: 'Credit hub: sets or replaces the operator key hash (hub operator rotate-key); assumed with MFA',
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: {
        operatorKey: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: [...OPERATOR_KEY_ADMIN_ACTIONS],
              resources: [this.tables.sources!.tableArn],
              conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OPERATOR', 'KEY#*'] } },
            }),
            ...this.storageKeyStatements({ tables: { sources: { actions: [...OPERATOR_KEY_ADMIN_ACTIONS] } } } as unknown as CatalogueFunction),
          ],
        }),
      },
    });

    // ---- Outputs ----------------------------------------------------------------------
    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'OperatorKeyAdminRoleArn', {
      value: this.operatorKeyAdminRole.roleArn,
      description: 'Role to assume (with MFA) for `hub operator rotate-key --table <SourcesTableName>`',
    });
  }

  /** A log group of this stack: under LOG_GROUP_PREFIX, encrypted with the storage key, kept a year. */
  private logGroup(id: string, nameUnderPrefix: string): LogGroup {
    return new LogGroup(this, id, {
      logGroupName: `${LOG_GROUP_PREFIX}${nameUnderPrefix}`,
      encryptionKey: this.storageKey,
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private addFunction(name: string, spec: CatalogueFunction): Role {
    const id = pascal(name);
    const logGroupName = `functions/${name}`;
    const logGroup = this.logGroup(`${id}Logs`, logGroupName);

    const env: Record<string, string> = {
      // A heap cap of its own (heapMb) keeps a function's memory where its design says, below what Lambda would allow.
      NODE_OPTIONS: spec.heapMb ? `--enable-source-maps --max-old-space-size=${spec.heapMb}` : '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    for (const tableName of Object.keys(spec.tables)) {
      env[this.catalogue.tables[tableName]!.envVar] = this.tables[tableName]!.tableName;
    }
    for (const bucketName of Object.keys(spec.buckets ?? {})) {
      env[this.catalogue.buckets[bucketName]!.envVar] = this.buckets[bucketName]!.bucketName;
    }
    for (const target of new Set(spec.invokes ?? [])) env[functionNameEnvVar(target)] = this.invokedFunctionName(target);
    for (const queueName of Object.keys(spec.queues ?? {})) {
      const queueSpec = this.catalogue.queues[queueName]!;
      env[queueSpec.envVar] = this.queues[queueName]!.queueUrl;
      if (queueSpec.arnEnvVar) env[queueSpec.arnEnvVar] = this.queues[queueName]!.queueArn;
    }
    // A connector or the nightly sync: where its platforms are, and who the hub is to them (upwardSettings checked both).
    for (const platform of spec.platforms ?? []) {
      env[this.catalogue.platforms[platform]!.urlEnvVar] = this.upward.platformUrls[platform]!;
      env[this.catalogue.exchange.senderUsccEnvVar] = this.upward.senderUscc!;
    }
    for (const [key, value] of Object.entries(spec.environment ?? {})) {
      if (Object.hasOwn(env, key)) throw new Error(`Function "${name}": its environment sets ${key}, which the stack sets`);
      env[key] = value;
    }
    // What feeds it besides invocations: a change stream, a queue (its event-source mappings call with its role).
    const sources = Object.values(this.catalogue.eventSources).filter((source) => source.function === name);
    const streamTables = [...new Set(sources.flatMap((source) => (source.type === 'dynamodb-stream' ? [source.table] : [])))];
    const consumedQueues = [...new Set(sources.flatMap((source) => (source.type === 'sqs' ? [source.queue] : [])))];
    // Where its stream mappings report a batch given up: Lambda sends the failure record with the function's role.
    const failureQueues = [...new Set(sources.flatMap((source) => (source.type === 'dynamodb-stream' && source.onFailure ? [source.onFailure] : [])))];

    // An explicit role: no AWS managed policy, only what the catalogue grants. Its field-key uses
    // are in the key policies (see the constructor), not here.
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: iamDescription(`Credit hub function ${name}: ${spec.description}`),
      inlinePolicies: {
        logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
            // Should CloudWatch Logs use the storage key on the writer's behalf: for this log group only.
            new PolicyStatement({
              actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
              resources: [this.storageKey.keyArn],
              conditions: {
                StringEquals: { 'kms:ViaService': logsService(), 'kms:CallerAccount': Aws.ACCOUNT_ID },
                ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArnPattern(logGroupName) },
              },
            }),
          ],
        }),
        dynamodb: new PolicyDocument({ statements: this.dynamoStatements(spec) }),
        ...(Object.keys(spec.tables).length > 0 || streamTables.length > 0
          ? { storageKey: new PolicyDocument({ statements: this.storageKeyStatements(spec, streamTables) }) }
          : {}),
        ...(streamTables.length > 0
          ? {
              streams: new PolicyDocument({
                statements: streamTables.map((t) => new PolicyStatement({ actions: [...STREAM_READ_ACTIONS], resources: [this.tables[t]!.tableStreamArn!] })),
              }),
            }
          : {}),
        ...(Object.keys(spec.queues ?? {}).length > 0 || consumedQueues.length > 0 || failureQueues.length > 0
          ? { sqs: new PolicyDocument({ statements: this.sqsStatements(spec, consumedQueues, failureQueues) }) }
          : {}),
        ...(Object.keys(spec.buckets ?? {}).length > 0 ? { s3: new PolicyDocument({ statements: this.s3Statements(spec) }) } : {}),
        ...(spec.invokes?.length
          ? {
              invoke: new PolicyDocument({
                statements: [new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [...new Set(spec.invokes)].map((target) => this.invokedFunctionArn(target)) })],
              }),
            }
          : {}),
      },
    });

    // Objects are named by batch id under their prefix: a grant names the prefix, never the whole bucket.
    for (const [bucketName, access] of Object.entries(spec.buckets ?? {}) as [string, BucketAccess][]) {
      const bucketId = this.getLogicalId(this.buckets[bucketName]!.node.defaultChild as CfnElement);
      for (const prefix of Object.keys(access.objects)) {
        Validations.of(role.node.defaultChild!).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
          reason: `The objects under ${prefix} are named by batch id, which is known only at run time: the grant is limited to that key prefix of the one bucket.`,
        });
      }
    }

    // Field keys: their ARNs for the keyring; the permission to use them is in the key policies.
    if (spec.keys.length > 0) env[environment.dataKeyArn] = this.fieldKey.keyArn;
    if (spec.keys.includes('encrypt')) env[environment.lookupKeyArn] = this.lookupKey.keyArn;

    const invoked = Object.values(this.catalogue.functions).some((f) => f.invokes?.includes(name));
    const fn = new NodejsFunction(this, `${id}Function`, {
      // A function another one invokes has a name of its own making: its callers (itself, for a continuation)
      // learn it from their environment without a reference to the function, which would be circular.
      ...(invoked ? { functionName: this.invokedFunctionName(name) } : {}),
      // A function that continues itself is a loop by design, bounded by its own state (a batch's checkpoint
      // advances at every step): Lambda's recursive loop detection would stop it after 16 steps.
      ...(spec.invokes?.includes(name) ? { recursiveLoop: RecursiveLoop.ALLOW } : {}),
      entry: path.resolve(repoRoot, spec.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      reservedConcurrentExecutions: spec.reservedConcurrency,
      description: spec.description,
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      environment: env,
      // The same options the benchmark bundles with (infra/bundling.ts): ESM for node24, the
      // runtime's AWS SDK v3 left out, a createRequire banner for CommonJS dependencies.
      bundling: {
        format: bundling.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
        minify: bundling.minify,
        sourceMap: bundling.sourceMap,
        target: bundling.target,
        mainFields: [...bundling.mainFields],
        externalModules: [...bundling.externalModules],
        banner: bundling.banner,
      },
    });

    // Active tracing puts the X-Ray statement in the role's default policy: acknowledged there only
    // (cdk-nag 3 has no blanket form; every other statement names its resources).
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions (active tracing).',
    });

    this.functions[name] = fn;
    this.roles[name] = role;
    this.logGroups[name] = logGroup;
    return role;
  }

  /** The deployed name of a function that others invoke: `<stack name>-<catalogue name>`. */
  invokedFunctionName(name: string): string {
    return `${this.stackName}-${name}`;
  }

  private invokedFunctionArn(name: string): string {
    return `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${this.invokedFunctionName(name)}`;
  }

  /**
   * The catalogue's S3 calls of one function, bucket by bucket: the object actions on the keys under each
   * prefix; listing only under the prefixes it names (`s3:prefix`); and the storage key through S3 for those
   * buckets only (their encryption context), generating data keys only where it writes.
   */
  private s3Statements(spec: CatalogueFunction): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    const via = { 'kms:ViaService': s3ViaService(), 'kms:CallerAccount': Aws.ACCOUNT_ID };
    const read: string[] = [];
    const written: string[] = [];
    for (const [bucketName, access] of Object.entries(spec.buckets ?? {}) as [string, BucketAccess][]) {
      const bucket = this.buckets[bucketName]!;
      for (const [prefix, actions] of Object.entries(access.objects)) {
        statements.push(new PolicyStatement({ actions: [...actions], resources: [bucket.arnForObjects(`${prefix}*`)] }));
        // A website bucket is encrypted with S3-managed keys: no use of the storage key.
        if (this.catalogue.buckets[bucketName]!.website) continue;
        if (actions.some((a) => S3_WRITE_ACTIONS.has(a))) written.push(bucket.bucketArn);
        else read.push(bucket.bucketArn);
      }
      if (access.lists?.length) {
        statements.push(
          new PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': access.lists.map((prefix) => `${prefix}*`) } },
          }),
        );
      }
    }
    const context = (arns: string[]) => ({ StringEquals: { ...via, 'kms:EncryptionContext:aws:s3:arn': [...new Set(arns)] } });
    if (written.length > 0) {
      statements.push(new PolicyStatement({ actions: [...STORAGE_KEY_S3_WRITE_ACTIONS], resources: [this.storageKey.keyArn], conditions: context(written) }));
    }
    const readOnly = read.filter((arn) => !written.includes(arn));
    if (readOnly.length > 0) {
      statements.push(new PolicyStatement({ actions: [...STORAGE_KEY_S3_READ_ACTIONS], resources: [this.storageKey.keyArn], conditions: context(readOnly) }));
    }
    return statements;
  }

  /**
   * The catalogue's SQS calls of one function, queue by queue, and what the event-source mappings that feed it
   * call on their queues (SQS_CONSUMER_ACTIONS); and the storage key through SQS for those queues only (SQS's
   * encryption context names the queue): generating data keys where it sends, decrypting where it sends or
   * receives (not for calls that touch no message: GetQueueAttributes, ListMessageMoveTasks).
   *
   * A polled queue's dead-letter queue counts as sent to: SQS moves a message there in the course of a receive
   * by the consumer, and that move must never be refused for want of a data key (granted as to a sender). For the
   * connectors it adds nothing: they send to their dead-letter queue themselves.
   */
  private sqsStatements(spec: CatalogueFunction, consumedQueues: readonly string[], failureQueues: readonly string[] = []): PolicyStatement[] {
    const actionsByQueue = new Map<string, string[]>();
    const add = (queueName: string, actions: readonly string[]) => {
      const list = actionsByQueue.get(queueName) ?? [];
      for (const action of actions) if (!list.includes(action)) list.push(action);
      actionsByQueue.set(queueName, list);
    };
    for (const [queueName, actions] of Object.entries(spec.queues ?? {})) add(queueName, actions);
    for (const queueName of consumedQueues) add(queueName, SQS_CONSUMER_ACTIONS);
    // A stream mapping's on-failure destination: Lambda sends the failure record there with the function's role.
    for (const queueName of failureQueues) add(queueName, ['sqs:SendMessage']);

    const statements = [...actionsByQueue].map(([queueName, actions]) => new PolicyStatement({ actions, resources: [this.queues[queueName]!.queueArn] }));
    const sent = new Set([...actionsByQueue].filter(([, actions]) => actions.some((a) => SQS_SEND_ACTIONS.has(a))).map(([q]) => q));
    for (const queueName of consumedQueues) {
      const deadLetter = this.catalogue.queues[queueName]!.deadLetter;
      if (deadLetter) sent.add(deadLetter.queue);
    }
    const received = [...actionsByQueue].filter(([q, actions]) => !sent.has(q) && actions.some((a) => SQS_RECEIVE_ACTIONS.has(a))).map(([q]) => q);
    const context = (queueNames: Iterable<string>) => ({
      StringEquals: {
        'kms:ViaService': sqsViaService(),
        'kms:CallerAccount': Aws.ACCOUNT_ID,
        'kms:EncryptionContext:aws:sqs:arn': [...queueNames].map((q) => this.queues[q]!.queueArn),
      },
    });
    if (sent.size > 0) {
      statements.push(new PolicyStatement({ actions: [...STORAGE_KEY_SQS_SEND_ACTIONS], resources: [this.storageKey.keyArn], conditions: context(sent) }));
    }
    if (received.length > 0) {
      statements.push(new PolicyStatement({ actions: [...STORAGE_KEY_SQS_RECEIVE_ACTIONS], resources: [this.storageKey.keyArn], conditions: context(received) }));
    }
    return statements;
  }

  /**
   * A website bucket behind CloudFront (API.md "The public site"): the bucket stays private (origin access control:
   * CloudFront alone may read it, for this distribution only), HTTPS only (HTTP redirected), GET and HEAD only, `/`
   * the index document, a missing page (S3 answers 403 to CloudFront, which may not list the bucket) the not-found
   * document with 404, the catalogue's security headers on every response, pages cached at the edge for at most
   * `cacheSeconds` (a withheld page is gone everywhere within that), and standard logs with the buckets' access logs.
   * With the context values `siteDomainName` and `siteCertificateArn` (an ACM certificate in us-east-1) it answers on
   * that name with TLS 1.2 at least; without them, on its cloudfront.net name with CloudFront's default certificate.
   */
  private addWebsite(name: string, bucket: Bucket, website: WebsiteSpec): void {
    const id = pascal(name);
    const headers = catalogue.siteSecurityHeaders;
    const policy = new ResponseHeadersPolicy(this, `${id}SecurityHeaders`, {
      comment: `Credit hub ${name}: security headers (infra/catalogue.ts siteSecurityHeaders)`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: headers.contentSecurityPolicy, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(headers.strictTransportSecurity.maxAgeSeconds),
          includeSubdomains: headers.strictTransportSecurity.includeSubdomains,
          preload: headers.strictTransportSecurity.preload,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: headers.frameOptions as HeadersFrameOption, override: true },
        referrerPolicy: { referrerPolicy: headers.referrerPolicy as HeadersReferrerPolicy, override: true },
      },
    });
    const cachePolicy = new CachePolicy(this, `${id}CachePolicy`, {
      comment: `Credit hub ${name}: pages kept at the edge ${website.cacheSeconds} s at most; no query string, header or cookie in the key`,
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(website.cacheSeconds),
      maxTtl: Duration.seconds(website.cacheSeconds),
      queryStringBehavior: CacheQueryStringBehavior.none(),
      headerBehavior: CacheHeaderBehavior.none(),
      cookieBehavior: CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const domainName = this.node.tryGetContext('siteDomainName') as string | undefined;
    const certificateArn = this.node.tryGetContext('siteCertificateArn') as string | undefined;
    if (Boolean(domainName) !== Boolean(certificateArn)) throw new Error('The context values siteDomainName and siteCertificateArn go together: give both or neither');
    const distribution = new Distribution(this, `${id}Distribution`, {
      comment: `Credit hub ${name}`,
      defaultRootObject: website.indexDocument,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: CachedMethods.CACHE_GET_HEAD,
        cachePolicy,
        responseHeadersPolicy: policy,
        compress: true,
      },
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 404,
        responsePagePath: `/${website.notFoundDocument}`,
        ttl: Duration.seconds(website.cacheSeconds),
      })),
      httpVersion: HttpVersion.HTTP2_AND_3,
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      ...(domainName && certificateArn ? { domainNames: [domainName], certificate: Certificate.fromCertificateArn(this, `${id}Certificate`, certificateArn) } : {}),
      enableLogging: true,
      logBucket: this.accessLogsBucket,
      logFilePrefix: `cloudfront/${name}/`,
    });
    const cfn = distribution.node.defaultChild!;
    if (!domainName) {
      Validations.of(cfn).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'Without the siteDomainName and siteCertificateArn context values the site answers on its cloudfront.net name with CloudFront’s default certificate, whose security policy CloudFront fixes; with them it requires TLS 1.2 (TLSv1.2_2021).',
      });
    }
    Validations.of(cfn).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'The public disclosure site is for everyone by law (credit information made public): no country is to be kept from reading it.',
    });
    Validations.of(cfn).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'The site is static pages read with GET and HEAD only, with no form, query or cookie reaching the origin: nothing for a web application firewall to inspect; CloudFront’s own DDoS protection applies.',
    });
    this.distributions[name] = distribution;
    this.responseHeadersPolicies[name] = policy;
    new CfnOutput(this, `${id}Url`, { value: `https://${domainName || distribution.distributionDomainName}/${website.indexDocument}`, description: `The public site of the bucket ${name} (CloudFront)` });
  }

  /**
   * CDK's bucket-notifications custom resource (one Lambda function for the stack, run only by
   * CloudFormation when a notification is set): its findings, acknowledged on its own role only.
   */
  private acknowledgeNotificationsHandler(): void {
    const handler = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (!handler) return;
    const role = handler.node.tryFindChild('Role');
    if (!role) return;
    Validations.of(role.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'CDK’s bucket-notifications custom resource (run by CloudFormation only, when a notification is set) writes its own logs with the AWS managed basic execution policy; it reads no data.',
    });
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'CDK’s bucket-notifications custom resource sets s3:PutBucketNotification, which it is granted on "*" by CDK; it touches no object.',
      });
    }
  }

  /**
   * The catalogue's DynamoDB calls of one function, table by table: on the table's ARN (on the
   * ARNs of the indexes it queries), limited to the partition keys it names; and an explicit Deny
   * of every change to an append-only table, whether or not the function uses it.
   */
  private dynamoStatements(spec: CatalogueFunction): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    for (const [tableName, access] of Object.entries(spec.tables)) {
      const table = this.tables[tableName]!;
      // ForAllValues: every partition key the request touches must match. Only calls that name
      // their keys are ever granted (no Scan with a prefix), so the set is never empty.
      statements.push(
        new PolicyStatement({
          actions: [...access.actions],
          resources: [table.tableArn],
          ...(access.leadingKeys?.length ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...access.leadingKeys] } } } : {}),
        }),
      );
      const indexes = access.queryIndexes ?? [];
      if (indexes.length > 0) {
        statements.push(new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexes.map((index) => `${table.tableArn}/index/${index}`) }));
      }
    }
    for (const [tableName, tableSpec] of Object.entries(this.catalogue.tables)) {
      if (!tableSpec.appendOnly) continue;
      statements.push(
        new PolicyStatement({ effect: Effect.DENY, actions: [...APPEND_ONLY_DENIED_ACTIONS], resources: [this.tables[tableName]!.tableArn] }),
      );
    }
    return statements;
  }

  /**
   * The storage key as DynamoDB uses it on the function's behalf: only through DynamoDB, only for
   * the function's own tables (DynamoDB's encryption context names the table) and the tables whose
   * change streams feed it (a stream is encrypted with its table's key), encrypting only for the
   * tables it writes.
   */
  private storageKeyStatements(spec: CatalogueFunction, streamTables: readonly string[] = []): PolicyStatement[] {
    const via = { 'kms:ViaService': dynamoViaService(), 'kms:CallerAccount': Aws.ACCOUNT_ID };
    // DynamoDB's encryption context on every use of a table's key: the table and the account.
    const tableNames = (names: string[]) => ({
      ...via,
      'kms:EncryptionContext:aws:dynamodb:subscriberId': Aws.ACCOUNT_ID,
      'kms:EncryptionContext:aws:dynamodb:tableName': names.map((t) => this.tables[t]!.tableName),
    });
    const used = [...new Set([...Object.keys(spec.tables), ...streamTables])];
    const written = Object.entries(spec.tables)
      .filter(([, access]) => access.actions.some((a) => WRITE_ACTIONS.has(a)))
      .map(([t]) => t);
    const statements = [
      new PolicyStatement({ actions: [...STORAGE_KEY_READ_ACTIONS], resources: [this.storageKey.keyArn], conditions: { StringEquals: tableNames(used) } }),
      new PolicyStatement({ actions: ['kms:DescribeKey'], resources: [this.storageKey.keyArn], conditions: { StringEquals: via } }),
    ];
    if (written.length > 0) {
      statements.push(
        new PolicyStatement({ actions: [...STORAGE_KEY_WRITE_ACTIONS], resources: [this.storageKey.keyArn], conditions: { StringEquals: tableNames(written) } }),
      );
    }
    return statements;
  }
}

/**
 * What the stack refuses to build: a function naming a table, index, bucket,
 * queue, platform or function the catalogue does not have, a table, queue or
 * bucket prefix listed without a call (or a bucket grant without a prefix: the
 * whole bucket), any change to an append-only table, a reserved concurrency
 * that is not a positive integer; a dead-letter queue that keeps messages no
 * longer than its source; an event source naming what does not exist, reading
 * a table without a stream, polling a queue whose visibility timeout is under
 * six times the function's timeout (AWS's advice for Lambda), or driving more
 * concurrent invocations than the function reserves (throttled receives would
 * count towards maxReceiveCount and send good messages to the dead-letter queue).
 */
export function checkCatalogue(cat: HubCatalogue): void {
  for (const [name, spec] of Object.entries(cat.functions)) {
    if (!Number.isInteger(spec.reservedConcurrency) || spec.reservedConcurrency < 1) {
      throw new Error(`Function "${name}" needs a reserved concurrency of at least 1 (has ${spec.reservedConcurrency})`);
    }
    for (const [bucketName, access] of Object.entries(spec.buckets ?? {})) {
      if (!cat.buckets[bucketName]) throw new Error(`Function "${name}" names unknown bucket "${bucketName}"`);
      for (const [prefix, actions] of Object.entries(access.objects)) {
        if (actions.length === 0 || prefix.length === 0) throw new Error(`Function "${name}" lists bucket "${bucketName}" prefix "${prefix}" without a prefix or an action`);
      }
    }
    for (const target of spec.invokes ?? []) {
      if (!cat.functions[target]) throw new Error(`Function "${name}" invokes unknown function "${target}"`);
    }
    for (const [queueName, actions] of Object.entries(spec.queues ?? {})) {
      if (!cat.queues[queueName]) throw new Error(`Function "${name}" names unknown queue "${queueName}"`);
      if (actions.length === 0) throw new Error(`Function "${name}" lists queue "${queueName}" without any action`);
    }
    for (const platform of spec.platforms ?? []) {
      if (!cat.platforms[platform]) throw new Error(`Function "${name}" delivers to unknown platform "${platform}"`);
    }
    for (const [tableName, access] of Object.entries(spec.tables)) {
      const tableSpec = cat.tables[tableName];
      if (!tableSpec) throw new Error(`Function "${name}" names unknown table "${tableName}"`);
      if (access.actions.length === 0) throw new Error(`Function "${name}" lists table "${tableName}" without any action`);
      if (tableSpec.appendOnly) {
        const changes = access.actions.filter((a) => (APPEND_ONLY_DENIED_ACTIONS as readonly string[]).includes(a));
        if (changes.length > 0) throw new Error(`Function "${name}" may not ${changes.join(', ')} on append-only table "${tableName}"`);
      }
      for (const index of access.queryIndexes ?? []) {
        if (!tableSpec.globalIndexes.some((g) => g.name === index)) throw new Error(`Function "${name}" queries unknown index "${index}" of table "${tableName}"`);
      }
    }
  }
  for (const [name, queue] of Object.entries(cat.queues)) {
    if (!queue.deadLetter) continue;
    const dead = cat.queues[queue.deadLetter.queue];
    if (!dead) throw new Error(`Queue "${name}" names unknown dead-letter queue "${queue.deadLetter.queue}"`);
    // SQS keeps a message's first enqueue time when it moves it: a shorter retention would expire it there at once.
    if (dead.retentionSeconds <= queue.retentionSeconds) {
      throw new Error(`Dead-letter queue "${queue.deadLetter.queue}" must keep messages longer than queue "${name}" (${dead.retentionSeconds} s ≤ ${queue.retentionSeconds} s)`);
    }
  }
  for (const [name, platform] of Object.entries(cat.platforms)) {
    for (const queueName of [platform.queue, platform.deadLetterQueue]) {
      if (!cat.queues[queueName]) throw new Error(`Platform "${name}" names unknown queue "${queueName}"`);
    }
    if (!cat.functions[platform.connector]) throw new Error(`Platform "${name}" names unknown connector "${platform.connector}"`);
  }
  for (const [name, source] of Object.entries(cat.eventSources)) {
    const fn = cat.functions[source.function];
    if (!fn) throw new Error(`Event source "${name}" feeds unknown function "${source.function}"`);
    if (source.type === 'dynamodb-stream') {
      const table = cat.tables[source.table];
      if (!table) throw new Error(`Event source "${name}" reads unknown table "${source.table}"`);
      if (!table.stream) throw new Error(`Event source "${name}" reads the change stream of table "${source.table}", which has none`);
      const age = source.maximumRecordAgeSeconds;
      if (age !== undefined && age !== -1 && (!Number.isInteger(age) || age < 60 || age >= STREAM_RETENTION_SECONDS)) {
        throw new Error(`Event source "${name}" gives up records ${age} s old: Lambda takes -1 or 60 s and more, and a batch must be given up while the stream (${STREAM_RETENTION_SECONDS} s) still holds it`);
      }
      if (source.onFailure !== undefined) {
        if (!cat.queues[source.onFailure]) throw new Error(`Event source "${name}" reports failures to unknown queue "${source.onFailure}"`);
        if (source.retryAttempts === -1 && (age === undefined || age === -1)) {
          throw new Error(`Event source "${name}" reports failures to "${source.onFailure}" only once the stream has dropped the records: give it a maximumRecordAgeSeconds under ${STREAM_RETENTION_SECONDS} s`);
        }
      }
      continue;
    }
    const queue = cat.queues[source.queue];
    if (!queue) throw new Error(`Event source "${name}" polls unknown queue "${source.queue}"`);
    if (queue.visibilityTimeoutSeconds < 6 * fn.timeoutSeconds) {
      throw new Error(`Queue "${source.queue}" hides a received message ${queue.visibilityTimeoutSeconds} s, less than six times the timeout of "${source.function}" (${6 * fn.timeoutSeconds} s)`);
    }
    if (fn.reservedConcurrency < source.maxConcurrency) {
      throw new Error(`Event source "${name}" drives up to ${source.maxConcurrency} concurrent invocations of "${source.function}", which reserves ${fn.reservedConcurrency}`);
    }
  }
}

/** Where the upward platforms are (base URLs by catalogue platform name) and who the hub is to them: the deployment's own values. */
export interface UpwardSettings {
  readonly platformUrls: Readonly<Record<string, string>>;
  /** Absent when no function delivers to a platform. */
  readonly senderUscc?: string;
}

/**
 * The base URLs of the platforms some function delivers to and the sender's USCC, from the CDK context values
 * the catalogue names (`platforms.*.urlContext`, `exchange.senderUsccContext`). Refused, every missing or wrong
 * value named at once: connectors deployed without them could deliver nothing (every message would end in a
 * dead-letter queue). A URL must be https (the records sent hold identity numbers) without credentials in it (it is
 * kept in the function's environment); the USCC must pass GB 32100's check.
 */
export function upwardSettings(cat: HubCatalogue, context: (key: string) => unknown): UpwardSettings {
  const delivered = [...new Set(Object.values(cat.functions).flatMap((f) => f.platforms ?? []))];
  if (delivered.length === 0) return { platformUrls: {} };
  const valueOf = (key: string): string | undefined => {
    const value = context(key);
    return value === undefined || value === null || String(value).trim() === '' ? undefined : String(value).trim();
  };
  const problems: string[] = [];
  const platformUrls: Record<string, string> = {};
  for (const name of delivered) {
    const platform = cat.platforms[name]!;
    const url = valueOf(platform.urlContext);
    const problem = url === undefined ? `is missing: -c ${platform.urlContext}=https://… (the base URL of ${platform.name})` : platformUrlProblem(url);
    if (problem) problems.push(`${platform.urlContext} ${problem}`);
    else platformUrls[name] = url!;
  }
  const key = cat.exchange.senderUsccContext;
  const senderUscc = valueOf(key);
  if (senderUscc === undefined) problems.push(`${key} is missing: -c ${key}=<18 characters> (the USCC of the city credit office, the sender of exchange packages)`);
  else {
    const problem = usccProblem(senderUscc);
    if (problem) problems.push(`${key} is not a valid USCC: ${problem}`);
  }
  if (problems.length > 0) {
    throw new Error(`The hub delivers to the upward platforms: give these CDK context values (npx cdk deploy -c name=value, or cdk.context.json):\n  ${problems.join('\n  ')}`);
  }
  return { platformUrls, senderUscc };
}

/** Why a platform's base URL cannot be used (never quoting credentials), or null. */
function platformUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: "${value}"`;
  }
  if (url.username || url.password) return 'must not carry credentials (it is kept in the function’s environment)';
  if (url.protocol !== 'https:') return `must be an https URL (the records sent hold identity numbers), not ${url.protocol}`;
  return null;
}

/**
 * A queue as an event-source mapping's on-failure destination, granting nothing: CDK's SqsDlq would grant the
 * function's role SendMessage, GetQueueAttributes, GetQueueUrl and every use of the storage key; the role holds
 * exactly SendMessage on the queue and the key through SQS for it (sqsStatements).
 */
export function queueDestination(queue: Queue): IEventSourceDlq {
  return { bind: () => ({ destination: queue.queueArn }) };
}

/** The queues the catalogue's stream mappings report batches they give up to (their `onFailure`). */
export function failureDestinations(cat: Pick<HubCatalogue, 'eventSources'>): string[] {
  return [...new Set(Object.values(cat.eventSources).flatMap((source) => (source.type === 'dynamodb-stream' && source.onFailure ? [source.onFailure] : [])))];
}

/** How long a DynamoDB stream keeps a record (24 hours). */
export const STREAM_RETENTION_SECONDS = 24 * 3600;

/** Lambda event filtering on a stream record's new image: each attribute a string equal to the value given (`{ sk: 'HEAD' }`). */
export function newImageFilter(equals: Readonly<Record<string, string>>): Record<string, unknown> {
  return FilterCriteria.filter({
    dynamodb: { NewImage: Object.fromEntries(Object.entries(equals).map(([attribute, value]) => [attribute, { S: FilterRule.isEqual(value) }])) },
  });
}

/**
 * The resource policy of an append-only table: nobody — no role, no administrator, no other
 * account — may change or remove an item, or make items expire. Adding items stays with IAM.
 */
function appendOnlyTablePolicy(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AppendOnly',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: [...APPEND_ONLY_DENIED_ACTIONS],
        // A resource policy cannot name its own table's ARN (a circular reference): `*` is this table.
        resources: ['*'],
      }),
    ],
  });
}
