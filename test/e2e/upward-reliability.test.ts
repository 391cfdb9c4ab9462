/**
 * Issue 8, "Reliability tests": the upward path of the local stack (records stream → fan-out → deliveries table
 * and one SQS queue per platform → connectors → platforms) against two platforms that misbehave, over HTTP, in
 * this test process (test/support/fake-platform.ts): about 35% of requests answered 500, 15% held past the
 * connectors' timeout (the package kept, the answer too late), and a poison record refused 400.
 *
 * - every good record version a source pushed arrives at both platforms, in packages of many
 *   (docs/upward-packages.md); each version accepted under exactly one Idempotency-Key, every retry of a key with
 *   the identical body, no version kept twice; the package holding the poison record is refused whole and split
 *   until the poison record is alone, which is `failed` (in the deliveries table and on GET /v1/records/{id}) and
 *   in each platform's dead-letter queue, alone, and every other record arrives;
 * - a duplicate SQS message for a package already delivered produces no request to the platform;
 * - the push's, the fan-out's and the connectors' summary log lines carry what each invocation cost on AWS
 *   (DynamoDB units, requests per operation: what bench/upward.ts adds up);
 * - SIGKILL of the stack in the middle of a stream of pushes, then a start on the same data folder: every version
 *   acknowledged by the push API (unanswered pushes sent again with their Idempotency-Key) arrives at both
 *   platforms exactly once, none lost, none doubled.
 *
 * To keep it to a few minutes, the stack runs with the test settings of the upward path (never set on AWS): a
 * platform request times out after 2 s (HUB_PLATFORM_TIMEOUT_SECONDS, instead of 10), a message given back to a
 * queue comes again after 60 s (HUB_SQS_VISIBILITY_SECONDS, instead of 6 minutes) — or sooner: one put off by its
 * connector (the platform unavailable) comes again after 5 × 2^receives seconds (HUB_REDELIVERY_BASE_SECONDS,
 * instead of 30) — and the sweep queues again whatever is owed and was queued more than a second before
 * (HUB_REQUEUE_AFTER_SECONDS, instead of 15 minutes). The faults are drawn from a seed per key and attempt (UPWARD_RELIABILITY_SEED, 8 by default).
 * `hub dlq redrive` of the poison record is the DLQ test's (issue 8, operations), not repeated here.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platforms as cataloguePlatforms, queues, tables, type PlatformName } from '../../infra/catalogue.js';
import { inlineVersionsFor } from '../../shared/upward/inline-versions.js';
import { decodeRefs, leafFor, messageBody, type PackageDelivery } from '../../shared/upward/package-model.js';
import { LOCAL_REGION, readDataFolderCredentials } from '../../infra/local/dynamodb-local.js';
import { localSqsClientConfig } from '../../infra/local/sqs-local.js';
import { canonicalRecord, type PushingSource, type RecordRef } from '../support/canonical-records.js';
import { startFakePlatform, type FakePlatform } from '../support/fake-platform.js';
import { SOURCE_USCC } from '../support/fixtures.js';
import { getRecord, pause, pushOnce, registerSource, RETRIED_STATUSES, RETRY_PAUSE_MS, type Answer, type PushResult } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';
import { seededRandom } from '../support/seeded-random.js';
import { dynamoEndpointOf } from '../support/stack-records-table.js';

const SEED = Number(process.env.UPWARD_RELIABILITY_SEED ?? 8);
const seedNote = `(UPWARD_RELIABILITY_SEED=${SEED})`;
const TIMEOUT_SECONDS = 2;
/**
 * The queues' visibility timeout: the connectors' own timeout (60 s), so that no message is handed out again while
 * an invocation still holds it (a connector batch meeting hangs and 500s on a busy machine takes well over 15 s).
 */
const VISIBILITY_SECONDS = 60;
/**
 * Records travel in packages of up to 100 (docs/upward-packages.md), so the first test makes a few dozen requests
 * per platform, not hundreds: the fault shares are high enough that every kind of fault happens among them.
 */
