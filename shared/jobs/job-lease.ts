/**
 * One lease per job (`LOCK#<job>`, sk `LOCK` in the `jobs` table): two runs of a job never overlap. The lease
 * names the run it is held for (`holder`), the invocation holding it (`token`, random per invocation) and until
 * when (`until`, epoch ms); the invocation renews it while it works (a heartbeat) and releases it when it stops.
 * Taken only when free, lapsed, or already this invocation's — and the lease it replaced comes back, so that the
 * new holder can resume a run whose invocation died (`holder` unfinished).
 *
 * Only GetItem / UpdateItem: a released lease keeps its item, with `until` 0.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Conditional } from './runs-store.js';

export const leaseKey = (job: string) => ({ pk: `LOCK#${job}`, sk: 'LOCK' });

export interface Lease {
  holder: string;
  token: string;
  until: number;
}

export type TakeResult = { taken: true; previous?: Lease } | { taken: false; current?: Lease };

export interface JobLeases {
  /** Takes the lease of `job` for run `holder` until `until`, if it is free, lapsed at `now`, or held by `token`. */
  take(job: string, holder: string, token: string, until: number, now: number): Promise<TakeResult>;
  /** Moves the lease (held by `token`) to another run, and renews it. */
  hold(job: string, holder: string, token: string, until: number): Promise<Conditional>;
  renew(job: string, token: string, until: number): Promise<Conditional>;
  /** Frees the lease if `token` holds it (`until` 0); the holder stays named, for whoever takes it next. */
  release(job: string, token: string): Promise<Conditional>;
}

const NAMES = { '#holder': 'holder', '#token': 'token', '#until': 'until' };

function leaseOf(item: Record<string, unknown> | undefined): Lease | undefined {
  if (!item || typeof item.token !== 'string') return undefined;
  return { holder: String(item.holder), token: item.token, until: Number(item.until) };
}

export class DynamoJobLeases implements JobLeases {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async take(job: string, holder: string, token: string, until: number, now: number): Promise<TakeResult> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: leaseKey(job),
          UpdateExpression: 'SET #holder = :holder, #token = :token, #until = :until',
          ConditionExpression: 'attribute_not_exists(#token) OR #token = :token OR #until < :now',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: { ':holder': holder, ':token': token, ':until': until, ':now': now },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = leaseOf(out.Attributes);
      return { taken: true, ...(previous ? { previous } : {}) };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      // The document client translates results, not errors: the item comes back in attribute-value form.
      const item = (e as ConditionalCheckFailedException & { Item?: Record<string, { S?: string; N?: string }> }).Item;
      const current = item ? leaseOf({ holder: item.holder?.S, token: item.token?.S, until: item.until?.N }) : undefined;
      return { taken: false, ...(current ? { current } : {}) };
    }
  }

  hold(job: string, holder: string, token: string, until: number): Promise<Conditional> {
    return this.#conditional(job, 'SET #holder = :holder, #until = :until', { ':holder': holder, ':token': token, ':until': until });
  }

  renew(job: string, token: string, until: number): Promise<Conditional> {
    return this.#conditional(job, 'SET #until = :until', { ':token': token, ':until': until });
  }

  release(job: string, token: string): Promise<Conditional> {
    return this.#conditional(job, 'SET #until = :zero', { ':token': token, ':zero': 0 });
  }

  async #conditional(job: string, expression: string, values: Record<string, unknown>): Promise<Conditional> {
    const used = `${expression} #token`;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: leaseKey(job),
          UpdateExpression: expression,
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: Object.fromEntries(Object.entries(NAMES).filter(([n]) => used.includes(n))),
          ExpressionAttributeValues: values,
        }),
      );
      return 'ok';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'lost';
      throw e;
    }
  }
}
