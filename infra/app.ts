/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`): the hub's one stack,
 * checked by cdk-nag's AWS Solutions rules at synth time.
 *
 * cdk-nag 3 is a CDK policy-validation plugin (no longer an Aspect): an
 * unacknowledged error fails `cdk synth`, and acknowledgments are written to
 * the template's Metadata (`cdk_nag.rules_to_suppress`) as an audit trail.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HubStack } from './stack.js';

const app = new App();

// `npx cdk deploy -c corsOrigins=https://console.example.gov.cn` allows a browser console's origin.
const corsOrigins = String(app.node.tryGetContext('corsOrigins') ?? '')
  .split(',')
  .map((o) => o.trim())
  .filter(Boolean);

new HubStack(app, 'CreditHub', {
  description: 'Credit information exchange hub: HTTP API, functions, tables and keys',
  corsOrigins,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));

app.synth();