const FAULTS = { failShare: 0.35, hangShare: 0.15, hangMs: (TIMEOUT_SECONDS + 1) * 1000 };
const POISON = 'POISON-PILL';
/** The first test: new records in requests of `perRequest`, then updates of some of them, pushed at once. */
const FIRST = { records: 120, perRequest: 30, updates: 40 };
/**
 * The SIGKILL test: clients pushing requests of new records and updates (a pause between requests: a stream, not a
 * flood the fan-out would take minutes to work through), killed after `killAfter` answers once `deliveredBeforeKill`
 * packages of theirs reached each platform.
 */
const KILL = { clients: 3, perRequest: 10, pauseMs: 500, updateShare: 0.3, killAfter: 6, deliveredBeforeKill: 5, records: 240 };
/** How long everything owed may take to arrive. */
const ARRIVAL_MS = 150_000;
const PLATFORMS = Object.keys(cataloguePlatforms) as PlatformName[];

const dept: PushingSource = { id: 'upward-dept', name: '市场监督管理局', uscc: SOURCE_USCC };

/** A record version: `<record id>#<version>`. */
const versionKey = (recordId: string, version: number) => `${recordId}#${version}`;
const firstFew = (problems: string[], n = 20) => (problems.length > n ? [...problems.slice(0, n), `… and ${problems.length - n} more`] : problems);

/** What the pushes stored, from their answers: each record's versions (accepted: 1, updated: one more). */
class Versions {
  readonly final = new Map<string, number>();
  applyAnswer(answer: Answer<PushResult>): void {
    for (const r of answer.body.results) {
      if (!r.id) continue;
      if (r.status === 'accepted') this.final.set(r.id, 1);
      else if (r.status === 'updated') this.final.set(r.id, (this.final.get(r.id) ?? 0) + 1);
    }
  }
}

/** A record version's delivery to a platform, as the deliveries table holds it: the part of its package that carries it. */
interface VersionDelivery {
  recordId: string;
  version: number;
  platform: PlatformName;
  state: string;
  failedReason?: string;
  delivery: PackageDelivery;
}

/** Every claimed version's delivery to each platform, from a scan of the deliveries table (claims, bodies, deliveries). */
async function scanDeliveries(stack: StackProcess, dataDir: string): Promise<VersionDelivery[]> {
  const client = new DynamoDBClient({ endpoint: dynamoEndpointOf(stack.output()), region: LOCAL_REGION, credentials: readDataFolderCredentials(dataDir) });
  const doc = DynamoDBDocumentClient.from(client);
  const items: Record<string, any>[] = [];
  try {
    let start: Record<string, any> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tables.deliveries.localName, ConsistentRead: true, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  const bodies = new Map(items.filter((i) => i.sk === 'BODY').map((i) => [String(i.key), decodeRefs(String(i.refs ?? ''))]));
  const deliveriesOf = new Map<string, PackageDelivery[]>();
  for (const i of items) if (String(i.pk).startsWith('PKG#') && i.sk !== 'BODY') deliveriesOf.set(String(i.key), [...(deliveriesOf.get(String(i.key)) ?? []), i as PackageDelivery]);
  const found: VersionDelivery[] = [];
  for (const claim of items.filter((i) => String(i.sk).startsWith('V#'))) {
    const index = (bodies.get(String(claim.key)) ?? []).findIndex((r) => r.recordId === claim.recordId && r.version === claim.version);
    for (const platform of PLATFORMS) {
      const delivery = index < 0 ? undefined : leafFor((deliveriesOf.get(String(claim.key)) ?? []).filter((d) => d.platform === platform), index);
      if (delivery) found.push({ recordId: String(claim.recordId), version: Number(claim.version), platform, state: delivery.state, ...(delivery.failedReason ? { failedReason: delivery.failedReason } : {}), delivery });
    }
  }
  return found;
}

function sqsClient(stack: StackProcess, dataDir: string): SQSClient {
  const endpoint = /SQS \(fauxqs\):\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stack.output())?.[1];
  if (!endpoint) throw new Error('the stack did not say where its SQS emulator is');
  return new SQSClient(localSqsClientConfig({ endpoint, region: LOCAL_REGION, credentials: readDataFolderCredentials(dataDir) }));
}

