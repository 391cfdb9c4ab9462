/**
 * cdk-nag's AWS Solutions rules over the hub's stack.
 *
 * cdk-nag 3 is a CDK policy-validation plugin rather than an Aspect: findings
 * are not Annotations any more but violations in a validation report, and an
 * unacknowledged finding fails synthesis. So this test (1) runs the pack
 * directly over the stack and prints whatever it finds, (2) synthesises with
 * the pack registered the way infra/app.ts registers it, and (3) reads the
 * acknowledgments that the pack writes into the template Metadata.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { App, Validations, type CfnElement, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buckets, functions } from '../../infra/catalogue.js';
import { HubStack, hubCatalogue } from '../../infra/stack.js';
import { cdkContext, SYNTH_TIMEOUT } from './synth.js';

/** Cloud assemblies of this file's apps, removed after the tests. */
const outdirs: string[] = [];
function app(): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'hub-nag-'));
  outdirs.push(outdir);
  return new App({ context: cdkContext, outdir });
}
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

let stack: HubStack;
let report: PolicyValidationPluginReport;
let template: Template | undefined;
let synthError: unknown;
/** The same stack built with every acknowledgment dropped: what the rules find on their own. */
let unacknowledged: PolicyValidationPluginReport;

beforeAll(() => {
  const checked = app();
  stack = new HubStack(checked, 'CreditHub');
  const pack = new AwsSolutionsChecks(checked, { verbose: true, writeSuppressionsToCloudFormation: true });
  report = pack.validateScope(stack);
  Validations.of(checked).addPlugins(pack);
  try {
    template = Template.fromStack(stack);
  } catch (error) {
    synthError = error;
  }

  const acknowledge = Validations.prototype.acknowledge;
  try {
    Validations.prototype.acknowledge = function () {};
    unacknowledged = new AwsSolutionsChecks().validateScope(new HubStack(app(), 'CreditHub'));
  } finally {
    Validations.prototype.acknowledge = acknowledge;
  }
}, SYNTH_TIMEOUT);

function describeViolations(severity: string): string {
  return report.violations
    .filter((v) => v.severity === severity)
    .map((v) => `${v.ruleName}: ${v.description}\n${v.violatingResources.map((r) => `    ${r.constructPath}`).join('\n')}`)
    .join('\n');
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged AwsSolutions error', () => {
    const errors = report.violations.filter((v) => v.severity === 'error' && /^AwsSolutions-/.test(v.ruleName));
    expect(errors, describeViolations('error')).toEqual([]);
  });

  it('reports no unacknowledged AwsSolutions warning either', () => {
    const warnings = report.violations.filter((v) => v.severity === 'warning');
    expect(warnings, describeViolations('warning')).toEqual([]);
  });

  it('synthesises with the pack registered as in infra/app.ts, with no error annotation', () => {
    expect(synthError, String(synthError)).toBeUndefined();
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('every acknowledgment in the template metadata names a rule and gives a specific reason', () => {
    expect(template).toBeDefined();
    const resources = template!.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }>;
    const suppressions = Object.entries(resources).flatMap(([id, r]) =>
      (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s) => ({ resource: id, ...s })),
    );
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) {
      expect(s.id, JSON.stringify(s)).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(s.reason.trim().length, `${s.resource} ${s.id}: "${s.reason}"`).toBeGreaterThanOrEqual(20);
    }
    // IAM5 is only ever acknowledged finding by finding (never the whole rule).
    expect(suppressions.filter((s) => s.id === 'AwsSolutions-IAM5')).toEqual([]);
  });

  it('every acknowledgment is needed: without it the rule reports that finding', () => {
    const found = new Set(unacknowledged.violations.map((v) => v.ruleName));
    const resources = template!.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>;
    const acknowledged = new Set(Object.values(resources).flatMap((r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s) => s.id)));
    expect([...acknowledged].filter((id) => !found.has(id))).toEqual([]);
  });

  it('acknowledges only the rules the design explains, where they apply', () => {
    const resources = template!.toJSON().Resources as Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>;
    const byRule = new Map<string, Set<string>>();
    for (const r of Object.values(resources)) {
      for (const s of r.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
        const rule = s.id.replace(/\[.*$/, '');
        byRule.set(rule, (byRule.get(rule) ?? new Set()).add(r.Type));
      }
    }
    expect(Object.fromEntries([...byRule].map(([rule, types]) => [rule, [...types].sort()]))).toEqual({
      'AwsSolutions-APIG4': ['AWS::ApiGatewayV2::Route'],
      // The public site's distribution: no geo restriction and no WAF (static public pages), CloudFront's default
      // certificate while no domain is given (infra/stack.ts addWebsite).
      'AwsSolutions-CFR1': ['AWS::CloudFront::Distribution'],
      'AwsSolutions-CFR2': ['AWS::CloudFront::Distribution'],
      'AwsSolutions-CFR4': ['AWS::CloudFront::Distribution'],
      // The AWS managed basic execution policy of CDK's bucket-notifications handler (its role only).
      'AwsSolutions-IAM4': ['AWS::IAM::Role'],
      // X-Ray and the notifications handler's PutBucketNotification (default policies); object key prefixes (roles).
      'AwsSolutions-IAM5': ['AWS::IAM::Policy', 'AWS::IAM::Role'],
      // The stream mappings' on-failure destination, a dead-letter queue that cdk-nag does not know as one.
      'AwsSolutions-SQS3': ['AWS::SQS::Queue'],
    });
  });

  it('acknowledges IAM5 only for X-Ray, CDK’s notifications handler and the buckets’ key prefixes granted to functions (every other statement names its resources and actions)', () => {
    const resources = template!.toJSON().Resources as Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>;
    const iam5 = new Set(Object.values(resources).flatMap((r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s) => s.id).filter((id) => id.startsWith('AwsSolutions-IAM5'))));
    // Every key prefix some function is granted objects under, in every bucket of the catalogue.
    const prefixes = Object.keys(buckets).flatMap((name) => {
      const bucket = stack.getLogicalId(stack.buckets[name]!.node.defaultChild as CfnElement);
      const granted = new Set(Object.values(functions).flatMap((f) => Object.keys((f as { buckets?: Record<string, { objects: Record<string, unknown> }> }).buckets?.[name]?.objects ?? {})));
      return [...granted].map((prefix) => `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/${prefix}*]`);
    });
    expect([...iam5].sort()).toEqual(['AwsSolutions-IAM5[Resource::*]', ...prefixes].sort());
    const found = unacknowledged.violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'));
    expect(found.map((v) => v.ruleName).sort()).toEqual(['AwsSolutions-IAM5[Resource::*]', ...prefixes].sort());
    // A key prefix is acknowledged only on the roles of the functions granted objects under it.
    const prefixRoles = Object.entries(resources)
      .filter(([, r]) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).some((s) => prefixes.includes(s.id)))
      .map(([id]) => id);
    const grantees = Object.entries(hubCatalogue.functions)
      .filter(([, f]) => Object.keys(f.buckets ?? {}).length > 0)
      .map(([name]) => stack.getLogicalId(stack.roles[name]!.node.defaultChild as CfnElement));
    expect(prefixRoles.sort()).toEqual(grantees.sort());
  });

  it('acknowledges the AWS managed policy only on the role of CDK’s bucket-notifications handler', () => {
    const resources = template!.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>;
    const iam4 = Object.entries(resources).filter(([, r]) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).some((s) => s.id.startsWith('AwsSolutions-IAM4')));
    expect(iam4.map(([id]) => id)).toEqual([expect.stringMatching(/^BucketNotificationsHandler.*Role/)]);
  });
});
