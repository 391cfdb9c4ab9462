/**
 * The CDK stack is generated from the resource catalogue: these tests read the
 * catalogue and check the synthesised template against it, so that they keep
 * holding (and keep checking least privilege) as entries are added.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it, expect, beforeAll } from 'vitest';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { api, environment, functions, routes, tables } from '../../infra/catalogue.js';
import {
  ACCESS_LOG_FIELDS,
  repoRoot,
  FIELD_KEY_ALIAS,
  HubStack,
  LOOKUP_KEY_ALIAS,
  hubCatalogue,
  pascal,
  type HubCatalogue,
} from '../../infra/stack.js';

const SYNTH_TIMEOUT = 120_000;
/** The feature flags `cdk synth` uses (cdk.json), so the template tested is the one deployed. */
const cdkContext = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context;

type Json = any;

interface Statement {
  Effect: string;
  Action: string[];
  Resource: Json[];
  Condition?: Json;
}

let app: App;
let stack: HubStack;
let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  app = new App({ context: cdkContext });
  stack = new HubStack(app, 'CreditHub');
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
}, SYNTH_TIMEOUT);

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
const secretId = () => logicalId(stack.operatorKeySecret);

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
/** Whether a CloudFormation expression refers to the resource with this logical id (Ref or GetAtt). */
const refersTo = (expr: Json, id: string) => JSON.stringify(expr).includes(`"${id}"`);
/** A resource expression naming the table itself (its ARN), not only its index/* or stream ARNs. */
const isTableArn = (expr: Json, id: string) => JSON.stringify(expr) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });

/**
 * Every statement that applies to the function's execution role: found from the
 * Lambda resource's Role (not from the stack's bookkeeping), its inline
 * policies, and every AWS::IAM::Policy attached to it.
 */
function statementsOf(fnName: string): Statement[] {
  const roleId = functionResource(fnName).Properties.Role['Fn::GetAtt'][0] as string;
  const role = resources[roleId];
  expect(role.Type).toBe('AWS::IAM::Role');
  const docs: Json[] = asArray(role.Properties.Policies).map((p: Json) => p.PolicyDocument);
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::IAM::Policy' && asArray(r.Properties.Roles).some((x: Json) => x.Ref === roleId)) {
      docs.push(r.Properties.PolicyDocument);
    }
  }
  return docs.flatMap((d) =>
    asArray(d.Statement).map((s: Json) => ({ ...s, Action: asArray(s.Action), Resource: asArray(s.Resource) })),
  );
}
const allows = (s: Statement, action: string) =>
  s.Effect === 'Allow' && s.Action.some((a) => a === action || a === '*' || (a.endsWith('*') && action.startsWith(a.slice(0, -1))));

/** kms:Decrypt usable only by Secrets Manager, only for the operator key secret. */
function isSecretViaServiceDecrypt(s: Statement): boolean {
  const eq = s.Condition?.StringEquals ?? {};
  return (
    s.Action.length === 1 &&
    s.Action[0] === 'kms:Decrypt' &&
    Object.keys(s.Condition ?? {}).length === 1 &&
    JSON.stringify(eq['kms:ViaService'] ?? '').includes('secretsmanager.') &&
    refersTo(eq['kms:EncryptionContext:SecretARN'], secretId())
  );
}

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
      Projection: { ProjectionType: 'ALL' },
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

  it.each(tableEntries)('%s: encrypted with the AWS managed key, never with the field key', (name) => {
    const p = resource(stack.tables[name]!).Properties;
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    expect(refersTo(p, fieldKeyId())).toBe(false);
  });
});

