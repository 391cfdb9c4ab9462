/**
 * The site publisher (shared/site-publishing/) on Lambda, the only writer of the site bucket, started three ways
 * (events.ts): by the records table's change stream (each change publishes or unpublishes at once, only the pages it
 * touches: stream-publisher.ts), by a publish run (`POST /v1/jobs/publish`, its own continuation: publish-run.ts) and
 * by the daily schedule (a run of its own, which catches periods that began or ended by the date alone).
 *
 * A stream batch answers with its failed records (reportBatchItemFailures); a run throws only when AWS fails it
 * (Lambda tries the event again, and that try resumes the run from its checkpoint). One summary line per invocation:
 * counts and the AWS requests made, never a record's content.
 */
import type { Context } from 'aws-lambda';
import { usageMark, usageSince } from '../../shared/aws/request-meter.js';
import { newRunId } from '../../shared/jobs/run-model.js';
import { logger } from '../../shared/logger.js';
import { runPublish, type PublishRunDeps } from '../../shared/site-publishing/publish-run.js';
import { newPublishRun } from '../../shared/site-publishing/publish-run-model.js';
import { publishStream, type StreamPublisherDeps } from '../../shared/site-publishing/stream-publisher.js';
import { publisherDeps } from './deps.js';
import { publisherRequest } from './events.js';

export function sitePublisherHandler(makeDeps: (context: Context) => PublishRunDeps & StreamPublisherDeps) {
  return async (event: unknown, context: Context) => {
    const request = publisherRequest(event);
    const mark = usageMark();
    switch (request.kind) {
      case 'stream': {
        const { batchItemFailures, ...report } = await publishStream(request.event, makeDeps(context), context);
        const line = { ...report, ...usageSince(mark) };
        if (report.failed > 0) logger.warn('site publisher: changes', line);
        else logger.info('site publisher: changes', line);
        return { batchItemFailures };
      }
      case 'run': {
        const outcome = await runPublish({ runId: request.runId, continued: request.continued }, makeDeps(context));
        logger.info('site publisher: run', { runId: request.runId, outcome, ...usageSince(mark) });
        return { outcome };
      }
      case 'schedule': {
        const deps = makeDeps(context);
        const run = newPublishRun({ runId: newRunId(), requestedBy: 'schedule', now: deps.now() });
        await deps.runs.create(run);
        const outcome = await runPublish({ runId: run.runId }, deps);
        logger.info('site publisher: scheduled run', { runId: run.runId, outcome, ...usageSince(mark) });
        return { created: run.runId, outcome };
      }
      case 'unknown':
        logger.error('site publisher: an event it does not take', { keys: typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 10) : typeof event });
        return {};
    }
  };
}

export const handler = sitePublisherHandler((context) => publisherDeps(context));
