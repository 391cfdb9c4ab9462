/**
 * What the sync runner works with, built once per container from its environment (the catalogue's names): the
 * jobs table (runs, leases, watermarks), the deliveries table (package deliveries by day and owed, bodies, marked
 * delivered), the records table (the versions' content), the exchange bucket, itself (its continuations), both
 * platforms' base URLs and the sender's USCC.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { buckets, functionNameEnvVar, platforms } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { s3 } from '../../shared/aws/s3-client.js';
import { fieldCipher, tableName } from '../../shared/config.js';
import { DynamoJobLeases } from '../../shared/jobs/job-lease.js';
import { LambdaRunStarter } from '../../shared/jobs/run-starter.js';
import { DynamoRunsStore } from '../../shared/jobs/runs-store.js';
import { DynamoWatermarks } from '../../shared/jobs/watermark-store.js';
import { logger } from '../../shared/logger.js';
import { DynamoDeliveryPages } from '../../shared/sync/delivery-pages.js';
import { S3PackageSegments } from '../../shared/sync/package-segments.js';
import { DynamoLeaseReader, type LeaseReader } from '../../shared/sync/resume-run.js';
import type { SyncDeps } from '../../shared/sync/run-sync.js';
import { syncLimits } from '../../shared/sync/sync-limits.js';
import { fetchSyncPost } from '../../shared/sync/sync-post.js';
import { requiredEnv } from '../../shared/upward/environment.js';
import { DynamoPackagesStore } from '../../shared/upward/packages-store.js';
import { DynamoRecordVersions } from '../../shared/upward/record-versions.js';
import { senderUscc } from '../../shared/upward/sender.js';

type Ports = Omit<SyncDeps, 'remainingMs'>;
let ports: Ports | undefined;
let sender: string | undefined;

function runnerPorts(): Ports {
  if (!ports) {
    const jobs = tableName('jobs');
    const starter = new LambdaRunStarter(lambda(), requiredEnv(functionNameEnvVar('syncRunner')));
    ports = {
      runs: new DynamoRunsStore(dynamo(), jobs),
      leases: new DynamoJobLeases(dynamo(), jobs),
      watermarks: new DynamoWatermarks(dynamo(), jobs),
      pages: new DynamoDeliveryPages(dynamo(), tableName('deliveries')),
      packages: new DynamoPackagesStore(dynamo(), tableName('deliveries')),
      versions: new DynamoRecordVersions(dynamo(), tableName('records')),
      cipher: fieldCipher,
      segments: new S3PackageSegments(s3(), requiredEnv(buckets.exchange.envVar)),
      post: fetchSyncPost,
      continueLater: (event) => starter.start(event),
      // Read when a run needs it: a platform without a URL fails its own runs, clearly, not the other's.
      baseUrl: (platform) => requiredEnv(platforms[platform].urlEnvVar),
      sender: () => (sender ??= senderUscc()),
      limits: syncLimits,
      now: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      newToken: randomUUID,
      log: (message, fields) => logger.info(message, fields),
    };
  }
  return ports;
}

/** The runner's dependencies for one invocation; `overrides` replace ports (tests). */
export function syncDeps(context: Pick<Context, 'getRemainingTimeInMillis'>, overrides: Partial<SyncDeps> = {}): SyncDeps {
  return { ...runnerPorts(), remainingMs: () => context.getRemainingTimeInMillis(), ...overrides };
}

let reader: LeaseReader | undefined;

/** The job leases as they stand, for a resume at local start. */
export function leaseReader(): LeaseReader {
  reader ??= new DynamoLeaseReader(dynamo(), tableName('jobs'));
  return reader;
}
