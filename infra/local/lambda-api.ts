/**
 * Lambda's Invoke API on this machine, on 127.0.0.1: `POST /2015-03-31/functions/{FunctionName}/invocations`,
 * so that a handler can call `lambda().send(new InvokeCommand(…))` (shared/aws/clients.ts) with
 * AWS_ENDPOINT_URL_LAMBDA pointing here, exactly as it would on AWS.
 *
 * - `X-Amz-Invocation-Type: Event` → 202 at once; the function runs asynchronously with Lambda's retries
 *   (lambda-async.ts). Payload up to 1 MB.
 * - `RequestResponse` (the default) → 200 with the function's result as the payload, or, when the
 *   function failed or timed out, 200 with `X-Amz-Function-Error: Unhandled` and the error as the payload.
 *   Payload up to 6 MB.
 * - `DryRun` → 204.
 * FunctionName is a function's name (`credit-hub-<name>`: localFunctionName), its ARN or partial ARN,
 * optionally with the qualifier `$LATEST`. Errors are Lambda's: the status, `X-Amzn-ErrorType` and a JSON
 * body with `Type` and `Message`, which the SDK turns into its exceptions (ResourceNotFoundException …).
 * Requests are not authenticated (nothing but this machine can reach the port).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localFunctionName } from '../catalogue.js';
import type { AsyncInvocations } from './lambda-async.js';
import type { FunctionInvoker } from './lambda-runtime.js';

/** Largest payload of a synchronous invocation (6 MB) and of an asynchronous one (1 MB), as on Lambda. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
export const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;

export interface LambdaApiOptions {
  invoker: FunctionInvoker;
  async: AsyncInvocations;
  /** The functions that exist, by catalogue name. */
  functionNames: readonly string[];
  port?: number;
}

export interface LambdaApi {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** `name`, `name:qualifier`, `123456789012:function:name[:qualifier]`, `arn:aws[-cn]:lambda:region:account:function:name[:qualifier]`. */
const FUNCTION_NAME = /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9_.-]+)(?::([a-zA-Z0-9_$.-]+))?$/;

class LambdaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** The catalogue name of the function a FunctionName (name, ARN or partial ARN) designates, or a 404. */
export function resolveFunction(raw: string, qualifierParam: string | null, names: readonly string[]): string {
  const match = FUNCTION_NAME.exec(raw);
  if (!match) throw new LambdaError(400, 'ValidationException', `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint`);
  const [, name, qualifier = qualifierParam ?? '$LATEST'] = match;
  const fn = names.find((n) => localFunctionName(n) === name);
  if (!fn || qualifier !== '$LATEST') {
    throw new LambdaError(404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:local:000000000000:function:${name}${qualifier === '$LATEST' ? '' : `:${qualifier}`}`);
  }
  return fn;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new LambdaError(413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parsePayload(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new LambdaError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export async function startLambdaApi(options: LambdaApiOptions): Promise<LambdaApi> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const base = { 'x-amzn-requestid': requestId, 'content-type': 'application/json' };
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = PATH.exec(url.pathname);
      if (!path) throw new LambdaError(404, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`);
      if (req.method !== 'POST') throw new LambdaError(405, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`);
      const fn = resolveFunction(decodeURIComponent(path[1]!), url.searchParams.get('Qualifier'), options.functionNames);
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (type !== 'Event' && type !== 'RequestResponse' && type !== 'DryRun') {
        throw new LambdaError(400, 'InvalidParameterValueException', `Invalid InvocationType: ${type} (Event, RequestResponse or DryRun)`);
      }
      const event = parsePayload(await readBody(req, type === 'Event' ? MAX_ASYNC_PAYLOAD_BYTES : MAX_SYNC_PAYLOAD_BYTES));
      if (type === 'DryRun') return send(res, 204, { 'x-amzn-requestid': requestId });
      if (type === 'Event') {
        const id = options.async.invoke(fn, event, 'Invoke API');
        return send(res, 202, { ...base, 'x-amzn-requestid': id });
      }
      const outcome = await options.invoker.invoke(fn, event, requestId);
      const headers = { ...base, 'x-amz-executed-version': '$LATEST' };
      switch (outcome.status) {
        case 'ok':
          return send(res, 200, headers, JSON.stringify(outcome.result ?? null));
        case 'error':
          return send(res, 200, { ...headers, 'x-amz-function-error': 'Unhandled' }, JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: [] }));
        case 'timeout':
          return send(
            res,
            200,
            { ...headers, 'x-amz-function-error': 'Unhandled' },
            JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${outcome.timeoutSeconds.toFixed(2)} seconds` }),
          );
        case 'crashed':
          return send(
            res,
            200,
            { ...headers, 'x-amz-function-error': 'Unhandled' },
            JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: ${outcome.errorMessage}` }),
          );
      }
    } catch (e) {
      const error = e instanceof LambdaError ? e : new LambdaError(500, 'ServiceException', (e as Error).message);
      // A payload refused unread: the connection is closed after the answer rather than read to its end.
      const close: Record<string, string> = error.status === 413 ? { connection: 'close' } : {};
      if (!res.headersSent) send(res, error.status, { ...base, ...close, 'x-amzn-errortype': error.type }, JSON.stringify({ Type: error.status < 500 ? 'User' : 'Service', Message: error.message }));
      else res.destroy();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
