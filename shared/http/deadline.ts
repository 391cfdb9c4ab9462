/**
 * A handler's deadline. Lambda ends an invocation at its timeout wherever it
 * is; a handler that is still deciding and writing then has either answered
 * already (and goes on writing behind its answer) or not at all (and the
 * client sees a 500). Instead, each request gets an AbortSignal that fires
 * DEADLINE_MARGIN_MS before the timeout: work checks it before every step and
 * passes it to every AWS call, so the handler stops, and answers 503 with
 * Retry-After for what it could not finish, before Lambda would end it — and
 * never writes after it has answered, because it answers only once its work
 * has stopped.
 */
import type { Context } from 'aws-lambda';
import { api } from '../../infra/catalogue.js';
import { HttpError } from './errors.js';

/** Time kept back for stopping in-flight work and answering. */
export const DEADLINE_MARGIN_MS = 2500;

/** The request ran out of time before its work was done: send the same request again. */
export class DeadlineExceededError extends HttpError {
  constructor(message = '处理超时，请稍后重新发送整个请求 (the hub ran out of time for this request; nothing more will be written for it; send the whole request again)') {
    super(503, 'unavailable', message, [], { 'retry-after': String(api.retryAfterSeconds) });
    this.name = 'DeadlineExceededError';
  }
}

export interface Deadline {
  /** Aborted DEADLINE_MARGIN_MS before the function's timeout. */
  readonly signal: AbortSignal;
  /** Throws DeadlineExceededError once the signal has fired. */
  check(): void;
}

const NO_DEADLINE: Deadline = { signal: new AbortController().signal, check: () => undefined };

const deadlines = new WeakMap<object, Deadline>();

/**
 * The deadline of the invocation a Lambda context belongs to, started on first
 * use (a context without remaining time, as in some tests, has none).
 */
export function deadlineOf(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, marginMs = DEADLINE_MARGIN_MS): Deadline {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (!context || remaining === undefined) return NO_DEADLINE;
  let deadline = deadlines.get(context);
  if (!deadline) {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DeadlineExceededError()), Math.max(0, remaining - marginMs)).unref();
    deadline = {
      signal: controller.signal,
      check: () => {
        if (controller.signal.aborted) throw new DeadlineExceededError();
      },
    };
    deadlines.set(context, deadline);
  }
  return deadline;
}

/** An error that came out of work the deadline stopped (an aborted AWS call, say) becomes the deadline's 503. */
export function asDeadlineError(error: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted && !(error instanceof HttpError) ? new DeadlineExceededError() : error;
}
