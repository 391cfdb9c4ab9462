/**
 * The CDK stack is generated from the resource catalogue: these tests read the
 * catalogue and check the synthesised template against it, so that they keep
 * holding (and keep checking least privilege) as entries are added.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it, expect, beforeAll, afterAll, onTestFinished } from 'vitest';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { api, buckets, environment, exchange, functionNameEnvVar, functions, queues, routes, schedules, tables, type ScheduleSpec } from '../../infra/catalogue.js';
import { dailyCronExpression } from '../../infra/daily-schedule.js';
import {
  ACCESS_LOG_FIELDS,
  DAILY_EVENT_MAX_AGE_MINUTES,
  FIELD_KEY_ALIAS,
  HubStack,
  IAM_DESCRIPTION_PATTERN,
  iamDescription,
  LOOKUP_KEY_ALIAS,
  STORAGE_KEY_ALIAS,
  hubCatalogue,
  pascal,
  type HubCatalogue,
} from '../../infra/stack.js';
import { refersTo, roleStatements, synthesise, SYNTH_TIMEOUT, upwardContext, type Synthesised } from './synth.js';

type Json = any;

let synth: Synthesised;
let app: App;
let stack: HubStack;
let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  synth = synthesise();
  ({ app, stack, template, resources } = synth);
}, SYNTH_TIMEOUT);
afterAll(() => synth?.dispose());

const tableEntries = Object.entries(hubCatalogue.tables);
const functionEntries = Object.entries(hubCatalogue.functions);

function logicalId(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}
function resource(construct: IConstruct): Json {
  const r = resources[logicalId(construct)];
  expect(r, `resource of ${construct.node.path}`).toBeDefined();
  return r;
}
const tableId = (name: string) => logicalId(stack.tables[name]!);
const functionResource = (name: string) => resource(stack.functions[name]!);
const fieldKeyId = () => logicalId(stack.fieldKey);
const lookupKeyId = () => logicalId(stack.lookupKey);
const storageKeyId = () => logicalId(stack.storageKey);

/** Every statement of the function's execution role (found from the Lambda resource's Role). */
const statementsOf = (fnName: string) => roleStatements(resources, functionResource(fnName).Properties.Role['Fn::GetAtt'][0]);

describe('catalogue-driven tables', () => {
  it('has exactly one DynamoDB table per catalogue table', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tableEntries.length);
  });

  it.each(tableEntries)('%s: keys, indexes, PITR, stream, billing, protection', (name, spec) => {
    const t = resource(stack.tables[name]!);
    const p = t.Properties;
    const keySchema = [{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }];
    if (spec.sortKey) keySchema.push({ AttributeName: spec.sortKey.name, KeyType: 'RANGE' });
    expect(p.KeySchema).toEqual(keySchema);

    const attributes = new Map<string, string>([[spec.partitionKey.name, spec.partitionKey.type]]);
    if (spec.sortKey) attributes.set(spec.sortKey.name, spec.sortKey.type);
    for (const index of spec.globalIndexes) {
      attributes.set(index.partitionKey.name, index.partitionKey.type);
      if (index.sortKey) attributes.set(index.sortKey.name, index.sortKey.type);
    }
    expect(new Map(p.AttributeDefinitions.map((a: Json) => [a.AttributeName, a.AttributeType]))).toEqual(attributes);

    const expectedIndexes = spec.globalIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
      ],
      Projection: { ProjectionType: 'projection' in index ? index.projection : 'ALL' },
    }));
    expect(p.GlobalSecondaryIndexes ?? []).toEqual(expectedIndexes);

    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    if (spec.stream) expect(p.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    else expect(p.StreamSpecification).toBeUndefined();
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.UpdateReplacePolicy).toBe('Retain');
  });

  it.each(tableEntries)('%s: encrypted with the storage key, never with a field key', (name) => {
    const p = resource(stack.tables[name]!).Properties;
    expect(p.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [storageKeyId(), 'Arn'] } });
    expect(refersTo(p, fieldKeyId())).toBe(false);
    expect(refersTo(p, lookupKeyId())).toBe(false);
  });
});

