import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../shared/batch/ingest-batch.js';
import { UPLOAD_GRACE_MS } from '../../shared/batch/sweep-batches.js';
import { BatchHarness, sampleFile } from '../support/batch-harness.js';

const harnesses: BatchHarness[] = [];
function harness() {
  const h = new BatchHarness();
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

const file = (await sampleFile({ rows: 120, format: 'ndjson', seed: 31 })).bytes;

describe('sweepBatches', () => {
  it('continues a processing batch whose worker died (lease expired), not one whose worker is alive', async () => {
    const h = harness();
    h.addBatch('dead', { format: 'ndjson' }, file);
    h.addBatch('alive', { format: 'ndjson' }, file);
    for (const id of ['dead', 'alive']) expect(await h.ingest(id, { remainingMs: () => 1000 })).toMatchObject({ outcome: 'continued' });
    h.continuer.asked.length = 0;
    // 'dead': a worker took it and vanished; 'alive': a worker holds it now.
    await h.store.takeLease('dead', 'vanished', h.clock + DEFAULT_LIMITS.leaseMs, h.clock);
    h.clock += DEFAULT_LIMITS.leaseMs + 1;
    await h.store.takeLease('alive', 'working', h.clock + DEFAULT_LIMITS.leaseMs, h.clock);
    expect(await h.sweep()).toEqual({ resumed: ['dead'], started: [], expired: [] });
    expect(h.continuer.asked).toEqual(['dead']);
  });

  it('continues a processing batch with no lease (its continuation was lost)', async () => {
    const h = harness();
    h.addBatch('b', { format: 'ndjson' }, file);
    await h.ingest('b', { remainingMs: () => 1000 });
    expect(h.batch('b').lease).toBeUndefined();
    expect((await h.sweep()).resumed).toEqual(['b']);
  });

  it('starts a waiting batch whose upload is there (its object-created event was lost)', async () => {
    const h = harness();
    h.addBatch('uploaded', { format: 'ndjson' }, file);
    h.addBatch('empty-handed', { format: 'ndjson' });
    expect(await h.sweep()).toEqual({ resumed: [], started: ['uploaded'], expired: [] });
    expect(await h.ingest('uploaded')).toMatchObject({ outcome: 'completed' });
  });

  it('fails a waiting batch never uploaded to, once its URL has expired and the grace period passed', async () => {
    const h = harness();
    const batch = h.addBatch('b', { format: 'ndjson' });
    h.clock = Date.parse(batch.expiresAt) + UPLOAD_GRACE_MS;
    expect((await h.sweep()).expired).toEqual([]);
    h.clock += 1;
    expect(await h.sweep()).toEqual({ resumed: [], started: [], expired: ['b'] });
    expect(h.batch('b')).toMatchObject({ status: 'failed', reason: `上传期限已过，未收到文件 (no file was uploaded before the upload URL expired at ${batch.expiresAt})` });
    expect(await h.sweep()).toEqual({ resumed: [], started: [], expired: [] });
  });

  it('leaves finished batches alone', async () => {
    const h = harness();
    h.addBatch('b', { format: 'ndjson' }, file);
    await h.ingest('b');
    h.clock += 10 * UPLOAD_GRACE_MS;
    expect(await h.sweep()).toEqual({ resumed: [], started: [], expired: [] });
  });
});
