/**
 * The hub on AWS, generated entirely from the resource catalogue
 * (infra/catalogue.ts): one DynamoDB table per `tables` entry, one Lambda
 * function (with its own role and log group) per `functions` entry, one HTTP
 * API route per `routes` entry. Nothing here names a table, function or route:
 * adding an entry to the catalogue adds it to the stack.
 *
 * Key material:
 * - the field key (symmetric, rotated) wraps the data keys that encrypt
 *   identity numbers field by field, and encrypts the operator key secret;
 * - the lookup key (HMAC_256) derives keyed hashes of identity numbers, so a
 *   subject can be found without decrypting anything.
 * The tables use the AWS managed key: reading a table never grants decrypting
 * the identity numbers in it.
 */
import * as path from 'node:path';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
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
  CfnTable,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { bundling } from './bundling.js';
import * as catalogue from './catalogue.js';
import { environment, type AttributeType, type FunctionSpec, type KeyUse, type TableSpec, type Throttle } from './catalogue.js';

/**
 * What the stack is generated from: the shape of infra/catalogue.ts, with names
 * widened to strings so that a test can hand the stack a catalogue with more
 * entries and see them appear.
 */
export interface HubCatalogue {
  readonly tables: Readonly<Record<string, TableSpec>>;
  readonly functions: Readonly<
    Record<string, Omit<FunctionSpec, 'tables' | 'keys'> & { tables: Readonly<Record<string, 'read' | 'readWrite'>>; keys: readonly KeyUse[] }>
  >;
  readonly routes: readonly { readonly routeKey: string; readonly function: string; readonly throttle?: Throttle }[];
  readonly api: {
    readonly throttle: Throttle;
    readonly cors: { readonly allowHeaders: readonly string[]; readonly exposeHeaders: readonly string[]; readonly maxAgeSeconds: number };
  };
}
type CatalogueFunction = HubCatalogue['functions'][string];

