/**
 * The `hub` command line's client of the HTTP API (API.md): bearer key,
 * JSON bodies, retries of what API.md says may be sent again (503, 429, 409
 * "still in progress", with Retry-After), and every failure turned into one
 * line in Chinese and English naming what failed and what to do.
 *
 * A request that got no answer (connection refused or reset, timeout) is sent
 * again only when that is safe — a GET, or a request with an Idempotency-Key —
 * and only once the hub has answered this client before: a wrong URL fails at
 * once instead of after minutes of back-off.
 */
import { CliError } from './errors.js';
import { DEFAULT_RETRY, retryDelay, type RetryPolicy } from './retry-policy.js';

/** What a request is for, in the words of its error messages. */
export interface Action {
  zh: string;
  en: string;
}

export interface Connection {
  /** The API's base URL (http or https), without a trailing slash. */
  url: string;
  key: string;
}

export interface RetryEvent {
  action: Action;
  /** The status that is retried; undefined when no answer came. */
  status?: number;
  reason: string;
  /** The attempt that failed (1 for the first). */
  attempt: number;
  attempts: number;
  delayMs: number;
}

export interface ClientOptions {
  retry?: Partial<RetryPolicy>;
  /** Gives up on a request that has not been answered in this time (then retried when safe). */
  timeoutMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  action: Action;
  /** Sent as JSON. */
  json?: unknown;
  /** JSON already serialised (a push chunk: the same bytes every time, for the Idempotency-Key). */
  body?: Uint8Array;
  idempotencyKey?: string;
  /** Safe to send again when no answer came. Default: a GET, or a request with an Idempotency-Key. */
  replayable?: boolean;
  /** Extra hint for a 413, say. */
  hints?: Partial<Record<number, string>>;
  signal?: AbortSignal;
}

export interface Answer<T> {
  status: number;
  body: T;
}

/** The API's error shape, or API Gateway's own `{"message"}`. */
interface ErrorBody {
  error?: { code?: string; message?: string; details?: { field?: string; message?: string }[] };
  message?: string;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Why a request got no answer, in a few words (undici hides the system error in `cause`). */
export function networkReason(e: unknown): string {
  let cause: unknown = e;
  for (let i = 0; i < 4 && cause instanceof Error; i++) {
    const err = cause as NodeJS.ErrnoException & { errors?: unknown[] };
    if (err.name === 'TimeoutError') return 'timeout';
    if (err.code && err.code !== 'UND_ERR_SOCKET' && !/^ERR_/.test(err.code)) return err.code;
    if (err.errors?.[0]) cause = err.errors[0];
    else if (err.cause) cause = err.cause;
    else break;
  }
  return cause instanceof Error ? cause.message : String(cause);
}

const HINTS: Record<number, string> = {
  401: '请检查 --key 或 HUB_KEY (check --key or HUB_KEY)',
  403: '此操作需要另一角色或种类的密钥 (this needs a key of another role or kind)',
  413: '请求体过大 (the request body is too large)',
};

/** One line for an answer the hub refused. */
export function refusal(action: Action, status: number, body: ErrorBody | string | undefined, hint?: string): string {
  const error = typeof body === 'object' && body !== null ? body.error : undefined;
  const code = error?.code ?? (status === 404 && typeof body !== 'object' ? 'not the hub' : undefined);
  const message =
    error?.message ??
    (typeof body === 'object' && body !== null && typeof body.message === 'string' ? body.message : undefined) ??
    (typeof body === 'string' && body.trim() ? body.trim().slice(0, 120).replace(/\s+/g, ' ') : `HTTP ${status}`);
  const details = (error?.details ?? [])
    .filter((d) => d.message)
    .slice(0, 5)
    .map((d) => (d.field ? `${d.field}: ${d.message}` : d.message))
    .join('; ');
  const extra = hint ?? (code === 'no_route' || code === 'not the hub' ? '请检查 --url 或 HUB_URL 是否为hub的API地址 (is --url / HUB_URL the hub API?)' : HINTS[status]);
  return `${action.zh}失败 (${action.en} failed): ${message}${details ? ` — ${details}` : ''} [HTTP ${status}${code ? ` ${code}` : ''}]${extra ? ` ${extra}` : ''}`;
}

/** The hub refused a request (an answer that is not retried): the one line to print, and the answer's status and error. */
export class HubRefusal extends CliError {
  override name = 'HubRefusal';
  constructor(
    message: string,
    readonly status: number,
    /** The API's `error.code`, when the answer had one. */
    readonly code: string | undefined,
    /** The API's `error.message`, when the answer had one. */
    readonly apiMessage: string | undefined,
  ) {
    super(message);
  }
}

export class HubClient {
  readonly url: string;
  readonly #key: string;
  readonly #policy: RetryPolicy;
  readonly #options: ClientOptions;
  /** The hub has answered this client at least once (it is reachable at this URL). */
  #reached = false;

