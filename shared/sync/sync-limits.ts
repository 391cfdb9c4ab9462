/** How a nightly sync run paces itself (shared/sync/run-sync.ts). */
export interface SyncLimits {
  /** A run's lease on its job lasts this long unrenewed; the heartbeat renews it every heartbeatMs (0: no heartbeat). */
  leaseMs: number;
  heartbeatMs: number;
  /** Deliveries read per page (byDay, owed): each is a package, or a part of one, of up to 100 record versions. */
  pageSize: number;
  /** Package bodies read, and certificate numbers decrypted, at once. */
  readConcurrency: number;
  /** Deliveries marked delivered at once after the platform acknowledged the package. */
  markConcurrency: number;
  /** A segment of the body is closed after the page that brings it to this many lines. */
  maxSegmentRecords: number;
  /** Time kept back at the end of an invocation: less than this left, the run continues in a new one. */
  reserveMs: number;
  /** The longest one POST of the package may take, answer included (less if the invocation has less left). */
  requestTimeoutMs: number;
  /** A POST is not started with less time than this for it. */
  minRequestMs: number;
  /** POSTs of one package before the run fails as "platform unavailable" (5xx, 408, 429, timeouts, network errors). */
  postAttempts: number;
  /** Back-off between POSTs: full jitter, base × 2^(retry−1) capped; never shorter than Retry-After (capped too). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Invocations (besides its own continuations) that may take a run before it is given up as failed. */
  maxAttempts: number;
}

export const syncLimits: SyncLimits = {
  leaseMs: 120_000,
  heartbeatMs: 30_000,
  pageSize: 20,
  readConcurrency: 25,
  markConcurrency: 25,
  maxSegmentRecords: 20_000,
  reserveMs: 60_000,
  requestTimeoutMs: 300_000,
  minRequestMs: 30_000,
  postAttempts: 5,
  backoffBaseMs: 2_000,
  backoffCapMs: 60_000,
  maxAttempts: 5,
};