describe('catalogue-driven functions', () => {
  it('has exactly one Lambda function per catalogue function, and CDK’s bucket-notifications handler', () => {
    const others = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !functionEntries.some(([name]) => logicalId(stack.functions[name]!) === id));
    expect(others.map(([id]) => id)).toEqual([expect.stringMatching(/^BucketNotificationsHandler/)]);
    template.resourceCountIs('AWS::Lambda::Function', functionEntries.length + 1);
  });

  it.each(functionEntries)('%s: runtime, architecture, sizing, tracing, log group', (name, spec) => {
    const p = functionResource(name).Properties;
    expect(p.Runtime).toBe('nodejs24.x');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Handler).toBe('index.handler');
    expect(p.MemorySize).toBe(spec.memoryMb);
    expect(p.Timeout).toBe(spec.timeoutSeconds);
    expect(p.Description).toBe(spec.description);
    expect(p.TracingConfig).toEqual({ Mode: 'Active' });

    const logGroupId = p.LoggingConfig.LogGroup.Ref as string;
    expect(logGroupId).toBe(logicalId(stack.logGroups[name]!));
    const logGroup = resources[logGroupId];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    expect(logGroup.DeletionPolicy).toBe('Retain');
    expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [storageKeyId(), 'Arn'] });
    expect(p.ReservedConcurrentExecutions).toBe(spec.reservedConcurrency);
  });

  it.each(functionEntries)('%s: bundled as minified ESM with source map, banner, and the AWS SDK left out', (name) => {
    const assetHash = (functionResource(name).Properties.Code.S3Key as string).replace(/\.zip$/, '');
    const dir = path.join(app.outdir, `asset.${assetHash}`);
    const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
    expect(existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
    const sources: string[] = JSON.parse(readFileSync(path.join(dir, 'index.mjs.map'), 'utf8')).sources;
    expect(sources.filter((s) => s.includes('node_modules/@aws-sdk/'))).toEqual([]);
    expect(sources.some((s) => s.endsWith(hubCatalogue.functions[name]!.entry))).toBe(true);
    // Minified: long lines (unminified output averages a few dozen characters a line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(500);
  });

  it.each(functionEntries)('%s: environment derived from the catalogue, nothing more', (name, spec) => {
    const env: Record<string, Json> = functionResource(name).Properties.Environment.Variables;
    const expected: Record<string, (value: Json) => boolean> = {
      // A function with a heap cap of its own (heapMb) gets it through NODE_OPTIONS.
      NODE_OPTIONS: (v) => v === ((spec as { heapMb?: number }).heapMb ? `--enable-source-maps --max-old-space-size=${(spec as { heapMb?: number }).heapMb}` : '--enable-source-maps'),
      POWERTOOLS_SERVICE_NAME: (v) => v === 'credit-hub',
      POWERTOOLS_LOG_LEVEL: (v) => v === 'INFO',
    };
    for (const tableName of Object.keys(spec.tables)) {
      expected[hubCatalogue.tables[tableName]!.envVar] = (v) => JSON.stringify(v) === JSON.stringify({ Ref: tableId(tableName) });
    }
    for (const bucketName of Object.keys(spec.buckets ?? {})) {
      expected[hubCatalogue.buckets[bucketName]!.envVar] = (v) => JSON.stringify(v) === JSON.stringify({ Ref: logicalId(stack.buckets[bucketName]!) });
    }
    for (const target of spec.invokes ?? []) expected[functionNameEnvVar(target)] = (v) => v === stack.invokedFunctionName(target);
    for (const queueName of Object.keys(spec.queues ?? {})) {
      expected[hubCatalogue.queues[queueName]!.envVar] = (v) => JSON.stringify(v) === JSON.stringify({ Ref: logicalId(stack.queues[queueName]!) });
      // A platform's queue: its ARN too (the destination of its dead-letter queue's redrive).
      const arnEnvVar = (hubCatalogue.queues[queueName] as { arnEnvVar?: string }).arnEnvVar;
      if (arnEnvVar) expected[arnEnvVar] = (v) => JSON.stringify(v) === JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.queues[queueName]!), 'Arn'] });
    }
    for (const platformName of spec.platforms ?? []) {
      const platform = hubCatalogue.platforms[platformName]!;
      expected[platform.urlEnvVar] = (v) => v === upwardContext[platform.urlContext as keyof typeof upwardContext];
      expected[exchange.senderUsccEnvVar] = (v) => v === upwardContext.senderUscc;
    }
    for (const [key, value] of Object.entries(spec.environment ?? {})) expected[key] = (v) => v === value;
    if (spec.keys.length > 0) expected[environment.dataKeyArn] = (v) => refersTo(v, fieldKeyId());
    if (spec.keys.includes('encrypt')) expected[environment.lookupKeyArn] = (v) => refersTo(v, lookupKeyId());

    expect(Object.keys(env).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, check] of Object.entries(expected)) {
      expect(check(env[key]), `${name} ${key} = ${JSON.stringify(env[key])}`).toBe(true);
    }
  });
});

