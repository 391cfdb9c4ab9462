/**
 * What the upward platforms are owed, by package (docs/upward-packages.md): the pure model of the `deliveries`
 * table's three kinds of item and of the queue message that carries a package to a platform's connector.
 *
 * - A **claim** (one per record version) says which package carries that version: a version is claimed once, so
 *   it travels in exactly one package, under one Idempotency-Key per platform.
 * - A **body** (one per package) lists the package's record versions (its refs), in order. It is `open` while the
 *   claims of its candidates are being settled, then closed with the refs actually claimed, and never changes after.
 * - A **delivery** (one per package and platform, and one per part after a split) is the platform's state of it:
 *   pending, delivered, failed, or split in two parts (a platform refused it: each part is sent on its own, until a
 *   refused record is alone).
 */
import { platforms, type PlatformName } from '../../infra/catalogue.js';
import { todayInChina } from '../domain/dates.js';
import type { StoredHead } from '../domain/record-model.js';
import { createHash } from 'node:crypto';
import { base32 } from '../domain/base32.js';
import { PACKAGE_ID_NAMESPACE, uuidV5 } from './exchange-package.js';

export type { PlatformName };

export const PLATFORM_NAMES = Object.keys(platforms) as PlatformName[];

export function isPlatformName(value: unknown): value is PlatformName {
  return typeof value === 'string' && Object.hasOwn(platforms, value);
}

/** upsert: the platform stores (or replaces) the record; delete: the record has ended and the platform removes it. */
export type DeliveryOperation = 'upsert' | 'delete';

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

/** One record version in a package. */
export interface PackageRef {
  recordId: string;
  version: number;
  operation: DeliveryOperation;
}

/** Record ids are `<prefix>_<base32>`, versions positive integers: a ref line is `<record id> <version> <u|d>`. */
const REF_LINE = /^([A-Za-z0-9_-]{1,100}) ([1-9][0-9]{0,9}) ([ud])$/;

/** The refs as kept on a body: one line each, in order (about 35 bytes a ref: a body of 100 is under 4 KB). */
export function encodeRefs(refs: readonly PackageRef[]): string {
  return refs.map((r) => `${r.recordId} ${r.version} ${r.operation === 'delete' ? 'd' : 'u'}`).join('\n');
}

export function decodeRefs(text: string): PackageRef[] {
  if (text === '') return [];
  return text.split('\n').map((line, i) => {
    const m = REF_LINE.exec(line);
    if (!m) throw new Error(`package refs: line ${i + 1} is not "<record id> <version> <u|d>"`);
    return { recordId: m[1]!, version: Number(m[2]), operation: m[3] === 'd' ? 'delete' : 'upsert' };
  });
}

/**
 * The key of the package a fan-out opens for the versions of a stream batch from `first` on: derived from the
 * first one's stream sequence number and the version itself, so that the same batch read again opens the same
 * package (and finds it there), and no other package can have it.
 */
export function packageKeyOf(first: { sequenceNumber: string; recordId: string; version: number }): string {
  const digest = createHash('sha256').update(`${first.sequenceNumber}\u0000${first.recordId}\u0000${first.version}`).digest();
  return base32(digest, 26);
}

const PACKAGE_KEY = /^[a-z2-7]{26}$/;

export function isPackageKey(value: unknown): value is string {
  return typeof value === 'string' && PACKAGE_KEY.test(value);
}

/**
 * A part of a package: '' the whole package; after a split, the first half '0' and the second '1' of the part
 * split, and so on ('01': the second half of the first half). Halves are as even as can be, the first the larger.
 */
export type PartPath = string;

const PART_PATH = /^[01]{0,7}$/;

export function isPartPath(value: unknown): value is PartPath {
  return typeof value === 'string' && PART_PATH.test(value);
}

/** The refs a part carries, as [from, to) in the body's refs (of `count`). */
export function partRange(count: number, path: PartPath): { from: number; to: number } {
  let from = 0;
  let to = count;
  for (const half of path) {
    const mid = from + Math.ceil((to - from) / 2);
    if (half === '0') to = mid;
    else from = mid;
  }
  return { from, to };
}

/** The two parts a part of more than one ref splits into; none for a part of one ref. */
export function halvesOf(count: number, path: PartPath): PartPath[] {
  const { from, to } = partRange(count, path);
  return to - from > 1 ? [`${path}0`, `${path}1`] : [];
}

/** The Idempotency-Key of a part of a package for a platform: the same on every send of it, different for anything else. */
export function packageIdOf(platform: PlatformName, key: string, path: PartPath): string {
  return uuidV5(PACKAGE_ID_NAMESPACE, `${platform}\u0000${key}\u0000${path}`);
}

