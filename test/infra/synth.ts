/**
 * What the infra tests share: the hub's stack synthesised with the feature
 * flags `cdk synth` uses (cdk.json), and a reading of its template that does
 * not depend on how CDK happens to group statements (policy minimisation may
 * merge two statements into one, or split one).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { HubStack, repoRoot, type HubStackProps } from '../../infra/stack.js';

export const SYNTH_TIMEOUT = 120_000;

// NodejsFunction bundles with `npx esbuild`; the project's npm (Node 24) would leave its compile
// cache in the run's temp folder. The infra tests' processes and their children do without it.
process.env.NODE_DISABLE_COMPILE_CACHE = '1';
/**
 * The deployment's own values the stack requires (infra/stack.ts upwardSettings: `npx cdk deploy -c …`): made-up
 * platform URLs and a made-up sender USCC that passes GB 32100's check.
 */
export const upwardContext = {
  provincialUrl: 'https://provincial.example.gov.cn/exchange',
  nationalUrl: 'https://national.example.gov.cn/exchange',
  senderUscc: '11330100002500017H',
} as const;
/** The feature flags `cdk synth` uses (cdk.json), so the template tested is the one deployed; and upwardContext. */
export const cdkContext = { ...JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context, ...upwardContext };

type Json = any;

export interface Synthesised {
  app: App;
  stack: HubStack;
  template: Template;
  resources: Record<string, Json>;
  /** Removes the cloud assembly (bundled assets) from the temp folder. */
  dispose(): void;
}

/** The hub's stack, synthesised into a temp folder of its own (with context values besides cdkContext, if given). */
export function synthesise(props: HubStackProps = {}, id = 'CreditHub', context: Record<string, unknown> = {}): Synthesised {
  const outdir = mkdtempSync(path.join(tmpdir(), 'hub-cdk-'));
  const dispose = () => rmSync(outdir, { recursive: true, force: true });
  try {
    const app = new App({ context: { ...cdkContext, ...context }, outdir });
    const stack = new HubStack(app, id, props);
    const template = Template.fromStack(stack);
    return { app, stack, template, resources: template.toJSON().Resources, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

export function logicalIdOf(stack: HubStack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

export const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
/** Whether a CloudFormation expression refers to the resource with this logical id (Ref or GetAtt). */
export const refersTo = (expr: Json, id: string) => JSON.stringify(expr).includes(`"${id}"`);
export const getAttArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
export const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);

/** One statement of a policy, with its lists always lists. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: Json[];
  Principal?: Json;
  Condition?: Json;
}

export function statementsOfDocument(document: Json): Statement[] {
  return asArray(document?.Statement).map((s: Json) => ({ ...s, Action: asArray(s.Action), Resource: asArray(s.Resource) }));
}

/**
 * Every statement that applies to a Lambda function's execution role: found
 * from the function resource's Role (not from the stack's bookkeeping), the
 * role's inline policies, and every AWS::IAM::Policy attached to it.
 */
export function roleStatements(resources: Record<string, Json>, roleId: string): Statement[] {
  const role = resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role`);
  const docs: Json[] = asArray(role.Properties.Policies).map((p: Json) => p.PolicyDocument);
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::IAM::Policy' && asArray(r.Properties.Roles).some((x: Json) => x.Ref === roleId)) docs.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::ManagedPolicy' && asArray(r.Properties.Roles).some((x: Json) => x.Ref === roleId)) docs.push(r.Properties.PolicyDocument);
  }
  return docs.flatMap(statementsOfDocument);
}

/** One (effect, action, resource, condition) of a statement: statements compared regardless of grouping. */
export interface Permission {
  effect: 'Allow' | 'Deny';
  action: string;
  resource: Json;
  condition: Json;
}

export function permissions(statements: Statement[]): Permission[] {
  return statements.flatMap((s) =>
    s.Action.flatMap((action) => s.Resource.map((resource) => ({ effect: s.Effect, action, resource, condition: s.Condition ?? null }))),
  );
}

/** Whether an IAM action pattern (`kms:Get*`, `*`) covers an action. */
export function covers(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}
