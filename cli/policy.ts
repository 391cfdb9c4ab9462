/**
 * `hub policy show|set` (the credit office, with the operator key): the publication policy of API.md "Review,
 * objections, repair" — by default every record waits for review; kinds and sources in `approvedOnArrival` are
 * approved on arrival (GET and PUT /v1/publication-policy; a PUT replaces the whole policy).
 *
 * `set` reads the policy, applies the change asked for and writes it back: `--kinds`/`--sources` replace a list,
 * `--add-kind`/`--remove-kind`/`--add-source`/`--remove-source` change one entry and keep the rest. A change that
 * changes nothing is not sent.
 */
import { MAX_POLICY_SOURCES } from '../contracts/publication.js';
import { RECORD_KINDS, type RecordKind } from '../contracts/roles.js';
import { sourceIdSchema } from '../contracts/sources.js';
import { CliError } from './errors.js';
import type { HubClient } from './http-client.js';
import { operatorHints } from './reviews.js';
import { cellText, labelled, timeCell } from './terminal-text.js';

export interface ApprovedOnArrival {
  kinds: RecordKind[];
  sources: string[];
}

export interface PublicationPolicy {
  approvedOnArrival: ApprovedOnArrival;
  updatedBy?: string;
  updatedAt?: string;
}

/** What `hub policy set` was asked to do (each list as given on the command line). */
export interface PolicyChange {
  kinds?: string;
  sources?: string;
  addKind?: string[];
  removeKind?: string[];
  addSource?: string[];
  removeSource?: string[];
}

const HINTS = {
  ...operatorHints({ zh: '公示策略', en: 'the publication policy' }),
  400: 'approvedOnArrival.kinds 即 --kinds, approvedOnArrival.sources 即 --sources (the fields of --kinds and --sources)',
};

function kind(text: string, option: string): RecordKind {
  const k = text.trim();
  if (!(RECORD_KINDS as readonly string[]).includes(k)) throw new CliError(`未知的种类 (unknown kind ${JSON.stringify(k)}: ${option} takes ${RECORD_KINDS.join(', ')})`);
  return k as RecordKind;
}

function source(text: string, option: string): string {
  const id = text.trim();
  const parsed = sourceIdSchema.safeParse(id);
  if (!parsed.success) throw new CliError(`数据源标识无效 (${option} ${JSON.stringify(id.slice(0, 80))}: ${parsed.error.issues[0]?.message ?? 'not a source id'})`);
  return id;
}

/** A comma-separated list of `option` ('' for none), each entry checked, none twice. */
function list<T extends string>(text: string, option: string, one: (t: string, option: string) => T): T[] {
  if (text.trim() === '') return [];
  const items = text.split(',').map((t) => one(t, option));
  const twice = items.find((item, i) => items.indexOf(item) !== i);
  if (twice !== undefined) throw new CliError(`${option} 中${twice}重复 (${option} lists ${twice} twice)`);
  return items;
}

/** Values of a repeatable option, each of which may also be a comma-separated list. */
const entries = (values: readonly string[] | undefined) => (values ?? []).flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');

const without = <T>(items: readonly T[], removed: readonly T[]) => items.filter((i) => !removed.includes(i));
const adding = <T>(items: readonly T[], added: readonly T[]) => [...items, ...added.filter((a, i) => !items.includes(a) && added.indexOf(a) === i)];

/**
 * The lists after the change (pure); notes for what changed nothing (an entry added that was there, or removed
 * that was not). A usage error for an invalid entry, a list both replaced and changed, or no change at all.
 */
export function changedPolicy(current: ApprovedOnArrival, change: PolicyChange): { approvedOnArrival: ApprovedOnArrival; notes: string[] } {
  const addKind = entries(change.addKind).map((k) => kind(k, '--add-kind'));
  const removeKind = entries(change.removeKind).map((k) => kind(k, '--remove-kind'));
  const addSource = entries(change.addSource).map((s) => source(s, '--add-source'));
  const removeSource = entries(change.removeSource).map((s) => source(s, '--remove-source'));
  if (change.kinds === undefined && change.sources === undefined && addKind.length + removeKind.length + addSource.length + removeSource.length === 0) {
    throw new CliError('没有要修改的内容 (nothing to change: give --kinds, --sources, --add-kind, --remove-kind, --add-source or --remove-source)');
  }
  if (change.kinds !== undefined && addKind.length + removeKind.length > 0) throw new CliError('--kinds 不能与 --add-kind/--remove-kind 同用 (--kinds replaces the list: give it alone, or change it with --add-kind/--remove-kind)');
  if (change.sources !== undefined && addSource.length + removeSource.length > 0) {
    throw new CliError('--sources 不能与 --add-source/--remove-source 同用 (--sources replaces the list: give it alone, or change it with --add-source/--remove-source)');
  }
  const both = [...addKind.filter((k) => removeKind.includes(k)), ...addSource.filter((s) => removeSource.includes(s))];
  if (both.length > 0) throw new CliError(`${both[0]}既要加入又要移除 (${both[0]} is both added and removed)`);

  const notes: string[] = [];
  for (const k of addKind) if (current.kinds.includes(k)) notes.push(`种类${k}已是到达即批准 (kind ${k} was already approved on arrival)`);
  for (const k of removeKind) if (!current.kinds.includes(k)) notes.push(`种类${k}本就需要审核 (kind ${k} was not approved on arrival)`);
  for (const s of addSource) if (current.sources.includes(s)) notes.push(`数据源${s}已是到达即批准 (source ${s} was already approved on arrival)`);
  for (const s of removeSource) if (!current.sources.includes(s)) notes.push(`数据源${s}本就需要审核 (source ${s} was not approved on arrival)`);

  const kinds = change.kinds !== undefined ? list(change.kinds, '--kinds', kind) : without(adding(current.kinds, addKind), removeKind);
  const sources = change.sources !== undefined ? list(change.sources, '--sources', source) : without(adding(current.sources, addSource), removeSource);
  if (sources.length > MAX_POLICY_SOURCES) throw new CliError(`到达即批准的数据源不能超过${MAX_POLICY_SOURCES}个 (at most ${MAX_POLICY_SOURCES} sources approved on arrival, not ${sources.length})`);
  return { approvedOnArrival: { kinds, sources }, notes };
}