/** A package's list of refs, and whether its claims are still being settled. */
export interface PackageBody {
  key: string;
  /** When it was opened (its packages' createdAt: the same bytes on every send). */
  openedAt: string;
  /** Open: the candidates, whose claims are being settled. Closed: the refs actually claimed (never changes again). */
  refs: PackageRef[];
  open: boolean;
}

/**
 * pending: owed (queued, maybe being sent); delivered: the platform answered 2xx; failed: the platform refused it
 * (a part of one record: a 4xx) or the hub could not send it (`internal: …`), and its message is in the dead-letter
 * queue; split: the platform refused it whole, and its two parts carry its records instead.
 */
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'split';

/** Which delivery: a package (or a part of it) and a platform. */
export interface DeliveryRef {
  key: string;
  platform: PlatformName;
  path: PartPath;
}

export interface PackageDelivery extends DeliveryRef {
  state: DeliveryState;
  /** The Idempotency-Key every POST of it carries. */
  packageId: string;
  /** Its refs: [from, to) of the body's (partRange). */
  from: number;
  to: number;
  createdAt: string;
  /** `<platform>#<YYYY-MM-DD>`, the China day of createdAt: the byDay index (platform and day, by createdAt) the nightly sync reads. */
  changeDay: string;
  /** The platform, while pending (the sparse index `owed`); absent once it is not. */
  owedBy?: PlatformName;
  owedSince: string;
  /** When it was last sent to the platform's queue (by the fan-out, the connector's split, the sweep). */
  lastQueuedAt: string;
  /** POSTs that did not succeed, over every receive. */
  attempts?: number;
  deliveredAt?: string;
  failedAt?: string;
  failedReason?: string;
  /** The platform, while failed (the sparse index `failed`). */
  failedBy?: PlatformName;
  splitAt?: string;
}

/** A new delivery of a part of package `key` to `platform`, owed from `now`. */
export function newDelivery(key: string, refCount: number, platform: PlatformName, path: PartPath, now: Date): PackageDelivery {
  const at = now.toISOString();
  const { from, to } = partRange(refCount, path);
  return {
    key,
    platform,
    path,
    state: 'pending',
    packageId: packageIdOf(platform, key, path),
    from,
    to,
    createdAt: at,
    changeDay: `${platform}#${todayInChina(now)}`,
    owedBy: platform,
    owedSince: at,
    lastQueuedAt: at,
  };
}

/**
 * A delivery queue message: a part of a package for one platform, and maybe the versions of that part
 * (inline-versions.ts: gzip'd JSON in base64, in the part's order), which spare the connector reading them back.
 */
export interface DeliveryMessage extends DeliveryRef {
  versions?: string;
}

export function messageBody(message: DeliveryMessage): string {
  return JSON.stringify({ key: message.key, platform: message.platform, path: message.path, ...(message.versions !== undefined ? { versions: message.versions } : {}) });
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
  const { key, platform, path, versions } = parsed as Record<string, unknown>;
  if (!isPackageKey(key)) return { ok: false, reason: 'key is missing or not a package key' };
  if (!isPlatformName(platform)) return { ok: false, reason: 'platform is missing or unknown' };
  if (!isPartPath(path)) return { ok: false, reason: 'path is missing or not a part path' };
  // Versions that are not text are ignored, not fatal: the connector reads the part's versions from the table.
  return { ok: true, message: { key, platform, path, ...(typeof versions === 'string' ? { versions } : {}) } };
}

/** The delivery a message names, without what it carries. */
export function deliveryRefOf(message: DeliveryRef): DeliveryRef {
  return { key: message.key, platform: message.platform, path: message.path };
}

/** Table keys. */
export const bodyKey = (key: string) => ({ pk: `PKG#${key}`, sk: 'BODY' });
export const deliveryKey = (ref: DeliveryRef) => ({ pk: `PKG#${ref.key}`, sk: ref.path === '' ? ref.platform : `${ref.platform}#${ref.path}` });
export const claimKey = (recordId: string, version: number) => ({ pk: `REC#${recordId}`, sk: `V#${String(version).padStart(10, '0')}` });

/** The part of `deliveries` (a package's deliveries to one platform) that carries the ref at `index`: the one not split. */
export function leafFor(deliveries: readonly PackageDelivery[], index: number): PackageDelivery | undefined {
  return deliveries.filter((d) => d.state !== 'split' && d.from <= index && index < d.to).sort((a, b) => b.path.length - a.path.length)[0];
}