describe('catalogue-driven functions', () => {
  it('has exactly one Lambda function per catalogue function', () => {
    template.resourceCountIs('AWS::Lambda::Function', functionEntries.length);
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
      NODE_OPTIONS: (v) => v === '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: (v) => v === 'credit-hub',
      POWERTOOLS_LOG_LEVEL: (v) => v === 'INFO',
    };
    for (const tableName of Object.keys(spec.tables)) {
      expected[hubCatalogue.tables[tableName]!.envVar] = (v) => JSON.stringify(v) === JSON.stringify({ Ref: tableId(tableName) });
    }
    if (spec.keys.length > 0) expected[environment.dataKeyArn] = (v) => refersTo(v, fieldKeyId());
    if (spec.keys.includes('encrypt')) expected[environment.lookupKeyArn] = (v) => refersTo(v, lookupKeyId());
    if (spec.authenticates) expected[environment.operatorKeySecretArn] = (v) => refersTo(v, secretId());

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

describe('keys and the operator key secret', () => {
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

  it('key policies name no function role (access is granted per role, from the catalogue)', () => {
    const roleIds = Object.values(stack.roles).map((r) => logicalId(r));
    for (const key of [stack.fieldKey, stack.lookupKey]) {
      const policy = resource(key).Properties.KeyPolicy;
      for (const id of roleIds) expect(refersTo(policy, id)).toBe(false);
    }
  });

  it('operator key secret: generated 48 characters without punctuation, encrypted with the field key', () => {
    const s = resource(stack.operatorKeySecret);
    expect(s.Properties.GenerateSecretString).toEqual({ PasswordLength: 48, ExcludePunctuation: true });
    expect(refersTo(s.Properties.KmsKeyId, fieldKeyId())).toBe(true);
  });
});

describe('outputs', () => {
  it('exports the API URL, the operator key secret ARN and every table name', () => {
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    expect(refersTo(outputs.ApiUrl?.Value, logicalId(stack.httpApi))).toBe(true);
    expect(outputs.OperatorKeySecretArn?.Value).toEqual({ Ref: secretId() });
    for (const [name] of tableEntries) {
      expect(outputs[`${pascal(name)}TableName`]?.Value).toEqual({ Ref: tableId(name) });
    }
  });
});

describe('least privilege, from the catalogue', () => {
  const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'];

  it.each(functionEntries)('%s: own role, no managed policies', (name) => {
    const roleId = functionResource(name).Properties.Role['Fn::GetAtt'][0];
    expect(roleId).toBe(logicalId(stack.roles[name]!));
    expect(resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const otherFunctionsUsingRole = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Role['Fn::GetAtt'][0] === roleId,
    );
    expect(otherFunctionsUsingRole).toHaveLength(1);
  });

  it.each(functionEntries)('%s: DynamoDB access only to its catalogue tables, at its catalogue level', (name, spec) => {
    const statements = statementsOf(name);
    const dynamo = statements.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:') || a === '*'));
    if (Object.keys(spec.tables).length === 0) {
      expect(dynamo, `${name} has no tables in the catalogue`).toEqual([]);
      return;
    }
    for (const s of dynamo) {
      for (const r of s.Resource) {
        expect(r, 'no wildcard resource for DynamoDB').not.toBe('*');
        const table = Object.keys(hubCatalogue.tables).find((t) => refersTo(r, tableId(t)));
        expect(table && table in spec.tables, `${name} may only touch ${Object.keys(spec.tables)}: ${JSON.stringify(r)}`).toBe(true);
      }
    }
    for (const [tableName] of tableEntries) {
      const id = tableId(tableName);
      const onTable = dynamo.filter((s) => s.Resource.some((r) => refersTo(r, id)));
      const access = (spec.tables as Record<string, string>)[tableName];
      const writes = WRITE_ACTIONS.filter((a) => onTable.some((s) => allows(s, a)));
      if (access === undefined) expect(onTable).toEqual([]);
      else if (access === 'read') {
        expect(writes, `${name} only reads ${tableName}`).toEqual([]);
        expect(onTable.some((s) => allows(s, 'dynamodb:GetItem') && s.Resource.some((r) => isTableArn(r, id)))).toBe(true);
        expect(onTable.some((s) => allows(s, 'dynamodb:Query'))).toBe(true);
      } else {
        expect(writes).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
      }
      if (access !== undefined && hubCatalogue.tables[tableName]!.globalIndexes.length > 0) {
        // Its indexes can be queried (index/* of this table only).
        expect(onTable.some((s) => allows(s, 'dynamodb:Query') && s.Resource.some((r) => refersTo(r, id) && JSON.stringify(r).includes('/index/*')))).toBe(true);
      }
    }
  });

  it.each(functionEntries)('%s: field and lookup keys only as its catalogue keys say', (name, spec) => {
    const statements = statementsOf(name);
    const kms = statements.filter((s) => s.Action.some((a) => a.startsWith('kms:') || a === '*'));
    for (const s of kms) {
      for (const r of s.Resource) expect(r, 'no wildcard resource for KMS').not.toBe('*');
      for (const a of s.Action) expect(a).not.toMatch(/\*/);
    }
    const keys: readonly string[] = spec.keys;

    // Directly usable actions on the field key: exactly what the keys imply.
    const onField = kms.filter((s) => s.Resource.some((r) => refersTo(r, fieldKeyId())));
    const direct = onField.filter((s) => !isSecretViaServiceDecrypt(s));
    for (const s of direct) expect(s.Condition, 'field key statements are either plain grants or the secret one').toBeUndefined();
    const expectedField = [
      ...(keys.includes('encrypt') ? ['kms:GenerateDataKey'] : []),
      ...(keys.includes('decrypt') ? ['kms:Decrypt'] : []),
    ];
    expect([...new Set(direct.flatMap((s) => s.Action))].sort()).toEqual(expectedField.sort());

    // Through Secrets Manager, for the operator key secret only: exactly the authenticating functions.
    expect(onField.some(isSecretViaServiceDecrypt)).toBe(spec.authenticates);

    // Lookup key: GenerateMac for encrypt, nothing otherwise.
    const onLookup = kms.filter((s) => s.Resource.some((r) => refersTo(r, lookupKeyId())));
    expect([...new Set(onLookup.flatMap((s) => s.Action))]).toEqual(keys.includes('encrypt') ? ['kms:GenerateMac'] : []);

    // No KMS action on anything else.
    expect(kms.filter((s) => !onField.includes(s) && !onLookup.includes(s))).toEqual([]);
  });

  it('a function that only encrypts cannot decrypt data keys', () => {
    const encryptOnly = functionEntries.filter(([, spec]) => spec.keys.includes('encrypt') && !spec.keys.includes('decrypt'));
    expect(encryptOnly.length).toBeGreaterThan(0);
    for (const [name] of encryptOnly) {
      const decrypts = statementsOf(name).filter((s) => allows(s, 'kms:Decrypt') && !isSecretViaServiceDecrypt(s));
      expect(decrypts, name).toEqual([]);
    }
  });

  it('a function with no keys and no authentication has no KMS permission at all', () => {
    const keyless = functionEntries.filter(([, spec]) => spec.keys.length === 0);
    expect(keyless.length).toBeGreaterThan(0);
    for (const [name, spec] of keyless) {
      const kms = statementsOf(name).filter((s) => s.Action.some((a) => a.startsWith('kms:')));
      if (spec.authenticates) expect(kms.every(isSecretViaServiceDecrypt), name).toBe(true);
      else expect(kms, name).toEqual([]);
    }
  });

  it.each(functionEntries)('%s: the operator key secret only if it authenticates', (name, spec) => {
    const secrets = statementsOf(name).filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:') || a === '*'));
    if (!spec.authenticates) {
      expect(secrets).toEqual([]);
      return;
    }
    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(s.Resource).toEqual([{ Ref: secretId() }]);
      expect([...s.Action].sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    }
  });

  it.each(functionEntries)('%s: logs only to its own log group; wildcard resources only for X-Ray', (name) => {
    const statements = statementsOf(name);
    const logs = statements.filter((s) => s.Action.some((a) => a.startsWith('logs:')));
    expect(logs.flatMap((s) => s.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    for (const s of logs) expect(s.Resource).toEqual([{ 'Fn::GetAtt': [logicalId(stack.logGroups[name]!), 'Arn'] }]);

    for (const s of statements.filter((x) => x.Resource.includes('*'))) {
      expect([...s.Action].sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
    for (const s of statements) expect(s.Effect).toBe('Allow');
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
          audit: {
            envVar: 'HUB_AUDIT_TABLE',
            localName: 'hub-audit',
            partitionKey: { name: 'pk', type: 'S' },
            sortKey: { name: 'at', type: 'N' },
            globalIndexes: [],
            stream: false,
            description: 'Test: an added table',
          },
        },
        functions: {
          ...hubCatalogue.functions,
          auditReader: {
            // Any existing handler will do: bundling only needs an entry that exists.
            entry: functions.health.entry,
            description: 'Test: an added function',
            memoryMb: 128,
            timeoutSeconds: 3,
            tables: { audit: 'read' },
            authenticates: false,
            keys: [],
          },
        },
        routes: [...hubCatalogue.routes, { routeKey: 'GET /v1/audit', function: 'auditReader' }],
      };
      const extendedStack = new HubStack(new App({ context: cdkContext }), 'Extended', { catalogue: extended });
      const t = Template.fromStack(extendedStack);
      t.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length + 1);
      t.resourceCountIs('AWS::Lambda::Function', Object.keys(functions).length + 1);
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /v1/audit' });
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Test: an added function',
        MemorySize: 128,
        Environment: { Variables: { HUB_AUDIT_TABLE: { Ref: extendedStack.getLogicalId(extendedStack.tables.audit!.node.defaultChild as CfnElement) } } },
      });
      expect(t.toJSON().Outputs.AuditTableName).toBeDefined();
    },
    SYNTH_TIMEOUT,
  );
});
