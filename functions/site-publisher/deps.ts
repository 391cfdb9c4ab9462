/**
 * What the site publisher works with, built once per container from its environment (the catalogue's names): the
 * site-pages table (the site's index and page hashes), the site bucket, the records table (heads, for a full run),
 * the jobs table (publish runs, the site's lease) and itself (a run's continuation).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { buckets, functionNameEnvVar } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { s3 } from '../../shared/aws/s3-client.js';
import { tableName } from '../../shared/config.js';
import { DynamoJobLeases } from '../../shared/jobs/job-lease.js';
import { LambdaRunStarter } from '../../shared/jobs/run-starter.js';
import { DynamoRunsStore } from '../../shared/jobs/runs-store.js';
import { logger } from '../../shared/logger.js';
import { DynamoHeadsScan } from '../../shared/site-publishing/heads-scan.js';
import { publishRunLimits, type PublishRunDeps } from '../../shared/site-publishing/publish-run.js';
import { publishRuns } from '../../shared/site-publishing/publish-run-model.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { S3SiteBucket } from '../../shared/site-publishing/site-bucket.js';
import { DynamoSiteIndex } from '../../shared/site-publishing/site-index-store.js';
import type { StreamPublisherDeps } from '../../shared/site-publishing/stream-publisher.js';
import { requiredEnv } from '../../shared/upward/environment.js';

type Ports = Omit<PublishRunDeps, 'remainingMs'> & StreamPublisherDeps;
let ports: Ports | undefined;

function publisherPorts(): Ports {
  if (!ports) {
    const self = new LambdaRunStarter(lambda(), requiredEnv(functionNameEnvVar('sitePublisher')));
    ports = {
      index: new DynamoSiteIndex(dynamo(), tableName('sitePages')),
      bucket: new S3SiteBucket(s3(), requiredEnv(buckets.site.envVar)),
      model: siteModel,
      runs: publishRuns(new DynamoRunsStore(dynamo(), tableName('jobs'))),
      leases: new DynamoJobLeases(dynamo(), tableName('jobs')),
      heads: new DynamoHeadsScan(dynamo(), tableName('records')),
      continueLater: (event) => self.start(event),
      limits: publishRunLimits,
      leaseMs: publishRunLimits.leaseMs,
      now: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      newToken: randomUUID,
      log: (message, fields) => logger.info(message, fields),
    };
  }
  return ports;
}

/** The publisher's dependencies for one invocation. */
export function publisherDeps(context: Pick<Context, 'getRemainingTimeInMillis'>): Ports & Pick<PublishRunDeps, 'remainingMs'> {
  return { ...publisherPorts(), remainingMs: () => context.getRemainingTimeInMillis() };
}
