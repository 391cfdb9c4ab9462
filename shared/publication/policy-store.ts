/**
 * Where the publication policy is kept (adapter): one item of the sources table, `pk=POLICY, sk=PUBLICATION`,
 * next to the sources it names. Absent until the operator first sets it: then the default (everything waits for
 * review). Read once per push (strongly consistent: a change applies to the next push).
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_POLICY, type PublicationPolicy } from './policy.js';

export const POLICY_KEY = { pk: 'POLICY', sk: 'PUBLICATION' } as const;

export interface PolicyStore {
  get(): Promise<PublicationPolicy>;
  put(policy: PublicationPolicy): Promise<void>;
}

export class DynamoPolicyStore implements PolicyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(): Promise<PublicationPolicy> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: POLICY_KEY, ConsistentRead: true }));
    if (!out?.Item) return DEFAULT_POLICY;
    const { approvedOnArrival, updatedBy, updatedAt } = out.Item as PublicationPolicy;
    return {
      approvedOnArrival: { kinds: [...(approvedOnArrival?.kinds ?? [])], sources: [...(approvedOnArrival?.sources ?? [])] },
      ...(updatedBy ? { updatedBy } : {}),
      ...(updatedAt ? { updatedAt } : {}),
    };
  }

  async put(policy: PublicationPolicy): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...POLICY_KEY, ...policy } }));
  }
}