async function queueUrl(client: SQSClient, name: keyof typeof queues): Promise<string> {
  return (await client.send(new GetQueueUrlCommand({ QueueName: queues[name].localName }))).QueueUrl!;
}

/** Checks `problems` until it finds none, or fails with what it still finds after `timeoutMs`. */
async function waitFor(what: string, problems: () => Promise<string[]> | string[], timeoutMs = ARRIVAL_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await problems();
    if (found.length === 0) return;
    if (Date.now() > deadline) expect(firstFew(found), `${what}, still after ${timeoutMs / 1000} s ${seedNote}`).toEqual([]);
    await pause(500);
  }
}

/**
 * What must hold of everything a platform was sent: each key always with the same body, each version accepted
 * under one key only (a package refused whole delivered nothing: its versions go on in its parts, under keys of
 * their own), each version kept once, no package the platform found malformed or conflicting, and no version the
 * pushes never made (an update applied twice would show as one).
 */
function platformInvariants(platform: FakePlatform, pushed: ReadonlyMap<string, number>): string[] {
  const problems: string[] = [];
  const bodies = new Map<string, Set<string>>();
  const keysOfVersion = new Map<string, Set<string>>();
  for (const r of platform.requests()) {
    if (r.answer === 'invalid' || r.answer === 'conflict') problems.push(`${platform.name}: key ${r.key} answered ${r.answer}`);
    bodies.set(r.key, (bodies.get(r.key) ?? new Set()).add(r.bodySha256));
    if (r.answer === 'refused') continue;
    for (const v of r.versions) {
      const k = versionKey(v.recordId, v.version);
      keysOfVersion.set(k, (keysOfVersion.get(k) ?? new Set()).add(r.key));
    }
  }
  for (const [key, hashes] of bodies) if (hashes.size !== 1) problems.push(`${platform.name}: key ${key} sent with ${hashes.size} different bodies`);
  for (const [version, keys] of keysOfVersion) if (keys.size !== 1) problems.push(`${platform.name}: version ${version} accepted under ${keys.size} keys`);
  const kept = new Map<string, number>();
  for (const p of platform.accepted().values()) {
    for (const v of p.versions) {
      const k = versionKey(v.recordId, v.version);
      kept.set(k, (kept.get(k) ?? 0) + 1);
      const final = pushed.get(v.recordId);
      if (final !== undefined && v.version > final) problems.push(`${platform.name}: version ${k} kept, but the pushes made only ${final}`);
    }
  }
  for (const [k, n] of kept) if (n !== 1) problems.push(`${platform.name}: version ${k} kept ${n} times`);
  return problems;
}

/** The final version of each record not yet kept by each platform. */
function missingFinals(platformsNow: readonly FakePlatform[], finals: ReadonlyMap<string, number>, except: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  for (const platform of platformsNow) {
    const kept = new Set([...platform.accepted().values()].flatMap((p) => p.versions.map((v) => versionKey(v.recordId, v.version))));
    for (const [id, version] of finals) if (!except.has(id) && !kept.has(versionKey(id, version))) problems.push(`${platform.name}: ${versionKey(id, version)} not arrived`);
  }
  return problems;
}

