/**
 * Sharing upward on AWS (issue 8), checked on the synthesised template against
 * the catalogue: the delivery queues and their dead-letter queues, the
 * event-source mappings (the records table's change stream → fanout, each
 * platform's queue → its connector), the alarms, and the deployment values the
 * stack requires (the platforms' URLs and the sender's USCC). Least privilege
 * of the new roles is in least-privilege.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { App } from 'aws-cdk-lib';
import { eventSources, exchange, platforms, queues, STREAM_FAILURE_RECORD_AGE_SECONDS } from '../../infra/catalogue.js';
import {
  checkCatalogue,
  DELIVERY_LAG_PERIOD_MINUTES,
  HubStack,
  hubCatalogue,
  newImageFilter,
  STREAM_RETENTION_SECONDS,
  upwardSettings,
  type CatalogueEventSource,
  type HubCatalogue,
} from '../../infra/stack.js';
import { PowertoolsDeliveryMetrics } from '../../shared/upward/delivery-metrics.js';
import { cdkContext, getAttArn, logicalIdOf, permissions, refersTo, roleStatements, statementsOfDocument, synthesise, SYNTH_TIMEOUT, upwardContext, type Synthesised } from './synth.js';

type Json = any;

let synth: Synthesised;
let stack: HubStack;
let resources: Record<string, Json>;

beforeAll(() => {
  synth = synthesise();
  ({ stack, resources } = synth);
}, SYNTH_TIMEOUT);
afterAll(() => synth?.dispose());

/** Cloud assemblies of this file's own apps (stacks that are refused), removed after the tests. */
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});
function app(context: Record<string, unknown>): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'hub-upward-'));
  outdirs.push(outdir);
  return new App({ context, outdir });
}

const id = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(stack, construct);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const queueEntries = Object.entries(queues);
const sourceEntries = Object.entries(eventSources) as [string, CatalogueEventSource][];
/** Dead-letter queues: the targets of redrive policies, and where the stream mappings report the batches they give up. */
const deadLetterQueues = [
  ...new Set([
    ...queueEntries.flatMap(([, q]) => ('deadLetter' in q ? [q.deadLetter.queue] : [])),
    ...sourceEntries.flatMap(([, s]) => (s.type === 'dynamodb-stream' && s.onFailure ? [s.onFailure] : [])),
  ]),
];

