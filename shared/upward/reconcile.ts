/**
 * The reconciliation: a record's current version that no package carries, long after it was written, is packaged
 * for the upward platforms as the fan-out would have done (fanout.ts). The fan-out is driven by the records
 * table's change stream; a version its stream record never brought there (the fan-out failed for longer than the
 * mapping retries, and the failure record in the `streamFailures` queue was not replayed within the stream's 24
 * hours) would otherwise be owed to no one. With this, what the platforms hold catches up with every record.
 *
 * A pass reads every head of the records table, a page at a time, resuming where the last invocation stopped (its
 * cursor is an item of the `deliveries` table). A head's version is left alone while it is younger than
 * `settledAfterMs` (the stream's retention and a margin: until then the stream, or a replay of a reported failure,
 * may still bring it, and an older version after it) and when it has a claim (a package carries it). The others go to the fan-out as stream records would, each with its head's
 * image: the claim decides which package carries a version, so a version the stream brings at the same time still
 * travels once. A new pass begins `passEveryMs` after the last one began. One pass at a time: each page's cursor is
 * saved on condition of the one read, and an invocation that finds it moved stops.
 *
 * Only the current version is reconciled: the platforms need the record as it is; a version superseded before it
 * travelled is not sent after the fact. Logs counts only.
 */
import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StoredHead } from '../domain/record-model.js';
import type { HeadsScan } from '../site-publishing/heads-scan.js';
import { fanOut, newVersionOf, type FanoutDeps, type FanoutReport } from './fanout.js';
import type { PackagesStore, ReconcileCursor } from './packages-store.js';

/** The event source the reconciliation's stream records name (packageKeyOf takes the sequence number). */
export const RECONCILE_SEQUENCE = 'reconcile';

export interface ReconcileDeps extends FanoutDeps {
  store: FanoutDeps['store'] & Pick<PackagesStore, 'findClaimed' | 'getReconcileCursor' | 'saveReconcileCursor'>;
  heads: Pick<HeadsScan, 'scan'>;
  /** Milliseconds this invocation has left. */
  remainingMs: () => number;
  settledAfterMs: number;
  passEveryMs: number;
  /** Items read per page of the scan. */
  pageItems: number;
  /** At most this many versions in a package: the fan-out's stream batch size, so its packages are the fan-out's size. */
  packageVersions: number;
  /** Below this much time left, no new page is started. */
  marginMs: number;
}

export interface ReconcileReport {
  /** `not-due`: the last pass ended and the next is not due; `continued`: out of time, the pass goes on next time; `lost`: another invocation moved the cursor. */
  outcome: 'not-due' | 'continued' | 'ended' | 'lost';
  passStartedAt?: string;
  pages: number;
  /** Heads read in this invocation, and among them versions old enough and carried by no package. */
  heads: number;
  unclaimed: number;
  /** The fan-out of those versions. */
  packages: number;
  /** Versions whose fan-out failed (left for the next pass), and the first failure's message. */
  failed: number;
  error?: string;
  queued: number;
  claimedElsewhere: number;
}

/** A head as the stream record of its write would carry it (an INSERT with its new image). */
export function streamRecordOf(head: StoredHead): DynamoDBRecord {
  return {
    eventName: 'INSERT',
    eventSource: 'hub:reconcile',
    dynamodb: {
      // The fan-out reads the image as DynamoDB's stream gives it; the key attributes are those of the records table.
      NewImage: marshall({ pk: `REC#${head.id}`, sk: 'HEAD', ...head }, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: RECONCILE_SEQUENCE,
    },
  };
}

export async function reconcileUnclaimed(deps: ReconcileDeps): Promise<ReconcileReport> {
  const now = deps.now ?? (() => new Date());
  const report: ReconcileReport = { outcome: 'continued', pages: 0, heads: 0, unclaimed: 0, packages: 0, queued: 0, claimedElsewhere: 0, failed: 0 };
  let previous = await deps.store.getReconcileCursor();
  let cursor: ReconcileCursor;
  if (!previous || previous.endedAt !== undefined) {
    if (previous && now().getTime() - Date.parse(previous.passStartedAt) < deps.passEveryMs) return { ...report, outcome: 'not-due', passStartedAt: previous.passStartedAt };
    const at = now().toISOString();
    cursor = { passStartedAt: at, heads: 0, unclaimed: 0, savedAt: at, token: randomUUID() };
  } else cursor = previous;
  report.passStartedAt = cursor.passStartedAt;

  while (deps.remainingMs() > deps.marginMs) {
    const page = await deps.heads.scan(cursor.next, deps.pageItems);
    const settledBefore = now().getTime() - deps.settledAfterMs;
    // Heads the fan-out would package (newVersionOf: a head with a status and a publication), written long enough ago.
    const old = page.heads.filter((h) => Date.parse(h.receivedAt) <= settledBefore && newVersionOf(streamRecordOf(h)) !== undefined);
    const claimed = old.length > 0 ? await deps.store.findClaimed(old.map((h) => ({ recordId: h.id, version: h.version }))) : new Set<string>();
    const unclaimed = old.filter((h) => !claimed.has(`${h.id}#${h.version}`));
    for (let i = 0; i < unclaimed.length; i += deps.packageVersions) {
      const batch = unclaimed.slice(i, i + deps.packageVersions);
      try {
        const fanned: FanoutReport = await fanOut({ Records: batch.map(streamRecordOf) } satisfies DynamoDBStreamEvent, deps);
        report.packages += fanned.packages;
        report.queued += fanned.queued;
        report.claimedElsewhere += fanned.claimedElsewhere;
      } catch (e) {
        // Counted and passed over, so that one version the fan-out keeps refusing cannot hold the pass: the next pass
        // finds it again (what a failure left half done, an open body or a delivery not queued, the sweep settles).
        report.failed += batch.length;
        report.error ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    }
    report.pages++;
    report.heads += page.heads.length;
    report.unclaimed += unclaimed.length;
    const at = now().toISOString();
    const { next: _next, ...rest } = cursor;
    cursor = {
      ...rest,
      ...(page.next ? { next: page.next } : { endedAt: at }),
      heads: cursor.heads + page.heads.length,
      unclaimed: cursor.unclaimed + unclaimed.length,
      savedAt: at,
      token: randomUUID(),
    };
    if ((await deps.store.saveReconcileCursor(cursor, previous)) === 'lost') return { ...report, outcome: 'lost' };
    previous = cursor;
    if (!page.next) return { ...report, outcome: 'ended' };
  }
  return report;
}