/** Versions of these records still owed (pending), or in a state they cannot be in: every version travels, in its package. */
function unsettled(deliveries: readonly VersionDelivery[], finals: ReadonlyMap<string, number>, poison: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const d of deliveries) {
    const final = finals.get(d.recordId);
    if (final === undefined) continue;
    const name = `${d.platform} ${versionKey(d.recordId, d.version)}`;
    if (poison.has(d.recordId)) {
      if (d.state !== 'failed') problems.push(`${name} (poison): ${d.state}`);
    } else if (d.state !== 'delivered') problems.push(`${name} (final ${final}): ${d.state}`);
  }
  for (const [id, final] of finals) {
    for (const platform of PLATFORMS) {
      for (let v = 1; v <= final; v++) if (!deliveries.some((d) => d.recordId === id && d.version === v && d.platform === platform)) problems.push(`${platform} ${versionKey(id, v)}: no delivery`);
    }
  }
  return problems;
}

/** The connectors' log lines (one per invocation) summed: how many messages found their delivery settled already. */
function settledMessages(output: string): number {
  let settled = 0;
  for (const line of output.split('\n')) {
    if (!line.includes('"message":"connector"') || !line.trimEnd().endsWith('}')) continue;
    settled += (JSON.parse(line.slice(line.indexOf('{'))) as { settled?: number }).settled ?? 0;
  }
  return settled;
}

/** How a platform's requests were answered, for the run's summary line. */
function faultSummary(platform: FakePlatform): string {
  const tally = new Map<string, number>();
  for (const r of platform.requests()) tally.set(r.answer, (tally.get(r.answer) ?? 0) + 1);
  return `${platform.name}: ${platform.requests().length} requests (${[...tally].map(([a, n]) => `${n} ${a}`).join(', ')})`;
}