describe('delivery queues', () => {
  it('has exactly one SQS queue per catalogue queue', () => {
    expect(ofType('AWS::SQS::Queue').map(([qid]) => qid).sort()).toEqual(queueEntries.map(([name]) => id(stack.queues[name]!)).sort());
  });

  it.each(queueEntries)('%s: under the storage key, with the catalogue’s visibility timeout, retention and redrive policy; retained', (name, spec) => {
    const q = resources[id(stack.queues[name]!)];
    expect(q.Properties.KmsMasterKeyId).toEqual(getAttArn(id(stack.storageKey)));
    expect(refersTo(q.Properties, id(stack.fieldKey))).toBe(false);
    expect(q.Properties.SqsManagedSseEnabled).toBeUndefined();
    expect(q.Properties.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
    expect(q.Properties.MessageRetentionPeriod).toBe(spec.retentionSeconds);
    expect(q.Properties.RedrivePolicy).toEqual(
      'deadLetter' in spec ? { deadLetterTargetArn: getAttArn(id(stack.queues[spec.deadLetter.queue]!)), maxReceiveCount: spec.deadLetter.maxReceiveCount } : undefined,
    );
    expect(q.Properties.QueueName).toBeUndefined();
    expect(q.DeletionPolicy).toBe('Retain');
  });

  it.each(queueEntries)('%s: its queue policy refuses every request without TLS and allows nothing', (name) => {
    const policies = ofType('AWS::SQS::QueuePolicy').filter(([, r]) => r.Properties.Queues.some((q: Json) => refersTo(q, id(stack.queues[name]!))));
    expect(policies).toHaveLength(1);
    const statements = statementsOfDocument(policies[0]![1].Properties.PolicyDocument);
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
    expect(statements.map((s) => [s.Effect, s.Condition])).toEqual([['Deny', { Bool: { 'aws:SecureTransport': 'false' } }]]);
  });

  it('each platform’s queue sends to that platform’s dead-letter queue', () => {
    for (const platform of Object.values(platforms)) {
      expect(queues[platform.queue].deadLetter.queue).toBe(platform.deadLetterQueue);
    }
  });
});

describe('event-source mappings', () => {
  it('has exactly one per catalogue event source', () => {
    expect(ofType('AWS::Lambda::EventSourceMapping').map(([mid]) => mid).sort()).toEqual(sourceEntries.map(([name]) => id(stack.eventSourceMappings[name]!)).sort());
  });

  it.each(sourceEntries)('%s: feeds its function in the catalogue’s batches and reports partial batch failures', (name, spec) => {
    const p = resources[id(stack.eventSourceMappings[name]!)].Properties;
    expect(p.FunctionName).toEqual({ Ref: id(stack.functions[spec.function]!) });
    expect(p.BatchSize).toBe(spec.batchSize);
    expect(p.MaximumBatchingWindowInSeconds).toBe(spec.maxBatchingWindowSeconds);
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(p.Enabled ?? true).toBe(true);
  });

  it.each(sourceEntries.filter(([, s]) => s.type === 'dynamodb-stream'))('%s: reads its table’s stream from the catalogue’s position, retrying up to its maximum record age, bisecting, filtered, reporting what it gives up', (name, spec) => {
    if (spec.type !== 'dynamodb-stream') throw new Error('unreachable');
    const p = resources[id(stack.eventSourceMappings[name]!)].Properties;
    expect(p.EventSourceArn).toEqual({ 'Fn::GetAtt': [id(stack.tables[spec.table]!), 'StreamArn'] });
    expect(p.StartingPosition).toBe(spec.startingPosition);
    expect(p.MaximumRetryAttempts).toBe(spec.retryAttempts);
    expect(p.BisectBatchOnFunctionError).toBe(spec.bisectBatchOnError);
    expect(p.ScalingConfig).toBeUndefined();
    expect(p.MaximumRecordAgeInSeconds).toBe(spec.maximumRecordAgeSeconds);
    expect(p.DestinationConfig).toEqual(spec.onFailure ? { OnFailure: { Destination: getAttArn(id(stack.queues[spec.onFailure]!)) } } : undefined);
    const patterns = (p.FilterCriteria?.Filters ?? []).map((f: Json) => JSON.parse(f.Pattern));
    const equals = spec.newImageEquals ?? {};
    expect(patterns).toEqual(
      Object.keys(equals).length > 0 ? [{ dynamodb: { NewImage: Object.fromEntries(Object.entries(equals).map(([k, v]) => [k, { S: [v] }])) } }] : [],
    );
  });

  it.each(sourceEntries.filter(([, s]) => s.type === 'dynamodb-stream'))('%s: gives a failing batch up well before the stream drops it (24 hours), reporting it to the stream-failures queue', (name, spec) => {
    if (spec.type !== 'dynamodb-stream') throw new Error('unreachable');
    expect(spec.onFailure, name).toBe('streamFailures');
    expect(spec.maximumRecordAgeSeconds).toBe(STREAM_FAILURE_RECORD_AGE_SECONDS);
    // Hours left to replay a reported batch from the stream.
    expect(STREAM_RETENTION_SECONDS - STREAM_FAILURE_RECORD_AGE_SECONDS).toBeGreaterThanOrEqual(12 * 3600);
    expect(queues.streamFailures.retentionSeconds).toBe(14 * 24 * 3600);
    expect('deadLetter' in queues.streamFailures).toBe(false);
    // Lambda sends the failure record with the function's role: exactly SendMessage on that queue (least-privilege.test.ts checks the rest).
    const onQueue = permissions(roleStatements(resources, id(stack.roles[spec.function]!))).filter((p) => p.action.startsWith('sqs:') && refersTo(p.resource, id(stack.queues.streamFailures!)));
    expect(onQueue.map((p) => [p.effect, p.action, p.condition])).toEqual([['Allow', 'sqs:SendMessage', null]]);
  });

  it('the records stream reaches fanout only for new heads (sk HEAD), in Lambda’s filter syntax', () => {
    expect(eventSources.recordChanges.newImageEquals).toEqual({ sk: 'HEAD' });
    expect(JSON.parse(newImageFilter({ sk: 'HEAD' }).pattern as string)).toEqual({ dynamodb: { NewImage: { sk: { S: ['HEAD'] } } } });
  });

  it.each(sourceEntries.filter(([, s]) => s.type === 'sqs'))('%s: polls its queue with the catalogue’s maximum concurrency', (name, spec) => {
    if (spec.type !== 'sqs') throw new Error('unreachable');
    const p = resources[id(stack.eventSourceMappings[name]!)].Properties;
    expect(p.EventSourceArn).toEqual(getAttArn(id(stack.queues[spec.queue]!)));
    expect(p.ScalingConfig).toEqual({ MaximumConcurrency: spec.maxConcurrency });
    expect(p.StartingPosition).toBeUndefined();
    expect(p.FilterCriteria).toBeUndefined();
  });

  it('each platform’s connector is fed by exactly its platform’s queue', () => {
    for (const [name, platform] of Object.entries(platforms)) {
      const feeding = sourceEntries.filter(([, s]) => s.function === platform.connector);
      expect(feeding.map(([, s]) => (s.type === 'sqs' ? s.queue : s.table)), name).toEqual([platform.queue]);
    }
  });
});

describe('connectors: their platform, its URL and the sender', () => {
  it.each(Object.entries(platforms))('%s: its connector delivers to it, knows its base URL and the sender’s USCC from the deployment', (name, platform) => {
    const spec = hubCatalogue.functions[platform.connector]!;
    expect(spec.platforms).toEqual([name]);
    const env = resources[id(stack.functions[platform.connector]!)].Properties.Environment.Variables;
    expect(env[platform.urlEnvVar]).toBe(upwardContext[platform.urlContext]);
    expect(env[exchange.senderUsccEnvVar]).toBe(upwardContext.senderUscc);
    expect(env.HUB_PLATFORM).toBe(name);
    // Only the functions that send to it (its connector, the nightly sync) learn where the platform is.
    for (const [other, otherSpec] of Object.entries(hubCatalogue.functions).filter(([n]) => n !== platform.connector)) {
      const expected = (otherSpec as { platforms?: readonly string[] }).platforms?.includes(name) ? upwardContext[platform.urlContext] : undefined;
      expect(resources[id(stack.functions[other]!)].Properties.Environment.Variables[platform.urlEnvVar], other).toBe(expected);
    }
    expect(resources[id(stack.functions.syncRunner!)].Properties.Environment.Variables[platform.urlEnvVar]).toBe(upwardContext[platform.urlContext]);
  });
});

describe('alarms', () => {
  const alarmProps = (construct: Parameters<typeof logicalIdOf>[1]) => resources[id(construct)].Properties;

  it('exactly a depth alarm per dead-letter queue and a lag alarm per platform, with no actions (the stack has no notification topic)', () => {
    const expected = [...deadLetterQueues.map((q) => id(stack.deadLetterAlarms[q]!)), ...Object.keys(platforms).map((p) => id(stack.deliveryLagAlarms[p]!))];
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.map(([aid]) => aid).sort()).toEqual(expected.sort());
    for (const [, a] of alarms) {
      expect(a.Properties.AlarmActions).toBeUndefined();
      expect(a.Properties.ActionsEnabled ?? true).toBe(true);
    }
    expect(ofType('AWS::SNS::Topic')).toEqual([]);
  });

  it.each(deadLetterQueues)('%s: alarms as soon as it holds a message', (name) => {
    const a = alarmProps(stack.deadLetterAlarms[name]!);
    expect(a).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(stack.queues[name]!), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it.each(Object.keys(platforms))('%s: alarms when the oldest owed delivery is older than exchange.lagAlarmSeconds, or when the sweep stops reporting', (name) => {
    const a = alarmProps(stack.deliveryLagAlarms[name]!);
    expect(a).toMatchObject({
      Namespace: exchange.metrics.namespace,
      MetricName: exchange.metrics.oldestOwedAge,
      Statistic: 'Maximum',
      Period: DELIVERY_LAG_PERIOD_MINUTES * 60,
      EvaluationPeriods: 1,
      Threshold: exchange.lagAlarmSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(new Map(a.Dimensions.map((d: Json) => [d.Name, d.Value]))).toEqual(new Map([['service', exchange.metrics.service], ['platform', name]]));
  });

  it('the lag period holds at least two runs of the schedule that reports the lag', () => {
    // The delivery sweep's own schedule; the reconciliation's (input {reconcile: true}) reports no lag.
    const sweeps = Object.values(hubCatalogue.schedules).filter((s) => s.function === 'deliverySweep' && !(s as { input?: { reconcile?: boolean } }).input?.reconcile);
    expect(sweeps.length).toBeGreaterThan(0);
    for (const s of sweeps) expect(DELIVERY_LAG_PERIOD_MINUTES).toBeGreaterThanOrEqual(2 * s.everyMinutes!);
  });

  describe('the sweep’s metric (Powertools, embedded metric format) is the one alarmed on', () => {
    afterEach(() => vi.restoreAllMocks());

    it.each(Object.keys(platforms))('%s: same namespace, name and exact dimension set', (name) => {
      const lines: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      }) as never);
      new PowertoolsDeliveryMetrics().oldestOwedAge(name as keyof typeof platforms, 42);
      vi.restoreAllMocks();
      const emf = lines.map((l) => l.trim()).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      expect(emf).toHaveLength(1);
      const [directive] = emf[0]._aws.CloudWatchMetrics;
      expect(directive.Namespace).toBe(exchange.metrics.namespace);
      expect(directive.Metrics.map((m: Json) => m.Name)).toEqual([exchange.metrics.oldestOwedAge]);
      const alarm = alarmProps(stack.deliveryLagAlarms[name]!);
      expect(directive.Dimensions).toEqual([expect.arrayContaining(alarm.Dimensions.map((d: Json) => d.Name))]);
      expect(directive.Dimensions[0]).toHaveLength(alarm.Dimensions.length);
      for (const d of alarm.Dimensions) expect(emf[0][d.Name], d.Name).toBe(d.Value);
      expect(emf[0][exchange.metrics.oldestOwedAge]).toBe(42);
    });
  });
});

describe('deployment values: the platforms’ URLs and the sender’s USCC (CDK context)', () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];

  it('are read from the context values the catalogue names, for every platform a function delivers to', () => {
    expect(upwardSettings(hubCatalogue, context(upwardContext))).toEqual({
      platformUrls: { provincial: upwardContext.provincialUrl, national: upwardContext.nationalUrl },
      senderUscc: upwardContext.senderUscc,
    });
    expect(Object.values(platforms).map((p) => p.urlContext).sort()).toEqual(['nationalUrl', 'provincialUrl']);
    expect(exchange.senderUsccContext).toBe('senderUscc');
  });

  it('missing ones are refused, all named at once with the flag to give', () => {
    const refusal = () => upwardSettings(hubCatalogue, context({ nationalUrl: upwardContext.nationalUrl, senderUscc: '  ' }));
    expect(refusal).toThrow(/-c provincialUrl=https:/);
    expect(refusal).toThrow(/-c senderUscc=/);
    expect(refusal).not.toThrow(/nationalUrl/);
  });

  it('a URL that is not https, or that carries credentials, is refused (without echoing them); a USCC failing GB 32100 too', () => {
    expect(() => upwardSettings(hubCatalogue, context({ ...upwardContext, provincialUrl: 'http://provincial.example.gov.cn/' }))).toThrow(/provincialUrl must be an https URL/);
    const withPassword = () => upwardSettings(hubCatalogue, context({ ...upwardContext, nationalUrl: 'https://hub:s3cret@national.example.gov.cn/' }));
    expect(withPassword).toThrow(/nationalUrl must not carry credentials/);
    expect(withPassword).not.toThrow(/s3cret/);
    expect(() => upwardSettings(hubCatalogue, context({ ...upwardContext, provincialUrl: 'not a url' }))).toThrow(/provincialUrl is not a URL/);
    const wrongCheck = `${upwardContext.senderUscc.slice(0, 17)}${upwardContext.senderUscc.endsWith('0') ? '1' : '0'}`;
    expect(() => upwardSettings(hubCatalogue, context({ ...upwardContext, senderUscc: wrongCheck }))).toThrow(/senderUscc is not a valid USCC/);
  });

  it('a catalogue where no function delivers upward needs none', () => {
    const functions = Object.fromEntries(Object.entries(hubCatalogue.functions).map(([n, f]) => [n, { ...f, platforms: undefined }]));
    expect(upwardSettings({ ...hubCatalogue, functions }, context({}))).toEqual({ platformUrls: {} });
  });

  it('the stack refuses to synthesise without them, before bundling anything', () => {
    const { provincialUrl: _p, nationalUrl: _n, senderUscc: _s, ...flagsOnly } = cdkContext;
    expect(() => new HubStack(app(flagsOnly), 'NoPlatforms')).toThrow(/provincialUrl is missing[\s\S]*nationalUrl is missing[\s\S]*senderUscc is missing/);
  });
});

