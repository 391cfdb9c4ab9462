/** Errors of the store layer that callers may act on. */

/**
 * The store could not finish because of contention or throttling that goes
 * away by itself: the request is safe to send again (the HTTP layer answers 503).
 */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
}

/** Exponential back-off with jitter; ends early (rejecting) when `signal` aborts. */
export const backoff = (attempt: number, baseMs = 20, capMs = 1000, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(capMs, baseMs * 2 ** attempt) * (0.5 + Math.random()));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