/** The hub's catalogue (infra/catalogue.ts). */
export const hubCatalogue: HubCatalogue = {
  tables: catalogue.tables,
  functions: catalogue.functions,
  routes: catalogue.routes,
  api: catalogue.api,
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

export class HubStack extends Stack {
  /** Wraps the data keys of field envelope encryption; also encrypts the operator key secret. */
  public readonly fieldKey: Key;
  /** HMAC key for the keyed hashes of identity numbers (lookups without decryption). */
  public readonly lookupKey: Key;
  public readonly operatorKeySecret: Secret;
  /** By catalogue table name. */
  public readonly tables: Record<string, Table> = {};
  /** By catalogue function name; likewise each function's role and log group. */
  public readonly functions: Record<string, NodejsFunction> = {};
  public readonly roles: Record<string, Role> = {};
  public readonly logGroups: Record<string, LogGroup> = {};
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  public readonly catalogue: HubCatalogue;

  constructor(scope: Construct, id: string, props: HubStackProps = {}) {
    const { catalogue: given, corsOrigins = [], ...stackProps } = props;
    super(scope, id, stackProps);
    const cat = (this.catalogue = given ?? hubCatalogue);

    // ---- Keys ---------------------------------------------------------------
    this.fieldKey = new Key(this, 'FieldKey', {
      description: 'Credit hub: wraps the data keys of field envelope encryption (identity numbers) and the operator key secret',
      enableKeyRotation: true,
      alias: FIELD_KEY_ALIAS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.lookupKey = new Key(this, 'LookupKey', {
      description: 'Credit hub: HMAC key deriving the keyed hashes used to look subjects up by identity number',
      keySpec: KeySpec.HMAC_256,
      keyUsage: KeyUsage.GENERATE_VERIFY_MAC,
      alias: LOOKUP_KEY_ALIAS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // HMAC keys cannot rotate automatically (a new key would also change every stored lookup
    // hash). cdk-nag's KMS5 only applies to symmetric encryption keys, so nothing to acknowledge.

    // ---- Operator key secret ---------------------------------------------------
    this.operatorKeySecret = new Secret(this, 'OperatorKeySecret', {
      description: "Credit hub: the credit office's (operator) bearer key",
      encryptionKey: this.fieldKey,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.operatorKeySecret.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The operator key is a bearer key held by the credit office; it is rotated manually by the credit office (who must hand the new key to its staff), not by a rotation Lambda.',
    });

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
        // Not the field key: reading a table must not grant decrypting identity numbers.
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of spec.globalIndexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey.type) },
          ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: attributeType(index.sortKey.type) } } : {}),
          projectionType: ProjectionType.ALL,
        });
      }
      this.tables[name] = table;
      new CfnOutput(this, `${pascal(name)}TableName`, {
        value: table.tableName,
        description: `${spec.description} (${spec.envVar})`,
      });
    }

    // ---- Functions ----------------------------------------------------------------
    for (const [name, spec] of Object.entries(cat.functions)) {
      this.addFunction(name, spec);
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

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: cat.api.throttle.ratePerSecond, burstLimit: cat.api.throttle.burst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
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

    // ---- Outputs ----------------------------------------------------------------------
    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'OperatorKeySecretArn', {
      value: this.operatorKeySecret.secretArn,
      description: "Secrets Manager secret holding the credit office's operator key",
    });
  }

  private addFunction(name: string, spec: CatalogueFunction): void {
    const id = pascal(name);

    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // An explicit role: no AWS managed policy, only what the catalogue grants.
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Credit hub function ${name}: ${spec.description}`,
      inlinePolicies: {
        logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });

    const env: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };

    // Tables: read → read-only data actions; readWrite → read and write. GSIs are covered by the grant.
    const indexedTables: Table[] = [];
    for (const [tableName, access] of Object.entries(spec.tables)) {
      const table = this.tables[tableName];
      const tableSpec = this.catalogue.tables[tableName];
      if (!table || !tableSpec) throw new Error(`Function "${name}" names unknown table "${tableName}"`);
      env[tableSpec.envVar] = table.tableName;
      if (access === 'readWrite') table.grantReadWriteData(role);
      else table.grantReadData(role);
      if (tableSpec.globalIndexes.length > 0) indexedTables.push(table);
    }

    // Field keys: encrypt → new data keys and lookup MACs; decrypt → unwrap data keys. Nothing else.
    const keys = spec.keys;
    if (keys.includes('encrypt') || keys.includes('decrypt')) {
      env[environment.dataKeyArn] = this.fieldKey.keyArn;
    }
    if (keys.includes('encrypt')) {
      env[environment.lookupKeyArn] = this.lookupKey.keyArn;
      this.fieldKey.grant(role, 'kms:GenerateDataKey');
      this.lookupKey.grant(role, 'kms:GenerateMac');
    }
    if (keys.includes('decrypt')) {
      this.fieldKey.grant(role, 'kms:Decrypt');
    }

    // Operator key secret: only for functions that authenticate bearer keys. The secret is
    // encrypted with the field key, so the role may use kms:Decrypt on it only through Secrets
    // Manager and only for this secret's encryption context — never on data keys directly.
    if (spec.authenticates) {
      env[environment.operatorKeySecretArn] = this.operatorKeySecret.secretArn;
      role.addToPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [this.operatorKeySecret.secretArn],
        }),
      );
      role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['kms:Decrypt'],
          resources: [this.fieldKey.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com`,
              'kms:EncryptionContext:SecretARN': this.operatorKeySecret.secretArn,
            },
          },
        }),
      );
    }

    const fn = new NodejsFunction(this, `${id}Function`, {
      entry: path.resolve(repoRoot, spec.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
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

    // IAM5 findings are acknowledged one by one (cdk-nag 3 has no blanket form), on the role's
    // default policy only (the inline logs policy names its own log group, no wildcard).
    const defaultPolicy = role.node.findChild('DefaultPolicy');
    Validations.of(defaultPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions (active tracing).',
    });
    for (const table of indexedTables) {
      const logicalId = this.getLogicalId(table.node.defaultChild as CfnTable);
      Validations.of(defaultPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
        reason: `Queries on the ${table.node.id} global secondary indexes need its index/* ARN; the grant is limited to the table and access level the catalogue names for this function.`,
      });
    }

    this.functions[name] = fn;
    this.roles[name] = role;
    this.logGroups[name] = logGroup;
  }
}
