/**
 * The court-batch benchmark's reading of the stack's output (bench/court-batches.ts ingestFigures): the ingest's
 * peak memory from its REPORT lines, with or without the local stack's CPU Time field, and its units from its own
 * log lines, for one batch only.
 */
import { describe, expect, it } from 'vitest';
import { ingestFigures } from '../../bench/court-batches.js';

const output = [
  '[hub] REPORT credit-hub-batchIngest RequestId: r1\tDuration: 900.1 ms\tMemory Size: 512 MB\tMax Memory Used: 201 MB',
  '[hub] REPORT credit-hub-batchIngest RequestId: r2\tDuration: 950.0 ms\tMemory Size: 512 MB\tMax Memory Used: 243 MB\tCPU Time: 812.50 ms',
  '[hub] REPORT credit-hub-submissions RequestId: r3\tDuration: 10.0 ms\tMemory Size: 1024 MB\tMax Memory Used: 999 MB\tCPU Time: 1.00 ms',
  '{"level":"INFO","message":"batch ingest","batch":"b1","writeUnits":300,"transactWriteUnits":100,"readUnits":2}',
  '{"level":"INFO","message":"batch ingest","batch":"b1","writeUnits":30,"transactWriteUnits":0,"readUnits":1}',
  '{"level":"INFO","message":"batch ingest","batch":"b2","writeUnits":7,"transactWriteUnits":0,"readUnits":1}',
].join('\n');

describe('court-batch benchmark figures', () => {
  it('takes the ingest’s peak from its REPORT lines, whether or not they end with CPU Time', () => {
    expect(ingestFigures(output, 'b1')).toMatchObject({ peakRssMb: 243 });
  });

  it('adds up the units of the batch asked for, and counts its invocations', () => {
    expect(ingestFigures(output, 'b1')).toMatchObject({ invocations: 2, writeUnits: 330, transactWriteUnits: 100, readUnits: 3 });
    expect(ingestFigures(output, 'b2')).toMatchObject({ invocations: 1, writeUnits: 7 });
  });
});
