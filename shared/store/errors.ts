/** Errors of the store layer that callers may act on. */

/**
 * The store could not finish because of contention or throttling that goes
 * away by itself: the request is safe to send again (the HTTP layer answers 503).
 */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
}

export const backoff = (attempt: number, baseMs = 20, capMs = 1000) =>
  new Promise((resolve) => setTimeout(resolve, Math.min(capMs, baseMs * 2 ** attempt) * (0.5 + Math.random())));
