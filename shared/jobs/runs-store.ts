/**
 * Job runs in the `jobs` table: pk `RUN#<run id>`, sk `RUN` (run-model.ts). Every change is conditional on the
 * run's status (and, while it runs, on its checkpoint's `step`): a condition that no longer holds is `lost`,
 * never an error — another invocation got there first.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SyncCheckpoint, SyncCounts } from '../sync/sync-model.js';
import type { JobRun, RunStatus } from './run-model.js';

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });

export type Conditional = 'ok' | 'lost';

export interface RunStart {
  from: string;
  watermark?: string;
  startedAt: string;
  checkpoint: SyncCheckpoint;
}

export interface RunsStore {
  /** A new run; refuses an id already taken. */
  create(run: JobRun): Promise<void>;
  get(runId: string): Promise<JobRun | undefined>;
  /** Writes `run` over the stored one if that one is still waiting (the jobs function, which may only Put). */
  replaceWaiting(run: JobRun): Promise<Conditional>;
  /** One more invocation took the run: its attempts so far, or undefined when it is no longer waiting or running. */
  countAttempt(runId: string): Promise<number | undefined>;
  /** waiting → running, with its window's start and first checkpoint. */
  begin(runId: string, start: RunStart): Promise<Conditional>;
  /** Saves the checkpoint and counts if the stored checkpoint is at `previousStep`. */
  save(runId: string, previousStep: number, checkpoint: SyncCheckpoint, counts: SyncCounts): Promise<Conditional>;
  /** running → completed (checkpoint at `previousStep`). */
  complete(runId: string, previousStep: number, counts: SyncCounts, at: string): Promise<Conditional>;
  /** → failed with `reason`, if the run is in one of `from`. */
  fail(runId: string, reason: string, at: string, from: readonly RunStatus[]): Promise<Conditional>;
  /** Keeps the error an invocation stopped on (while the run is not finished). */
  noteError(runId: string, error: string): Promise<Conditional>;
}

/** DynamoDB reserves `status`, `from`, `to`. */
const NAMES = { '#status': 'status', '#checkpoint': 'checkpoint', '#step': 'step' };

function strip(item: Record<string, unknown>): JobRun {
  const { pk: _pk, sk: _sk, ...run } = item;
  return run as unknown as JobRun;
}

export class DynamoRunsStore implements RunsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(run: JobRun): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...runKey(run.runId), ...run }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async get(runId: string): Promise<JobRun | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: runKey(runId), ConsistentRead: true }));
    return out.Item ? strip(out.Item) : undefined;
  }

  async replaceWaiting(run: JobRun): Promise<Conditional> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...runKey(run.runId), ...run },
          ConditionExpression: '#status = :waiting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':waiting': 'waiting' },
        }),
      );
      return 'ok';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'lost';
      throw e;
    }
  }

  async countAttempt(runId: string): Promise<number | undefined> {
    try {
      const out = await this.#update(runId, {
        UpdateExpression: 'ADD attempts :one',
        ConditionExpression: '#status IN (:waiting, :running)',
        ExpressionAttributeValues: { ':one': 1, ':waiting': 'waiting', ':running': 'running' },
        ReturnValues: 'UPDATED_NEW',
      });
      return Number(out.Attributes?.attempts);
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }

  begin(runId: string, start: RunStart): Promise<Conditional> {
    return this.#conditional(runId, {
      UpdateExpression: `SET #status = :running, #from = :from, startedAt = :at, #checkpoint = :checkpoint${start.watermark !== undefined ? ', watermark = :watermark' : ''}`,
      ConditionExpression: '#status = :waiting',
      ExpressionAttributeNames: { '#from': 'from' },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':waiting': 'waiting',
        ':from': start.from,
        ':at': start.startedAt,
        ':checkpoint': start.checkpoint,
        ...(start.watermark !== undefined ? { ':watermark': start.watermark } : {}),
      },
    });
  }

  save(runId: string, previousStep: number, checkpoint: SyncCheckpoint, counts: SyncCounts): Promise<Conditional> {
    return this.#conditional(runId, {
      UpdateExpression: 'SET #checkpoint = :checkpoint, counts = :counts',
      ConditionExpression: '#status = :running AND #checkpoint.#step = :previous',
      ExpressionAttributeValues: { ':checkpoint': checkpoint, ':counts': counts, ':running': 'running', ':previous': previousStep },
    });
  }

  complete(runId: string, previousStep: number, counts: SyncCounts, at: string): Promise<Conditional> {
    return this.#conditional(runId, {
      UpdateExpression: 'SET #status = :completed, counts = :counts, finishedAt = :at',
      ConditionExpression: '#status = :running AND #checkpoint.#step = :previous',
      ExpressionAttributeValues: { ':completed': 'completed', ':counts': counts, ':at': at, ':running': 'running', ':previous': previousStep },
    });
  }

  fail(runId: string, reason: string, at: string, from: readonly RunStatus[]): Promise<Conditional> {
    const states = Object.fromEntries(from.map((s, i) => [`:from${i}`, s]));
    return this.#conditional(runId, {
      UpdateExpression: 'SET #status = :failed, reason = :reason, finishedAt = :at',
      ConditionExpression: `#status IN (${Object.keys(states).join(', ')})`,
      ExpressionAttributeValues: { ':failed': 'failed', ':reason': reason, ':at': at, ...states },
    });
  }

  noteError(runId: string, error: string): Promise<Conditional> {
    return this.#conditional(runId, {
      UpdateExpression: 'SET lastError = :error',
      ConditionExpression: '#status IN (:waiting, :running)',
      ExpressionAttributeValues: { ':error': error, ':waiting': 'waiting', ':running': 'running' },
    });
  }

  async #conditional(runId: string, update: Update): Promise<Conditional> {
    try {
      await this.#update(runId, update);
      return 'ok';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'lost';
      throw e;
    }
  }

  #update(runId: string, update: Update) {
    // Only the names an expression uses may be given.
    const expressions = `${update.UpdateExpression} ${update.ConditionExpression}`;
    const names = Object.fromEntries(Object.entries({ ...NAMES, ...update.ExpressionAttributeNames }).filter(([name]) => expressions.includes(name)));
    return this.db.send(new UpdateCommand({ TableName: this.table, Key: runKey(runId), ...update, ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}) }));
  }
}

type Update = {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
  ReturnValues?: 'UPDATED_NEW';
};
