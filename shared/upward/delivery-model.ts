/**
 * What an upward platform is owed, per record version: the delivery (its item in the `deliveries` table), the
 * queue message that carries it to the platform's connector, and the pure rules around them.
 *
 * A record version is delivered to each platform under exactly one Idempotency-Key, the id of its exchange
 * package (exchange-package.ts), derived from the platform, the record and the version alone.
 */
import { platforms, type PlatformName } from '../../infra/catalogue.js';
import { todayInChina } from '../domain/dates.js';
import type { StoredHead } from '../domain/record-model.js';
import { packageIdOf } from './exchange-package.js';

export type { PlatformName };

export const PLATFORM_NAMES = Object.keys(platforms) as PlatformName[];

export function isPlatformName(value: unknown): value is PlatformName {
  return typeof value === 'string' && Object.hasOwn(platforms, value);
}

/** upsert: the platform stores (or replaces) the record; delete: the record has ended and the platform removes it. */
export type DeliveryOperation = 'upsert' | 'delete';

/**
 * pending: owed (queued, maybe being sent); delivered: the platform answered 2xx; failed: the platform refused it
 * (a 4xx) or stayed unavailable for every receive, and the message is in the dead-letter queue; superseded: a
 * newer version of the record was stored before this one was sent, and that one carries the whole state.
 */
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'superseded';

/** Which delivery: the record version and the platform. */
export interface DeliveryRef {
  recordId: string;
  version: number;
  platform: PlatformName;
}

export interface Delivery extends DeliveryRef {
  operation: DeliveryOperation;
  state: DeliveryState;
  /** The Idempotency-Key every POST of this delivery carries (the package id). */
  idempotencyKey: string;
  createdAt: string;
  /** `<platform>#<YYYY-MM-DD>`, the China day of createdAt: the byDay index (platform and day, by createdAt) the nightly sync reads. */
  changeDay: string;
  /** The platform, while the delivery is pending (the sparse index `owed`); absent once it is not. */
  owedBy?: PlatformName;
  /** Since when the platform owes it (the index's sort key: oldest first). */
  owedSince: string;
  /** When it was last sent to the platform's queue (by the fan-out, then by the sweep). */
  lastQueuedAt: string;
  /** POSTs that did not succeed, over every receive. */
  attempts?: number;
  deliveredAt?: string;
  failedAt?: string;
  failedReason?: string;
  supersededAt?: string;
  /** The platform's per-record outcome (POST /v1/feedback), written by the feedback function. */
  feedback?: unknown;
}

/** The body of a delivery queue message: one record version for one platform. */
export type DeliveryMessage = DeliveryRef;

/**
 * What a record version's change means to a platform. Every publication decision is a new version
 * (shared/publication/decisions.ts): one that ends publication — removed by its source, repaired, revoked after an
 * objection, expired — is a delete ("repaired or expired information stops being shared"); approval, withholding
 * (the record stays in force: it is only kept off the public site) and objection marks are updates.
 */
export function operationOf(head: Pick<StoredHead, 'status' | 'publication'>): DeliveryOperation {
  if (head.status === 'removed' || head.publication.state === 'ended') return 'delete';
  return 'upsert';
}

/** A new delivery of `head` (its current version) to `platform`, owed from `now`. */
export function newDelivery(head: Pick<StoredHead, 'id' | 'version' | 'status' | 'publication'>, platform: PlatformName, now: Date): Delivery {
  const at = now.toISOString();
  return {
    recordId: head.id,
    version: head.version,
    platform,
    operation: operationOf(head),
    state: 'pending',
    idempotencyKey: packageIdOf(platform, head.id, head.version),
    createdAt: at,
    changeDay: `${platform}#${todayInChina(now)}`,
    owedBy: platform,
    owedSince: at,
    lastQueuedAt: at,
  };
}

export function messageOf(ref: DeliveryRef): DeliveryMessage {
  return { recordId: ref.recordId, version: ref.version, platform: ref.platform };
}

export function messageBody(ref: DeliveryRef): string {
  return JSON.stringify(messageOf(ref));
}

/** The delivery a queue message names, or why it names none (a message nobody should have sent). */
export function parseDeliveryMessage(body: string): { ok: true; message: DeliveryMessage } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'the message is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'the message is not a JSON object' };
  const { recordId, version, platform } = parsed as Record<string, unknown>;
  if (typeof recordId !== 'string' || recordId.length === 0 || recordId.length > 100) return { ok: false, reason: 'recordId is missing or not a record id' };
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return { ok: false, reason: 'version is missing or not a positive integer' };
  if (!isPlatformName(platform)) return { ok: false, reason: 'platform is missing or unknown' };
  return { ok: true, message: { recordId, version, platform } };
}

/** A delivery's key in the `deliveries` table: pk REC#<record id>, sk <platform>#<version, 10 digits>. */
export function deliveryKey(ref: DeliveryRef): { pk: string; sk: string } {
  return { pk: `REC#${ref.recordId}`, sk: `${ref.platform}#${String(ref.version).padStart(10, '0')}` };
}