describe('upward delivery to platforms that fail, hang and refuse', () => {
  const dataDir = tempDataDir('hub-upward-');
  const operatorKey = `hub_${randomUUID()}`;
  let provincial: FakePlatform;
  let national: FakePlatform;
  let stack: StackProcess;
  let env: Record<string, string>;
  /** Every record pushed by any test, with its final version. */
  const pushed = new Map<string, number>();
  const poison = new Set<string>();

  beforeAll(async () => {
    provincial = await startFakePlatform({ name: 'provincial', seed: SEED, ...FAULTS, poison: POISON });
    national = await startFakePlatform({ name: 'national', seed: SEED + 1, ...FAULTS, poison: POISON });
    env = {
      HUB_DATA_DIR: dataDir,
      HUB_OPERATOR_KEY: operatorKey,
      [cataloguePlatforms.provincial.urlEnvVar]: provincial.url,
      [cataloguePlatforms.national.urlEnvVar]: national.url,
      HUB_PLATFORM_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
      HUB_SQS_VISIBILITY_SECONDS: String(VISIBILITY_SECONDS),
      HUB_REQUEUE_AFTER_SECONDS: '1',
      HUB_REDELIVERY_BASE_SECONDS: '5',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    stack = await startStackProcess(env);
  });

  afterAll(async () => {
    await stack?.stop('SIGINT');
    await provincial?.close();
    await national?.close();
  });

  const both = () => [provincial, national];

  it('every good version arrives at both platforms under one key, retries resend the same body; the poison record is split out of its package into the DLQ alone, the others all arrive', async () => {
    expect(stack.output()).not.toContain('built-in receiver');
    const apiKey = await registerSource(stack.url, operatorKey, { ...dept, role: 'department', kinds: ['license'] });
    const random = seededRandom(SEED);
    const refs: RecordRef[] = Array.from({ length: FIRST.records }, (_, i) => ({ kind: 'license', tag: `up-${i}`, person: random.chance(0.2) }));
    const poisonRef: RecordRef = { kind: 'license', tag: POISON, person: false };
    const versions = new Versions();
    const send = async (records: Record<string, string>[]) => {
      const key = randomUUID();
      for (let attempt = 1; ; attempt++) {
        const answer = await pushOnce(stack.url, apiKey, 'license', JSON.stringify({ records }), key);
        if (!RETRIED_STATUSES.has(answer.status) || attempt >= 30) {
          expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
          expect(answer.body.rejected).toBe(0);
          return answer;
        }
        await pause(RETRY_PAUSE_MS);
      }
    };
    for (let i = 0; i < refs.length; i += FIRST.perRequest) {
      const records = refs.slice(i, i + FIRST.perRequest).map((ref) => canonicalRecord(dept, ref, 1));
      // The poison record rides in the middle of the second request, among good ones.
      if (i === FIRST.perRequest) records.splice(FIRST.perRequest / 2, 0, canonicalRecord(dept, poisonRef, 1));
      const answer = await send(records);
      versions.applyAnswer(answer);
      if (i === FIRST.perRequest) poison.add(answer.body.results[FIRST.perRequest / 2]!.id!);
    }
    // Updates pushed straight after: some first versions are still owed when their successor is stored.
    const updated = random.shuffle(refs).slice(0, FIRST.updates);
    for (let i = 0; i < updated.length; i += FIRST.perRequest) versions.applyAnswer(await send(updated.slice(i, i + FIRST.perRequest).map((ref) => canonicalRecord(dept, ref, 2))));
    expect(versions.final.size).toBe(FIRST.records + 1);
    expect([...versions.final.values()].filter((v) => v === 2)).toHaveLength(FIRST.updates);
    for (const [id, v] of versions.final) pushed.set(id, v);

    await waitFor('final versions not arrived at both platforms', () => missingFinals(both(), versions.final, poison));
    await waitFor('deliveries not settled', async () => unsettled(await scanDeliveries(stack, dataDir), versions.final, poison));

    // The faults happened: failures, hangs, retries of a key.
    process.stdout.write(`[upward-reliability] ${seedNote} ${both().map(faultSummary).join('; ')}\n`);
    // Counted over both platforms: a few dozen requests each (packages of up to 100), whose keys (and so whose
    // faults) depend on the stream's sequence numbers, which differ from run to run.
    const answers = both().flatMap((platform) => platform.requests().map((r) => r.answer));
    expect(answers.filter((a) => a === 'failed').length, `500s ${seedNote}`).toBeGreaterThanOrEqual(3);
    expect(answers.filter((a) => a === 'hung').length, `hung requests ${seedNote}`).toBeGreaterThan(0);
    for (const platform of both()) {
      expect(platform.requests().some((r) => r.attempt > 1), `${platform.name}: retries`).toBe(true);
      expect(firstFew(platformInvariants(platform, pushed)), `${platform.name} ${seedNote}`).toEqual([]);
      // The poison record was refused in every package that held it, never kept, and sent alone exactly once (never
      // retried); the package that held it was split, and its other records arrived in the parts.
      const sentPoison = platform.requests().filter((r) => r.versions.some((v) => poison.has(v.recordId)));
      expect(new Set(sentPoison.map((r) => r.answer))).toEqual(new Set(['refused']));
      expect(sentPoison.filter((r) => r.versions.length === 1)).toHaveLength(1);
      expect(sentPoison.some((r) => r.versions.length > 1), `${platform.name}: the poison record travelled in a package of several first`).toBe(true);
    }

    // Its deliveries are failed with the platform's refusal, in the table and on GET /v1/records/{id} for the
    // source that pushed it, and each platform's dead-letter queue holds it, alone.
    const [poisonId] = [...poison];
    const deliveries = await scanDeliveries(stack, dataDir);
    const poisonParts = new Map<PlatformName, PackageDelivery>();
    for (const platform of PLATFORMS) {
      const d = deliveries.find((x) => x.recordId === poisonId && x.platform === platform);
      expect(d).toMatchObject({ state: 'failed', failedReason: expect.stringMatching(/^HTTP 400/) });
      // The part that failed carries the poison record alone.
      expect(d!.delivery.to - d!.delivery.from).toBe(1);
      poisonParts.set(platform, d!.delivery);
    }
    const poisonView = await getRecord(stack.url, apiKey, poisonId!);
    expect(poisonView.status).toBe(200);
    for (const platform of PLATFORMS) expect(poisonView.body.delivery?.[platform]).toMatchObject({ state: 'failed', version: 1, reason: expect.stringMatching(/^HTTP 400/) });
    const [goodId, goodVersion] = [...versions.final].find(([id, v]) => !poison.has(id) && v === 2)!;
    const goodView = await getRecord(stack.url, apiKey, goodId);
    for (const platform of PLATFORMS) expect(goodView.body.delivery?.[platform]).toMatchObject({ state: 'delivered', version: goodVersion, deliveredAt: expect.any(String) });
    const sqs = sqsClient(stack, dataDir);
    try {
      for (const platform of PLATFORMS) {
        const url = await queueUrl(sqs, cataloguePlatforms[platform].deadLetterQueue);
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageAttributeNames: ['All'] }));
        // The failed part's message as the connector received it: maybe carrying the poison record's version alone.
        const bodies = (got.Messages ?? []).map((m) => JSON.parse(m.Body!) as { versions?: string });
        expect(bodies.map(({ versions: _, ...ref }) => ref)).toEqual([JSON.parse(messageBody(poisonParts.get(platform)!))]);
        if (bodies[0]!.versions !== undefined) expect(inlineVersionsFor(bodies[0]!.versions, [{ recordId: poisonId!, version: 1 }])).toBeDefined();
        expect(got.Messages![0]!.MessageAttributes?.reason?.StringValue).toMatch(/^HTTP 400/);
      }
    } finally {
      sqs.destroy();
    }
  }, 300_000);

  it('a duplicate SQS message for a package already delivered produces no request to the platform', async () => {
    expect(pushed.size).toBeGreaterThan(0);
    const all = await scanDeliveries(stack, dataDir);
    const requestsBefore = new Map(both().map((p) => [p.name, p.requests().length]));
    const settledBefore = settledMessages(stack.output());
    let sentDuplicates = 0;
    const sqs = sqsClient(stack, dataDir);
    try {
      for (const platform of PLATFORMS) {
        const url = await queueUrl(sqs, cataloguePlatforms[platform].queue);
        const delivered = [...new Map(all.filter((d) => d.platform === platform && d.state === 'delivered').map((d) => [messageBody(d.delivery), d])).keys()].slice(0, 3);
        expect(delivered.length).toBeGreaterThan(0);
        sentDuplicates += delivered.length * 2;
        const entries = delivered.map((body, i) => ({ Id: String(i), MessageBody: body }));
        // Each message twice, as SQS's at-least-once delivery may hand it out.
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [...entries, ...entries.map((e) => ({ ...e, Id: `${e.Id}-again` }))] }));
        expect(out.Successful).toHaveLength(entries.length * 2);
      }
      // Taken, found delivered, deleted: both queues empty again, and the connectors said so.
      await waitFor(
        'duplicate messages not consumed',
        async () => {
          const problems: string[] = [];
          for (const platform of PLATFORMS) {
            const url = await queueUrl(sqs, cataloguePlatforms[platform].queue);
            const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
            const left = Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
            if (left > 0) problems.push(`${platform}: ${left} messages left`);
          }
          const settled = settledMessages(stack.output()) - settledBefore;
          if (settled < sentDuplicates) problems.push(`connectors reported ${settled} settled messages`);
          return problems;
        },
        60_000,
      );
    } finally {
      sqs.destroy();
    }
    for (const platform of both()) expect(platform.requests().slice(requestsBefore.get(platform.name)), `${platform.name}: requests after the duplicates`).toEqual([]);
  }, 120_000);

  it('the summary lines of the push, the fan-out and the connectors say what each invocation cost on AWS', () => {
    const lines = stack
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.trimEnd().endsWith('}'))
      .map((l) => JSON.parse(l) as Record<string, any>);
    const pushes = lines.filter((l) => l.message === 'request' && l.route === 'POST /v1/submissions/{kind}' && l.status === 200);
    expect(pushes[0]).toMatchObject({ writeUnits: expect.any(Number), transactWriteUnits: expect.any(Number), readUnits: expect.any(Number) });
    expect(pushes[0]!.writeUnits).toBeGreaterThan(0);
    // Updates (two items each) go in transactions; new records alone do not.
    expect(pushes.some((l) => l.transactWriteUnits > 0)).toBe(true);
    const fanout = lines.find((l) => l.message === 'fan-out' && l.created > 0);
    expect(fanout?.writeUnits).toBeGreaterThan(0);
    // A claim per version in its packages, a body and a delivery per platform per package.
    expect(fanout?.requests['DynamoDB.PutItem']).toBeGreaterThanOrEqual(fanout!.refs + fanout!.created);
    expect(fanout?.requests['SQS.SendMessageBatch']).toBeGreaterThan(0);
    const connector = lines.find((l) => l.message === 'connector' && l.delivered > 0);
    expect(connector?.readUnits).toBeGreaterThan(0);
    expect(connector?.writeUnits).toBeGreaterThan(0);
    // Per message: its delivery and its body (GetItem); its record versions come in the message (inline-versions.ts),
    // and are read (BatchGetItem) only for a message without them (queued by the sweep).
    expect(connector?.requests['DynamoDB.GetItem']).toBeGreaterThanOrEqual(2 * connector!.delivered);
    const connectors = lines.filter((l) => l.message === 'connector');
    const carried = connectors.filter((l) => l.delivered > 0 && l.versionsRead === 0);
    expect(carried.length).toBeGreaterThan(0);
    for (const l of carried) expect(l.requests['DynamoDB.BatchGetItem'] ?? 0).toBe(0);
    for (const l of connectors.filter((x) => x.versionsRead > 0)) expect(l.requests['DynamoDB.BatchGetItem']).toBeGreaterThan(0);
    expect(connectors.reduce((n, l) => n + l.versionsRead, 0)).toBeLessThan(connectors.reduce((n, l) => n + l.records, 0));
    const refused = lines.find((l) => l.message === 'connector' && l['dead-lettered'] > 0);
    expect(refused?.requests['SQS.SendMessage']).toBeGreaterThan(0);
  });

  it('SIGKILL of the stack in the middle of a stream of pushes, then a start on the same data folder: every acknowledged version arrives at both platforms exactly once', async () => {
    const random = seededRandom(SEED + 2);
    const from: PushingSource = { id: 'kill-dept', name: '市场监督管理局', uscc: SOURCE_USCC };
    const apiKey = await registerSource(stack.url, operatorKey, { ...from, role: 'department', kinds: ['license'] });
    const versions = new Versions();
    let url = stack.url;
    let up: Promise<void> = Promise.resolve();
    let answered = 0;
    let unanswered = 0;
    let sent = 0;
    let killed = false;
    /** Push requests sent and not yet answered (the kill waits for one, so that it cuts a push short). */
    let inFlight = 0;
    let tags = 0;
    /** Per client: its records that are not in a request still unanswered (those alone may be updated, so versions follow in order). */
    const settledRefs: { ref: RecordRef; variant: number }[][] = Array.from({ length: KILL.clients }, () => []);

    /** Sends a request until it is answered: again after the restart when no answer came, a little later after 409, 429 or 503. */
    const deliver = async (body: string, key: string): Promise<Answer<PushResult>> => {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        await up;
        inFlight++;
        try {
          const answer = await pushOnce(url, apiKey, 'license', body, key);
          if (!RETRIED_STATUSES.has(answer.status)) return answer;
        } catch {
          unanswered++;
        } finally {
          inFlight--;
        }
        await pause(RETRY_PAUSE_MS / 4);
      }
      throw new Error(`push ${key} was never answered ${seedNote}`);
    };
    const client = async (c: number) => {
      while (sent < KILL.records || !killed) {
        const mine = settledRefs[c]!;
        const batch: { ref: RecordRef; variant: number }[] = [];
        for (let i = 0; i < KILL.perRequest; i++) {
          if (mine.length > 0 && random.chance(KILL.updateShare)) {
            const [entry] = mine.splice(random.int(0, mine.length - 1), 1);
            batch.push({ ref: entry!.ref, variant: entry!.variant + 1 });
          } else batch.push({ ref: { kind: 'license', tag: `kill-${c}-${tags++}`, person: random.chance(0.2) }, variant: 1 });
        }
        sent += batch.length;
        const answer = await deliver(JSON.stringify({ records: batch.map((b) => canonicalRecord(from, b.ref, b.variant)) }), randomUUID());
        expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
        expect(answer.body.rejected).toBe(0);
        versions.applyAnswer(answer);
        answered++;
        mine.push(...batch);
        await pause(KILL.pauseMs);
      }
    };

    const clients = Array.from({ length: KILL.clients }, (_, c) => client(c));
    // Killed once pushes have been answered and the connectors are delivering this source's records to both platforms.
    const arrivedFromThisSource = () => Math.min(...both().map((p) => [...p.accepted().values()].filter((a) => a.versions.some((v) => versions.final.has(v.recordId))).length));
    const killBy = Date.now() + 90_000;
    while (answered < KILL.killAfter || arrivedFromThisSource() < KILL.deliveredBeforeKill || inFlight === 0) {
      if (Date.now() > killBy) throw new Error(`no deliveries to kill in the middle of: ${answered} pushes answered, ${arrivedFromThisSource()} packages arrived ${seedNote}`);
      await pause(50);
    }
    // Kill while pushes are in flight and deliveries are owed: what the platforms hold now is less than what was acknowledged.
    let markUp = () => undefined as void;
    up = new Promise((r) => (markUp = r));
    const acknowledgedAtKill = new Map(versions.final);
    const arrivedAtKill = arrivedFromThisSource();
    const heldAtKill = both().map((p) => new Set([...p.accepted().values()].flatMap((x) => x.versions.map((v) => versionKey(v.recordId, v.version)))));
    expect(await stack.stop('SIGKILL')).toBe(null);
    killed = true;
    stack = await startStackProcess(env);
    url = stack.url;
    markUp();
    await Promise.all(clients);

    const owedAtKill = heldAtKill.map((held) => [...acknowledgedAtKill].filter(([id, v]) => !held.has(versionKey(id, v))).length);
    process.stdout.write(
      `[upward-reliability] kill: ${acknowledgedAtKill.size} records acknowledged at the kill, ${arrivedAtKill}+ packages of theirs delivered to each platform, ${owedAtKill.join(' / ')} not yet at the provincial / national platform; ` +
        `${unanswered} push attempts cut short; ${versions.final.size} records pushed in all\n`,
    );
    expect(unanswered, 'pushes cut short by the kill').toBeGreaterThan(0);
    expect(owedAtKill.every((n) => n > 0), `acknowledged versions not yet at each platform at the kill: ${owedAtKill.join(', ')}`).toBe(true);
    for (const [id, v] of versions.final) pushed.set(id, v);

    await waitFor('acknowledged versions not arrived after the restart', () => missingFinals(both(), versions.final));
    await waitFor('deliveries not settled after the restart', async () => unsettled(await scanDeliveries(stack, dataDir), versions.final, new Set()));
    // Exactly once, over everything both platforms were ever sent (the first tests' records included).
    process.stdout.write(`[upward-reliability] after the restart: ${both().map(faultSummary).join('; ')}\n`);
    for (const platform of both()) expect(firstFew(platformInvariants(platform, pushed)), `${platform.name} ${seedNote}`).toEqual([]);
  }, 300_000);
});
