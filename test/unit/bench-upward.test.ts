/**
 * The upward benchmark's arithmetic (bench/upward.ts): what it reads out of the stack's output (the handlers'
 * summary lines and the REPORT lines), how it prices the push's DynamoDB writes as AWS would, and the cost model.
 */
import { describe, expect, it } from 'vitest';
import { modelCost, PRICES, pushUnitsOnAws, upwardFigures } from '../../bench/upward.js';

const output = [
  '[hub] starting DynamoDB Local …',
  // A push of 100 new records: a conditional PutItem of 2 units per head, and the per-key counter's unit.
  '{"level":"INFO","message":"request","route":"POST /v1/submissions/{kind}","status":200,"readUnits":1,"writeUnits":201,"transactWriteUnits":0}',
  '{"level":"INFO","message":"request","route":"GET /v1/sources","status":200}',
  '{"level":"INFO","message":"fan-out","records":100,"created":200,"readUnits":0,"writeUnits":600,"transactWriteUnits":0,"requests":{"DynamoDB.PutItem":200,"SQS.SendMessageBatch":20,"SQS.SendMessageBatch.extra64KB":2}}',
  '{"level":"INFO","message":"connector","platform":"provincial","messages":10,"messageBytes":200000,"records":10,"readUnits":20,"writeUnits":30,"transactWriteUnits":0,"requests":{"DynamoDB.GetItem":20,"DynamoDB.UpdateItem":10}}',
  '{"level":"INFO","message":"connector","platform":"national","messages":10,"messageBytes":1000,"records":9,"dead-lettered":1,"readUnits":20,"writeUnits":30,"transactWriteUnits":0,"requests":{"DynamoDB.GetItem":20,"DynamoDB.UpdateItem":10,"SQS.SendMessage":1}}',
  '[hub] REPORT credit-hub-connectorNational RequestId: r1\tDuration: 99.2 ms\tMemory Size: 512 MB\tMax Memory Used: 120 MB',
  '[hub] REPORT credit-hub-connectorNational RequestId: r2\tDuration: 100.0 ms\tMemory Size: 512 MB\tMax Memory Used: 120 MB\tCPU Time: 31.25 ms',
  '{"level":"INFO","message":"connector","platform":"prov',
].join('\n');

describe('upward benchmark figures', () => {
  const f = upwardFigures(output);

  it('adds up the summary lines per step, the requests per operation and the deliveries per platform', () => {
    expect(f.units.push).toEqual({ lines: 1, readUnits: 1, writeUnits: 201, transactWriteUnits: 0 });
    expect(f.units.fanout).toEqual({ lines: 1, readUnits: 0, writeUnits: 600, transactWriteUnits: 0 });
    expect(f.units.connector).toEqual({ lines: 2, readUnits: 40, writeUnits: 60, transactWriteUnits: 0 });
    expect(f.requests).toEqual({ 'DynamoDB.PutItem': 200, 'SQS.SendMessageBatch': 20, 'SQS.SendMessageBatch.extra64KB': 2, 'DynamoDB.GetItem': 40, 'DynamoDB.UpdateItem': 20, 'SQS.SendMessage': 1 });
    expect(f.delivered).toEqual({ provincial: 10, national: 9 });
    // 200,000 bytes received in one batch: four 64 KB chunks, three past the first; 1,000 bytes: none.
    expect(f.receiveExtraChunks).toBe(3);
  });

  it('counts invocations and their billed durations (each rounded up to the millisecond) from the REPORT lines', () => {
    expect(f.invocations).toEqual({ connectorNational: 2 });
    expect(f.durationMs).toEqual({ connectorNational: 200 });
    // The local stack's CPU Time, where the line has it.
    expect(f.cpuMs).toEqual({ connectorNational: 31.25 });
  });

  it('prices the push as AWS would: a new record’s head at its plain units as reported, one eventually consistent read per record', () => {
    expect(pushUnitsOnAws(f.units.push, { created: 100, updated: 0 }, 2)).toEqual({ readUnits: 50, writeUnits: 100 * 2 + 1 });
  });

  it('prices an update’s two items (head and old version) at twice their plain units, in place of DynamoDB Local’s per-request figure', () => {
    // 10 updates in one transaction, reported per request (8 units), and the per-key counter's unit.
    const push = { lines: 1, readUnits: 1, writeUnits: 9, transactWriteUnits: 8 };
    expect(pushUnitsOnAws(push, { created: 0, updated: 10 }, 2)).toEqual({ readUnits: 5, writeUnits: 1 + 10 * 2 * (2 * 2) });
    // New records and updates in the same pushes: the creates' reported units stay, the transactions are repriced.
    const mixed = { lines: 2, readUnits: 2, writeUnits: 201 + 9, transactWriteUnits: 8 };
    expect(pushUnitsOnAws(mixed, { created: 100, updated: 10 }, 2)).toEqual({ readUnits: 55, writeUnits: 201 + 1 + 80 });
  });

  it('models each cost per million from the counts and the prices', () => {
    const lines = modelCost(f, 100, { requests: 1, bytes: 1000, plainUnitsPerHead: 2 });
    const cost = (what: string) => lines.find((l) => l.what === what)!.perMillion;
    // (201 push + 600 fan-out + 60 connector write units) / 100 records, a million times.
    expect(cost('DynamoDB writes')).toBeCloseTo((861 / 100) * 1e6 * PRICES.dynamoWriteUnit, 6);
    expect(cost('DynamoDB reads')).toBeCloseTo((90 / 100) * 1e6 * PRICES.dynamoReadUnit, 6);
    // 23 SQS requests of the handlers (a send over 64 KB counting one per chunk), 2 per connector invocation for
    // Lambda's pollers, and 3 for a receive of more than 64 KB.
    expect(cost('SQS')).toBeCloseTo((30 / 100) * 1e6 * PRICES.sqsRequest, 6);
    expect(cost('Lambda duration')).toBeCloseTo((0.2 * 0.5) / 100 * 1e6 * PRICES.lambdaGbSecond, 6);
    expect(cost('API Gateway')).toBeCloseTo((1 / 100) * 1e6 * PRICES.httpApiRequest, 6);
    expect(cost('S3')).toBe(0);
  });
});