  constructor(connection: Connection, options: ClientOptions = {}) {
    this.url = connection.url.replace(/\/+$/, '');
    this.#key = connection.key;
    this.#policy = { ...DEFAULT_RETRY, ...options.retry };
    this.#options = options;
  }

  /** Sends the request (again while the hub asks for it) and returns its 2xx answer; anything else is a CliError. */
  async request<T>(method: string, path: string, options: RequestOptions): Promise<Answer<T>> {
    const sleep = this.#options.sleep ?? defaultSleep;
    const replayable = options.replayable ?? (method === 'GET' || options.idempotencyKey !== undefined);
    const body = options.body ?? (options.json !== undefined ? Buffer.from(JSON.stringify(options.json)) : undefined);
    const headers: Record<string, string> = { authorization: `Bearer ${this.#key}`, accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;

    for (let attempt = 1; ; attempt++) {
      let res: Response;
      let text: string;
      try {
        const signals = [AbortSignal.timeout(this.#options.timeoutMs ?? 120_000), ...(options.signal ? [options.signal] : [])];
        res = await (this.#options.fetch ?? fetch)(`${this.url}${path}`, { method, headers, body, signal: AbortSignal.any(signals) });
        text = await res.text();
      } catch (e) {
        if (options.signal?.aborted) throw options.signal.reason;
        const reason = networkReason(e);
        if (!this.#reached || !replayable || attempt >= this.#policy.attempts) {
          throw new CliError(
            this.#reached
              ? `hub没有应答 (no answer from the hub at ${this.url}: ${reason}${attempt > 1 ? `, ${attempt} attempts` : ''}) — ${options.action.zh}未完成 (${options.action.en} not done)`
              : `无法连接hub (cannot reach the hub at ${this.url}: ${reason}) — ${options.action.zh}未完成 (${options.action.en} not done)；请检查 --url 或 HUB_URL (check --url or HUB_URL)`,
          );
        }
        await this.#pause(attempt, null, options, undefined, reason, sleep);
        continue;
      }
      this.#reached = true;
      const parsed = parseBody(text, res.headers.get('content-type'));
      if (res.ok) {
        if (typeof parsed !== 'object' || parsed === null) {
          throw new CliError(
            `hub的应答不是JSON (unexpected answer to ${options.action.en}: HTTP ${res.status} ${res.headers.get('content-type') ?? 'no content type'}, not JSON) — 请检查 --url 或 HUB_URL (check --url or HUB_URL)`,
          );
        }
        return { status: res.status, body: parsed as T };
      }
      const code = typeof parsed === 'object' && parsed !== null ? (parsed as ErrorBody).error?.code : undefined;
      const retried = res.status === 503 || res.status === 429 || (res.status === 409 && code === 'idempotency_in_progress');
      if (!retried) {
        const error = typeof parsed === 'object' && parsed !== null ? (parsed as ErrorBody).error : undefined;
        throw new HubRefusal(refusal(options.action, res.status, parsed as ErrorBody | string, options.hints?.[res.status]), res.status, code, error?.message);
      }
      if (attempt >= this.#policy.attempts) {
        throw new CliError(
          `${refusal(options.action, res.status, parsed as ErrorBody | string)} — 已尝试${attempt}次，请稍后重新运行同一命令 (still refused after ${attempt} attempts: run the same command again later)`,
        );
      }
      await this.#pause(attempt, res.headers.get('retry-after'), options, res.status, code ?? `HTTP ${res.status}`, sleep);
    }
  }

  async #pause(attempt: number, retryAfter: string | null, options: RequestOptions, status: number | undefined, reason: string, sleep: NonNullable<ClientOptions['sleep']>) {
    const delayMs = retryDelay(attempt, retryAfter, this.#policy, this.#options.random);
    this.#options.onRetry?.({ action: options.action, ...(status !== undefined ? { status } : {}), reason, attempt, attempts: this.#policy.attempts, delayMs });
    await sleep(delayMs, options.signal);
  }
}

function parseBody(text: string, contentType: string | null): unknown {
  if (!text) return undefined;
  if (contentType && !/json/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