describe('HTTP API', () => {
  it('has exactly the catalogue route keys', () => {
    const routeKeys = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties.RouteKey as string);
    expect(routeKeys.sort()).toEqual(routes.map((r) => r.routeKey).sort());
  });

  it('sends each route to its catalogue function, one payload-2.0 integration per function', () => {
    const integrations = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(new Set(routes.map((r) => r.function)).size);
    for (const [, integration] of integrations) {
      expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    }
    for (const route of routes) {
      const [, r] = Object.entries(resources).find(
        ([, x]) => x.Type === 'AWS::ApiGatewayV2::Route' && x.Properties.RouteKey === route.routeKey,
      )!;
      const target = JSON.stringify(r.Properties.Target);
      const [integrationId, integration] = integrations.find(([id]) => target.includes(`"${id}"`))!;
      expect(integrationId).toBeDefined();
      expect(refersTo(integration.Properties.IntegrationUri, logicalId(stack.functions[route.function]!))).toBe(true);
    }
  });

  it('default stage: auto-deployed, throttled from api.throttle', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: api.throttle.ratePerSecond,
        ThrottlingBurstLimit: api.throttle.burst,
      },
    });
  });

  it('default stage: JSON access log to its own log group, no body or headers', () => {
    const [, stage] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::Stage')!;
    const settings = stage.Properties.AccessLogSettings;
    const logGroup = resources[settings.DestinationArn['Fn::GetAtt'][0]];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    expect(logGroup.DeletionPolicy).toBe('Retain');
    expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [storageKeyId(), 'Arn'] });
    const functionLogGroups = Object.values(stack.logGroups).map((g) => logicalId(g));
    expect(functionLogGroups).not.toContain(settings.DestinationArn['Fn::GetAtt'][0]);

    const format = JSON.parse(settings.Format);
    expect(Object.keys(format).sort()).toEqual(
      ['requestId', 'ip', 'requestTime', 'httpMethod', 'routeKey', 'status', 'protocol', 'responseLength', 'integrationError'].sort(),
    );
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(settings.Format).not.toMatch(/body|header|authoriz/i);
  });

  it('has no gateway authorizer (authorization is in the handlers) and no CORS', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const [, httpApi] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')!;
    expect(httpApi.Properties.CorsConfiguration).toBeUndefined();
  });
});