describe('catalogue refusals (checked before anything is built)', () => {
  const withFunction = (name: string, change: Record<string, unknown>): HubCatalogue => ({
    ...hubCatalogue,
    functions: { ...hubCatalogue.functions, [name]: { ...hubCatalogue.functions[name]!, ...change } },
  });
  const withSource = (name: string, change: Record<string, unknown>): HubCatalogue => ({
    ...hubCatalogue,
    eventSources: { ...hubCatalogue.eventSources, [name]: { ...hubCatalogue.eventSources[name]!, ...change } as CatalogueEventSource },
  });

  it('the catalogue itself passes', () => {
    expect(() => checkCatalogue(hubCatalogue)).not.toThrow();
  });

  it('a function naming an unknown queue or platform, or a queue without an action', () => {
    expect(() => checkCatalogue(withFunction('fanout', { queues: { regional: ['sqs:SendMessage'] } }))).toThrow(/unknown queue "regional"/);
    expect(() => checkCatalogue(withFunction('fanout', { queues: { provincial: [] } }))).toThrow(/queue "provincial" without any action/);
    expect(() => checkCatalogue(withFunction('connectorNational', { platforms: ['regional'] }))).toThrow(/unknown platform "regional"/);
  });

  it('a dead-letter queue that is unknown, or keeps messages no longer than its source', () => {
    const shortDead: HubCatalogue = { ...hubCatalogue, queues: { ...hubCatalogue.queues, provincialDead: { ...hubCatalogue.queues.provincialDead!, retentionSeconds: queues.provincial.retentionSeconds } } };
    expect(() => checkCatalogue(shortDead)).toThrow(/"provincialDead" must keep messages longer than queue "provincial"/);
    const unknownDead: HubCatalogue = { ...hubCatalogue, queues: { ...hubCatalogue.queues, national: { ...hubCatalogue.queues.national!, deadLetter: { queue: 'nowhere', maxReceiveCount: 5 } } } };
    expect(() => checkCatalogue(unknownDead)).toThrow(/unknown dead-letter queue "nowhere"/);
  });

  it('a platform naming an unknown queue or connector', () => {
    const bad = (change: Record<string, unknown>): HubCatalogue => ({ ...hubCatalogue, platforms: { ...hubCatalogue.platforms, national: { ...hubCatalogue.platforms.national!, ...change } } });
    expect(() => checkCatalogue(bad({ queue: 'nowhere' }))).toThrow(/Platform "national" names unknown queue "nowhere"/);
    expect(() => checkCatalogue(bad({ connector: 'nobody' }))).toThrow(/unknown connector "nobody"/);
  });

  it('an event source naming what does not exist, or reading a table without a stream', () => {
    expect(() => checkCatalogue(withSource('recordChanges', { function: 'nobody' }))).toThrow(/feeds unknown function "nobody"/);
    expect(() => checkCatalogue(withSource('recordChanges', { table: 'nowhere' }))).toThrow(/reads unknown table "nowhere"/);
    expect(() => checkCatalogue(withSource('recordChanges', { table: 'deliveries' }))).toThrow(/table "deliveries", which has none/);
    expect(() => checkCatalogue(withSource('nationalDeliveries', { queue: 'nowhere' }))).toThrow(/polls unknown queue "nowhere"/);
    expect(() => checkCatalogue(withSource('recordChanges', { onFailure: 'nowhere' }))).toThrow(/reports failures to unknown queue "nowhere"/);
  });

  it('a stream mapping giving records up at an age Lambda refuses, or only once the stream has dropped them', () => {
    expect(() => checkCatalogue(withSource('recordChanges', { maximumRecordAgeSeconds: 59 }))).toThrow(/gives up records 59 s old/);
    expect(() => checkCatalogue(withSource('recordChanges', { maximumRecordAgeSeconds: STREAM_RETENTION_SECONDS }))).toThrow(/while the stream \(86400 s\) still holds it/);
    expect(() => checkCatalogue(withSource('recordPublishing', { maximumRecordAgeSeconds: -1 }))).toThrow(/reports failures to "streamFailures" only once the stream has dropped the records/);
    expect(() => checkCatalogue(withSource('recordPublishing', { maximumRecordAgeSeconds: undefined }))).toThrow(/only once the stream has dropped the records/);
    // Bounded retries report in time without a record age.
    expect(() => checkCatalogue(withSource('recordPublishing', { maximumRecordAgeSeconds: undefined, retryAttempts: 10 }))).not.toThrow();
  });

  it('a queue polled by a function whose timeout is more than a sixth of its visibility timeout', () => {
    const timeout = queues.national.visibilityTimeoutSeconds / 6 + 1;
    expect(() => checkCatalogue(withFunction('connectorNational', { timeoutSeconds: timeout }))).toThrow(/hides a received message 360 s, less than six times the timeout of "connectorNational"/);
  });

  it('a mapping driving more concurrent invocations than the function reserves', () => {
    expect(() => checkCatalogue(withSource('provincialDeliveries', { maxConcurrency: hubCatalogue.functions.connectorProvincial!.reservedConcurrency + 1 }))).toThrow(
      /drives up to 6 concurrent invocations of "connectorProvincial", which reserves 5/,
    );
  });

  it('a constant environment variable the stack itself sets (refused when the function is built, before it is bundled)', () => {
    // The one connector alone: nothing else to build (or bundle) before it.
    const connector = { ...hubCatalogue.functions.connectorNational!, environment: { HUB_PLATFORM: 'national', HUB_DELIVERIES_TABLE: 'elsewhere' } };
    const alone: HubCatalogue = {
      ...hubCatalogue,
      functions: { connectorNational: connector },
      buckets: {},
      schedules: {},
      routes: [],
      eventSources: {},
      platforms: { national: hubCatalogue.platforms.national! },
    };
    expect(() => checkCatalogue(alone)).not.toThrow();
    expect(() => new HubStack(app(cdkContext), 'BadEnvironment', { catalogue: alone })).toThrow(/sets HUB_DELIVERIES_TABLE, which the stack sets/);
  });
});
