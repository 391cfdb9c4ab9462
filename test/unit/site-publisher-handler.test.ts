/**
 * The site publisher's handler (functions/site-publisher/): what starts it — a stream batch, a publish run (from the
 * jobs function or its own continuation), the daily schedule — each reaching its path, and anything else logged and
 * dropped (sending it again would not help).
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { publisherRequest } from '../../functions/site-publisher/events.js';
import { sitePublisherHandler } from '../../functions/site-publisher/handler.js';
import { publishRunLimits } from '../../shared/site-publishing/publish-run.js';
import { siteModel } from '../../shared/site-publishing/render-model.js';
import { MemoryLeases, MemoryPublishRuns, MemorySiteBucket, MemorySiteIndex } from '../support/memory-site.js';

const context = { getRemainingTimeInMillis: () => 600_000 } as Context;

function handler() {
  const runs = new MemoryPublishRuns();
  const bucket = new MemorySiteBucket();
  const deps = {
    index: new MemorySiteIndex(),
    bucket,
    model: siteModel,
    runs,
    leases: new MemoryLeases(),
    heads: { scan: async () => ({ heads: [] }), setQueue: async () => false },
    continueLater: async () => undefined,
    limits: publishRunLimits,
    leaseMs: publishRunLimits.leaseMs,
    now: () => new Date(),
    remainingMs: () => 600_000,
    sleep: async () => undefined,
    newToken: () => 'token',
  };
  return { runs, bucket, handle: sitePublisherHandler(() => deps) };
}

describe('what starts the site publisher', () => {
  it('tells a stream batch, a run, a schedule and anything else apart', () => {
    expect(publisherRequest({ Records: [] })).toMatchObject({ kind: 'stream' });
    expect(publisherRequest({ runId: 'run_3k7vq2m5xw4hyb6tzr2a7nc4de' })).toEqual({ kind: 'run', runId: 'run_3k7vq2m5xw4hyb6tzr2a7nc4de', continued: false });
    expect(publisherRequest({ runId: 'run_3k7vq2m5xw4hyb6tzr2a7nc4de', continued: true })).toMatchObject({ continued: true });
    expect(publisherRequest({ job: 'publish' })).toEqual({ kind: 'schedule' });
    for (const other of [null, [], 'publish', { runId: '../x' }, { job: 'expire' }]) expect(publisherRequest(other)).toEqual({ kind: 'unknown' });
  });

  it('the daily schedule makes a run of its own and runs it to completed', async () => {
    const { runs, bucket, handle } = handler();
    const out = (await handle({ job: 'publish' }, context)) as { created: string; outcome: string };
    expect(out.outcome).toBe('completed');
    expect(runs.runs.get(out.created)).toMatchObject({ job: 'publish', status: 'completed', requestedBy: 'schedule' });
    expect(bucket.objects.has('index.html')).toBe(true);
  });

  it('a stream batch answers with its failed records only; an unknown event is dropped', async () => {
    const { handle } = handler();
    expect(await handle({ Records: [] }, context)).toEqual({ batchItemFailures: [] });
    expect(await handle({ something: 'else' }, context)).toEqual({});
  });
});