describe('catalogue-driven buckets', () => {
  const bucketEntries = Object.entries(hubCatalogue.buckets);

  it('has one bucket per catalogue bucket, and one for their access logs', () => {
    const ids = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket').map(([id]) => id);
    expect(ids.sort()).toEqual([...bucketEntries.map(([name]) => logicalId(stack.buckets[name]!)), logicalId(stack.accessLogsBucket!)].sort());
  });

  // A website bucket (the public site: S3-managed keys, read by CloudFront) is tested in public-site-cdn.test.ts.
  it.each(bucketEntries.filter(([, b]) => !b.website))('%s: encrypted with the storage key (bucket key), private, unversioned, retained, logged', (name) => {
    const b = resource(stack.buckets[name]!);
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [storageKeyId(), 'Arn'] } } },
    ]);
    expect(refersTo(b.Properties, fieldKeyId())).toBe(false);
    expect(b.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(b.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(b.Properties.VersioningConfiguration).toBeUndefined();
    expect(b.Properties.CorsConfiguration).toBeUndefined();
    expect(b.Properties.WebsiteConfiguration).toBeUndefined();
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalId(stack.accessLogsBucket!) }, LogFilePrefix: `${name}/` });
  });

  it.each(bucketEntries)('%s: objects expire after the catalogue’s days; incomplete multipart uploads are aborted', (name, spec) => {
    expect(resource(stack.buckets[name]!).Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-objects', Status: 'Enabled', ExpirationInDays: spec.expireAfterDays, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it.each(bucketEntries)('%s: its policy refuses every request without TLS (and below TLS 1.2)', (name, spec) => {
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && refersTo(r.Properties.Bucket, logicalId(stack.buckets[name]!)));
    const denies = policy.Properties.PolicyDocument.Statement.filter((st: Json) => st.Effect === 'Deny');
    expect(denies.map((st: Json) => st.Condition)).toEqual(expect.arrayContaining([{ Bool: { 'aws:SecureTransport': 'false' } }, { NumericLessThan: { 's3:TlsVersion': 1.2 } }]));
    // A website bucket allows its CloudFront distribution to read (public-site-cdn.test.ts); no other bucket allows anything.
    if (!spec.website) expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toMatch(/"Effect":"Allow"/);
  });

  it('the access-log bucket: S3-managed keys (the only ones S3 logging delivers to), private, TLS only, logs kept a year, written by S3 logging for these buckets only', () => {
    const b = resource(stack.accessLogsBucket!);
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    expect(b.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(b.Properties.AccessControl).toBeUndefined();
    expect(b.Properties.LifecycleConfiguration.Rules).toEqual([{ Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: 365 }]);
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && refersTo(r.Properties.Bucket, logicalId(stack.accessLogsBucket!)));
    const allows = policy.Properties.PolicyDocument.Statement.filter((st: Json) => st.Effect === 'Allow');
    expect(allows.map((st: Json) => [st.Principal, st.Action])).toEqual(bucketEntries.map(() => [{ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject']));
  });

  it('each notification invokes its function for its event and key prefix (CDK’s notifications resource), which S3 alone may invoke for it', () => {
    const notifications = Object.values(resources).filter((r) => r.Type === 'Custom::S3BucketNotifications');
    expect(notifications).toHaveLength(bucketEntries.filter(([, b]) => b.notifications.length > 0).length);
    for (const [name, spec] of bucketEntries.filter(([, b]) => b.notifications.length > 0)) {
      const n = notifications.find((r) => JSON.stringify(r.Properties.BucketName) === JSON.stringify({ Ref: logicalId(stack.buckets[name]!) }))!;
      expect(n.Properties.NotificationConfiguration.LambdaFunctionConfigurations).toEqual(
        spec.notifications.map((x) => ({
          Events: [`s3:${x.event}:*`],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: x.prefix }] } },
          LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions[x.function]!), 'Arn'] },
        })),
      );
      for (const x of spec.notifications) {
        const permission = Object.values(resources).find(
          (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 's3.amazonaws.com' && refersTo(r.Properties.FunctionName, logicalId(stack.functions[x.function]!)),
        );
        expect(permission.Properties.SourceArn).toEqual({ 'Fn::GetAtt': [logicalId(stack.buckets[name]!), 'Arn'] });
        expect(permission.Properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      }
    }
  });
});

