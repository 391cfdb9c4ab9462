/**
 * Which DynamoDB (and SQS) calls a function's code can make at all: its handler bundled
 * as the stack bundles it (esbuild, tree-shaken, the AWS SDK left out), and
 * every module that ends up in the bundle read for the SDK command classes it
 * names. An over-approximation (a store class kept whole brings all its
 * methods' commands), so it proves the converse of what the catalogue claims:
 * no function is granted an action that nothing in its bundle can issue.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { bundling } from '../../infra/bundling.js';
import { repoRoot } from '../../infra/stack.js';

/** Command classes of @aws-sdk/client-dynamodb and @aws-sdk/lib-dynamodb, and the IAM action each needs. */
const COMMAND_ACTIONS: Record<string, string[]> = {
  GetCommand: ['dynamodb:GetItem'],
  GetItemCommand: ['dynamodb:GetItem'],
  PutCommand: ['dynamodb:PutItem'],
  PutItemCommand: ['dynamodb:PutItem'],
  UpdateCommand: ['dynamodb:UpdateItem'],
  UpdateItemCommand: ['dynamodb:UpdateItem'],
  DeleteCommand: ['dynamodb:DeleteItem'],
  DeleteItemCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  ScanCommand: ['dynamodb:Scan'],
  BatchGetCommand: ['dynamodb:BatchGetItem'],
  BatchGetItemCommand: ['dynamodb:BatchGetItem'],
  BatchWriteCommand: ['dynamodb:BatchWriteItem'],
  BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
  TransactGetCommand: ['dynamodb:GetItem'],
  TransactGetItemsCommand: ['dynamodb:GetItem'],
  ExecuteStatementCommand: ['dynamodb:PartiQLSelect', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
  BatchExecuteStatementCommand: ['dynamodb:PartiQLSelect', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
  ExecuteTransactionCommand: ['dynamodb:PartiQLSelect', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
};
/** A TransactWriteItems is authorised item by item: the action of each kind of item the module writes in one. */
const TRANSACT_WRITE = /\bTransactWrite(Items)?Command\b/;
const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** The DynamoDB actions one module's source can issue. */
export function dynamoActionsInSource(source: string): Set<string> {
  const actions = new Set<string>();
  for (const [command, needs] of Object.entries(COMMAND_ACTIONS)) {
    if (new RegExp(`\\b${command}\\b`).test(source)) for (const a of needs) actions.add(a);
  }
  if (TRANSACT_WRITE.test(source)) {
    for (const [item, action] of Object.entries(TRANSACT_ITEM_ACTIONS)) {
      if (new RegExp(`\\b${item}\\s*:\\s*\\{`).test(source)) actions.add(action);
    }
  }
  return actions;
}

/** The modules (repository-relative paths) that end up in the function's bundle, with code in it. */
export async function bundledModules(entry: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    outfile: 'index.mjs',
    format: bundling.format,
    platform: bundling.platform,
    target: bundling.target,
    mainFields: [...bundling.mainFields],
    external: [...bundling.externalModules],
    logLevel: 'silent',
  });
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output!.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([file]) => file);
}

/** Every DynamoDB action the function's bundled code can issue. */
export async function dynamoActionsOf(entry: string): Promise<Set<string>> {
  return actionsOf(entry, dynamoActionsInSource);
}

/** Command classes of @aws-sdk/client-sqs, and the IAM action each needs (a batch is authorised as its single call). */
const SQS_COMMAND_ACTIONS: Record<string, string> = {
  SendMessageCommand: 'sqs:SendMessage',
  SendMessageBatchCommand: 'sqs:SendMessage',
  ReceiveMessageCommand: 'sqs:ReceiveMessage',
  DeleteMessageCommand: 'sqs:DeleteMessage',
  DeleteMessageBatchCommand: 'sqs:DeleteMessage',
  ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatchCommand: 'sqs:ChangeMessageVisibility',
  GetQueueAttributesCommand: 'sqs:GetQueueAttributes',
  GetQueueUrlCommand: 'sqs:GetQueueUrl',
  StartMessageMoveTaskCommand: 'sqs:StartMessageMoveTask',
  ListMessageMoveTasksCommand: 'sqs:ListMessageMoveTasks',
  CancelMessageMoveTaskCommand: 'sqs:CancelMessageMoveTask',
  PurgeQueueCommand: 'sqs:PurgeQueue',
};

/** The SQS actions one module's source can issue. */
export function sqsActionsInSource(source: string): Set<string> {
  const actions = new Set<string>();
  for (const [command, action] of Object.entries(SQS_COMMAND_ACTIONS)) if (new RegExp(`\\b${command}\\b`).test(source)) actions.add(action);
  return actions;
}

/** Every SQS action the function's bundled code can issue. */
export async function sqsActionsOf(entry: string): Promise<Set<string>> {
  return actionsOf(entry, sqsActionsInSource);
}

async function actionsOf(entry: string, inSource: (source: string) => Set<string>): Promise<Set<string>> {
  const actions = new Set<string>();
  for (const file of await bundledModules(entry)) {
    for (const a of inSource(readFileSync(path.resolve(repoRoot, file), 'utf8'))) actions.add(a);
  }
  return actions;
}