/** A usage error for a change that is wrong whatever the policy (checked before anything is sent). */
export function checkPolicyChange(change: PolicyChange): void {
  changedPolicy({ kinds: [], sources: [] }, change);
}

export const samePolicy = (a: ApprovedOnArrival, b: ApprovedOnArrival) =>
  a.kinds.length === b.kinds.length && a.sources.length === b.sources.length && a.kinds.every((k) => b.kinds.includes(k)) && a.sources.every((s) => b.sources.includes(s));

function checked(body: unknown, what: string): PublicationPolicy {
  const p = body as PublicationPolicy;
  const a = p?.approvedOnArrival;
  if (!a || !Array.isArray(a.kinds) || !Array.isArray(a.sources) || ![...a.kinds, ...a.sources].every((v) => typeof v === 'string')) {
    throw new CliError(`hub的应答无法识别 (unexpected answer to ${what}: ${JSON.stringify(body).slice(0, 200)})`);
  }
  return p;
}

export async function getPolicy(client: HubClient, signal?: AbortSignal): Promise<PublicationPolicy> {
  const { body } = await client.request<PublicationPolicy>('GET', '/v1/publication-policy', {
    action: { zh: '读取公示策略', en: 'reading the publication policy' },
    hints: HINTS,
    ...(signal ? { signal } : {}),
  });
  return checked(body, 'GET /v1/publication-policy');
}

/** Replaces the policy; the policy as the hub keeps it. Safe to send again (the same lists give the same policy). */
export async function putPolicy(client: HubClient, approvedOnArrival: ApprovedOnArrival, signal?: AbortSignal): Promise<PublicationPolicy> {
  const { body } = await client.request<PublicationPolicy>('PUT', '/v1/publication-policy', {
    action: { zh: '设置公示策略', en: 'setting the publication policy' },
    json: { approvedOnArrival },
    replayable: true,
    hints: HINTS,
    ...(signal ? { signal } : {}),
  });
  return checked(body, 'PUT /v1/publication-policy');
}

export interface PolicySet {
  policy: PublicationPolicy;
  /** False when the change changed nothing (no PUT was sent). */
  changed: boolean;
  notes: string[];
}

/** Reads the policy, applies `change`, and writes it back when it differs. */
export async function setPolicy(client: HubClient, change: PolicyChange, signal?: AbortSignal): Promise<PolicySet> {
  checkPolicyChange(change);
  const current = await getPolicy(client, signal);
  const { approvedOnArrival, notes } = changedPolicy(current.approvedOnArrival, change);
  if (samePolicy(approvedOnArrival, current.approvedOnArrival)) return { policy: current, changed: false, notes };
  return { policy: await putPolicy(client, approvedOnArrival, signal), changed: true, notes };
}

/** The policy for a person (stdout). */
export function formatPolicy(policy: PublicationPolicy): string {
  const { kinds, sources } = policy.approvedOnArrival;
  let text =
    kinds.length + sources.length === 0
      ? '所有记录均须审核后公示 (every record waits for review: nothing is approved on arrival)\n'
      : '记录须审核后公示，以下到达即批准 (records wait for review, except these, approved on arrival):\n';
  text += labelled('种类 kinds', kinds.join(', ') || '-', 18);
  text += labelled('数据源 sources', sources.map((s) => cellText(s, 64)).join(', ') || '-', 18);
  if (policy.updatedAt) text += labelled('更新 updated', `${timeCell(policy.updatedAt)}${policy.updatedBy ? ` (${cellText(policy.updatedBy, 64)})` : ''}`, 18);
  return text;
}

export const POLICY_SCOPE_NOTICE =
  'hub: 新策略适用于此后报送的记录（新记录及变更的新版本）；已在审核队列中的记录仍需审核 (the policy applies to records pushed from now on, new ones and new versions; records already waiting stay in the review queue)';
