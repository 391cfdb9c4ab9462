/**
 * What the DynamoDB calls of this container consumed, in capacity units: every
 * call that can say so is asked to (`ReturnConsumedCapacity: TOTAL`, free of
 * charge), and the units it reports are added up, reads apart from writes. A
 * handler reads the difference over its work and logs it: what the work costs
 * on DynamoDB on demand (a write unit per KB written, twice that in a
 * transaction; a read unit per 4 KB read strongly, half that eventually).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CapacityUnits {
  read: number;
  write: number;
  /** The part of `write` consumed by TransactWriteItems (DynamoDB Local reports these at twice AWS's price: README, Benchmarks). */
  transactWrite: number;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

const consumed: CapacityUnits = { read: 0, write: 0, transactWrite: 0 };

/** The units consumed by this container's DynamoDB calls so far. */
export function consumedCapacity(): CapacityUnits {
  return { ...consumed };
}

/** The units consumed since `before` (a consumedCapacity() taken earlier), rounded to a tenth. */
export function capacitySince(before: CapacityUnits): CapacityUnits {
  const round = (n: number) => Math.round(n * 10) / 10;
  return { read: round(consumed.read - before.read), write: round(consumed.write - before.write), transactWrite: round(consumed.transactWrite - before.transactWrite) };
}

type Consumption = { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;

function units(c: Consumption): number {
  if (!c) return 0;
  return (Array.isArray(c) ? c : [c]).reduce((n, x) => n + (x.CapacityUnits ?? 0), 0);
}

/** Asks every call of `client` for its consumed capacity and counts it. */
export function meterCapacity<T extends DynamoDBClient>(client: T): T {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      const counted = READS.has(command) ? 'read' : WRITES.has(command) ? 'write' : undefined;
      if (!counted) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const n = units((result.output as { ConsumedCapacity?: Consumption }).ConsumedCapacity);
      consumed[counted] += n;
      if (command === 'TransactWriteItemsCommand') consumed.transactWrite += n;
      return result;
    },
    { step: 'initialize', name: 'hubConsumedCapacity', override: true },
  );
  return client;
}
