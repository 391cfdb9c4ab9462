/**
 * A platform's dead-letter queue as the operator's functions see it (port and SQS adapter): its depth, and the two
 * ways its messages go back to the platform's queue —
 *
 * - `startMoveTask`: SQS's own redrive (StartMessageMoveTask, SourceArn = the dead-letter queue's ARN,
 *   DestinationArn = the platform's queue's ARN). The destination is named, not left to SQS: a message the connector
 *   put there itself (a 4xx: SendMessage) carries no DeadLetterQueueSourceArn, and SQS cannot move such a message
 *   "back to its source". A task already running is reported rather than started twice (ListMessageMoveTasks
 *   before, and again when StartMessageMoveTask refuses because one is running: two redrives at once);
 * - receive, send to the platform's queue, delete: where StartMessageMoveTask is missing (the local emulator).
 *   A message is deleted only once it is sent; it is never made visible again with ChangeMessageVisibility 0
 *   (that loses it in the emulator): one not moved reappears after the queue's visibility timeout.
 */
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface DeadLetterMessage {
  body: string;
  receiptHandle: string;
}

export interface DeadLetterQueue {
  /** Messages waiting (ApproximateNumberOfMessages; those being received are not counted). */
  depth(): Promise<number>;
  /** Starts SQS's move of every message to the platform's queue, or finds the one running; its task handle. */
  startMoveTask(): Promise<string>;
  /** Up to `max` (≤ 10) messages, hidden from other receivers for the queue's visibility timeout. */
  receive(max: number): Promise<DeadLetterMessage[]>;
  /** Sends a body to the platform's delivery queue. */
  sendBack(body: string): Promise<void>;
  delete(receiptHandle: string): Promise<void>;
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  #arn: string | undefined;

  constructor(
    private readonly client: SQSClient,
    /** `queueArn`: the platform's queue's ARN (needed by startMoveTask only: the stack sets it on AWS). */
    private readonly urls: { deadLetter: string; queue: string; queueArn?: string },
    /** How long a receive waits for a message when none is there (SQS long polling). */
    private readonly waitSeconds = 1,
  ) {}

  async depth(): Promise<number> {
    const out = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.urls.deadLetter, AttributeNames: ['ApproximateNumberOfMessages'] }));
    const n = Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
    return Number.isFinite(n) ? n : 0;
  }

  async #queueArn(): Promise<string> {
    if (this.#arn) return this.#arn;
    const out = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.urls.deadLetter, AttributeNames: ['QueueArn'] }));
    const arn = out.Attributes?.QueueArn;
    if (!arn) throw new Error('the dead-letter queue has no QueueArn attribute');
    this.#arn = arn;
    return arn;
  }

  async #runningTask(source: string): Promise<string | undefined> {
    const listed = await this.client.send(new ListMessageMoveTasksCommand({ SourceArn: source, MaxResults: 1 }));
    const latest = listed.Results?.[0];
    return latest?.Status === 'RUNNING' && latest.TaskHandle ? latest.TaskHandle : undefined;
  }

  async startMoveTask(): Promise<string> {
    const destination = this.urls.queueArn;
    if (!destination) throw new Error("the platform queue's ARN is not known: the redrive's destination (its arnEnvVar) is not set");
    const source = await this.#queueArn();
    const running = await this.#runningTask(source);
    if (running) return running;
    try {
      const started = await this.client.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination }));
      if (!started.TaskHandle) throw new Error('StartMessageMoveTask answered without a task handle');
      return started.TaskHandle;
    } catch (e) {
      // Refused because another redrive started one between the list and the start (InvalidParameterValue, "…
      // already …": the code varies): that one is reported. Any other refusal stands.
      const other = await this.#runningTask(source).catch(() => undefined);
      if (other) return other;
      throw e;
    }
  }

  async receive(max: number): Promise<DeadLetterMessage[]> {
    const out = await this.client.send(new ReceiveMessageCommand({ QueueUrl: this.urls.deadLetter, MaxNumberOfMessages: max, WaitTimeSeconds: this.waitSeconds }));
    return (out.Messages ?? []).filter((m) => m.Body !== undefined && m.ReceiptHandle !== undefined).map((m) => ({ body: m.Body!, receiptHandle: m.ReceiptHandle! }));
  }

  async sendBack(body: string): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.urls.queue, MessageBody: body }));
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.urls.deadLetter, ReceiptHandle: receiptHandle }));
  }
}
