/**
 * Creates the catalogue's queues in the SQS emulator (sqs-local.ts), as the CDK stack creates them on
 * AWS: each by its localName, with its visibility timeout, retention and redrive policy (the dead-letter
 * queue's ARN and maxReceiveCount). A queue that exists already (the emulator keeps them across
 * restarts, messages included) is left with its messages and given the catalogue's attributes again,
 * as CloudFormation updates a queue whose definition changed. Dead-letter queues are made first: a
 * redrive policy names an existing queue.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { queues as catalogueQueues, type QueueSpec } from '../catalogue.js';

export interface ProvisionedQueue {
  /** The queue's name in the catalogue (a key of `queues`). */
  name: string;
  localName: string;
  /** The URL handlers get in the queue's envVar: on the emulator's endpoint (localQueueUrl). */
  url: string;
  arn: string;
  /** What the queue was given (after the options' overrides). */
  visibilityTimeoutSeconds: number;
  deadLetter?: { queue: string; arn: string; maxReceiveCount: number };
}

export interface ProvisionQueuesOptions {
  /** The emulator's endpoint (SqsLocal.endpoint): the queue URLs handed out are on it. */
  endpoint: string;
  /** The queues; the catalogue's unless given (tests). */
  queues?: Readonly<Record<string, QueueSpec>>;
  /** A visibility timeout for every queue instead of its own (tests: seconds, not the connectors' six minutes). */
  visibilityTimeoutSeconds?: number;
}

export interface ProvisionedQueues {
  /** By catalogue name. */
  queues: Record<string, ProvisionedQueue>;
  /** The localNames of the queues this call created (the others existed, with their messages). */
  created: string[];
}

/**
 * A queue's URL on the emulator's own endpoint: `http://127.0.0.1:<port>/<account>/<name>`. fauxqs
 * finds a queue by the last path segment of a URL whose host is not `sqs.<region>.…`, so this URL
 * reaches the queue from any SDK client, whether it sends requests to the queue URL's host or to its
 * endpoint.
 */
export function localQueueUrl(endpoint: string, arn: string): string {
  const [, , , , account, name] = arn.split(':');
  if (!account || !name) throw new Error(`not an SQS queue ARN: ${arn}`);
  return `${endpoint.replace(/\/+$/, '')}/${account}/${name}`;
}

/** The queues in an order where each dead-letter queue comes before the queues that name it. */
function inRedriveOrder(specs: Readonly<Record<string, QueueSpec>>): [string, QueueSpec][] {
  const ordered: [string, QueueSpec][] = [];
  const placed = new Set<string>();
  const visit = (name: string, path: string[]) => {
    if (placed.has(name)) return;
    const spec = specs[name];
    if (!spec) throw new Error(`queues.${path.at(-1)}.deadLetter names the queue ${name}, which is not in the catalogue`);
    if (path.includes(name)) throw new Error(`the redrive policies of ${[...path, name].join(' → ')} form a cycle`);
    if (spec.deadLetter) visit(spec.deadLetter.queue, [...path, name]);
    placed.add(name);
    ordered.push([name, spec]);
  };
  for (const name of Object.keys(specs)) visit(name, []);
  return ordered;
}

async function existingQueueUrl(client: SQSClient, localName: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetQueueUrlCommand({ QueueName: localName }))).QueueUrl;
  } catch (e) {
    if (e instanceof QueueDoesNotExist) return undefined;
    throw e;
  }
}

/** Creates the missing queues and gives every queue the catalogue's attributes; keeps the messages of those that exist. */
export async function provisionQueues(client: SQSClient, options: ProvisionQueuesOptions): Promise<ProvisionedQueues> {
  const specs = options.queues ?? catalogueQueues;
  const result: ProvisionedQueues = { queues: {}, created: [] };
  for (const [name, spec] of inRedriveOrder(specs)) {
    const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? spec.visibilityTimeoutSeconds;
    const deadLetter = spec.deadLetter ? result.queues[spec.deadLetter.queue]! : undefined;
    const attributes: Partial<Record<QueueAttributeName, string>> = {
      VisibilityTimeout: String(visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(spec.retentionSeconds),
      // An empty policy removes one the queue had (a dead letter taken out of the catalogue).
      RedrivePolicy: deadLetter ? JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: spec.deadLetter!.maxReceiveCount }) : '',
    };
    let url = await existingQueueUrl(client, spec.localName);
    if (url) {
      await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    } else {
      const { RedrivePolicy, ...rest } = attributes;
      url = (await client.send(new CreateQueueCommand({ QueueName: spec.localName, Attributes: deadLetter ? { ...rest, RedrivePolicy } : rest }))).QueueUrl!;
      result.created.push(spec.localName);
    }
    const arn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    if (!arn) throw new Error(`SQS emulator gave no ARN for the queue ${spec.localName}`);
    result.queues[name] = {
      name,
      localName: spec.localName,
      url: localQueueUrl(options.endpoint, arn),
      arn,
      visibilityTimeoutSeconds,
      ...(deadLetter ? { deadLetter: { queue: deadLetter.name, arn: deadLetter.arn, maxReceiveCount: spec.deadLetter!.maxReceiveCount } } : {}),
    };
  }
  return result;
}

/**
 * The handlers' environment for SQS, the same names as on AWS: the endpoint (AWS_ENDPOINT_URL_SQS)
 * and each queue's URL in its envVar.
 */
export function localQueuesEnvironment(
  endpoint: string,
  provisioned: Readonly<Record<string, Pick<ProvisionedQueue, 'url'>>>,
  specs: Readonly<Record<string, Pick<QueueSpec, 'envVar'>>> = catalogueQueues,
): Record<string, string> {
  const env: Record<string, string> = { AWS_ENDPOINT_URL_SQS: endpoint };
  for (const [name, spec] of Object.entries(specs)) {
    const queue = provisioned[name];
    if (!queue) throw new Error(`the queue ${name} was not provisioned`);
    env[spec.envVar] = queue.url;
  }
  return env;
}