describe('catalogue-driven schedules', () => {
  it.each(Object.entries(schedules as Record<string, ScheduleSpec>))('%s: an EventBridge rule at the catalogue’s rate or daily time (China, as UTC cron), with its input, retried within its period', (name, spec) => {
    const rule = resource(stack.schedules[name]!);
    // EventBridge's rate units as CDK writes them: whole hours in hours.
    const rate = (minutes: number) =>
      minutes % 60 === 0 ? (minutes === 60 ? 'rate(1 hour)' : `rate(${minutes / 60} hours)`) : minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`;
    const expression = spec.dailyAt !== undefined ? dailyCronExpression(spec.dailyAt) : rate(spec.everyMinutes);
    expect(rule.Properties.ScheduleExpression).toBe(expression);
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [logicalId(stack.functions[spec.function]!), 'Arn'] },
        Input: JSON.stringify(spec.input),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: spec.dailyAt !== undefined ? DAILY_EVENT_MAX_AGE_MINUTES * 60 : spec.everyMinutes * 60 },
      },
    ]);
    const permissions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'events.amazonaws.com' && refersTo(r.Properties.FunctionName, logicalId(stack.functions[spec.function]!)),
    );
    // EventBridge may invoke the function for its rules only (a function with several schedules: one permission each).
    const rulesOfFunction = Object.entries(schedules).filter(([, s]) => s.function === spec.function).map(([n]) => ({ 'Fn::GetAtt': [logicalId(stack.schedules[n]!), 'Arn'] }));
    expect(permissions.map((p) => p.Properties.SourceArn)).toEqual(expect.arrayContaining(rulesOfFunction));
    expect(permissions).toHaveLength(rulesOfFunction.length);
  });
});

describe('functions that invoke functions', () => {
  it.each(functionEntries.filter(([, f]) => (f.invokes ?? []).length > 0))('%s: its targets have names of the stack’s making; continuing itself, it is allowed to loop', (name, spec) => {
    for (const target of spec.invokes ?? []) expect(functionResource(target).Properties.FunctionName).toBe(`CreditHub-${target}`);
    expect(functionResource(name).Properties.RecursiveLoop).toBe(spec.invokes?.includes(name) ? 'Allow' : undefined);
  });

  it('no other function loops or has a name of its own', () => {
    const invoked = new Set(functionEntries.flatMap(([, f]) => f.invokes ?? []));
    for (const [name, spec] of functionEntries) {
      if (!invoked.has(name)) expect(functionResource(name).Properties.FunctionName, name).toBeUndefined();
      if (!spec.invokes?.includes(name)) expect(functionResource(name).Properties.RecursiveLoop, name).toBeUndefined();
    }
  });
});

describe('keys', () => {
  it('field key: symmetric, rotated, aliased, retained', () => {
    const k = resource(stack.fieldKey);
    expect(k.Properties.EnableKeyRotation).toBe(true);
    expect(k.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT').toBe('SYMMETRIC_DEFAULT');
    expect(k.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: FIELD_KEY_ALIAS, TargetKeyId: { 'Fn::GetAtt': [fieldKeyId(), 'Arn'] } });
  });

  it('lookup key: HMAC_256 for MACs, aliased, retained', () => {
    const k = resource(stack.lookupKey);
    expect(k.Properties.KeySpec).toBe('HMAC_256');
    expect(k.Properties.KeyUsage).toBe('GENERATE_VERIFY_MAC');
    expect(k.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: LOOKUP_KEY_ALIAS, TargetKeyId: { 'Fn::GetAtt': [lookupKeyId(), 'Arn'] } });
  });

  it('storage key: symmetric, rotated, aliased, retained', () => {
    const k = resource(stack.storageKey);
    expect(k.Properties.EnableKeyRotation).toBe(true);
    expect(k.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: STORAGE_KEY_ALIAS, TargetKeyId: { 'Fn::GetAtt': [storageKeyId(), 'Arn'] } });
  });

  it('exactly these three keys', () => {
    template.resourceCountIs('AWS::KMS::Key', 3);
  });
});

describe('outputs', () => {
  it('exports the API URL, every table name, bucket name and queue URL, and the operator key administrator role, and nothing about keys', () => {
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    expect(refersTo(outputs.ApiUrl?.Value, logicalId(stack.httpApi))).toBe(true);
    for (const [name] of tableEntries) {
      expect(outputs[`${pascal(name)}TableName`]?.Value).toEqual({ Ref: tableId(name) });
    }
    for (const name of Object.keys(buckets)) expect(outputs[`${pascal(name)}BucketName`]?.Value).toEqual({ Ref: logicalId(stack.buckets[name]!) });
    for (const name of Object.keys(queues)) expect(outputs[`${pascal(name)}QueueUrl`]?.Value).toEqual({ Ref: logicalId(stack.queues[name]!) });
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'ApiUrl',
        'OperatorKeyAdminRoleArn',
        ...tableEntries.map(([name]) => `${pascal(name)}TableName`),
        ...Object.keys(buckets).map((name) => `${pascal(name)}BucketName`),
        ...Object.keys(queues).map((name) => `${pascal(name)}QueueUrl`),
        ...Object.entries(hubCatalogue.buckets).filter(([, b]) => b.website).map(([name]) => `${pascal(name)}Url`),
      ].sort(),
    );
  });
});

describe('roles', () => {
  it.each(functionEntries)('%s: own role, no managed policies', (name) => {
    const roleId = functionResource(name).Properties.Role['Fn::GetAtt'][0];
    expect(roleId).toBe(logicalId(stack.roles[name]!));
    expect(resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const otherFunctionsUsingRole = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Role['Fn::GetAtt'][0] === roleId,
    );
    expect(otherFunctionsUsingRole).toHaveLength(1);
  });

  it('a description IAM would refuse is made Latin-1: quotes as ASCII, other characters and the brackets they leave empty dropped', () => {
    expect(iamDescription('Delivers to the provincial platform (省信用信息共享平台) from its queue, the table’s “stream”')).toBe(
      'Delivers to the provincial platform from its queue, the table\'s "stream"',
    );
    expect(iamDescription('Court batches: café (über)')).toBe('Court batches: café (über)');
  });

  it.each(functionEntries)('%s: a role description IAM accepts (Latin-1 only), naming the function', (name, spec) => {
    const description = resource(stack.roles[name]!).Properties.Description as string;
    expect(description).toMatch(IAM_DESCRIPTION_PATTERN);
    expect(description.startsWith(`Credit hub function ${name}: `)).toBe(true);
    if (IAM_DESCRIPTION_PATTERN.test(spec.description)) expect(description).toBe(`Credit hub function ${name}: ${spec.description}`);
  });

  it.each(functionEntries)('%s: logs only to its own log group; wildcard resources only for X-Ray; Deny only on append-only tables', (name) => {
    const statements = statementsOf(name);
    const logs = statements.filter((s) => s.Action.some((a) => a.startsWith('logs:')));
    expect(logs.flatMap((s) => s.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    for (const s of logs) expect(s.Resource).toEqual([{ 'Fn::GetAtt': [logicalId(stack.logGroups[name]!), 'Arn'] }]);

    for (const s of statements.filter((x) => x.Resource.includes('*'))) {
      expect([...s.Action].sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
    const appendOnly = tableEntries.filter(([, t]) => t.appendOnly).map(([t]) => tableId(t));
    for (const s of statements.filter((x) => x.Effect !== 'Allow')) {
      expect(s.Effect).toBe('Deny');
      expect(s.Resource.every((r) => appendOnly.some((t) => refersTo(r, t)))).toBe(true);
    }
  });
});

describe('the stack follows the catalogue', () => {
  it(
    'an added table, function and route appear in the stack, with grants from their entries',
    () => {
      const extended: HubCatalogue = {
        ...hubCatalogue,
        tables: {
          ...hubCatalogue.tables,
          archive: {
            envVar: 'HUB_ARCHIVE_TABLE',
            localName: 'hub-archive',
            partitionKey: { name: 'pk', type: 'S' },
            sortKey: { name: 'at', type: 'N' },
            globalIndexes: [],
            stream: false,
            description: 'Test: an added table',
          },
        },
        functions: {
          ...hubCatalogue.functions,
          archiveReader: {
            // Any existing handler will do: bundling only needs an entry that exists.
            entry: functions.health.entry,
            description: 'Test: an added function',
            memoryMb: 128,
            timeoutSeconds: 3,
            tables: { archive: { actions: ['dynamodb:GetItem'], leadingKeys: ['ARC#*'] } },
            authenticates: false,
            keys: [],
            reservedConcurrency: 1,
          },
        },
        routes: [...hubCatalogue.routes, { routeKey: 'GET /v1/archive', function: 'archiveReader' }],
      };
      const extendedSynth = synthesise({ catalogue: extended }, 'Extended');
      onTestFinished(() => extendedSynth.dispose());
      const extendedStack = extendedSynth.stack;
      const t = extendedSynth.template;
      t.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length + 1);
      // The catalogue's functions, the added one, and CDK's bucket-notifications handler.
      t.resourceCountIs('AWS::Lambda::Function', Object.keys(functions).length + 2);
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /v1/archive' });
      const archiveId = extendedStack.getLogicalId(extendedStack.tables.archive!.node.defaultChild as CfnElement);
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Test: an added function',
        MemorySize: 128,
        ReservedConcurrentExecutions: 1,
        Environment: { Variables: { HUB_ARCHIVE_TABLE: { Ref: archiveId } } },
      });
      expect(t.toJSON().Outputs.ArchiveTableName).toBeDefined();
      // Its grant: the catalogue's one call, on its table, for its keys.
      const roleId = extendedStack.getLogicalId(extendedStack.roles.archiveReader!.node.defaultChild as CfnElement);
      const onArchive = roleStatements(t.toJSON().Resources, roleId).filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')) && refersTo(s.Resource, archiveId));
      expect(onArchive.map((s) => ({ Effect: s.Effect, Action: s.Action, Condition: s.Condition }))).toEqual([
        { Effect: 'Allow', Action: ['dynamodb:GetItem'], Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ARC#*'] } } },
      ]);
    },
    SYNTH_TIMEOUT,
  );
});
